/*
 * cli.c - argv -> subcommand table, option parsing, help texts, and the
 * mapping of JC_ERR_* codes to exit statuses (README, "Exit codes").
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
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

/* ---- the options: one table for the parser, --help and the checks ---- */

#define O_ALL	(~0u)		/* every command */

enum opt_kind {
	K_FLAG,			/* an int of jc_opts becomes 1 */
	K_TEXT,			/* a string of jc_opts: the argument */
	K_NUM,			/* an int of jc_opts: a number from lo to hi */
	K_CALL,			/* set() checks and keeps the argument */
};

struct optdef {
	const char	*name;		/* --NAME */
	int		 letter;	/* -L, or 0 */
	const char	*arg;		/* what the argument is; NULL: a flag */
	unsigned	 cmds;		/* O_* of the commands taking it */
	enum opt_kind	 kind;
	size_t		 off;		/* K_FLAG, K_TEXT, K_NUM: the field */
	int		 lo, hi;	/* K_NUM */
	/* K_CALL: 0, 1 when it ended the run (--help), or JC_ERR_USAGE. */
	int		(*set)(const char *arg);
	const char	*help;		/* lines for --help; NULL: hidden */
};

#define F(field)	offsetof(struct jc_opts, field)

static int set_via(const char *);
static int set_user(const char *);
static int set_forward(const char *);
static int set_key(const char *);
static int set_hkc(const char *);
static int set_option(const char *);
static int set_verbose(const char *);
static int set_quiet(const char *);
static int show_help(const char *);
static int show_version(const char *);

