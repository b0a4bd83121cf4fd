/*
 * config.c - config file, aliases and options.
 *
 * The whole file is checked when it is loaded: every key of every alias
 * and of "defaults" must be known and its value of the right type and
 * range, so a typo is an exit 2 naming the file, the key and what is
 * allowed instead of a setting silently ignored.  -o KEY=VALUE is checked
 * against the same option table when it is parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "fwdspec.h"
#include "log.h"
#include "jc_plugin.h"
#include "num.h"
#include "target.h"

#define MAX_CLI_OPTS	32
#define CONFIG_MAX	(1 << 20)

static cJSON *cfg;			/* whole file */
static const cJSON *alias_entry;	/* NB. borrowed from cfg */
static char *cli_opts[MAX_CLI_OPTS];	/* "key=value" from -o */
static int ncli_opts;
static unsigned cli_set;		/* JC_CFG_CLI_* */
static char path_used[1024];

/* ---- what may be set ------------------------------------------------- */

/*
 * Every option a module or plugin reads through jc_config_option() or
 * host->option(), with its type: a number from lo to hi, a list of names (no
 * blanks), a file name or one of a few words.  A plugin checks its own options
 * again (the ranges here are the plugins'); this table makes a bad value an
 * error before anything runs, wherever it was written.
 */
enum otype { O_NUM, O_LIST, O_FILE, O_WORD };

static const struct optdef {
	const char	*key;
	enum otype	 type;
	long		 lo, hi;
	const char	*unit;
} optdefs[] = {
	{ "aws.credential_process_timeout", O_NUM, 1, 3600,	"seconds" },
	{ "aws.max_attempts",		O_NUM, 1, 10,		"attempts" },
	{ "aws.ssm_timeout",		O_NUM, 1, 86400,	"seconds" },
	{ "aws.start_timeout",		O_NUM, 1, 86400,	"seconds" },
	{ "jupyter.check_s",		O_NUM, 0, 86400,	"seconds, 0 = off" },
	{ "ssh.ciphers",		O_LIST, 0, 0,	"comma-separated" },
	{ "ssh.compression",		O_WORD, 0, 0,	"yes|no" },
	{ "ssh.global_known_hosts",	O_FILE, 0, 0,	"known_hosts" },
	{ "ssh.keepalive",		O_NUM, 0, 3600,	"seconds, 0 = off" },
	{ "ssm.chunk_size",		O_NUM, 64, 65536,	"bytes" },
	{ "ssm.compress",		O_WORD, 0, 0,	"auto|yes|no" },
	{ "ssm.connect_timeout_s",	O_NUM, 1, 600,		"seconds" },
	{ "ssm.dead_s",			O_NUM, 1, 600,		"seconds" },
	{ "ssm.give_up_s",		O_NUM, 1, 86400,	"seconds" },
	{ "ssm.handshake_s",		O_NUM, 1, 600,		"seconds" },
	{ "ssm.ping_s",			O_NUM, 1, 3600,		"seconds" },
	{ "ssm.reconnect_s",		O_NUM, 1, 86400,	"seconds" },
	{ "ssm.session_idle_s",		O_NUM, 1, 86400,	"seconds" },
	{ "ssm.sessions",		O_NUM, 1, 16,		"sessions" },
	{ "ssm.smux_keepalive_ms",	O_NUM, 100, 600000, "milliseconds" },
	{ "ssm.window",			O_NUM, 1, 10000,	"messages" },
	{ "tunnel.give_up_s",		O_NUM, 1, 604800,	"seconds" },
};
#define NOPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

/* Value kinds of the alias and "defaults" keys. */
enum kind { K_TARGET, K_VIA, K_USER, K_LOCALFILE, K_PORT, K_REGION, K_NAME,
	K_REMOTEFILE, K_HKC, K_OPTIONS, K_FORWARDS };

