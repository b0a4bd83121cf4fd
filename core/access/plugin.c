/*
 * plugin.c - plugin registry.  Loads plugins/NAME/jc-NAME.so with dlopen
 * (RTLD_NOW | RTLD_LOCAL: plugins see no core symbols, only the host
 * table) after the checks of README "Plugin ABI".
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "compat.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "state.h"

#ifndef JC_LIBDIR
#define JC_LIBDIR "/usr/local/lib/jconnect"
#endif
/* The plugins this build makes, in the Makefile's order (PLUGINS). */
#ifndef JC_PLUGINS
#error "JC_PLUGINS (the Makefile's plugin list) is not defined"
#endif

#define MAX_PLUGINS 16

struct loaded {
	const struct jc_plugin	*p;
	void			*state;
	void			*dl;
	int			 fd;		/* loaded as /proc/self/fd/N */
	char			 path[PATH_MAX];
};

static struct loaded loaded[MAX_PLUGINS];
static int nloaded;
static const char *plugin_dir;

static void
host_log(int level, const char *plugin, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jc_vlog(level, plugin, fmt, ap);
	va_end(ap);
}

static int
host_log_level(void)
{
	return jc_log_lvl;
}

static const struct jc_host host = {
	.abi = JC_PLUGIN_ABI,
	.size = sizeof(struct jc_host),
	.log = host_log,
	.log_level = host_log_level,
	.now_ms = jc_now_ms,
	.source_add = jc_source_add,
	.source_del = jc_source_del,
	.ps_add = jc_ps_add,
	.ps_revents = jc_ps_revents,
	.loop_run = jc_loop_run,
	.aws_json = jc_aws_json,
	.aws_explain = jc_aws_explain,
	.free = free,
	.option = jc_config_option,
	.aws_ca_bundle = jc_aws_ca_bundle,
	.aws_json_start = jc_aws_json_start,
	.aws_json_cancel = jc_aws_json_cancel,
	.aws_query = jc_aws_query,
	.aws_presign = jc_aws_presign,
	.memo_get = jc_state_memo_get,
	.memo_put = jc_state_memo_put,
	.aws_region = jc_aws_region,
	.source_add_light = jc_source_add_light,
};

const struct jc_host *
jc_plugin_host(void)
{
	return &host;
}

void
jc_plugin_set_dir(const char *dir)
{
	plugin_dir = dir;
}

const char *
jc_plugin_exe_dir(void)
{
	static char dir[PATH_MAX];
	char *slash;
	ssize_t n;

	if (dir[0] != '\0')
		return dir;
	n = jc_exe_path(dir, sizeof(dir));
	if (n <= 0) {
		dir[0] = '\0';
		return ".";
	}
	dir[n] = '\0';
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	return dir;
}

/* Who may own a plugin or its directory: root or the user running us. */
static int
trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Open path for loading, checked by descriptor: its directory and the
 * file are owned by root or the user and writable by nobody else, and
 * the file is a regular file reached without a link.  Returns the file's
 * descriptor, or -1 with the reason in why.
 */
