/*
 * cli.c - argv -> subcommand table, option parsing, help texts, and the
 * mapping of JC_ERR_* codes to exit statuses (README, "Exit codes").
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "aws.h"
#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "err.h"
#include "event.h"
#include "fwdspec.h"
#include "log.h"
#include "loop.h"
#include "num.h"
#include "plugin.h"
#include "sshconfig.h"


struct jc_opts jc_opts;

/* Option bits: which subcommand accepts which option. */
#define O_CONNECT	0x0001	/* --via -i -l -p --region --profile
				   --known-hosts --host-key-check --timeout
				   --start-instance */
#define O_JUPYTER	0x0002	/* --jupyter-port --jupyter-log
				   --start-jupyter */
#define O_LOCAL		0x0004	/* --local-port --no-browser -f
				   --remote-port --forward */
#define O_JSON		0x0008	/* --json */
#define O_KEYS		0x0010	/* --key --remove --generate --push-key */
#define O_INSTALLKEYS	0x0020	/* --install-keys */
#define O_STOP		0x0040	/* --all --jupyter */
#define O_AWS		0x0080	/* --region --profile --start-instance only */
#define O_SSHCFG	0x0100	/* --all-aliases --install --file */
#define O_LOGIN		0x0200	/* --profile --no-browser (login) */

static int cmd_help(int, char **);
static int cmd_version(int, char **);
static int cmd_plugins(int, char **);
static int cmd_aliases(int, char **);

