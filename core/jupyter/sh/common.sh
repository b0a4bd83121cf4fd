# shellcheck shell=sh
# Helpers every Jupyter script starts with (jupyter.c puts this file after
# its prelude, which sets N, the nonce of the section markers, and before
# discover.sh, start.sh or stop.sh).  Lines that start with '#' are for
# readers and shellcheck: the build leaves them out of the embedded string.
set -f
umask 077
M() { printf '\n@@%s %s\n' "$N" "$*"; }
TO=
# shellcheck disable=SC2034 # read by the script that follows this file
command -v timeout >/dev/null 2>&1 && TO='timeout 8'
alive() {
	if [ -d /proc/self ]; then
		[ -d "/proc/$1" ] || return 1
		z=$(cat "/proc/$1/stat" 2>/dev/null)
		case ${z##*) } in Z*|X*|'') return 1 ;; esac
		c=$(tr '\000' ' ' <"/proc/$1/cmdline" 2>/dev/null)
		case $c in
		'') return 0 ;;
		*jupyter*|*python*) return 0 ;;
		esac
		return 1
	fi
	kill -0 "$1" 2>/dev/null || ps -p "$1" >/dev/null 2>&1
}
nap() { sleep 0.2 2>/dev/null || sleep 1; }
child() {
	kill -0 "$1" 2>/dev/null || return 1
	z=$(cat "/proc/$1/stat" 2>/dev/null)
	case ${z##*) } in Z*|X*) return 1 ;; esac
}
# shellcheck disable=SC2034 # used by discover.sh, start.sh and stop.sh
JD=$HOME/.jconnect
# shellcheck disable=SC2034 # used by discover.sh, start.sh and stop.sh
J=$(command -v jupyter 2>/dev/null)