static const struct optdef optdefs[] = {
	{ "via", 0, "NAME", O_CONNECT, K_CALL, 0, 0, 0, set_via,
	  "access method: an access plugin (jconnect plugins\n"
	  "lists them: ssm, ssh, eice) or auto (default): SSM\n"
	  "when the instance is managed and online, else SSH;\n"
	  "eice (EC2 Instance Connect Endpoint, to a private\n"
	  "instance) only when named" },
	{ "identity", 'i', "FILE", O_CONNECT, K_TEXT, F(identity), 0, 0, NULL,
	  "SSH private key (e.g. the EC2 key pair .pem);\n"
	  "a missing file is a usage error" },
	{ "login", 'l', "USER", O_CONNECT, K_CALL, 0, 0, 0, set_user,
	  "remote user (default: user@ from TARGET, the\n"
	  "config file, else the AMI's usual user: ubuntu,\n"
	  "ec2-user, admin...; -v says which and why)" },
	{ "port", 'p', "PORT", O_CONNECT, K_NUM, F(ssh_port), 1, 65535, NULL,
	  "SSH port (default 22); numbers are digits only" },
	{ "jupyter-port", 0, "N", O_JUPYTER | O_STOP, K_NUM, F(jupyter_port),
	  1, 65535, NULL, "use the Jupyter server on remote port N" },
	{ "jupyter-log", 0, "FILE", O_JUPYTER, K_TEXT, F(jupyter_log), 0, 0,
	  NULL, "remote Jupyter log to read the URL from" },
	{ "start-jupyter", 0, NULL, O_JUPYTER, K_FLAG, F(start_jupyter), 0, 0,
	  NULL, "start Jupyter on the remote when none runs" },
	{ "remote-port", 0, "N", O_LOCAL, K_NUM, F(remote_port), 1, 65535,
	  NULL, "forward remote port N as is (no Jupyter)" },
	{ "local-port", 0, "N", O_LOCAL, K_NUM, F(local_port), 1, 65535, NULL,
	  "local port to use (default: the target's port of\n"
	  "last time, for a warm browser cache, else 8888,\n"
	  "8889, 8080, else any free port); exit 8 if busy" },
	{ "forward", 0, "SPEC", O_LOCAL, K_CALL, 0, 0, 0, set_forward,
	  "also forward, beside Jupyter (repeatable):\n"
	  "[LOCAL:]REMOTE: remote port REMOTE (e.g.\n"
	  "TensorBoard 6006) to local port LOCAL (default:\n"
	  "the same number if free, else the next free);\n"
	  "[LOCAL:]HOST:PORT: HOST:PORT as the instance sees\n"
	  "it (a database only the instance can reach);\n"
	  "exit 8 if LOCAL is busy" },
	{ "no-browser", 0, NULL, O_LOCAL | O_LOGIN, K_FLAG, F(no_browser), 0, 0,
	  NULL, "do not open the browser (login: print the\n"
	  "sign-in address and code only)" },
	{ "background", 'f', NULL, O_LOCAL, K_FLAG, F(background), 0, 0, NULL,
	  "run the tunnel in the background" },
	{ "start-instance", 0, NULL, O_CONNECT, K_FLAG, F(start_instance), 0,
	  0, NULL, "start a stopped instance and wait for it, also\n"
	  "one stopped later under a running tunnel" },
	{ "json", 0, NULL, O_JSON, K_FLAG, F(json), 0, 0, NULL,
	  "one JSON object per event on stdout" },
	{ "region", 0, "R", O_CONNECT, K_TEXT, F(region), 0, 0, NULL,
	  "AWS region" },
	{ "profile", 0, "P", O_CONNECT | O_LOGIN, K_TEXT, F(profile), 0, 0,
	  NULL, "AWS profile (login: the SSO profile to sign in\n"
	  "for)" },
	{ "known-hosts", 0, "FILE", O_CONNECT, K_TEXT, F(known_hosts), 0, 0,
	  NULL, "known_hosts file (default ~/.ssh/known_hosts)" },
	{ "host-key-check", 0, "strict|accept-new", O_CONNECT, K_CALL, 0, 0, 0,
	  set_hkc, "refuse unknown host keys, or learn them like\n"
	  "OpenSSH (default accept-new); a changed key is\n"
	  "always refused" },
	{ "timeout", 0, "SECONDS", O_CONNECT, K_NUM, F(timeout_s), 1, 3600,
	  NULL, "connect and login budget (default 20)" },
	{ "install-keys", 0, NULL, O_INSTALLKEYS, K_FLAG, F(install_keys), 0,
	  0, NULL, "install your public keys before connecting" },
	{ "key", 0, "FILE.pub", O_KEYS, K_CALL, 0, 0, 0, set_key,
	  "(keys) install exactly this key; repeatable" },
	{ "remove", 0, NULL, O_KEYS, K_FLAG, F(keys_remove), 0, 0, NULL,
	  "(keys) remove the given keys instead" },
	{ "generate", 0, NULL, O_KEYS, K_FLAG, F(keys_generate), 0, 0, NULL,
	  "(keys) create ~/.ssh/id_ed25519 if no key" },
	{ "push-key", 0, NULL, O_KEYS, K_FLAG, F(keys_push), 0, 0, NULL,
	  "(keys) send a 60-second key with EC2\n"
	  "Instance Connect instead" },
	{ "all", 0, NULL, O_STOP, K_FLAG, F(all), 0, 0, NULL,
	  "(stop) stop every background tunnel" },
	{ "jupyter", 0, NULL, O_STOP, K_FLAG, F(stop_jupyter), 0, 0, NULL,
	  "(stop) stop the Jupyter jconnect started" },
	{ "all-aliases", 0, NULL, O_SSHCFG, K_FLAG, F(all_aliases), 0, 0, NULL,
	  "(ssh-config) a Host block per config alias" },
	{ "install", 0, NULL, O_SSHCFG, K_FLAG, F(install), 0, 0, NULL,
	  "(ssh-config) add or update the blocks in\n"
	  "~/.ssh/config instead of printing them" },
	{ "file", 0, "FILE", O_SSHCFG, K_TEXT, F(ssh_config_file), 0, 0, NULL,
	  "(ssh-config) the ssh config --install writes" },
	{ "config", 'F', "FILE", O_ALL, K_TEXT, F(config_file), 0, 0, NULL,
	  "config file (default\n"
	  "~/.config/jconnect/config.json)" },
	{ "option", 'o', "KEY=VALUE", O_ALL, K_CALL, 0, 0, 0, set_option,
	  "a key of \"Options for -o\" (jconnect --help),\n"
	  "e.g. -o ssm.chunk_size=16384; the last one\n"
	  "wins; -o ssm.compress=no: no compressed path\n"
	  "over SSM" },
	{ "plugin-dir", 0, "DIR", O_ALL, K_TEXT, F(plugin_dir), 0, 0, NULL,
	  "look for plugins in DIR first" },
	{ "verbose", 'v', NULL, O_ALL, K_CALL, 0, 0, 0, set_verbose,
	  "more messages (repeat for debug and trace)" },
	{ "quiet", 'q', NULL, O_ALL, K_CALL, 0, 0, 0, set_quiet,
	  "errors only" },
	{ "help", 'h', NULL, O_ALL, K_CALL, 0, 0, 0, show_help,
	  "this help" },
	{ "version", 0, NULL, O_ALL, K_CALL, 0, 0, 0, show_version,
	  "show the version" },
	/* Internal: the process a -f tunnel runs as. */
	{ "supervise", 0, NULL, O_ALL, K_FLAG, F(supervised), 0, 0, NULL,
	  NULL },
};
#define NOPTS (sizeof(optdefs) / sizeof(optdefs[0]))