static const struct keydef {
	const char	*key;
	enum kind	 kind;
	int		 alias_only;
} keydefs[] = {
	{ "target",		K_TARGET,	1 },
	{ "via",		K_VIA,		0 },
	{ "user",		K_USER,		0 },
	{ "identity",		K_LOCALFILE,	0 },
	{ "port",		K_PORT,		0 },
	{ "region",		K_REGION,	0 },
	{ "profile",		K_NAME,		0 },
	{ "jupyter_port",	K_PORT,		0 },
	{ "jupyter_log",	K_REMOTEFILE,	0 },
	{ "local_port",		K_PORT,		0 },
	{ "known_hosts",	K_LOCALFILE,	0 },
	{ "host_key_check",	K_HKC,		0 },
	{ "forward",		K_FORWARDS,	0 },
	{ "options",		K_OPTIONS,	0 },
};
#define NKEYDEFS (sizeof(keydefs) / sizeof(keydefs[0]))

/* One shape for both tables: JC_OPT_* are the O_* of this file. */
_Static_assert(JC_OPT_NUM == O_NUM && JC_OPT_LIST == O_LIST &&
    JC_OPT_FILE == O_FILE && JC_OPT_WORD == O_WORD, "option types");

/* The plugins' part, handed down by the command layer (or none). */
static const struct jc_config_plugins *plugins;

void
jc_config_set_plugins(const struct jc_config_plugins *p)
{
	plugins = p;
}

static int
plugin_built(const char *name)
{
	return plugins != NULL && plugins->built(name);
}

static void
each_plugin_optdef(void (*fn)(void *, const char *,
    const struct jc_plugin_opt *), void *arg)
{
	if (plugins != NULL)
		(void)plugins->each_optdef(fn, arg);
}

static const struct optdef *
optdef(const char *key, size_t len)
{
	static struct optdef pd;
	const struct jc_plugin_opt *po;
	char k[128];
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (strlen(optdefs[i].key) == len &&
		    strncmp(optdefs[i].key, key, len) == 0)
			return &optdefs[i];
	/* Then the options a plugin declares (NAME.KEY of plugin NAME). */
	if (len >= sizeof(k))
		return NULL;
	snprintf(k, sizeof(k), "%.*s", (int)len, key);
	if (plugins == NULL || (po = plugins->optdef(k)) == NULL)
		return NULL;
	pd.key = po->key;
	pd.type = (enum otype)po->type;
	pd.lo = po->min;
	pd.hi = po->max;
	pd.unit = po->unit != NULL ? po->unit : "";
	return &pd;
}

struct names {
	char	*out;
	size_t	 n, o;
};

static void
add_plugin_name(void *arg, const char *plugin, const struct jc_plugin_opt *po)
{
	struct names *nm = arg;

	if (nm->o < nm->n)
		nm->o += (size_t)snprintf(nm->out + nm->o, nm->n - nm->o,
		    "%s%s.%s", nm->o ? ", " : "", plugin, po->key);
}

/* The keys, in the order of --help: the core's, then the plugins'. */
static void
optdef_names(char *out, size_t n)
{
	struct names nm = { out, n, 0 };
	size_t i;

	*out = '\0';
	for (i = 0; i < NOPTDEFS && nm.o < n; i++)
		nm.o += (size_t)snprintf(out + nm.o, n - nm.o, "%s%s",
		    i ? ", " : "", optdefs[i].key);
	each_plugin_optdef(add_plugin_name, &nm);
}

static void
keydef_names(char *out, size_t n, int in_alias)
{
	size_t i, o = 0;

	*out = '\0';
	for (i = 0; i < NKEYDEFS && o < n; i++)
		if (in_alias || !keydefs[i].alias_only)
			o += (size_t)snprintf(out + o, n - o, "%s%s",
			    o ? ", " : "", keydefs[i].key);
}

/* "what is allowed" for an option. */
static void
optdef_allowed(const struct optdef *d, char *out, size_t n)
{
	if (d->type == O_LIST)
		snprintf(out, n, "a list of names without blanks (%s)",
		    d->unit);
	else if (d->type == O_WORD)
		snprintf(out, n, "one of %s", d->unit);
	else if (d->type == O_FILE)
		snprintf(out, n, "a file name (%s)", d->unit);
	else
		snprintf(out, n, "a number from %ld to %ld (%s)", d->lo,
		    d->hi, d->unit);
}

