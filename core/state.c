/*
 * state.c - state files of background tunnels.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "jc_plugin.h"
#include "log.h"
#include "state.h"

#define MAX_TUNNELS 256

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[1024], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

const char *
jc_state_dir(void)
{
	static char dir[1024];
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");

	if (x != NULL && *x == '/')
		snprintf(dir, sizeof(dir), "%s/jconnect", x);
	else
		snprintf(dir, sizeof(dir), "%s/.local/state/jconnect",
		    h ? h : "");
	if (mkdir_p(dir, 0700) != 0)
		jc_debug("cannot create %s: %s", dir, strerror(errno));
	return dir;
}

static int
isalnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

const char *
jc_state_file(const char *target)
{
	static char f[1400];
	char name[600];
	size_t i;

	/* Keep it readable but safe as a file name. */
	for (i = 0; target[i] != '\0' && i < sizeof(name) - 1; i++)
		name[i] = (isalnum_ascii(target[i]) || target[i] == '-' ||
		    target[i] == '.' || target[i] == '_' || target[i] == '@') ?
		    target[i] : '_';
	name[i] = '\0';
	snprintf(f, sizeof(f), "%s/%s.json", jc_state_dir(), name);
	return f;
}

/*
 * Start time of pid (field 22 of /proc/PID/stat, after the command name,
 * which may hold spaces and parentheses), or 0 when it cannot be read.
 */
static unsigned long long
proc_start(pid_t pid)
{
	char path[64], buf[1024], *p, *save = NULL;
	unsigned long long v = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* p + 1 starts at field 3 (the state). */
	for (field = 3, p = strtok_r(p + 1, " ", &save); p != NULL;
	    field++, p = strtok_r(NULL, " ", &save))
		if (field == 22) {
			v = strtoull(p, NULL, 10);
			break;
		}
	return v;
}

int
jc_state_write(const struct jc_tunnel *t)
{
	char tmp[1500], *s;
	const char *file = jc_state_file(t->target);
	cJSON *o;
	FILE *f;
	int fd, r = JC_ERR_IO;

	if ((o = cJSON_CreateObject()) == NULL)
		return JC_ERR_NOMEM;
	cJSON_AddNumberToObject(o, "pid", t->pid);
	cJSON_AddStringToObject(o, "target", t->target);
	cJSON_AddStringToObject(o, "via", t->via);
	cJSON_AddNumberToObject(o, "local_port", t->local_port);
	cJSON_AddStringToObject(o, "url", t->url);
	cJSON_AddNumberToObject(o, "started", (double)t->started);
	cJSON_AddNumberToObject(o, "pid_start", (double)(t->pid_start != 0 ?
	    t->pid_start : proc_start(t->pid)));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return JC_ERR_NOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", file, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "%s\n", s);
	if (fclose(f) != 0 || rename(tmp, file) != 0) {
		unlink(tmp);
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		jc_warn("cannot write %s: %s", file, strerror(errno));
	free(s);
	return r;
}

static int
read_file(const char *file, struct jc_tunnel *t)
{
	char buf[4096];
	const cJSON *v;
	cJSON *o;
	FILE *f;
	size_t n;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((o = cJSON_Parse(buf)) == NULL)
		return -1;
	memset(t, 0, sizeof(*t));
	snprintf(t->file, sizeof(t->file), "%s", file);
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(o, "pid")))
		t->pid = (pid_t)v->valuedouble;
	if (cJSON_IsString(v = cJSON_GetObjectItem(o, "target")))
		snprintf(t->target, sizeof(t->target), "%s", v->valuestring);
	if (cJSON_IsString(v = cJSON_GetObjectItem(o, "via")))
		snprintf(t->via, sizeof(t->via), "%s", v->valuestring);
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(o, "local_port")))
		t->local_port = v->valueint;
	if (cJSON_IsString(v = cJSON_GetObjectItem(o, "url")))
		snprintf(t->url, sizeof(t->url), "%s", v->valuestring);
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(o, "started")))
		t->started = (long)v->valuedouble;
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(o, "pid_start")) &&
	    v->valuedouble > 0)
		t->pid_start = (unsigned long long)v->valuedouble;
	cJSON_Delete(o);
	return t->pid > 0 && *t->target ? 0 : -1;
}

/*
 * Is the tunnel's process still alive (not a recycled pid)?  Its start
 * time says so whatever the binary is called (a symlink, a wrapper);
 * state files without one fall back to the command line.
 */
static int
tunnel_alive(const struct jc_tunnel *t)
{
	char path[64], buf[256];
	unsigned long long now;
	ssize_t n;
	int fd;

	if (kill(t->pid, 0) != 0 && errno != EPERM)
		return 0;
	if (t->pid_start != 0 && (now = proc_start(t->pid)) != 0)
		return now == t->pid_start;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)t->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;		/* no /proc: trust kill() */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;		/* zombie */
	buf[n] = '\0';
	return strstr(buf, "jconnect") != NULL;
}

int
jc_state_find(const char *target, struct jc_tunnel *out)
{
	const char *file = jc_state_file(target);
	struct jc_tunnel t;

	if (read_file(file, &t) != 0)
		return JC_ERR_NOTFOUND;
	if (!tunnel_alive(&t)) {
		unlink(file);
		return JC_ERR_NOTFOUND;
	}
	if (strcmp(t.target, target) != 0)
		return JC_ERR_NOTFOUND;
	*out = t;
	return 0;
}

void
jc_state_remove(const char *target)
{
	unlink(jc_state_file(target));
}

static int
cmp_tunnel(const void *a, const void *b)
{
	return strcmp(((const struct jc_tunnel *)a)->target,
	    ((const struct jc_tunnel *)b)->target);
}

int
jc_state_each(void (*fn)(const struct jc_tunnel *, void *), void *arg)
{
	struct jc_tunnel *all;
	struct dirent *de;
	char file[1400];
	size_t len;
	DIR *d;
	int n = 0, i;

	if ((d = opendir(jc_state_dir())) == NULL)
		return 0;
	if ((all = calloc(MAX_TUNNELS, sizeof(*all))) == NULL) {
		closedir(d);
		return 0;
	}
	while ((de = readdir(d)) != NULL && n < MAX_TUNNELS) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", jc_state_dir(),
		    de->d_name);
		if (read_file(file, &all[n]) != 0)
			continue;
		if (!tunnel_alive(&all[n])) {
			jc_verbose("removing stale tunnel state %s", file);
			unlink(file);
			continue;
		}
		n++;
	}
	closedir(d);
	qsort(all, (size_t)n, sizeof(*all), cmp_tunnel);
	for (i = 0; i < n; i++)
		fn(&all[i], arg);
	free(all);
	return n;
}