/* Help column: option names, then the text from column HELP_COL. */
#define HELP_COL	25

static void
print_options(FILE *f, unsigned cmdopts)
{
	const struct optdef *d;
	const char *h, *nl;
	size_t i;
	int w;

	fprintf(f, "Options:\n");
	for (i = 0; i < NOPTS; i++) {
		d = &optdefs[i];
		if (d->help == NULL ||
		    (d->cmds != O_ALL && !(d->cmds & cmdopts)))
			continue;
		w = d->letter ? fprintf(f, "  -%c, --%s", d->letter, d->name) :
		    fprintf(f, "  --%s", d->name);
		if (d->arg != NULL)
			w += fprintf(f, " %s", d->arg);
		/* A long name gets its text on the next line. */
		if (w <= HELP_COL - 2)
			fprintf(f, "%*s", HELP_COL - w, "");
		else
			fprintf(f, "\n%*s", HELP_COL, "");
		for (h = d->help; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
		fprintf(f, "%s\n", h);
	}
}

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
	fprintf(f, "\n%s\n", targets_help);
	print_options(f, O_ALL);
	fprintf(f, "\n%s", optkeys_head);
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
	print_options(f, c->opts);
	fprintf(f, "\n");
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

/* ---- parsing ---------------------------------------------------------- */

/* The parse in progress: the setters' context. */
static struct {
	const struct jc_cmd	*cmd;
	unsigned		 given;		/* JC_CFG_CLI_* */
	int			 verbose, quiet;
} cur;

static int
set_via(const char *arg)
{
	cur.given |= JC_CFG_CLI_VIA;
	if (strcmp(arg, "auto") != 0 && !jc_plugin_built(arg)) {
		jc_error("--via must be auto or an access plugin (see jconnect "
		    "plugins), not \"%s\"", arg);
		return JC_ERR_USAGE;
	}
	jc_opts.via = arg;
	return 0;
}

static int
set_user(const char *arg)
{
	if (!jc_config_user_ok(arg)) {
		jc_error("-l wants a user name (letters, digits, . _ -), not "
		    "\"%s\"", arg);
		return JC_ERR_USAGE;
	}
	jc_opts.user = arg;
	return 0;
}

/* A repeatable option: one more value, at most max. */
static int
append(const char **list, int *n, int max, const char *name, const char *v)
{
	if (*n == max) {
		jc_error("at most %d %s options", max, name);
		return JC_ERR_USAGE;
	}
	list[(*n)++] = v;
	return 0;
}

/* --forward SPEC: checked now, so a typo is exit 2 before connecting. */
static int
set_forward(const char *spec)
{
	struct jc_fwdspec f;
	char why[400];

	if (jc_fwdspec_parse(spec, &f, why, sizeof(why)) != 0) {
		jc_error("--forward: %s", why);
		return JC_ERR_USAGE;
	}
	return append(jc_opts.forwards, &jc_opts.nforwards, JC_FWD_MAX,
	    "--forward", spec);
}

static int
set_key(const char *arg)
{
	return append(jc_opts.key_files, &jc_opts.nkey_files, JC_KEY_FILES_MAX,
	    "--key", arg);
}

static int
set_hkc(const char *arg)
{
	cur.given |= JC_CFG_CLI_HKC;
	if (strcmp(arg, "strict") == 0)
		jc_opts.host_key_check = JC_HKC_STRICT;
	else if (strcmp(arg, "accept-new") == 0)
		jc_opts.host_key_check = JC_HKC_ACCEPT_NEW;
	else {
		jc_error("--host-key-check must be strict or accept-new, not "
		    "\"%s\"", arg);
		return JC_ERR_USAGE;
	}
	return 0;
}

static int
set_option(const char *arg)
{
	return jc_config_set_option(arg);
}

static int
set_verbose(const char *arg)
{
	(void)arg;
	cur.verbose++;
	return 0;
}

static int
set_quiet(const char *arg)
{
	(void)arg;
	cur.quiet = 1;
	return 0;
}

static int
show_help(const char *arg)
{
	(void)arg;
	usage_cmd(stdout, cur.cmd);
	return 1;
}

static int
show_version(const char *arg)
{
	(void)arg;
	cmd_version(0, NULL);
	return 1;
}

/* "-i" or "--via": how the option is named in messages. */
static const char *
spelled(const struct optdef *d)
{
	static char b[40];

	if (d->letter)
		snprintf(b, sizeof(b), "-%c", d->letter);
	else
		snprintf(b, sizeof(b), "--%s", d->name);
	return b;
}

/* Check and keep one option of the table for command c. */
static int
take(const struct jc_cmd *c, const struct optdef *d, const char *arg)
{
	char *field = (char *)&jc_opts + d->off;

	if (d->cmds != O_ALL && !(d->cmds & c->opts)) {
		jc_error("option %s does not apply to '%s'; see jconnect help "
		    "%s", spelled(d), c->name, c->name);
		return JC_ERR_USAGE;
	}
	switch (d->kind) {
	case K_FLAG:
		*(int *)(void *)field = 1;
		return 0;
	case K_TEXT:
		*(const char **)(void *)field = arg;
		return 0;
	case K_NUM:
		if (jc_num_int(arg, d->lo, d->hi, (int *)(void *)field) == 0)
			return 0;
		jc_error("%s must be a number from %d to %d (digits only), "
		    "not \"%s\"", spelled(d), d->lo, d->hi, arg);
		return JC_ERR_USAGE;
	case K_CALL:
		return d->set(arg);
	}
	return JC_ERR_USAGE;
}

static const struct optdef *
by_letter(int ch)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (optdefs[i].letter == ch)
			return &optdefs[i];
	return NULL;
}