/* A user name: [A-Za-z0-9._-], not starting with '-', as in TARGET. */
int
jc_config_user_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > 63 || *u == '-')
		return 0;
	for (; *u != '\0'; u++)
		if (!(*u >= 'a' && *u <= 'z') && !(*u >= 'A' && *u <= 'Z') &&
		    !(*u >= '0' && *u <= '9') && *u != '.' && *u != '_' &&
		    *u != '-')
			return 0;
	return 1;
}

static int
region_ok(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > 63)
		return 0;
	for (; *r != '\0'; r++)
		if (!(*r >= 'a' && *r <= 'z') && !(*r >= '0' && *r <= '9') &&
		    *r != '-')
			return 0;
	return 1;
}

/* Is s a good value of the text option d (not a number)? */
static int
text_ok(const struct optdef *d, const char *s)
{
	size_t n = strlen(s);
	const char *w;

	if (*s == '\0')
		return 0;
	if (d->type == O_WORD) {	/* one of the words of unit, "a|b|c" */
		for (w = d->unit; w != NULL; w = strchr(w, '|'), w = w ? w + 1 : w)
			if (strncmp(w, s, n) == 0 && (w[n] == '|' || w[n] == '\0'))
				return 1;
		return 0;
	}
	/* Lists: no blanks or quotes; files: no control characters. */
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f ||
		    (d->type == O_LIST && (*s == ' ' || *s == '"' ||
		    *s == '\'')))
			return 0;
	return 1;
}

/*
 * An integral JSON number, or a string of decimal digits, from lo to hi.
 * Returns 0 and sets *out, or -1.
 */
static int
json_num(const cJSON *v, long lo, long hi, long *out)
{
	double d;

	if (cJSON_IsString(v))
		return jc_num_parse(v->valuestring, lo, hi, out);
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi)
		return -1;
	*out = (long)d;
	return 0;
}

/* Is the option value v (a JSON string or number) good for d? */
static int
optval_ok(const struct optdef *d, const cJSON *v)
{
	long n;

	if (d->type != O_NUM)
		return cJSON_IsString(v) && text_ok(d, v->valuestring);
	return json_num(v, d->lo, d->hi, &n) == 0;
}

/* ---- loading --------------------------------------------------------- */

