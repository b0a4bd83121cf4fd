/*
 * compat.h - the calls jconnect makes that Linux has and other POSIX
 * systems (macOS first) spell differently or lack.  Each has its Linux
 * form and a portable fallback in compat.c; -DJC_PORTABLE forces the
 * fallbacks on Linux so they are built and tested here.
 */
#ifndef JC_COMPAT_H
#define JC_COMPAT_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

#if defined(__linux__) && !defined(JC_PORTABLE)
#define JC_LINUX 1
#else
#define JC_LINUX 0
#endif

/*
 * socket()/socketpair() type flags.  Linux takes them in the type; the
 * fallback strips them and sets FD_CLOEXEC/O_NONBLOCK with fcntl.
 */
#if JC_LINUX
#define JC_SOCK_CLOEXEC		SOCK_CLOEXEC
#define JC_SOCK_NONBLOCK	SOCK_NONBLOCK
/* send() without SIGPIPE on a closed peer. */
#define JC_MSG_NOSIGNAL		MSG_NOSIGNAL
#else
#define JC_SOCK_CLOEXEC		0x40000000
#define JC_SOCK_NONBLOCK	0x20000000
/*
 * No such flag on macOS: the core loop ignores SIGPIPE for the whole
 * process, and jc_socket() sets SO_NOSIGPIPE where it exists.
 */
#define JC_MSG_NOSIGNAL		0
#endif

int	jc_socket(int domain, int type, int protocol);
int	jc_socketpair(int domain, int type, int protocol, int sv[2]);

/* Zero memory the compiler may not elide (keys, tokens, passwords). */
void	jc_wipe(void *p, size_t n);

/* realloc(p, n * size) that fails instead of overflowing. */
void	*jc_reallocarray(void *p, size_t n, size_t size);

/* n bytes from the kernel's random source: 0, or -1 with errno. */
int	jc_random(void *buf, size_t n);

/* Mark the process not dumpable (no core, even through a pipe handler). */
void	jc_no_dump(void);

/*
 * In a child about to exec another program: close every descriptor from
 * lowfd up, so that it gets none of ours (libcurl's and libssh's sockets
 * are not close-on-exec, nor are the tunnel's socketpairs).
 */
void	jc_close_from(int lowfd);

/* This program's absolute path into buf: its length, or -1. */
ssize_t	jc_exe_path(char *buf, size_t size);

/*
 * dlopen() the file open on fd, which was opened (and checked) as path.
 * Linux loads the descriptor itself; the fallback loads path and then
 * makes sure it still names the file on fd (NULL otherwise, with the
 * reason from jc_dlerror()).
 */
void	*jc_dlopen_fd(int fd, const char *path, int flags);
const char *jc_dlerror(void);

/*
 * Another process of ours, by pid: the real uid; its state letter ('Z'
 * for a zombie) and a start time that differs when the pid is reused;
 * whether it runs the same program file as this process.  0, or -1 when
 * it is gone or cannot be read.
 */
int	jc_proc_uid(pid_t pid, uid_t *uid);
int	jc_proc_stat(pid_t pid, char *state, unsigned long long *start);
ssize_t	jc_proc_exe(pid_t pid, char *buf, size_t size);
int	jc_proc_same_exe(pid_t pid);

#endif