/* getopt_long's two spellings of the table (val: 256 + row). */
static void
getopt_tables(struct option *lo, char *so, size_t son)
{
	size_t i, k = 0;

	so[k++] = ':';
	for (i = 0; i < NOPTS; i++) {
		lo[i].name = optdefs[i].name;
		lo[i].has_arg = optdefs[i].arg != NULL ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
		if (optdefs[i].letter && k + 3 < son) {
			so[k++] = (char)optdefs[i].letter;
			if (optdefs[i].arg != NULL)
				so[k++] = ':';
		}
	}
	memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
	so[k] = '\0';
}

static int
parse(const struct jc_cmd *c, int argc, char **argv, int *first)
{
	struct option lo[NOPTS + 1];
	const struct optdef *d;
	char so[2 * NOPTS + 2];
	int ch, v, r = 0;

	memset(&jc_opts, 0, sizeof(jc_opts));
	memset(&cur, 0, sizeof(cur));
	cur.cmd = c;
	getopt_tables(lo, so, sizeof(so));
	opterr = 0;
	optind = 0;		/* glibc: a full reset, also after an error */
	while (r == 0 && (ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (ch == ':') {
			jc_error("option %s needs a value; see jconnect help %s",
			    argv[optind - 1], c->name);
			return JC_ERR_USAGE;
		}
		d = ch >= 256 && ch < 256 + (int)NOPTS ? &optdefs[ch - 256] :
		    ch != '?' ? by_letter(ch) : NULL;
		if (d == NULL) {
			jc_error("unknown option %s; see jconnect help %s",
			    argv[optind - 1], c->name);
			return JC_ERR_USAGE;
		}
		if (optarg != NULL && *optarg == '\0') {
			jc_error("option %s needs a non-empty value; see "
			    "jconnect help %s", argv[optind - 1] == optarg &&
			    optind >= 2 ? argv[optind - 2] : argv[optind - 1],
			    c->name);
			return JC_ERR_USAGE;
		}
		r = take(c, d, d->arg != NULL ? optarg : NULL);
	}
	if (r != 0)
		return r;
	if (cur.quiet && cur.verbose) {
		jc_error("-q and -v together make no sense");
		return JC_ERR_USAGE;
	}
	jc_config_cli_set(cur.given);
	v = cur.quiet ? JC_LOG_ERROR : JC_LOG_INFO + cur.verbose;
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
