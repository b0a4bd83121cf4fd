/*
 * jc.h - types and prototypes shared by the core modules.  Not installed;
 * plugins include only jc_plugin.h.
 */
#ifndef JC_H
#define JC_H

#include <stddef.h>
#include <stdint.h>

#include "jc_plugin.h"

/* ---- options (filled by cli.c from argv, then request.c from the config) */

struct jc_opts {
	const char	*command;	/* "open", "url", "proxy", ... */
	const char	*target;	/* TARGET as typed */
	const char	*via;		/* --via: a plugin name, "auto" or NULL */
	const char	*identity;	/* -i FILE */
	const char	*user;		/* -l USER (or user@ from TARGET) */
	int		 ssh_port;	/* -p PORT, 0 = default */
	int		 jupyter_port;	/* --jupyter-port, 0 = any */
	const char	*jupyter_log;	/* --jupyter-log FILE on the remote */
	int		 local_port;	/* --local-port, 0 = pick */
	int		 remote_port;	/* --remote-port: no Jupyter, this port */
	int		 proxy_port;	/* PORT of `proxy`, default 22 */
	int		 no_browser;	/* --no-browser */
	int		 start_jupyter;	/* --start-jupyter */
	int		 start_instance; /* --start-instance */
	int		 background;	/* -f */
	int		 json;		/* --json */
	const char	*region;	/* --region */
	const char	*profile;	/* --profile */
	int		 verbosity;	/* JC_LOG_* */
	const char	*known_hosts;	/* --known-hosts FILE */
	int		 host_key_check; /* JC_HKC_* */
	const char	*config_file;	/* -F CONFIG */
	const char	*plugin_dir;	/* --plugin-dir DIR */
	int		 install_keys;	/* --install-keys */
	int		 all;		/* stop --all */
	int		 stop_jupyter;	/* stop --jupyter */
	int		 timeout_s;	/* --timeout SECONDS for connect/login */
	/* keys */
#define JC_KEY_FILES_MAX 15
	const char	*key_files[JC_KEY_FILES_MAX + 1]; /* --key FILE.pub */
	int		 nkey_files;
	int		 keys_remove;	/* --remove */
	int		 keys_push;	/* --push-key */
	int		 keys_generate;	/* --generate */
	/* --forward specs, then the config's (fwdspec.h); checked */
	const char	*forwards[16];	/* JC_FWD_MAX */
	int		 nforwards;
	/* ssh-config */
	int		 all_aliases;	/* --all-aliases */
	int		 install;	/* --install */
	const char	*ssh_config_file; /* --file FILE, default ~/.ssh/config */
	int		 supervised;	/* internal: running as a -f supervisor */
};

extern struct jc_opts jc_opts;		/* the one instance, in core/cmd only */

#endif /* JC_H */