static int
open_checked(const char *path, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base;
	struct stat st;
	int dfd, fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	base = slash ? slash + 1 : path;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(dfd, &st) != 0 || !trusted_owner(st.st_uid)) {
		snprintf(why, whylen, "its directory %s belongs to uid %ld, "
		    "neither root nor you", dir, (long)st.st_uid);
		close(dfd);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whylen, "its directory %s is writable by group "
		    "or others (mode %04o); fix with chmod go-w %s", dir,
		    (unsigned)(st.st_mode & 07777), dir);
		close(dfd);
		return -1;
	}
	/* The file in that very directory, not through a link. */
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0) {
		snprintf(why, whylen, "%s", errno == ELOOP ?
		    "a symbolic link, not a regular file" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto fail;
	}
	if (!trusted_owner(st.st_uid)) {
		snprintf(why, whylen, "owned by uid %ld, neither root nor you",
		    (long)st.st_uid);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whylen, "writable by group or others (mode %04o); "
		    "fix with chmod go-w", (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	return fd;
 fail:
	close(fd);
	return -1;
}

int
jc_plugin_load_file(const char *path, const struct jc_plugin **pp,
    void **statep, char *why, size_t whylen)
{
	const struct jc_plugin *(*entry)(void);
	const struct jc_plugin *p;
	const char *base;
	void *dl = NULL, *state = NULL;
	char want[128];
	int i, fd;

	if (nloaded == MAX_PLUGINS) {
		snprintf(why, whylen, "too many plugins");
		return JC_ERR_PLUGIN;
	}
	if ((fd = open_checked(path, why, whylen)) < 0)
		return JC_ERR_PLUGIN;
	/*
	 * Load the file just checked, through its descriptor: whatever
	 * happens to the path meanwhile, this is what runs.  The descriptor
	 * stays open while the plugin is loaded: the loader knows objects
	 * by name first, and a reused /proc/self/fd/N would name another.
	 */
	if ((dl = jc_dlopen_fd(fd, path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(why, whylen, "%s", jc_dlerror());
		close(fd);
		return JC_ERR_PLUGIN;
	}
	*(void **)&entry = dlsym(dl, "jc_plugin_entry");
	if (entry == NULL || (p = entry()) == NULL) {
		snprintf(why, whylen, "no jc_plugin_entry symbol");
		goto fail;
	}
	if ((p->abi >> 16) != JC_PLUGIN_ABI_MAJOR) {
		snprintf(why, whylen, "built for plugin ABI %u.%u, this jconnect "
		    "speaks %u.%u; rebuild the plugin", p->abi >> 16,
		    p->abi & 0xffff, JC_PLUGIN_ABI_MAJOR, JC_PLUGIN_ABI_MINOR);
		goto fail;
	}
	if (p->size < JC_PLUGIN_MIN_SIZE) {
		snprintf(why, whylen, "plugin struct too small (%u < %zu)",
		    p->size, (size_t)JC_PLUGIN_MIN_SIZE);
		goto fail;
	}
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	snprintf(want, sizeof(want), "jc-%s.so", p->name ? p->name : "");
	if (p->name == NULL || strcmp(base, want) != 0) {
		snprintf(why, whylen, "file name %s does not match plugin name "
		    "\"%s\"", base, p->name ? p->name : "");
		goto fail;
	}
	for (i = 0; i < nloaded; i++)
		if (strcmp(loaded[i].p->name, p->name) == 0) {
			snprintf(why, whylen, "plugin \"%s\" already loaded from "
			    "%s", p->name, loaded[i].path);
			goto fail;
		}
	if ((p->kind & JC_KIND_METHOD) && (p->connect == NULL ||
	    p->exec == NULL || p->exec_free == NULL || p->stream == NULL ||
	    p->status == NULL || p->close == NULL)) {
		snprintf(why, whylen, "access plugin lacks required operations");
		goto fail;
	}
	if ((p->kind & JC_KIND_KEYS) && (p->size < sizeof(struct jc_plugin) ||
	    p->keys == NULL)) {
		snprintf(why, whylen, "key plugin lacks its keys operation");
		goto fail;
	}
	if (p->init != NULL && p->init(&host, &state) != 0) {
		snprintf(why, whylen, "init failed");
		goto fail;
	}
	loaded[nloaded].p = p;
	loaded[nloaded].state = state;
	loaded[nloaded].dl = dl;
	loaded[nloaded].fd = fd;
	snprintf(loaded[nloaded].path, sizeof(loaded[nloaded].path), "%s",
	    path);
	nloaded++;
	*pp = p;
	*statep = state;
	return 0;
 fail:
	dlclose(dl);
	close(fd);
	return JC_ERR_PLUGIN;
}

#define MAX_CANDIDATES	8

/* Candidate paths for plugin `name`, in search order. */
static int
candidates(const char *name, char paths[][PATH_MAX], int max)
{
	const char *env = getenv("JCONNECT_PLUGIN_DIR"), *e, *colon;
	int n = 0;

	if (plugin_dir != NULL && n < max)
		snprintf(paths[n++], PATH_MAX, "%s/jc-%s.so", plugin_dir, name);
	/* JCONNECT_PLUGIN_DIR may list directories, as PATH does. */
	for (e = env; e != NULL && *e != '\0' && n < max - 3; e = colon ?
	    colon + 1 : NULL) {
		colon = strchr(e, ':');
		if (colon != e)
			snprintf(paths[n++], PATH_MAX, "%.*s/jc-%s.so",
			    colon ? (int)(colon - e) : (int)strlen(e), e, name);
	}
	if (n < max)
		snprintf(paths[n++], PATH_MAX, "%s/plugins/%s/jc-%s.so",
		    jc_plugin_exe_dir(), name, name);
	/* An installed tree, wherever it was copied: bin/../lib/jconnect. */
	if (n < max)
		snprintf(paths[n++], PATH_MAX, "%s/../lib/jconnect/jc-%s.so",
		    jc_plugin_exe_dir(), name);
	if (n < max)
		snprintf(paths[n++], PATH_MAX, "%s/jc-%s.so", JC_LIBDIR, name);
	return n;
}

int
jc_plugin_get(const char *name, const struct jc_plugin **pp, void **statep)
{
	char paths[MAX_CANDIDATES][PATH_MAX], why[512];
	int i, n;

	for (i = 0; i < nloaded; i++)
		if (strcmp(loaded[i].p->name, name) == 0) {
			*pp = loaded[i].p;
			*statep = loaded[i].state;
			return 0;
		}
	n = candidates(name, paths, MAX_CANDIDATES);
	for (i = 0; i < n; i++) {
		if (access(paths[i], F_OK) != 0)
			continue;
		if (jc_plugin_load_file(paths[i], pp, statep, why,
		    sizeof(why)) == 0) {
			jc_debug("loaded plugin %s from %s", name, paths[i]);
			return 0;
		}
		jc_error("refusing plugin %s: %s", paths[i], why);
		return JC_ERR_PLUGIN;
	}
	jc_error("plugin \"%s\" not found (looked in %s%s%s and %s); build it "
	    "with make, or set JCONNECT_PLUGIN_DIR", name,
	    plugin_dir ? plugin_dir : "", plugin_dir ? ", " : "",
	    paths[n - 3], JC_LIBDIR);
	return JC_ERR_PLUGIN;
}

/* The k-th name of the build's list into buf; 0, or -1 past the end. */
static int
built_name(int k, char *buf, size_t len)
{
	const char *s = JC_PLUGINS;
	size_t n;

	for (;;) {
		s += strspn(s, " ");
		if (*s == '\0')
			return -1;
		n = strcspn(s, " ");
		if (k-- == 0) {
			snprintf(buf, len, "%.*s", (int)n, s);
			return 0;
		}
		s += n;
	}
}

int
jc_plugin_built(const char *name)
{
	char b[64];
	int k;

	for (k = 0; built_name(k, b, sizeof(b)) == 0; k++)
		if (strcmp(b, name) == 0)
			return 1;
	return 0;
}

int
jc_plugin_methods(const struct jc_plugin **ps, void **states, int max)
{
	const struct jc_plugin *p;
	void *st;
	char b[64];
	int k, n = 0, lvl = jc_log_lvl;

	for (k = 0; built_name(k, b, sizeof(b)) == 0 && n < max; k++) {
		/* One that cannot load is left out, said at -v. */
		if (lvl < JC_LOG_VERBOSE)
			jc_log_lvl = 0;
		if (jc_plugin_get(b, &p, &st) != 0) {
			jc_log_lvl = lvl;
			jc_verbose("plugin %s left out of --via auto", b);
			continue;
		}
		jc_log_lvl = lvl;
		if (!(p->kind & JC_KIND_METHOD))
			continue;
		ps[n] = p;
		states[n++] = st;
	}
	return n;
}

uint32_t
jc_plugin_caps(const struct jc_plugin *p)
{
	return JC_PLUGIN_HAS(p, caps) ? p->caps : 0;
}

const char *
jc_plugin_label(const struct jc_plugin *p)
{
	return JC_PLUGIN_HAS(p, label) && p->label != NULL ? p->label :
	    p->name;
}

const struct jc_plugin_opt *
jc_plugin_optdef(const char *key)
{
	const struct jc_plugin_opt *o;
	const struct jc_plugin *p;
	const char *dot = strchr(key, '.');
	char name[64];
	void *st;

	if (dot == NULL || dot == key || (size_t)(dot - key) >= sizeof(name))
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)(dot - key), key);
	if (!jc_plugin_built(name) || jc_plugin_get(name, &p, &st) != 0 ||
	    !JC_PLUGIN_HAS(p, options) || p->options == NULL)
		return NULL;
	for (o = p->options; o->key != NULL; o++)
		if (strcmp(o->key, dot + 1) == 0)
			return o;
	return NULL;
}

int
jc_plugin_each_optdef(void (*fn)(void *, const char *,
    const struct jc_plugin_opt *), void *arg)
{
	const struct jc_plugin_opt *o;
	const struct jc_plugin *p;
	char b[64];
	void *st;
	int k, n = 0;

	for (k = 0; built_name(k, b, sizeof(b)) == 0; k++) {
		if (jc_plugin_get(b, &p, &st) != 0 || !JC_PLUGIN_HAS(p,
		    options) || p->options == NULL)
			continue;
		for (o = p->options; o->key != NULL; o++, n++)
			fn(arg, p->name, o);
	}
	return n;
}

const struct jc_config_plugins *
jc_plugin_config_ops(void)
{
	static const struct jc_config_plugins ops = { jc_plugin_built,
	    jc_plugin_optdef, jc_plugin_each_optdef };

	return &ops;
}

int
jc_plugin_list(FILE *f, int json)
{
	const struct jc_plugin *p;
	char paths[MAX_CANDIDATES][PATH_MAX], why[512], name[64];
	void *state;
	int k, i, n, found, bad = 0;
	cJSON *o;
	char *s;

	for (k = 0; built_name(k, name, sizeof(name)) == 0; k++) {
		n = candidates(name, paths, MAX_CANDIDATES);
		found = 0;
		for (i = 0; i < n && !found; i++) {
			if (access(paths[i], F_OK) != 0)
				continue;
			found = 1;
			*why = '\0';
			if (jc_plugin_get(name, &p, &state) != 0) {
				bad++;
				p = NULL;
			}
			if (json) {
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", name);
				cJSON_AddStringToObject(o, "path", paths[i]);
				cJSON_AddBoolToObject(o, "loaded", p != NULL);
				if (p != NULL) {
					cJSON_AddStringToObject(o, "version",
					    p->version ? p->version : "");
					snprintf(why, sizeof(why), "%u.%u",
					    p->abi >> 16, p->abi & 0xffff);
					cJSON_AddStringToObject(o, "abi", why);
					cJSON_AddStringToObject(o, "summary",
					    p->summary ? p->summary : "");
				}
				s = cJSON_PrintUnformatted(o);
				fprintf(f, "%s\n", s ? s : "{}");
				free(s);
				cJSON_Delete(o);
			} else if (p != NULL)
				fprintf(f, "%-5s %-6s ABI %u.%u  %s\n      %s\n",
				    p->name, p->version ? p->version : "",
				    p->abi >> 16, p->abi & 0xffff, paths[i],
				    p->summary ? p->summary : "");
			else
				fprintf(f, "%-5s (refused)  %s\n", name,
				    paths[i]);
		}
		if (!found) {
			bad++;
			if (json)
				fprintf(f, "{\"name\":\"%s\",\"loaded\":false}\n",
				    name);
			else
				fprintf(f, "%-5s (not found)\n", name);
		}
	}
	return bad ? JC_ERR_PLUGIN : 0;
}

void
jc_plugin_unload_all(void)
{
	while (nloaded > 0) {
		nloaded--;
		if (loaded[nloaded].p->fini != NULL)
			loaded[nloaded].p->fini(loaded[nloaded].state);
		/* Under ASan keep the code mapped for leak stack traces. */
		if (getenv("JC_NO_DLCLOSE") == NULL) {
			dlclose(loaded[nloaded].dl);
			close(loaded[nloaded].fd);
		}
	}
}