static const struct jc_cmd {
	const char	*name;
	int		(*fn)(int argc, char **argv);
	unsigned	 opts;
	int		 min_args, max_args;
	const char	*usage;
	const char	*help;
} cmds[] = {
	{ "open", jc_cmd_open, O_CONNECT | O_JUPYTER | O_LOCAL | O_JSON |
	    O_INSTALLKEYS, 1, 1, "[open] [OPTIONS] TARGET",
	  "Forward the remote Jupyter to a local port, check the token through\n"
	  "the tunnel, print the URL on stdout and open the browser. Stays up\n"
	  "until Ctrl-C (or goes to the background with -f)." },
	{ "url", jc_cmd_url, O_CONNECT | O_JUPYTER | O_LOCAL | O_JSON |
	    O_INSTALLKEYS, 1, 1, "url [OPTIONS] TARGET",
	  "Start (or reuse) a background tunnel and print the notebook URL on\n"
	  "stdout once it answers through the tunnel. For scripts:\n"
	  "  URL := $(shell jconnect url my-stack)" },
	{ "proxy", jc_cmd_proxy, O_CONNECT | O_INSTALLKEYS, 1, 2,
	  "proxy [OPTIONS] TARGET [PORT]",
	  "Relay stdin/stdout to TARGET:PORT (default 22), for ssh:\n"
	  "  ssh -o ProxyCommand='jconnect proxy %h %p' ubuntu@my-stack\n"
	  "Nothing but relayed bytes ever goes to stdout." },
	{ "keys", jc_cmd_keys, O_CONNECT | O_KEYS, 1, 1,
	  "keys [OPTIONS] [--key FILE.pub]... [--remove] TARGET",
	  "Install your public keys in the remote ~/.ssh/authorized_keys (each\n"
	  "key once; every other line kept byte for byte), or remove them." },
	{ "resolve", jc_cmd_resolve, O_CONNECT | O_JSON, 1, 1,
	  "resolve [--json] TARGET",
	  "Show what TARGET resolves to and how it would be reached." },
	{ "ls", jc_cmd_ls, O_JSON, 0, 0, "ls [--json]",
	  "List background tunnels (stale entries are cleaned up)." },
	{ "stop", jc_cmd_stop, O_STOP | O_CONNECT | O_JSON, 0, 1,
	  "stop TARGET | --all | --jupyter [OPTIONS] TARGET",
	  "Stop the background tunnel for TARGET (or all of them) and wait\n"
	  "until its port is free; with --jupyter, stop the Jupyter server\n"
	  "that jconnect started on TARGET." },
	{ "login", jc_cmd_login, O_LOGIN, 0, 0,
	  "login [--profile P] [--no-browser]",
	  "Sign in to AWS IAM Identity Center (SSO) for the profile: open the\n"
	  "sign-in page in the browser, show the code to check there, and\n"
	  "cache the token where the AWS CLI keeps it (~/.aws/sso/cache), so\n"
	  "jconnect and the AWS CLI each accept the other's sign-in." },
	{ "ssh-config", jc_cmd_ssh_config, O_CONNECT | O_SSHCFG, 0, 1,
	  "ssh-config [OPTIONS] [--install [--file FILE]] TARGET|--all-aliases",
	  "Print a Host block for ~/.ssh/config (or one per alias with\n"
	  "--all-aliases), so that ssh, scp, rsync and VS Code reach TARGET as\n"
	  "jconnect does: same user, key and known_hosts name (the instance\n"
	  "id); over SSM through 'jconnect proxy'. --install adds or updates\n"
	  "the marked block in ~/.ssh/config (--file FILE: another file),\n"
	  "every other line kept byte for byte; a new block goes before the\n"
	  "first Host or Match line.\n"
	  "  jconnect ssh-config --install my-stack && ssh my-stack" },
	{ "plugins", cmd_plugins, O_JSON, 0, 0, "plugins [--json]",
	  "List the plugins found, their ABI and paths." },
	{ "aliases", cmd_aliases, 0, 0, 0, "aliases",
	  "List the aliases of the config file, one per line (used by the\n"
	  "shell completions)." },
	{ "help", cmd_help, 0, 0, 1, "help [COMMAND]", "Show help." },
	{ "version", cmd_version, 0, 0, 0, "version", "Show the version." },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

enum {
	OPT_VIA = 256, OPT_JPORT, OPT_JLOG, OPT_LPORT, OPT_NOBROWSER,
	OPT_STARTJ, OPT_STARTI, OPT_JSON, OPT_REGION, OPT_PROFILE, OPT_KH,
	OPT_HKC, OPT_PLUGINDIR, OPT_INSTALLKEYS, OPT_ALL, OPT_JUPYTER, OPT_KEY,
	OPT_REMOVE, OPT_PUSH, OPT_GENERATE, OPT_TIMEOUT, OPT_RPORT,
	OPT_VERSION, OPT_SUPERVISE, OPT_ALLALIASES, OPT_INSTALL, OPT_FILE,
	OPT_FORWARD,
};

static const struct option longopts[] = {
	{ "via",		required_argument,	NULL, OPT_VIA },
	{ "identity",		required_argument,	NULL, 'i' },
	{ "login",		required_argument,	NULL, 'l' },
	{ "port",		required_argument,	NULL, 'p' },
	{ "jupyter-port",	required_argument,	NULL, OPT_JPORT },
	{ "jupyter-log",	required_argument,	NULL, OPT_JLOG },
	{ "local-port",		required_argument,	NULL, OPT_LPORT },
	{ "remote-port",	required_argument,	NULL, OPT_RPORT },
	{ "forward",		required_argument,	NULL, OPT_FORWARD },
	{ "no-browser",		no_argument,		NULL, OPT_NOBROWSER },
	{ "start-jupyter",	no_argument,		NULL, OPT_STARTJ },
	{ "start-instance",	no_argument,		NULL, OPT_STARTI },
	{ "background",		no_argument,		NULL, 'f' },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "region",		required_argument,	NULL, OPT_REGION },
	{ "profile",		required_argument,	NULL, OPT_PROFILE },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "known-hosts",	required_argument,	NULL, OPT_KH },
	{ "host-key-check",	required_argument,	NULL, OPT_HKC },
	{ "config",		required_argument,	NULL, 'F' },
	{ "option",		required_argument,	NULL, 'o' },
	{ "plugin-dir",		required_argument,	NULL, OPT_PLUGINDIR },
	{ "install-keys",	no_argument,		NULL, OPT_INSTALLKEYS },
	{ "all",		no_argument,		NULL, OPT_ALL },
	{ "jupyter",		no_argument,		NULL, OPT_JUPYTER },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "remove",		no_argument,		NULL, OPT_REMOVE },
	{ "push-key",		no_argument,		NULL, OPT_PUSH },
	{ "generate",		no_argument,		NULL, OPT_GENERATE },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, OPT_VERSION },
	{ "supervise",		no_argument,		NULL, OPT_SUPERVISE },
	{ "all-aliases",	no_argument,		NULL, OPT_ALLALIASES },
	{ "install",		no_argument,		NULL, OPT_INSTALL },
	{ "file",		required_argument,	NULL, OPT_FILE },
	{ NULL, 0, NULL, 0 }
};

