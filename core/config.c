/*
 * config.c - config file, aliases and options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "log.h"

#define MAX_CLI_OPTS	32
#define CONFIG_MAX	(1 << 20)

static cJSON *cfg;			/* whole file */
static const cJSON *alias_entry;	/* NB. borrowed from cfg */
static char *cli_opts[MAX_CLI_OPTS];	/* "key=value" from -o */
static int ncli_opts;
static char path_used[1024];

static char *
slurp(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if ((buf = malloc(CONFIG_MAX + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, CONFIG_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_MAX) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

int
jc_config_parse(const char *text, size_t len, const char *label)
{
	const char *ep;
	int line = 1;

	cJSON_Delete(cfg);
	alias_entry = NULL;
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
	return 0;
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
		jc_error("cannot read config file %s: %s", path_used,
		    strerror(errno));
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

/* String or number member as text; NULL when absent. */
static const char *
member(const cJSON *o, const char *k, char *tmp, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		snprintf(tmp, n, "%d", v->valueint);
		return tmp;
	}
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "1" : "0";
	return NULL;
}

/* String member only: the pointer outlives this call. */
static const char *
smember(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
apply_one(struct jc_opts *o, const cJSON *e, const char *where)
{
	char tmp[32];
	const char *v;

	if (e == NULL)
		return 0;
	if (!cJSON_IsObject(e)) {
		jc_error("config file %s: \"%s\" must be an object", path_used,
		    where);
		return JC_ERR_USAGE;
	}
	if (o->via == JC_VIA_AUTO && (v = member(e, "via", tmp, sizeof(tmp)))) {
		if (strcmp(v, "ssm") == 0)
			o->via = JC_VIA_SSM;
		else if (strcmp(v, "ssh") == 0)
			o->via = JC_VIA_SSH;
		else if (strcmp(v, "auto") != 0) {
			jc_error("config file %s: %s.via must be ssm, ssh or "
			    "auto", path_used, where);
			return JC_ERR_USAGE;
		}
	}
	if (o->user == NULL)
		o->user = smember(e, "user");
	if (o->identity == NULL)
		o->identity = smember(e, "identity");
	if (o->region == NULL)
		o->region = smember(e, "region");
	if (o->profile == NULL)
		o->profile = smember(e, "profile");
	if (o->known_hosts == NULL)
		o->known_hosts = smember(e, "known_hosts");
	if (o->jupyter_log == NULL)
		o->jupyter_log = smember(e, "jupyter_log");
	if (o->ssh_port == 0 && (v = member(e, "port", tmp, sizeof(tmp))))
		o->ssh_port = atoi(v);
	if (o->jupyter_port == 0 &&
	    (v = member(e, "jupyter_port", tmp, sizeof(tmp))))
		o->jupyter_port = atoi(v);
	if (o->local_port == 0 &&
	    (v = member(e, "local_port", tmp, sizeof(tmp))))
		o->local_port = atoi(v);
	if ((v = member(e, "host_key_check", tmp, sizeof(tmp))) != NULL &&
	    strcmp(v, "strict") == 0)
		o->host_key_check = JC_HKC_STRICT;
	return 0;
}

int
jc_config_apply(struct jc_opts *o, const char *alias)
{
	int r;

	if (cfg == NULL)
		return 0;
	if (alias != NULL) {
		alias_entry = alias_obj(alias);
		if ((r = apply_one(o, alias_entry, alias)) != 0)
			return r;
	}
	return apply_one(o, cJSON_GetObjectItemCaseSensitive(cfg, "defaults"),
	    "defaults");
}

int
jc_config_set_option(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv) {
		jc_error("-o wants KEY=VALUE, got \"%s\"", kv);
		return JC_ERR_USAGE;
	}
	if (ncli_opts == MAX_CLI_OPTS) {
		jc_error("too many -o options");
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

void
jc_config_list_aliases(void)
{
	const cJSON *a, *e;

	a = cJSON_GetObjectItemCaseSensitive(cfg, "aliases");
	cJSON_ArrayForEach(e, a)
		if (e->string != NULL)
			printf("%s\n", e->string);
}
