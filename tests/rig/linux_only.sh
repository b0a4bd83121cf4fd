#!/bin/sh
# linux_only.sh BUILD - part of make portable-check: no Linux-only call or
# path outside core/io/compat.c.  Looks at the objects of the JC_PORTABLE
# build in BUILD (calls the fallbacks must have replaced) and at the
# sources (flags and /proc paths, which leave no symbol).  Prints what it
# finds; exits 1 if anything.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
cd "$ROOT" || exit 1
bad=0
syms=$(nm -u "$B"/core/*/*.o "$B"/plugins/*/*.o 2>/dev/null |
    grep -owE '(__)?explicit_bzero(_chk)?|getrandom|prctl|reallocarray|accept4|pipe2|dup3|ppoll|memfd_create|epoll_[a-z_]+|signalfd|timerfd_[a-z_]+|eventfd|sendfile|splice|getauxval|secure_getenv|malloc_trim' |
    sort -u | tr '\n' ' ')
if [ -n "$syms" ]; then
	echo "linux_only: the JC_PORTABLE build still calls: $syms" >&2
	nm -A -u "$B"/core/*/*.o "$B"/plugins/*/*.o |
	    grep -wE "$(echo "$syms" | sed 's/ *$//; s/ /|/g')" >&2
	bad=1
fi
# Linux flags and /proc paths of this machine (the remote shell scripts
# in core/jupyter/jupyter.c look at the remote's /proc, which is Linux).
src=$(grep -rnE '\b(SOCK_CLOEXEC|SOCK_NONBLOCK|MSG_NOSIGNAL|O_PATH|O_TMPFILE|SO_PEERCRED|TCP_USER_TIMEOUT)\b|"/proc/(self|%)|sys/prctl\.h|sys/random\.h|sys/epoll\.h' \
    core plugins --include='*.c' --include='*.h' |
    grep -vE '^core/io/compat\.[ch]:')
if [ -n "$src" ]; then
	echo "linux_only: Linux-only code outside core/io/compat.c:" >&2
	echo "$src" >&2
	bad=1
fi
[ $bad = 0 ] && echo "linux_only: no Linux-only call outside core/io/compat.c"
exit $bad