static const char options_help[] =
"Options:\n"
"  --via ssm|ssh|eice|auto  access method, an access plugin (default\n"
"                         auto: SSM when the instance is managed and\n"
"                         online, else SSH; eice: EC2 Instance Connect\n"
"                         Endpoint to a private instance, named only)\n"
"  -i, --identity FILE    SSH private key (e.g. the EC2 key pair .pem);\n"
"                         a missing file is a usage error\n"
"  -l, --login USER       remote user (default: user@ from TARGET, the\n"
"                         config file, else the AMI's usual user: ubuntu,\n"
"                         ec2-user, admin...; -v says which and why)\n"
"  -p, --port PORT        SSH port (default 22); numbers are digits only\n"
"  --jupyter-port N       use the Jupyter server on remote port N\n"
"  --jupyter-log FILE     remote Jupyter log to read the URL from\n"
"  --start-jupyter        start Jupyter on the remote when none runs\n"
"  --remote-port N        forward remote port N as is (no Jupyter)\n"
"  --local-port N         local port to use (default: the target's port of\n"
"                         last time, for a warm browser cache, else 8888,\n"
"                         8889, 8080, else any free port); exit 8 if busy\n"
"  --forward [LOCAL:]REMOTE   also forward remote port REMOTE (e.g.\n"
"                         TensorBoard 6006) to local port LOCAL (default:\n"
"                         the same number if free, else the next free);\n"
"                         repeatable; exit 8 if LOCAL is busy\n"
"  --forward [LOCAL:]HOST:PORT   forward HOST:PORT as the instance sees\n"
"                         it (a database only the instance can reach)\n"
"  --no-browser           do not open the browser (login: print the\n"
"                         sign-in address and code only)\n"
"  -f, --background       run the tunnel in the background\n"
"  --start-instance       start a stopped instance and wait for it, also\n"
"                         one stopped later under a running tunnel\n"
"  --json                 one JSON object per event on stdout\n"
"  --region R, --profile P   AWS region and profile (login: the SSO\n"
"                         profile to sign in for)\n"
"  --known-hosts FILE     known_hosts file (default ~/.ssh/known_hosts)\n"
"  --host-key-check strict|accept-new   (default accept-new)\n"
"  --timeout SECONDS      connect and login budget (default 20)\n"
"  --install-keys         install your public keys before connecting\n"
"  --key FILE.pub         (keys) install exactly this key; repeatable\n"
"  --remove               (keys) remove the given keys instead\n"
"  --generate             (keys) create ~/.ssh/id_ed25519 if no key\n"
"  --push-key             (keys) send a 60-second key with EC2\n"
"                         Instance Connect instead\n"
"  --all                  (stop) stop every background tunnel\n"
"  --jupyter              (stop) stop the Jupyter jconnect started\n"
"  --all-aliases          (ssh-config) a Host block per config alias\n"
"  --install              (ssh-config) add or update the blocks in\n"
"                         ~/.ssh/config instead of printing them\n"
"  --file FILE            (ssh-config) the ssh config --install writes\n"
"  -F, --config FILE      config file (default\n"
"                         ~/.config/jconnect/config.json)\n"
"  -o KEY=VALUE           option (keys: jconnect --help), e.g.\n"
"                         -o ssm.chunk_size=16384; the last one wins;\n"
"                         -o ssm.compress=no: no compressed path over SSM\n"
"  --plugin-dir DIR       look for plugins in DIR first\n"
"  -v, --verbose          more messages (repeat for debug and trace)\n"
"  -q, --quiet            errors only\n"
"  -h, --help             this help\n";

static const char targets_help[] =
"TARGET:\n"
"  i-0123456789abcdef0     an EC2 instance id (mi-... for hybrid nodes)\n"
"  [user@]host[:port]      a host name or IP (SSH only)\n"
"  stack:NAME  name:NAME  tag:KEY=VALUE\n"
"  NAME                    an alias from the config file, else a\n"
"                          CloudFormation stack, else a Name tag\n";

static const char optkeys_head[] =
"Options for -o KEY=VALUE (also \"options\" in the config file):\n";