static char *
slurp(const char *path, size_t *lenp)
{
	struct stat st;
	char *buf;
	size_t n;
	FILE *f;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		errno = e;
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if ((buf = malloc(CONFIG_MAX + 1)) == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, CONFIG_MAX + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e != 0 || n > CONFIG_MAX) {
		free(buf);
		errno = e != 0 ? e : EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

/* ~/x in a local path is $HOME/x (JSON has no shell to expand it). */
static int
expand_home(cJSON *obj, cJSON *v, const char *where, const char *key)
{
	const char *home = getenv("HOME");
	cJSON *nv;
	char *p;
	size_t n;

	if (strncmp(v->valuestring, "~/", 2) != 0)
		return 0;
	if (home == NULL || *home == '\0') {
		jc_error("%s: %s: %s: \"%s\" starts with ~/ but HOME is not "
		    "set; write the full path", path_used, where, key,
		    v->valuestring);
		return JC_ERR_USAGE;
	}
	n = strlen(home) + strlen(v->valuestring);
	if ((p = malloc(n)) == NULL)
		return JC_ERR_NOMEM;
	snprintf(p, n, "%s%s", home, v->valuestring + 1);
	nv = cJSON_CreateString(p);
	free(p);
	if (nv == NULL)
		return JC_ERR_NOMEM;
	/* The replacement keeps the key (ViaPointer does not copy it). */
	if ((nv->string = strdup(v->string)) == NULL) {
		cJSON_Delete(nv);
		return JC_ERR_NOMEM;
	}
	cJSON_ReplaceItemViaPointer(obj, v, nv);
	return 0;
}

/* The "options" object of an alias or of "defaults". */
static int
check_options(const cJSON *o, const char *where)
{
	const struct optdef *d;
	const cJSON *e;
	char names[800], allowed[96], *txt;

	if (!cJSON_IsObject(o)) {
		jc_error("%s: %s: options: must be an object of \"KEY\": VALUE",
		    path_used, where);
		return JC_ERR_USAGE;
	}
	cJSON_ArrayForEach(e, o) {
		if ((d = optdef(e->string, strlen(e->string))) == NULL) {
			optdef_names(names, sizeof(names));
			jc_error("%s: %s: options: no option \"%s\"; known: %s",
			    path_used, where, e->string, names);
			return JC_ERR_USAGE;
		}
		if (optval_ok(d, e))
			continue;
		optdef_allowed(d, allowed, sizeof(allowed));
		txt = cJSON_PrintUnformatted(e);
		jc_error("%s: %s: options: %s: %.64s is not %s", path_used,
		    where, e->string, txt ? txt : "?", allowed);
		free(txt);
		return JC_ERR_USAGE;
	}
	return 0;
}

/*
 * "forward": a list of --forward specs, each a string or a port number
 * (made a string here, so that applying it can borrow the text).
 */
static int
check_forwards(cJSON *list, const char *where)
{
	struct jc_fwdspec f;
	cJSON *e, *next, *nv;
	char why[400], num[8];
	long port;
	int i = 0;

	if (!cJSON_IsArray(list)) {
		jc_error("%s: %s: forward: must be a list such as [\"6006\", "
		    "\"5432:db.internal:5432\"]", path_used, where);
		return JC_ERR_USAGE;
	}
	for (e = list->child; e != NULL; e = next, i++) {
		next = e->next;
		if (i == JC_FWD_MAX) {
			jc_error("%s: %s: forward: at most %d entries",
			    path_used, where, JC_FWD_MAX);
			return JC_ERR_USAGE;
		}
		if (cJSON_IsNumber(e)) {
			if (json_num(e, 1, 65535, &port) != 0) {
				jc_error("%s: %s: forward: entry %d: %g is not "
				    "a port (1-65535)", path_used, where,
				    i + 1, e->valuedouble);
				return JC_ERR_USAGE;
			}
			snprintf(num, sizeof(num), "%ld", port);
			if ((nv = cJSON_CreateString(num)) == NULL)
				return JC_ERR_NOMEM;
			cJSON_ReplaceItemViaPointer(list, e, nv);
			continue;
		}
		if (!cJSON_IsString(e)) {
			jc_error("%s: %s: forward: entry %d is not a string or "
			    "a port number", path_used, where, i + 1);
			return JC_ERR_USAGE;
		}
		if (jc_fwdspec_parse(e->valuestring, &f, why,
		    sizeof(why)) != 0) {
			jc_error("%s: %s: forward: entry %d: %s", path_used,
			    where, i + 1, why);
			return JC_ERR_USAGE;
		}
	}
	return 0;
}

/* What a key of this kind wants, for messages. */
static const char *
kind_want(enum kind k)
{
	switch (k) {
	case K_TARGET:
		return "a TARGET (stack:NAME, an instance id, user@host...)";
	case K_VIA:
		return "ssm, ssh or auto";
	case K_HKC:
		return "strict or accept-new";
	case K_USER:
		return "a user name (letters, digits, . _ -)";
	case K_REGION:
		return "an AWS region name such as eu-west-1";
	case K_PORT:
		return "a port (1-65535)";
	case K_LOCALFILE:
		return "a file name";
	case K_REMOTEFILE:
		return "a file name on the remote";
	default:
		return "a non-empty string";
	}
}

/* One key of an alias or of "defaults". */
static int
check_value(cJSON *obj, cJSON *v, const struct keydef *k, const char *where)
{
	struct jc_tspec t;
	const char *s;
	char why[256], *txt;
	long n;
	int ok;

	if (k->kind == K_OPTIONS)
		return check_options(v, where);
	if (k->kind == K_FORWARDS)
		return check_forwards(v, where);
	if (k->kind == K_PORT)
		ok = json_num(v, 1, 65535, &n) == 0;
	else if (!cJSON_IsString(v) || *(s = v->valuestring) == '\0')
		ok = 0;
	else if (k->kind == K_TARGET) {
		if (jc_target_parse(s, &t, why, sizeof(why)) != 0) {
			jc_error("%s: %s: target: %s", path_used, where, why);
			return JC_ERR_USAGE;
		}
		ok = 1;
	} else if (k->kind == K_VIA)
		ok = strcmp(s, "auto") == 0 || plugin_built(s);
	else if (k->kind == K_HKC)
		ok = strcmp(s, "strict") == 0 || strcmp(s, "accept-new") == 0;
	else if (k->kind == K_USER)
		ok = jc_config_user_ok(s);
	else if (k->kind == K_REGION)
		ok = region_ok(s);
	else if (k->kind == K_LOCALFILE)
		return expand_home(obj, v, where, k->key);
	else
		ok = 1;
	if (ok)
		return 0;
	txt = cJSON_PrintUnformatted(v);
	jc_error("%s: %s: %s: %.64s is not %s", path_used, where, k->key,
	    txt ? txt : "?", kind_want(k->kind));
	free(txt);
	return JC_ERR_USAGE;
}

/* An alias entry (name != NULL) or "defaults". */
static int
check_entry(cJSON *e, const char *name)
{
	const struct keydef *k;
	struct jc_tspec t;
	cJSON *v, *next;
	char where[300], names[400], why[256];
	size_t i;
	int r;

	if (name != NULL)
		snprintf(where, sizeof(where), "alias \"%.200s\"", name);
	else
		snprintf(where, sizeof(where), "defaults");
	if (!cJSON_IsObject(e)) {
		jc_error("%s: %s: must be an object of settings", path_used,
		    where);
		return JC_ERR_USAGE;
	}
	/* A name TARGET would read as a host or an id is never used. */
	if (name != NULL && (jc_target_parse(name, &t, why,
	    sizeof(why)) != 0 || t.kind != JC_T_WORD || *t.user != '\0')) {
		jc_error("%s: %s: an alias name is a plain word (letters, "
		    "digits, - and _, not an instance id) so that TARGET can "
		    "name it", path_used, where);
		return JC_ERR_USAGE;
	}
	for (v = e->child; v != NULL; v = next) {
		next = v->next;		/* v may be replaced */
		for (k = NULL, i = 0; i < NKEYDEFS; i++)
			if (strcmp(keydefs[i].key, v->string) == 0)
				k = &keydefs[i];
		if (k == NULL || (k->alias_only && name == NULL)) {
			keydef_names(names, sizeof(names), name != NULL);
			jc_error("%s: %s: no setting \"%s\"; known: %s",
			    path_used, where, v->string, names);
			return JC_ERR_USAGE;
		}
		if ((r = check_value(e, v, k, where)) != 0)
			return r;
	}
	if (name != NULL &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "target"))) {
		jc_error("%s: %s has no \"target\"", path_used, where);
		return JC_ERR_USAGE;
	}
	return 0;
}

