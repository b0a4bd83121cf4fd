/*
 * state.c - the private state directory and the files in it: background
 * tunnels, their logs, remembered ports, browser pages.
 *
 * Everything is opened relative to one descriptor of the checked
 * directory, without following links, and written through an
 * exclusively created temporary file with an unguessable name and a
 * rename, so nothing planted in or around the directory is written
 * through or trusted.
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
#include <openssl/evp.h>

#include "compat.h"
#include "jc_plugin.h"
#include "log.h"
#include "state.h"

#define MAX_TUNNELS	256
#define MEMO_KEYS_MAX	32	/* per plugin */
#define MAX_FILE	8192		/* a state file is far smaller */
#define PREFIX_LEN	40		/* readable part of a file name */
#define HASH_HEX	16		/* 64 bits of SHA-256 of the target */

static int	 dir_fd = -1;
static int	 dir_tried;
static char	 dir_path[1024];
static char	 dir_why[1400];
static int	 held_fd = -1;		/* our own state file, locked */

/* ---- the directory --------------------------------------------------- */

static int
mkdir_parents(char *path)
{
	char *p;

	for (p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST) {
				*p = '/';
				return -1;
			}
			*p = '/';
		}
	return 0;
}

static int
open_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	struct stat st;
	int fd, n;

	if (x != NULL && *x == '/')
		n = snprintf(dir_path, sizeof(dir_path), "%s/jconnect", x);
	else if (h != NULL && *h == '/')
		n = snprintf(dir_path, sizeof(dir_path),
		    "%s/.local/state/jconnect", h);
	else {
		/* Never a relative path, nor one under "/". */
		snprintf(dir_why, sizeof(dir_why), "HOME is %s: set HOME (or "
		    "XDG_STATE_HOME) to your home directory, where jconnect "
		    "keeps its state", h == NULL || *h == '\0' ? "not set" :
		    "not an absolute path");
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof(dir_path)) {
		snprintf(dir_why, sizeof(dir_why), "the state directory path "
		    "is too long: set XDG_STATE_HOME to a shorter one");
		return -1;
	}
	if (mkdir_parents(dir_path) != 0 ||
	    (mkdir(dir_path, 0700) != 0 && errno != EEXIST)) {
		snprintf(dir_why, sizeof(dir_why), "cannot create %s: %s",
		    dir_path, strerror(errno));
		return -1;
	}
	fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(dir_why, sizeof(dir_why), "cannot use %s: %s%s",
		    dir_path, strerror(errno), errno == ELOOP ||
		    errno == ENOTDIR ? " (not a directory: remove it)" : "");
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
		snprintf(dir_why, sizeof(dir_why), "%s belongs to uid %ld, not "
		    "to you (uid %ld): remove it, or set XDG_STATE_HOME to a "
		    "directory of yours", dir_path, (long)st.st_uid,
		    (long)geteuid());
		close(fd);
		return -1;
	}
	if ((st.st_mode & 07777) != 0700) {
		/* Ours, so repair it rather than refuse. */
		if (fchmod(fd, 0700) != 0) {
			snprintf(dir_why, sizeof(dir_why), "%s has mode %04o "
			    "and cannot be made 0700: %s", dir_path,
			    (unsigned)(st.st_mode & 07777), strerror(errno));
			close(fd);
			return -1;
		}
		jc_warn("%s had mode %04o; made it 0700", dir_path,
		    (unsigned)(st.st_mode & 07777));
	}
	dir_fd = fd;
	return 0;
}

const char *
jc_state_dir(void)
{
	if (!dir_tried) {
		dir_tried = 1;
		open_dir();
	}
	return dir_fd >= 0 ? dir_path : NULL;
}

const char *
jc_state_why(void)
{
	return dir_why;
}

/* ---- names ------------------------------------------------------------ */

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '@';
}