static const char exit_help[] =
"Exit status:\n"
"  0 ok   1 other failure (also: stdout cannot be written)\n"
"  2 usage: option, argument, config file value, missing -i/--key file\n"
"  3 target not found or ambiguous   4 AWS credentials or permission\n"
"  5 cannot reach or log in (SSH auth, SSM TargetNotConnected, instance\n"
"  stopped)   6 host key mismatch   7 Jupyter not found or token rejected\n"
"  8 no free local port\n";

static void
usage_all(FILE *f)
{
	size_t i;

	fprintf(f, "jconnect %s - Jupyter on your EC2 instance, in your "
	    "browser, safely.\n\nUsage:\n", JC_VERSION);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  jconnect %s\n", cmds[i].usage);
	fprintf(f, "\n%s\n%s\n%s", targets_help, options_help, optkeys_head);
	jc_config_print_options(f);
	fprintf(f, "\n%s\nExamples:\n"
	    "  jconnect my-stack\n"
	    "  jconnect -i key.pem ubuntu@ec2-54-1-2-3.compute-1.amazonaws.com\n"
	    "  URL=$(jconnect url my-stack)\n"
	    "  ssh -o ProxyCommand='jconnect proxy %%h %%p' ubuntu@my-stack\n"
	    "\n'jconnect help COMMAND' shows the options of one command.\n",
	    exit_help);
}

static const struct jc_cmd *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
usage_cmd(FILE *f, const struct jc_cmd *c)
{
	fprintf(f, "Usage: jconnect %s\n\n%s\n\n", c->usage, c->help);
	if (c->opts & (O_CONNECT | O_LOCAL | O_JUPYTER))
		fprintf(f, "%s\n", targets_help);
	fprintf(f, "%s\n", options_help);
	if (c->opts & O_CONNECT) {
		fprintf(f, "%s", optkeys_head);
		jc_config_print_options(f);
		fprintf(f, "\n");
	}
	fprintf(f, "%s", exit_help);
}

static int
cmd_help(int argc, char **argv)
{
	const struct jc_cmd *c;

	if (argc == 0) {
		usage_all(stdout);
		return 0;
	}
	if ((c = find_cmd(argv[0])) == NULL) {
		jc_error("no command \"%s\"; see jconnect --help", argv[0]);
		return JC_ERR_USAGE;
	}
	usage_cmd(stdout, c);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("jconnect %s (plugin ABI %d.%d, %s)\n", JC_VERSION,
	    JC_PLUGIN_ABI_MAJOR, JC_PLUGIN_ABI_MINOR, curl_version());
	return 0;
}

static int
cmd_plugins(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return jc_plugin_list(stdout, jc_opts.json);
}

static int
cmd_aliases(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	jc_config_list_aliases();
	return 0;
}

static int
parse_int(const char *what, const char *s, int lo, int hi, int *out)
{
	if (jc_num_int(s, lo, hi, out) != 0) {
		jc_error("%s must be a number from %d to %d (digits only), "
		    "not \"%s\"", what, lo, hi, s);
		return JC_ERR_USAGE;
	}
	return 0;
}

/* Option `name` (bit `bit`) is not for command c: say so. */
static int
not_for(const struct jc_cmd *c, unsigned bit, const char *name)
{
	if (c->opts & bit)
		return 0;
	jc_error("option %s does not apply to '%s'; see jconnect help %s",
	    name, c->name, c->name);
	return JC_ERR_USAGE;
}

/* --forward SPEC: checked now, so a typo is exit 2 before connecting. */
static int
add_forward(const char *spec)
{
	struct jc_fwdspec f;
	char why[400];

	if (jc_fwdspec_parse(spec, &f, why, sizeof(why)) != 0) {
		jc_error("--forward: %s", why);
		return JC_ERR_USAGE;
	}
	if (jc_opts.nforwards == JC_FWD_MAX) {
		jc_error("at most %d --forward options", JC_FWD_MAX);
		return JC_ERR_USAGE;
	}
	jc_opts.forwards[jc_opts.nforwards++] = spec;
	return 0;
}

