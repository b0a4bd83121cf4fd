/*
 * compat.c - Linux calls and their portable fallbacks (see compat.h).
 * The fallbacks are what macOS runs; JC_PORTABLE builds them on Linux
 * too, so the unit tests cover them here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"

#if JC_LINUX
#include <sys/prctl.h>
#include <sys/random.h>
#endif
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#include <sys/random.h>
#endif

/* ---- sockets ---------------------------------------------------------- */

#if !JC_LINUX
/* The JC_SOCK_* flags, applied to a fresh descriptor. */
static int
sock_flags(int fd, int flags)
{
	int fl;

	if ((flags & JC_SOCK_CLOEXEC) && fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	if (flags & JC_SOCK_NONBLOCK) {
		if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
			return -1;
	}
#ifdef SO_NOSIGPIPE
	{
		int on = 1;

		setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
	}
#endif
	return 0;
}
#endif

int
jc_socket(int domain, int type, int protocol)
{
#if JC_LINUX
	return socket(domain, type, protocol);
#else
	int flags = type & (JC_SOCK_CLOEXEC | JC_SOCK_NONBLOCK), fd, e;

	if ((fd = socket(domain, type & ~flags, protocol)) == -1)
		return -1;
	if (sock_flags(fd, flags) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
#endif
}

int
jc_socketpair(int domain, int type, int protocol, int sv[2])
{
#if JC_LINUX
	return socketpair(domain, type, protocol, sv);
#else
	int flags = type & (JC_SOCK_CLOEXEC | JC_SOCK_NONBLOCK), e;

	if (socketpair(domain, type & ~flags, protocol, sv) == -1)
		return -1;
	if (sock_flags(sv[0], flags) == -1 || sock_flags(sv[1], flags) == -1) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	return 0;
#endif
}

/* ---- memory ----------------------------------------------------------- */

#if !JC_LINUX
/* Called through a volatile pointer: the compiler cannot prove it is
 * memset, so it cannot drop a store to memory freed right after. */
static void *(*volatile wipe_memset)(void *, int, size_t) = memset;
#endif

void
jc_wipe(void *p, size_t n)
{
#if JC_LINUX
	explicit_bzero(p, n);
#else
	wipe_memset(p, 0, n);
#endif
}

void *
jc_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

int
jc_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t k;

	while (n > 0) {
#if JC_LINUX
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		k = (size_t)r;
#else
		/* POSIX 2024 and macOS: at most 256 bytes a call. */
		k = n < 256 ? n : 256;
		if (getentropy(p, k) != 0)
			return -1;
#endif
		p += k;
		n -= k;
	}
	return 0;
}

/* ---- this process ----------------------------------------------------- */

void
jc_no_dump(void)
{
#if JC_LINUX
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	/* Elsewhere RLIMIT_CORE = 0 (jc_coredump_off) is all there is. */
}

void
jc_close_from(int lowfd)
{
#if JC_LINUX
	closefrom(lowfd);
#else
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close(fd);
#endif
}

ssize_t
jc_exe_path(char *buf, size_t size)
{
#if JC_LINUX
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
#elif defined(__APPLE__)
	char raw[PATH_MAX];
	uint32_t len = sizeof(raw);

	if (_NSGetExecutablePath(raw, &len) != 0 || size < PATH_MAX ||
	    realpath(raw, buf) == NULL)
		return -1;
	return (ssize_t)strlen(buf);
#else
	/* Unknown: plugins are then looked for beside the working directory. */
	(void)buf;
	(void)size;
	errno = ENOSYS;
	return -1;
#endif
}

/* ---- plugins ---------------------------------------------------------- */

static char dl_why[256];

void *
jc_dlopen_fd(int fd, const char *path, int flags)
{
#if JC_LINUX
	char fdpath[64];

	(void)path;
	dl_why[0] = '\0';
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	return dlopen(fdpath, flags);
#else
	/*
	 * No name for an open descriptor: load the path, then refuse it
	 * unless the path still names the checked file.  A swap in between
	 * is caught, though the object's constructors have run by then.
	 */
	struct stat a, b;
	char rel[PATH_MAX];
	const char *e;
	void *dl;

	dl_why[0] = '\0';
	/* A name without a slash would send dlopen down the library path. */
	if (strchr(path, '/') == NULL) {
		snprintf(rel, sizeof(rel), "./%s", path);
		path = rel;
	}
	if ((dl = dlopen(path, flags)) == NULL) {
		e = dlerror();
		snprintf(dl_why, sizeof(dl_why), "%s", e ? e : "dlopen failed");
		return NULL;
	}
	if (fstat(fd, &a) != 0 || stat(path, &b) != 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		dlclose(dl);
		snprintf(dl_why, sizeof(dl_why), "changed while loading");
		return NULL;
	}
	return dl;
#endif
}

const char *
jc_dlerror(void)
{
	const char *e;

	if (dl_why[0] != '\0')
		return dl_why;
	e = dlerror();
	return e ? e : "cannot load";
}

/* ---- other processes -------------------------------------------------- */

#if JC_LINUX
/* /proc/PID/WHAT into buf, NUL-terminated: its length, or -1. */
static ssize_t
read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}
#else
/*
 * One line of ps(1) about pid: "UID STATE START" with START as five
 * words (lstart).  ps -o with these names works on macOS, the BSDs and
 * procps; libproc or sysctl would save the fork on macOS.
 */