static int
check_file(void)
{
	cJSON *e, *a;
	int r;

	cJSON_ArrayForEach(e, cfg) {
		if (strcmp(e->string, "defaults") == 0) {
			if ((r = check_entry(e, NULL)) != 0)
				return r;
		} else if (strcmp(e->string, "aliases") == 0) {
			if (!cJSON_IsObject(e)) {
				jc_error("%s: \"aliases\" must be an object of "
				    "\"NAME\": {settings}", path_used);
				return JC_ERR_USAGE;
			}
			cJSON_ArrayForEach(a, e)
				if ((r = check_entry(a, a->string)) != 0)
					return r;
		} else {
			jc_error("%s: no section \"%s\"; known: defaults, "
			    "aliases", path_used, e->string);
			return JC_ERR_USAGE;
		}
	}
	return 0;
}

int
jc_config_parse(const char *text, size_t len, const char *label)
{
	const char *ep;
	int line = 1, r;

	cJSON_Delete(cfg);
	alias_entry = NULL;
	if (label != path_used)
		snprintf(path_used, sizeof(path_used), "%s", label);
	cfg = cJSON_ParseWithLength(text, len);
	if (cfg == NULL || !cJSON_IsObject(cfg)) {
		ep = cJSON_GetErrorPtr();
		if (cfg == NULL && ep != NULL && ep >= text && ep <= text + len)
			for (const char *p = text; p < ep; p++)
				line += *p == '\n';
		jc_error("config file %s: %s near line %d; fix it or move it "
		    "away", label, cfg == NULL ? "invalid JSON" :
		    "not a JSON object", line);
		cJSON_Delete(cfg);
		cfg = NULL;
		return JC_ERR_USAGE;
	}
	if ((r = check_file()) != 0) {
		cJSON_Delete(cfg);
		cfg = NULL;
	}
	return r;
}