static int
parse(const struct jc_cmd *c, int argc, char **argv, int *first)
{
	memset(&jc_opts, 0, sizeof(jc_opts));
	memset(&jc_sshcfg_opts, 0, sizeof(jc_sshcfg_opts));
	int ch, v, r = 0, verbose = 0, quiet = 0;
	unsigned given = 0;

	opterr = 0;
	optind = 0;		/* glibc: a full reset, also after an error */
	while (r == 0 && (ch = getopt_long(argc, argv,
	    ":i:l:p:fvqF:o:h", longopts, NULL)) != -1) {
		if (ch != ':' && ch != '?' && optarg != NULL &&
		    *optarg == '\0') {
			jc_error("option %s needs a non-empty value; see "
			    "jconnect help %s", argv[optind - 1] == optarg &&
			    optind >= 2 ? argv[optind - 2] : argv[optind - 1],
			    c->name);
			return JC_ERR_USAGE;
		}
		switch (ch) {
		case OPT_VIA:
			if ((r = not_for(c, O_CONNECT, "--via")) != 0)
				break;
			if (strcmp(optarg, "auto") == 0 ||
			    jc_plugin_built(optarg))
				jc_opts.via = optarg;
			else {
				jc_error("--via must be auto or an access "
				    "plugin (see jconnect plugins), not \"%s\"",
				    optarg);
				r = JC_ERR_USAGE;
			}
			given |= JC_CFG_CLI_VIA;
			break;
		case 'i':
			if ((r = not_for(c, O_CONNECT, "-i")) == 0)
				jc_opts.identity = optarg;
			break;
		case 'l':
			if ((r = not_for(c, O_CONNECT, "-l")) != 0)
				break;
			if (!jc_config_user_ok(optarg)) {
				jc_error("-l wants a user name (letters, digits, "
				    ". _ -), not \"%s\"", optarg);
				r = JC_ERR_USAGE;
				break;
			}
			jc_opts.user = optarg;
			break;
		case 'p':
			if ((r = not_for(c, O_CONNECT, "-p")) == 0)
				r = parse_int("-p", optarg, 1, 65535,
				    &jc_opts.ssh_port);
			break;
		case OPT_JPORT:
			if ((r = not_for(c, O_JUPYTER | O_STOP,
			    "--jupyter-port")) == 0)
				r = parse_int("--jupyter-port", optarg, 1,
				    65535, &jc_opts.jupyter_port);
			break;
		case OPT_JLOG:
			if ((r = not_for(c, O_JUPYTER, "--jupyter-log")) == 0)
				jc_opts.jupyter_log = optarg;
			break;
		case OPT_LPORT:
			if ((r = not_for(c, O_LOCAL, "--local-port")) == 0)
				r = parse_int("--local-port", optarg, 1, 65535,
				    &jc_opts.local_port);
			break;
		case OPT_RPORT:
			if ((r = not_for(c, O_LOCAL, "--remote-port")) == 0)
				r = parse_int("--remote-port", optarg, 1, 65535,
				    &jc_opts.remote_port);
			break;
		case OPT_FORWARD:
			if ((r = not_for(c, O_LOCAL, "--forward")) == 0)
				r = add_forward(optarg);
			break;
		case OPT_NOBROWSER:
			if ((r = not_for(c, O_LOCAL | O_LOGIN,
			    "--no-browser")) == 0)
				jc_opts.no_browser = 1;
			break;
		case OPT_STARTJ:
			if ((r = not_for(c, O_JUPYTER, "--start-jupyter")) == 0)
				jc_opts.start_jupyter = 1;
			break;
		case OPT_STARTI:
			if ((r = not_for(c, O_CONNECT, "--start-instance")) == 0)
				jc_opts.start_instance = 1;
			break;
		case 'f':
			if ((r = not_for(c, O_LOCAL, "-f")) == 0)
				jc_opts.background = 1;
			break;
		case OPT_JSON:
			if ((r = not_for(c, O_JSON, "--json")) == 0)
				jc_opts.json = 1;
			break;
		case OPT_REGION:
			if ((r = not_for(c, O_CONNECT, "--region")) == 0)
				jc_opts.region = optarg;
			break;
		case OPT_PROFILE:
			if ((r = not_for(c, O_CONNECT | O_LOGIN,
			    "--profile")) == 0)
				jc_opts.profile = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_KH:
			if ((r = not_for(c, O_CONNECT, "--known-hosts")) == 0)
				jc_opts.known_hosts = optarg;
			break;
		case OPT_HKC:
			if ((r = not_for(c, O_CONNECT, "--host-key-check")) != 0)
				break;
			if (strcmp(optarg, "strict") == 0)
				jc_opts.host_key_check = JC_HKC_STRICT;
			else if (strcmp(optarg, "accept-new") == 0)
				jc_opts.host_key_check = JC_HKC_ACCEPT_NEW;
			else {
				jc_error("--host-key-check must be strict or "
				    "accept-new, not \"%s\"", optarg);
				r = JC_ERR_USAGE;
			}
			given |= JC_CFG_CLI_HKC;
			break;
		case 'F':
			jc_opts.config_file = optarg;
			break;
		case 'o':
			r = jc_config_set_option(optarg);
			break;
		case OPT_PLUGINDIR:
			jc_opts.plugin_dir = optarg;
			break;
		case OPT_INSTALLKEYS:
			if ((r = not_for(c, O_INSTALLKEYS, "--install-keys")) == 0)
				jc_opts.install_keys = 1;
			break;
		case OPT_ALL:
			if ((r = not_for(c, O_STOP, "--all")) == 0)
				jc_opts.all = 1;
			break;
		case OPT_JUPYTER:
			if ((r = not_for(c, O_STOP, "--jupyter")) == 0)
				jc_opts.stop_jupyter = 1;
			break;
		case OPT_KEY:
			if ((r = not_for(c, O_KEYS, "--key")) != 0)
				break;
			if (jc_opts.nkey_files == 15) {
				jc_error("at most 15 --key options");
				r = JC_ERR_USAGE;
				break;
			}
			jc_opts.key_files[jc_opts.nkey_files++] = optarg;
			break;
		case OPT_REMOVE:
			if ((r = not_for(c, O_KEYS, "--remove")) == 0)
				jc_opts.keys_remove = 1;
			break;
		case OPT_PUSH:
			if ((r = not_for(c, O_KEYS, "--push-key")) == 0)
				jc_opts.keys_push = 1;
			break;
		case OPT_GENERATE:
			if ((r = not_for(c, O_KEYS, "--generate")) == 0)
				jc_opts.keys_generate = 1;
			break;
		case OPT_TIMEOUT:
			if ((r = not_for(c, O_CONNECT, "--timeout")) == 0)
				r = parse_int("--timeout", optarg, 1, 3600,
				    &jc_opts.timeout_s);
			break;
		case OPT_SUPERVISE:
			jc_opts.supervised = 1;
			break;
		case OPT_ALLALIASES:
			if ((r = not_for(c, O_SSHCFG, "--all-aliases")) == 0)
				jc_sshcfg_opts.all_aliases = 1;
			break;
		case OPT_INSTALL:
			if ((r = not_for(c, O_SSHCFG, "--install")) == 0)
				jc_sshcfg_opts.install = 1;
			break;
		case OPT_FILE:
			if ((r = not_for(c, O_SSHCFG, "--file")) == 0)
				jc_sshcfg_opts.file = optarg;
			break;
		case 'h':
			usage_cmd(stdout, c);
			return 1;
		case OPT_VERSION:
			cmd_version(0, NULL);
			return 1;
		case ':':
			jc_error("option %s needs a value; see jconnect help %s",
			    argv[optind - 1], c->name);
			r = JC_ERR_USAGE;
			break;
		default:
			jc_error("unknown option %s; see jconnect help %s",
			    argv[optind - 1], c->name);
			r = JC_ERR_USAGE;
			break;
		}
	}
	if (r != 0)
		return r;
	if (quiet && verbose) {
		jc_error("-q and -v together make no sense");
		return JC_ERR_USAGE;
	}
	jc_config_cli_set(given);
	v = quiet ? JC_LOG_ERROR : JC_LOG_INFO + verbose;
	jc_opts.verbosity = v;
	jc_log_set_level(v);
	*first = optind;
	return 0;
}

