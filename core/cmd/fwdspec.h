/*
 * fwdspec.h - extra forwards beside Jupyter (--forward, the "forward"
 * list of an alias): what each asks for, and its local listener.
 *
 *   REMOTE             remote port REMOTE on the instance's loopback
 *   LOCAL:REMOTE       the same on local port LOCAL
 *   HOST:PORT          HOST:PORT as the instance sees it (HOST not digits)
 *   LOCAL:HOST:PORT    the same on local port LOCAL
 *
 * HOST is a DNS name, an IPv4 address or an IPv6 address in brackets.
 * Listeners are on 127.0.0.1 only.
 */
#ifndef JC_FWDSPEC_H
#define JC_FWDSPEC_H

#include <stddef.h>
#include <stdint.h>

#define JC_FWD_MAX	16		/* extra forwards per tunnel */

struct jc_fwdspec {
	uint16_t	 lport;		/* 0 = pick one */
	char		 host[256];	/* "127.0.0.1": the instance itself */
	uint16_t	 rport;
};

/*
 * Parse one spec.  Returns 0, or -1 with what is wrong and what is
 * allowed in why.
 */
int	jc_fwdspec_parse(const char *s, struct jc_fwdspec *out, char *why,
	    size_t n);

/* 1 when the destination is the instance itself. */
int	jc_fwdspec_local_dest(const struct jc_fwdspec *);

/* "host:port" (IPv6 in brackets) of the destination, for messages. */
void	jc_fwdspec_dest(const struct jc_fwdspec *, char *out, size_t n);

/*
 * Listen on 127.0.0.1 for f: f->lport when given (JC_ERR_PORT when it is
 * busy), else the remote port's number when free, else the next free
 * one above it, else any.  Returns 0 with *fdp and *portp, or JC_ERR_*.
 */
int	jc_fwdspec_listen(const struct jc_fwdspec *f, int *fdp,
	    uint16_t *portp);

#endif /* JC_FWDSPEC_H */
