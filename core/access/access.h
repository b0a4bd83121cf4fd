/*
 * access.h - TARGET -> a logged-in access session (an access plugin).
 * Shared by open, url, proxy, keys and stop --jupyter.
 */
#ifndef JC_ACCESS_H
#define JC_ACCESS_H

#include "jc_plugin.h"
#include "resolve.h"
#include "target.h"

/*
 * What the command layer asks for, merged once from the command line,
 * the config alias and the defaults (core/cmd/request.c).  The access
 * layer reads this and never the options themselves.
 */
struct jc_access_req {
	const char		*typed;		/* TARGET as typed */
	char			 target[512];	/* TARGET after alias expansion */
	struct jc_tspec		 spec;		/* target, parsed */
	const char		*via;		/* plugin name, NULL/"auto" */
	char			 user[64];	/* "" = guess from the AMI */
	int			 ssh_port;	/* 0 = the method's default */
	const char		*identity;	/* private key file or NULL */
	const char		*known_hosts;	/* NULL = ~/.ssh/known_hosts */
	int			 host_key_check; /* JC_HKC_* */
	int			 timeout_s;	/* connect and login budget */
	int			 start_instance; /* start a stopped instance */
	const char		*profile;	/* AWS profile or NULL */
	const char		*region;	/* AWS region or NULL */
};

struct jc_access {
	struct jc_access_req	 rq;		/* as asked (a copy) */
	struct jc_tspec		 spec;		/* parsed TARGET */
	struct jc_instance	 inst;		/* when an AWS target */
	int			 have_inst;
	char			 via[32];	/* the access plugin's name */
	uint32_t		 caps;		/* its JC_CAP_* bits */
	char			 target[512];	/* TARGET after alias expansion */
	char			 host[256];	/* what SSH dials */
	char			 user[64];	/* login / notebook user */
	int			 user_given;	/* from user@, -l or config */
	struct jc_target	 t;		/* handed to the plugin */
	const struct jc_plugin	*p;		/* access plugin */
	void			*pstate;
	struct jc_sess		*s;		/* NULL until connected */
};

/*
 * Resolve the request's AWS forms to one instance and choose the access
 * plugin (--via NAME, or auto: see choose() in access.c); it is loaded.
 * Logs and returns JC_ERR_* on failure.
 */
int	jc_access_resolve(struct jc_access *, const struct jc_access_req *);

/* 1 for --via auto (NULL or "auto"). */
int	jc_via_auto(const char *via);

/* Load the plugin for a->via and log in.  Logs and returns JC_ERR_*. */
int	jc_access_connect(struct jc_access *);

/*
 * Between reconnect attempts that found nobody: wait for a stopped AWS
 * instance to run again (with --start-instance, start it) and take its
 * new public address.  Returns 0 to connect again (*back set when the
 * instance had been away), else the error that ends the tunnel (logged).
 */
int	jc_access_recover(struct jc_access *, int *back);

/* Drop the session (not the resolution): reconnect with connect again. */
void	jc_access_disconnect(struct jc_access *);

/* "SSH to ubuntu@host:22" / "SSM to i-..." (the label) for messages. */
const char *jc_access_describe(const struct jc_access *);

#endif /* JC_ACCESS_H */