int
jc_cli_parse(int argc, char **argv, const char **cmd, int *first)
{
	const struct jc_cmd *c;
	int r, shift = 0;

	jc_config_set_plugins(jc_plugin_config_ops());
	if (argc < 2)
		return JC_ERR_USAGE;
	if ((c = find_cmd(argv[1])) != NULL)
		shift = 1;
	else
		c = find_cmd("open");
	if ((r = parse(c, argc - shift, argv + shift, first)) != 0)
		return r;
	*first += shift;
	if (argc - *first < c->min_args || argc - *first > c->max_args)
		return JC_ERR_USAGE;
	*cmd = c->name;
	return 0;
}

/*
 * Files named on the command line that jconnect reads itself: a missing
 * key is a usage error (exit 2) before anything connects.
 */
static int
check_files(void)
{
	char why[1200];
	int i;

	if (jc_opts.identity != NULL &&
	    jc_config_file_ok(jc_opts.identity, 1, why, sizeof(why)) != 0) {
		jc_error("-i: %s; give the private key file (e.g. the EC2 "
		    "key pair .pem)", why);
		return JC_ERR_USAGE;
	}
	for (i = 0; i < jc_opts.nkey_files; i++)
		if (jc_config_file_ok(jc_opts.key_files[i], 1, why,
		    sizeof(why)) != 0) {
			jc_error("--key: %s; give a public key file "
			    "(e.g. ~/.ssh/id_ed25519.pub)", why);
			return JC_ERR_USAGE;
		}
	if (jc_opts.known_hosts != NULL &&
	    jc_config_file_ok(jc_opts.known_hosts, 0, why, sizeof(why)) != 0) {
		jc_error("--known-hosts: %s", why);
		return JC_ERR_USAGE;
	}
	return 0;
}