int
jc_config_load(const char *path)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *text;
	size_t len;
	int r;

	if (path == NULL) {
		if (xdg != NULL && *xdg != '\0')
			snprintf(path_used, sizeof(path_used),
			    "%s/jconnect/config.json", xdg);
		else
			snprintf(path_used, sizeof(path_used),
			    "%s/.config/jconnect/config.json", home ? home : "");
	} else
		snprintf(path_used, sizeof(path_used), "%s", path);
	if ((text = slurp(path_used, &len)) == NULL) {
		if (path == NULL && errno == ENOENT)
			return 0;
		jc_error("cannot read config file %s: %s%s", path_used,
		    errno == EINVAL ? "not a regular file" : strerror(errno),
		    path == NULL ? "; fix it or move it away" :
		    "; -F wants a JSON file");
		return JC_ERR_USAGE;
	}
	r = jc_config_parse(text, len, path_used);
	free(text);
	if (r == 0)
		jc_debug("config: %s", path_used);
	return r;
}

void
jc_config_free(void)
{
	int i;

	cJSON_Delete(cfg);
	cfg = NULL;
	alias_entry = NULL;
	for (i = 0; i < ncli_opts; i++)
		free(cli_opts[i]);
	ncli_opts = 0;
	cli_set = 0;
}

static const cJSON *
alias_obj(const char *word)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, "aliases");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(a, word);

	return cJSON_IsObject(e) ? e : NULL;
}

int
jc_config_is_alias(const char *word)
{
	return cfg != NULL && alias_obj(word) != NULL;
}

const char *
jc_config_alias_target(const char *word)
{
	const cJSON *t;

	if (cfg == NULL)
		return NULL;
	t = cJSON_GetObjectItemCaseSensitive(alias_obj(word), "target");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* ---- applying -------------------------------------------------------- */

/* String or number member as text; NULL when absent. */
static const char *
member(const cJSON *o, const char *k, char *tmp, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		snprintf(tmp, n, "%.0f", v->valuedouble);
		return tmp;
	}
	return NULL;
}