static int
ps_line(pid_t pid, char *buf, size_t size)
{
	char cmd[96];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "LC_ALL=C ps -o uid= -o state= -o lstart= "
	    "-p %ld 2>/dev/null", (long)pid);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	ok = fgets(buf, (int)size, p) != NULL;
	pclose(p);
	return ok ? 0 : -1;
}
#endif

int
jc_proc_uid(pid_t pid, uid_t *uid)
{
#if JC_LINUX
	/* The real uid, from /proc/PID/status (readable for anyone). */
	char buf[2048], *p;

	if (read_proc(pid, "status", buf, sizeof(buf)) < 0)
		return -1;
	if ((p = strstr(buf, "\nUid:")) == NULL)
		return -1;
	*uid = (uid_t)strtoul(p + 5, NULL, 10);
	return 0;
#else
	char buf[256], *end;
	unsigned long u;

	if (ps_line(pid, buf, sizeof(buf)) != 0)
		return -1;
	u = strtoul(buf, &end, 10);
	if (end == buf)
		return -1;
	*uid = (uid_t)u;
	return 0;
#endif
}

int
jc_proc_stat(pid_t pid, char *state, unsigned long long *start)
{
#if JC_LINUX
	/*
	 * Fields of /proc/PID/stat after the command name (which may hold
	 * spaces and parentheses): the state (field 3) and the start time
	 * (field 22, clock ticks since boot).
	 */
	char buf[1024], *p, *save = NULL;
	int field;

	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0)
		return -1;
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	*start = 0;
	for (field = 3, p = strtok_r(p + 1, " ", &save); p != NULL;
	    field++, p = strtok_r(NULL, " ", &save)) {
		if (field == 3)
			*state = *p;
		if (field == 22) {
			*start = strtoull(p, NULL, 10);
			return 0;
		}
	}
	return -1;
#else
	/*
	 * The start as printed ("Sun Dec  6 21:20:42 2026"), folded into a
	 * number: only ever compared with itself for the same pid.  53 bits,
	 * so that it survives the state file's JSON number (a double).
	 */
	char buf[256], *p, *end;
	unsigned long long h = 1469598103934665603ULL;

	if (ps_line(pid, buf, sizeof(buf)) != 0)
		return -1;
	(void)strtoul(buf, &end, 10);
	p = end + strspn(end, " ");
	if (end == buf || *p == '\0' || *p == '\n')
		return -1;
	*state = *p;
	p += strcspn(p, " ");
	p += strspn(p, " ");
	if (*p == '\0' || *p == '\n')
		return -1;
	for (; *p != '\0' && *p != '\n'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	*start = h & ((1ULL << 53) - 1);
	return 0;
#endif
}

ssize_t
jc_proc_exe(pid_t pid, char *buf, size_t size)
{
#if JC_LINUX
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	if ((n = readlink(path, buf, size - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	return n;
#else
	/* The command as ps shows it: its name is what callers look at. */
	char cmd[96];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "LC_ALL=C ps -o comm= -p %ld 2>/dev/null",
	    (long)pid);
	if (size == 0 || (p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(buf, (int)size, p) == NULL) {
		pclose(p);
		return -1;
	}
	pclose(p);
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	return n > 0 ? (ssize_t)n : -1;
#endif
}

int
jc_proc_same_exe(pid_t pid)
{
#if JC_LINUX
	/* Through /proc, so a replaced or deleted binary still compares. */
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
#else
	char mine[PATH_MAX], theirs[PATH_MAX];
	struct stat a, b;

	return jc_exe_path(mine, sizeof(mine)) > 0 &&
	    jc_proc_exe(pid, theirs, sizeof(theirs)) > 0 &&
	    stat(theirs, &a) == 0 && stat(mine, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
#endif
}