/*
 * Like coreutils' close_stdout: a result that could not be written (a
 * full disk, a closed pipe) is a failure, not a silent exit 0.
 */
static int
stdout_status(int status)
{
	int e;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	/* An earlier failed write leaves the flag, not its errno. */
	e = errno;
	if (e != 0)
		jc_error("cannot write to standard output: %s", strerror(e));
	else
		jc_error("cannot write to standard output: the output is "
		    "incomplete");
	return status == 0 ? 1 : status;
}

static int
run(int argc, char **argv)
{
	const struct jc_cmd *c = NULL;
	char **args, st[8];
	int r, first, nargs, status;

	jc_log_set_level(JC_LOG_INFO);
	/* The plugins' options and names, for -o, "via" and --help. */
	jc_config_set_plugins(jc_plugin_config_ops());
	if (argc < 2) {
		/* Like ssh: usage on stderr, exit 2 (--help is stdout, 0). */
		usage_all(stderr);
		return 2;
	}
	if ((c = find_cmd(argv[1])) != NULL) {
		argc--;
		argv++;
	} else if (strcmp(argv[1], "--version") == 0) {
		return cmd_version(0, NULL);
	} else if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage_all(stdout);
		return 0;
	} else
		c = find_cmd("open");
	if ((r = parse(c, argc, argv, &first)) != 0) {
		jc_config_free();
		return r > 0 ? 0 : jc_exit_status(r);
	}
	args = argv + first;
	nargs = argc - first;
	if (nargs < c->min_args || nargs > c->max_args) {
		if (nargs < c->min_args)
			jc_error("missing %s; usage: jconnect %s",
			    c->min_args == 1 && c->max_args <= 2 ? "TARGET" :
			    "arguments", c->usage);
		else
			jc_error("too many arguments (\"%s\"); usage: jconnect "
			    "%s", args[c->max_args], c->usage);
		jc_config_free();
		return 2;
	}
	if ((r = check_files()) != 0) {
		jc_config_free();
		return jc_exit_status(r);
	}
	jc_event_enable(jc_opts.json);
	jc_plugin_set_dir(jc_opts.plugin_dir);
	if (c->fn != cmd_help && c->fn != cmd_version &&
	    (r = jc_config_load(jc_opts.config_file)) != 0) {
		jc_config_free();
		return jc_exit_status(r);
	}
	jc_loop_signals();
	r = c->fn(nargs, args);
	status = jc_exit_status(r);
	if (r != 0 && r != JC_ERR_INTR) {
		snprintf(st, sizeof(st), "%d", status);
		jc_event("error", "#exit", st, "error", jc_strerror(r),
		    (char *)NULL);
	}
	jc_plugin_unload_all();
	jc_aws_cleanup();
	jc_config_free();
	curl_global_cleanup();
	return status;
}

int
jc_cli_main(int argc, char **argv)
{
	return stdout_status(run(argc, argv));
}