const char *
jc_state_name(const char *target)
{
	static char name[PREFIX_LEN + 1 + HASH_HEX + 1];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i;

	for (i = 0; target[i] != '\0' && i < PREFIX_LEN; i++)
		name[i] = name_char(target[i]) ? target[i] : '_';
	/* No hidden file, and nothing that reads as "..". */
	if (i > 0 && name[0] == '.')
		name[0] = '_';
	name[i++] = '-';
	if (EVP_Digest(target, strlen(target), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen < HASH_HEX / 2)
		memset(md, 0, sizeof(md));
	for (mdlen = 0; mdlen < HASH_HEX / 2; mdlen++, i += 2)
		snprintf(name + i, 3, "%02x", md[mdlen]);
	name[i] = '\0';
	return name;
}

/* The name of earlier versions: the whole target made safe (may collide). */
static int
legacy_name(const char *target, char *out, size_t n)
{
	size_t i, len = strlen(target);

	if (len + sizeof(".json") > n || len + sizeof(".json") > 256)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = name_char(target[i]) ? target[i] : '_';
	snprintf(out + len, n - len, ".json");
	return 0;
}

static void
file_name(const char *target, const char *ext, char *out, size_t n)
{
	snprintf(out, n, "%s%s", jc_state_name(target), ext);
}

/* ---- files ------------------------------------------------------------ */

/*
 * Create a fresh 0600 temporary file in the directory: exclusive, not
 * through a link, under a random name.  Returns the descriptor.
 */
static int
create_tmp(char *tmp, size_t n)
{
	unsigned char rnd[8];
	int fd, tries;

	for (tries = 0; tries < 16; tries++) {
		if (jc_random(rnd, sizeof(rnd)) != 0)
			return -1;
		snprintf(tmp, n, ".tmp-%02x%02x%02x%02x%02x%02x%02x%02x",
		    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
		    rnd[7]);
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t k;

	while (len > 0) {
		if ((k = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/*
 * Write data as `name` atomically.  With lock, the new file is locked
 * first and its descriptor returned in *fdp (kept open by the caller).
 */
static int
put_file(const char *name, const void *data, size_t len, int lock, int *fdp)
{
	struct flock fl;
	char tmp[64];
	int fd, e;

	if (jc_state_dir() == NULL)
		return JC_ERR_IO;
	if ((fd = create_tmp(tmp, sizeof(tmp))) < 0)
		return JC_ERR_IO;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (write_all(fd, data, len) != 0 ||
	    (lock && fcntl(fd, F_SETLK, &fl) != 0) ||
	    renameat(dir_fd, tmp, dir_fd, name) != 0) {
		e = errno;
		unlinkat(dir_fd, tmp, 0);
		close(fd);
		errno = e;
		return JC_ERR_IO;
	}
	if (fdp != NULL)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

/*
 * Open one of our files for reading: a regular file of ours, not a link
 * (a FIFO would not block us either).  Returns the descriptor or -1.
 */
static int
open_ours(const char *name)
{
	struct stat st;
	int fd;

	if (jc_state_dir() == NULL)
		return -1;
	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read a small JSON file of ours. */
static cJSON *
read_json(const char *name)
{
	char *buf;
	cJSON *o = NULL;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open_ours(name)) < 0)
		return NULL;
	if ((buf = malloc(MAX_FILE)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < MAX_FILE - 1 &&
	    (n = read(fd, buf + len, MAX_FILE - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	o = cJSON_Parse(buf);
	jc_wipe(buf, len);
	free(buf);
	return o;
}

int
jc_state_put(const char *target, const char *ext, const void *data,
    size_t len, char *path, size_t pathlen)
{
	char name[128];
	int r;

	file_name(target, ext, name, sizeof(name));
	if ((r = put_file(name, data, len, 0, NULL)) != 0) {
		if (jc_state_dir() != NULL)
			jc_warn("cannot write %s/%s: %s", dir_path, name,
			    strerror(errno));
		return r;
	}
	snprintf(path, pathlen, "%s/%s", dir_path, name);
	return 0;
}

void
jc_state_unlink(const char *target, const char *ext)
{
	char name[128];

	if (jc_state_dir() == NULL)
		return;
	file_name(target, ext, name, sizeof(name));
	unlinkat(dir_fd, name, 0);
}

int
jc_state_log_open(const char *target)
{
	struct stat st;
	char name[128];
	int fd;

	if (jc_state_dir() == NULL)
		return -1;
	file_name(target, ".log", name, sizeof(name));
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() ||
	    ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- processes -------------------------------------------------------- */

static unsigned long long
proc_start(pid_t pid)
{
	unsigned long long start;
	char state;

	return jc_proc_stat(pid, &state, &start) == 0 ? start : 0;
}

/* Is pid's program a jconnect (its name, or the very binary we run)? */
static int
exe_is_jconnect(pid_t pid)
{
	char buf[4096], *base;

	if (jc_proc_exe(pid, buf, sizeof(buf)) <= 0)
		return 0;
	base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	if (strncmp(base, "jconnect", 8) == 0)
		return 1;
	return jc_proc_same_exe(pid);
}

/* The pid holding a lock on fd's file, or 0. */
static pid_t
lock_holder(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

/*
 * Does t's process hold the lock on t's state file?  Looks at the file
 * as first opened (it may be unlinked by an exiting tunnel), then at the
 * one now under that name (a reconnect rewrites it).
 */
static int
holds_lock(struct jc_tunnel *t)
{
	int fd;

	if (t->pid <= 0)
		return 0;	/* lock_holder's 0 is "nobody" */
	if (t->lock_fd >= 0 && lock_holder(t->lock_fd) == t->pid)
		return 1;
	if ((fd = open_ours(t->file)) < 0)
		return 0;
	if (lock_holder(fd) == t->pid) {
		if (t->lock_fd >= 0)
			close(t->lock_fd);
		t->lock_fd = fd;
		return 1;
	}
	if (t->lock_fd < 0)
		t->lock_fd = fd;	/* kept for a later check */
	else
		close(fd);
	return 0;
}

/*
 * Same user and same process (not a recycled pid)?  With zombie, an
 * exited one not yet reaped counts too.
 */
static int
same_process(const struct jc_tunnel *t, int zombie)
{
	unsigned long long start;
	uid_t uid;
	char state;

	if (t->pid <= 0 || jc_proc_uid(t->pid, &uid) != 0 || uid != getuid() ||
	    jc_proc_stat(t->pid, &state, &start) != 0 ||
	    (!zombie && (state == 'Z' || state == 'X')))
		return 0;
	return t->pid_start == 0 || start == t->pid_start;
}

/*
 * Is t a live tunnel?  Yes when its process holds the lock on its state
 * file: the kernel says so, and only a live process holds a lock (no
 * recycled pid, no ps that may fail under load and get a live tunnel's
 * file forgotten).  A tunnel of an earlier jconnect took no lock: it
 * counts when its start time matches and its program is a jconnect, but
 * only for listing, never for signalling (strict).
 */
static int
is_tunnel(struct jc_tunnel *t, int strict)
{
	if (holds_lock(t))
		return 1;
	if (strict || !same_process(t, 0))
		return 0;
	return t->pid_start != 0 && exe_is_jconnect(t->pid);
}

int
jc_state_running(struct jc_tunnel *t)
{
	return holds_lock(t) || same_process(t, 1);
}

/*
 * The check and the signal are a few microseconds apart: for the pid to
 * belong to another process by then, this one would have to exit and the
 * pid space wrap around in between.  (A pidfd would close even that, but
 * valgrind, under which the fault tests run jconnect, rejects the call.)
 */
int
jc_state_signal(struct jc_tunnel *t, int sig)
{
	if (!is_tunnel(t, 1))
		return same_process(t, 0) ? JC_ERR_UNSUPPORTED :
		    JC_ERR_NOTFOUND;
	if (kill(t->pid, sig) != 0)
		return errno == ESRCH ? JC_ERR_NOTFOUND : JC_ERR_IO;
	return 0;
}

void
jc_state_release(struct jc_tunnel *t)
{
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	t->lock_fd = -1;
}

/* ---- tunnels ---------------------------------------------------------- */

/* "forwards": [{"local_port": L, "host": H, "remote_port": R}, ...] */
static int
add_forwards(cJSON *o, const struct jc_tunnel *t)
{
	cJSON *list, *f;
	int i;

	if ((list = cJSON_AddArrayToObject(o, "forwards")) == NULL)
		return -1;
	for (i = 0; i < t->nforwards; i++) {
		if ((f = cJSON_CreateObject()) == NULL)
			return -1;
		cJSON_AddItemToArray(list, f);
		if (cJSON_AddNumberToObject(f, "local_port",
		    t->forwards[i].local_port) == NULL ||
		    cJSON_AddStringToObject(f, "host",
		    t->forwards[i].host) == NULL ||
		    cJSON_AddNumberToObject(f, "remote_port",
		    t->forwards[i].remote_port) == NULL)
			return -1;
	}
	return 0;
}

static void
read_forwards(const cJSON *list, struct jc_tunnel *t)
{
	const cJSON *f, *lp, *h, *rp;
	struct jc_tunnel_fwd *d;

	cJSON_ArrayForEach(f, list) {
		if (t->nforwards == JC_TUNNEL_FWD_MAX)
			break;
		lp = cJSON_GetObjectItem(f, "local_port");
		h = cJSON_GetObjectItem(f, "host");
		rp = cJSON_GetObjectItem(f, "remote_port");
		if (!cJSON_IsNumber(lp) || !cJSON_IsString(h) ||
		    !cJSON_IsNumber(rp) || lp->valueint < 1 ||
		    lp->valueint > 65535 || rp->valueint < 1 ||
		    rp->valueint > 65535)
			continue;
		d = &t->forwards[t->nforwards++];
		d->local_port = lp->valueint;
		snprintf(d->host, sizeof(d->host), "%s", h->valuestring);
		d->remote_port = rp->valueint;
	}
}

int
jc_state_write(const struct jc_tunnel *t)
{
	char name[128], *s;
	cJSON *o;
	int fd = -1, r;

	if (jc_state_dir() == NULL) {
		jc_warn("cannot record the tunnel: %s", dir_why);
		return JC_ERR_IO;
	}
	if ((o = cJSON_CreateObject()) == NULL)
		return JC_ERR_NOMEM;
	cJSON_AddNumberToObject(o, "pid", t->pid);
	cJSON_AddStringToObject(o, "target", t->target);
	cJSON_AddStringToObject(o, "via", t->via);
	cJSON_AddNumberToObject(o, "local_port", t->local_port);
	cJSON_AddStringToObject(o, "url", t->url);
	cJSON_AddNumberToObject(o, "started", (double)t->started);
	if (t->nforwards > 0 && add_forwards(o, t) != 0) {
		cJSON_Delete(o);
		return JC_ERR_NOMEM;
	}
	cJSON_AddNumberToObject(o, "pid_start", (double)(t->pid_start != 0 ?
	    t->pid_start : proc_start(t->pid)));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return JC_ERR_NOMEM;
	file_name(t->target, ".json", name, sizeof(name));
	r = put_file(name, s, strlen(s), t->pid == getpid(), &fd);
	if (r != 0)
		jc_warn("cannot write %s/%s: %s", dir_path, name,
		    strerror(errno));
	else if (t->pid == getpid()) {
		/* The new file is locked: the old one may go. */
		if (held_fd >= 0)
			close(held_fd);
		held_fd = fd;
	} else
		close(fd);
	jc_wipe(s, strlen(s));
	free(s);
	return r;
}

static int
read_tunnel(const char *name, struct jc_tunnel *t)
{
	const cJSON *v;
	cJSON *o;

	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	if (strlen(name) >= sizeof(t->file) || (o = read_json(name)) == NULL)
		return -1;
	snprintf(t->file, sizeof(t->file), "%s", name);
	if (cJSON_IsNumber(v = cJSON_GetObjectItem(o, "pid")) &&
	    v->valuedouble > 0 && v->valuedouble < 1e9)
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
	read_forwards(cJSON_GetObjectItem(o, "forwards"), t);
	cJSON_Delete(o);
	return t->pid > 0 && *t->target ? 0 : -1;
}

/* Remove a stale tunnel's files (the page holds its old token). */
static void
forget_name(const char *name, const char *target)
{
	char html[128];

	unlinkat(dir_fd, name, 0);
	file_name(target, ".json", html, sizeof(html));
	if (strcmp(html, name) == 0)
		jc_state_unlink(target, ".html");
}

void
jc_state_forget(const struct jc_tunnel *t)
{
	if (jc_state_dir() != NULL)
		forget_name(t->file, t->target);
}

/* Read target's tunnel under one name; 0 when live. */
static int
find_as(const char *name, const char *target, struct jc_tunnel *out)
{
	struct jc_tunnel t;

	if (read_tunnel(name, &t) != 0 || strcmp(t.target, target) != 0)
		return JC_ERR_NOTFOUND;
	if (!is_tunnel(&t, 0)) {
		jc_state_release(&t);
		forget_name(name, target);
		return JC_ERR_NOTFOUND;
	}
	*out = t;
	return 0;
}

int
jc_state_find(const char *target, struct jc_tunnel *out)
{
	char name[600];

	if (jc_state_dir() == NULL)
		return JC_ERR_NOTFOUND;
	file_name(target, ".json", name, sizeof(name));
	if (find_as(name, target, out) == 0)
		return 0;
	if (legacy_name(target, name, sizeof(name)) == 0 &&
	    find_as(name, target, out) == 0)
		return 0;
	return JC_ERR_NOTFOUND;
}

/* Unlink `name` only when it holds target's tunnel (old names collide). */
static void
unlink_if_target(const char *name, const char *target)
{
	struct jc_tunnel t;

	if (read_tunnel(name, &t) == 0 && strcmp(t.target, target) == 0)
		unlinkat(dir_fd, name, 0);
	jc_wipe(&t, sizeof(t));
}

void
jc_state_remove(const char *target)
{
	char name[600];

	if (jc_state_dir() == NULL)
		return;
	jc_state_unlink(target, ".json");
	jc_state_unlink(target, ".html");
	if (legacy_name(target, name, sizeof(name)) == 0)
		unlink_if_target(name, target);
}

static int
cmp_tunnel(const void *a, const void *b)
{
	return strcmp(((const struct jc_tunnel *)a)->target,
	    ((const struct jc_tunnel *)b)->target);
}

int
jc_state_each(void (*fn)(struct jc_tunnel *, void *), void *arg)
{
	struct jc_tunnel *all;
	struct dirent *de;
	size_t len;
	DIR *d;
	int n = 0, i, fd;

	if (jc_state_dir() == NULL)
		return JC_ERR_IO;
	/* fdopendir takes the descriptor: give it its own. */
	if ((fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return JC_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return JC_ERR_IO;
	}
	if ((all = calloc(MAX_TUNNELS, sizeof(*all))) == NULL) {
		closedir(d);
		return JC_ERR_NOMEM;
	}
	while ((de = readdir(d)) != NULL && n < MAX_TUNNELS) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if (read_tunnel(de->d_name, &all[n]) != 0)
			continue;
		if (!is_tunnel(&all[n], 0)) {
			jc_verbose("removing stale tunnel state %s/%s",
			    dir_path, de->d_name);
			jc_state_release(&all[n]);
			forget_name(de->d_name, all[n].target);
			continue;
		}
		n++;
	}
	closedir(d);
	qsort(all, (size_t)n, sizeof(*all), cmp_tunnel);
	for (i = 0; i < n; i++) {
		fn(&all[i], arg);
		jc_state_release(&all[i]);
	}
	jc_wipe(all, MAX_TUNNELS * sizeof(*all));
	free(all);
	return n;
}

/* ---- remembered ports ------------------------------------------------- */

int
jc_state_port_get(const char *target)
{
	const cJSON *v, *tg;
	char name[128];
	cJSON *o;
	int port = 0;

	if (jc_state_dir() == NULL)
		return 0;
	file_name(target, ".port", name, sizeof(name));
	if ((o = read_json(name)) == NULL)
		return 0;
	tg = cJSON_GetObjectItem(o, "target");
	v = cJSON_GetObjectItem(o, "local_port");
	if (cJSON_IsString(tg) && strcmp(tg->valuestring, target) == 0 &&
	    cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble <= 65535)
		port = v->valueint;
	cJSON_Delete(o);
	return port;
}

void
jc_state_port_put(const char *target, int port)
{
	char name[128], *s;
	cJSON *o;

	if (jc_state_dir() == NULL || jc_state_port_get(target) == port)
		return;
	if ((o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "target", target);
	cJSON_AddNumberToObject(o, "local_port", port);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return;
	file_name(target, ".port", name, sizeof(name));
	if (put_file(name, s, strlen(s), 0, NULL) != 0)
		jc_verbose("cannot remember the port in %s/%s: %s", dir_path,
		    name, strerror(errno));
	free(s);
}

int
jc_state_dest_get(const char *target, struct jc_dest_memo *m)
{
	const cJSON *h, *p, *tg, *pid, *dp;
	char name[128];
	cJSON *o;
	int r = -1;

	memset(m, 0, sizeof(*m));
	if (jc_state_dir() == NULL)
		return -1;
	file_name(target, ".dest", name, sizeof(name));
	if ((o = read_json(name)) == NULL)
		return -1;
	tg = cJSON_GetObjectItem(o, "target");
	h = cJSON_GetObjectItem(o, "host");
	p = cJSON_GetObjectItem(o, "port");
	pid = cJSON_GetObjectItem(o, "pid");
	dp = cJSON_GetObjectItem(o, "default_path");
	if (cJSON_IsString(tg) && strcmp(tg->valuestring, target) == 0 &&
	    cJSON_IsString(h) && strlen(h->valuestring) < sizeof(m->host) &&
	    cJSON_IsNumber(p) && p->valuedouble >= 1 &&
	    p->valuedouble <= 65535) {
		snprintf(m->host, sizeof(m->host), "%s", h->valuestring);
		m->port = p->valueint;
		if (cJSON_IsNumber(pid) && pid->valuedouble >= 1 &&
		    pid->valuedouble < 1e9)
			m->pid = (long)pid->valuedouble;
		if (cJSON_IsString(dp) && dp->valuestring[0] == '/' &&
		    strlen(dp->valuestring) < sizeof(m->default_path))
			snprintf(m->default_path, sizeof(m->default_path),
			    "%s", dp->valuestring);
		r = 0;
	}
	cJSON_Delete(o);
	return r;
}

void
jc_state_dest_put(const char *target, const struct jc_dest_memo *m)
{
	struct jc_dest_memo was;
	char name[128], *s;
	cJSON *o;

	if (jc_state_dir() == NULL || (jc_state_dest_get(target, &was) == 0 &&
	    was.port == m->port && was.pid == m->pid &&
	    strcmp(was.host, m->host) == 0 &&
	    strcmp(was.default_path, m->default_path) == 0))
		return;
	if ((o = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddStringToObject(o, "target", target);
	cJSON_AddStringToObject(o, "host", m->host);
	cJSON_AddNumberToObject(o, "port", m->port);
	if (m->pid > 0)
		cJSON_AddNumberToObject(o, "pid", (double)m->pid);
	if (m->default_path[0] != '\0')
		cJSON_AddStringToObject(o, "default_path", m->default_path);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return;
	file_name(target, ".dest", name, sizeof(name));
	if (put_file(name, s, strlen(s), 0, NULL) != 0)
		jc_verbose("cannot remember where Jupyter was in %s/%s: %s",
		    dir_path, name, strerror(errno));
	free(s);
}

/* ---- plugins' memos --------------------------------------------------- */

/* A plugin's memo file is named as a target "plugin:NAME" would be. */
static int
memo_name(const char *plugin, char *tg, size_t tn, char *name, size_t nn)
{
	if ((size_t)snprintf(tg, tn, "plugin:%s", plugin) >= tn)
		return -1;
	file_name(tg, ".memo", name, nn);
	return 0;
}

int
jc_state_memo_get(const char *plugin, const char *key, char *out, size_t n)
{
	const cJSON *tg, *vals, *v;
	char target[96], name[128];
	cJSON *o;
	int r = -1;

	if (jc_state_dir() == NULL || memo_name(plugin, target,
	    sizeof(target), name, sizeof(name)) != 0 ||
	    (o = read_json(name)) == NULL)
		return -1;
	tg = cJSON_GetObjectItem(o, "target");
	vals = cJSON_GetObjectItem(o, "values");
	v = cJSON_GetObjectItemCaseSensitive(vals, key);
	if (cJSON_IsString(tg) && strcmp(tg->valuestring, target) == 0 &&
	    cJSON_IsString(v) && strlen(v->valuestring) < n) {
		snprintf(out, n, "%s", v->valuestring);
		r = 0;
	}
	cJSON_Delete(o);
	return r;
}

void
jc_state_memo_put(const char *plugin, const char *key, const char *value)
{
	char target[96], name[128], *s;
	cJSON *o, *vals;

	if (jc_state_dir() == NULL || memo_name(plugin, target,
	    sizeof(target), name, sizeof(name)) != 0)
		return;
	if ((o = read_json(name)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObject(o, "target");
	cJSON_AddStringToObject(o, "target", target);
	if (!cJSON_IsObject(vals = cJSON_GetObjectItem(o, "values"))) {
		cJSON_DeleteItemFromObject(o, "values");
		vals = cJSON_AddObjectToObject(o, "values");
	}
	/* A handful of keys per plugin; more is not a memo. */
	if (vals == NULL || (cJSON_GetObjectItemCaseSensitive(vals, key) ==
	    NULL && cJSON_GetArraySize(vals) >= MEMO_KEYS_MAX)) {
		cJSON_Delete(o);
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(vals, key);
	if (value != NULL)
		cJSON_AddStringToObject(vals, key, value);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return;
	if (strlen(s) < MAX_FILE && put_file(name, s, strlen(s), 0, NULL) != 0)
		jc_verbose("cannot write %s/%s: %s", dir_path, name,
		    strerror(errno));
	free(s);
}