/* String member only: the pointer outlives this call. */
static const char *
smember(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A port member (checked at load), 0 when absent. */
static int
port_member(const cJSON *o, const char *k)
{
	long n;

	if (json_num(cJSON_GetObjectItemCaseSensitive(o, k), 1, 65535,
	    &n) != 0)
		return 0;
	return (int)n;
}

int
jc_config_file_ok(const char *file, int must_exist, char *why, size_t n)
{
	struct stat st;

	if (stat(file, &st) != 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(why, n, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, n, "%s is a directory, not a file", file);
		return -1;
	}
	if (must_exist && access(file, R_OK) != 0) {
		snprintf(why, n, "cannot read %s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The entry's "forward" list (checked at load) after those given so far:
 * forwards add up, from the command line, the alias and "defaults"; the
 * same spec twice counts once.
 */
static int
add_forwards(struct jc_opts *o, const cJSON *e, const char *where)
{
	const cJSON *v;
	int i;

	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(e, "forward")) {
		if (!cJSON_IsString(v))
			continue;
		for (i = 0; i < o->nforwards; i++)
			if (strcmp(o->forwards[i], v->valuestring) == 0)
				break;
		if (i < o->nforwards)
			continue;
		if (o->nforwards == JC_FWD_MAX) {
			jc_error("%s: %s: forward: more than %d forwards with "
			    "the command line's", path_used, where,
			    JC_FWD_MAX);
			return JC_ERR_USAGE;
		}
		o->forwards[o->nforwards++] = v->valuestring;
	}
	return 0;
}

/* Taken from this entry: bits of what the command line or alias set. */
#define SET_VIA	1
#define SET_HKC	2

static int
apply_one(struct jc_opts *o, const cJSON *e, const char *where,
    unsigned *set)
{
	const char *v;
	char why[600];

	if (e == NULL)
		return 0;
	if (!(*set & SET_VIA) && (v = smember(e, "via")) != NULL) {
		o->via = v;
		*set |= SET_VIA;
	}
	if (!(*set & SET_HKC) && (v = smember(e, "host_key_check")) != NULL) {
		o->host_key_check = strcmp(v, "strict") == 0 ?
		    JC_HKC_STRICT : JC_HKC_ACCEPT_NEW;
		*set |= SET_HKC;
	}
	if (o->user == NULL)
		o->user = smember(e, "user");
	if (o->identity == NULL && (o->identity = smember(e, "identity"))) {
		/* Only the key actually used must exist. */
		if (jc_config_file_ok(o->identity, 1, why, sizeof(why)) != 0) {
			jc_error("%s: %s: identity: %s", path_used, where, why);
			return JC_ERR_USAGE;
		}
	}
	if (o->region == NULL)
		o->region = smember(e, "region");
	if (o->profile == NULL)
		o->profile = smember(e, "profile");
	if (o->known_hosts == NULL &&
	    (o->known_hosts = smember(e, "known_hosts")) != NULL &&
	    jc_config_file_ok(o->known_hosts, 0, why, sizeof(why)) != 0) {
		jc_error("%s: %s: known_hosts: %s", path_used, where, why);
		return JC_ERR_USAGE;
	}
	if (o->jupyter_log == NULL)
		o->jupyter_log = smember(e, "jupyter_log");
	if (o->ssh_port == 0)
		o->ssh_port = port_member(e, "port");
	if (o->jupyter_port == 0)
		o->jupyter_port = port_member(e, "jupyter_port");
	if (o->local_port == 0)
		o->local_port = port_member(e, "local_port");
	return add_forwards(o, e, where);
}

void
jc_config_cli_set(unsigned bits)
{
	cli_set = bits;
}

int
jc_config_apply(struct jc_opts *o, const char *alias)
{
	unsigned set = 0;
	char where[300];
	int r;

	if ((cli_set & JC_CFG_CLI_VIA) || o->via != NULL)
		set |= SET_VIA;
	if ((cli_set & JC_CFG_CLI_HKC) ||
	    o->host_key_check != JC_HKC_ACCEPT_NEW)
		set |= SET_HKC;
	alias_entry = NULL;
	if (cfg == NULL)
		return 0;
	if (alias != NULL) {
		if ((alias_entry = alias_obj(alias)) == NULL) {
			jc_error("no alias \"%s\" in %s", alias, path_used);
			return JC_ERR_USAGE;
		}
		snprintf(where, sizeof(where), "alias \"%.200s\"", alias);
		if ((r = apply_one(o, alias_entry, where, &set)) != 0)
			return r;
	}
	return apply_one(o, cJSON_GetObjectItemCaseSensitive(cfg, "defaults"),
	    "defaults", &set);
}

/* ---- options ---------------------------------------------------------- */

int
jc_config_option_ok(const char *key, size_t keylen, const char *value,
    char *why, size_t n)
{
	const struct optdef *d;
	char names[800], allowed[96];
	long v;

	if ((d = optdef(key, keylen)) == NULL) {
		optdef_names(names, sizeof(names));
		snprintf(why, n, "no option \"%.*s\"; known: %s", (int)keylen,
		    key, names);
		return -1;
	}
	if (d->type != O_NUM ? text_ok(d, value) :
	    jc_num_parse(value, d->lo, d->hi, &v) == 0)
		return 0;
	optdef_allowed(d, allowed, sizeof(allowed));
	snprintf(why, n, "\"%.64s\" is not %s", value, allowed);
	return -1;
}

int
jc_config_set_option(const char *kv)
{
	const char *eq = strchr(kv, '=');
	char why[1024];

	if (eq == NULL || eq == kv) {
		jc_error("-o wants KEY=VALUE, got \"%s\"", kv);
		return JC_ERR_USAGE;
	}
	if (jc_config_option_ok(kv, (size_t)(eq - kv), eq + 1, why,
	    sizeof(why)) != 0) {
		jc_error("-o %s: %s", kv, why);
		return JC_ERR_USAGE;
	}
	if (ncli_opts == MAX_CLI_OPTS) {
		jc_error("too many -o options (at most %d)", MAX_CLI_OPTS);
		return JC_ERR_USAGE;
	}
	if ((cli_opts[ncli_opts] = strdup(kv)) == NULL)
		return JC_ERR_NOMEM;
	ncli_opts++;
	return 0;
}

const char *
jc_config_option(const char *key)
{
	static char tmp[32];
	const cJSON *d;
	const char *v;
	size_t kl = strlen(key);
	int i;

	for (i = ncli_opts - 1; i >= 0; i--)
		if (strncmp(cli_opts[i], key, kl) == 0 &&
		    cli_opts[i][kl] == '=')
			return cli_opts[i] + kl + 1;
	if (cfg == NULL)
		return NULL;
	v = member(cJSON_GetObjectItemCaseSensitive(alias_entry, "options"),
	    key, tmp, sizeof(tmp));
	if (v != NULL)
		return v;
	d = cJSON_GetObjectItemCaseSensitive(cfg, "defaults");
	return member(cJSON_GetObjectItemCaseSensitive(d, "options"), key, tmp,
	    sizeof(tmp));
}

long
jc_config_num(const char *key, long def)
{
	const struct optdef *d = optdef(key, strlen(key));
	const char *v = jc_config_option(key);
	long n;

	if (v == NULL || d == NULL || d->type != O_NUM ||
	    jc_num_parse(v, d->lo, d->hi, &n) != 0)
		return def;
	return n;
}

static void
print_plugin_opt(void *arg, const char *plugin, const struct jc_plugin_opt *o)
{
	struct optdef d = { o->key, (enum otype)o->type, o->min, o->max,
	    o->unit != NULL ? o->unit : "" };
	char allowed[96], key[96];

	optdef_allowed(&d, allowed, sizeof(allowed));
	snprintf(key, sizeof(key), "%s.%s", plugin, o->key);
	fprintf(arg, "  %-31s %s%s%s%s%s\n", key, allowed,
	    o->def ? ", default " : "", o->def ? o->def : "",
	    o->help ? "; " : "", o->help ? o->help : "");
}

void
jc_config_print_options(FILE *f)
{
	char allowed[96];
	size_t i;

	for (i = 0; i < NOPTDEFS; i++) {
		optdef_allowed(&optdefs[i], allowed, sizeof(allowed));
		fprintf(f, "  %-31s %s\n", optdefs[i].key, allowed);
	}
	/* Declared by the plugins themselves (ABI 1.5). */
	each_plugin_optdef(print_plugin_opt, f);
}

const char *
jc_config_option_name(size_t i)
{
	return i < NOPTDEFS ? optdefs[i].key : NULL;
}

const char *
jc_config_alias_name(size_t i)
{
	const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cfg, "aliases"), (int)i);

	return e != NULL ? e->string : NULL;
}

void
jc_config_list_aliases(void)
{
	const cJSON *a, *e;

	a = cJSON_GetObjectItemCaseSensitive(cfg, "aliases");
	cJSON_ArrayForEach(e, a)
		if (e->string != NULL)
			printf("%s\n", e->string);
}
