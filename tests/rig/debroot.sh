#!/bin/sh
# debroot.sh - debootstrapped Debian roots the packaging and build-host
# checks run in, cached outside the repository and built on first use.
#
#   debroot.sh path NAME                 where root NAME lives
#   debroot.sh build NAME SUITE [PKG..]  build NAME (debootstrap SUITE,
#                                        minbase, then apt-get install PKG..)
#                                        if missing; print its path.  A root
#                                        built with fewer packages gets the
#                                        missing ones installed.
#   debroot.sh copy NAME DEST            a fresh copy of NAME at DEST
#   debroot.sh mount DIR                 proc, /dev, /dev/pts, /dev/shm and
#                                        resolv.conf inside the root DIR
#   debroot.sh umount DIR                undo mount (innermost first)
#   debroot.sh remove DIR                umount, then delete DIR (refuses
#                                        while anything is mounted inside)
#
# The cache is ${JCONNECT_RIG_CACHE:-${XDG_CACHE_HOME:-~/.cache}/jconnect-rig}
# (~ from passwd, as in trixie_root.sh).  A build goes to a temporary
# directory renamed when complete, under a lock, so an interrupted build
# leaves nothing that looks usable.  Needs root (debootstrap, mount, chroot).
set -eu

PWHOME=$(getent passwd "$(id -u)" | cut -d: -f6)
CACHE=${JCONNECT_RIG_CACHE:-${XDG_CACHE_HOME:-${PWHOME:-$HOME}/.cache}/jconnect-rig}
MARK=.jconnect-rig-complete

die() { echo "debroot: $*" >&2; exit 1; }

. "$(dirname "$0")/rootlib.sh"

in_root() {
	r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root "$@"
}

apt_install() {
	r=$1
	shift
	[ $# -gt 0 ] || return 0
	# No daemon starts while packages install (openssh-server would).
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 755 "$r/usr/sbin/policy-rc.d"
	do_mount "$r"
	in_root "$r" sh -c 'apt-get update -q && apt-get install -y -q \
	    --no-install-recommends "$@" && apt-get clean' sh "$@" >&2 ||
	    { do_umount "$r"; die "apt-get install in $r failed"; }
	do_umount "$r"
	rm -f "$r/usr/sbin/policy-rc.d"
}

build() {
	name=$1 suite=$2
	shift 2
	[ "$(id -u)" -eq 0 ] || die "building a root needs root (debootstrap, chroot)"
	command -v debootstrap >/dev/null 2>&1 ||
	    die "debootstrap is missing: apt-get install debootstrap"
	root=$CACHE/$name
	mkdir -p "$CACHE"
	exec 8>"$CACHE/$name.lock"
	flock 8
	want=$(printf '%s\n' "$suite" "$@" | sort -u)
	if [ -e "$root/$MARK" ]; then
		if [ "$(cat "$root/$MARK")" != "$want" ]; then
			apt_install "$root" "$@"
			printf '%s\n' "$want" >"$root/$MARK"
		fi
		echo "$root"
		return
	fi
	for old in "$CACHE/$name".tmp.*; do
		if [ -d "$old" ]; then remove_root "$old"; fi
	done
	tmp=$CACHE/$name.tmp.$$
	trap 'remove_root "$tmp" 2>/dev/null || true' EXIT
	trap 'exit 130' INT TERM
	mir=$(mirror)
	echo "debroot: debootstrap $suite from $mir into $root (once)" >&2
	debootstrap --variant=minbase "$suite" "$tmp" "$mir" >&2
	apt_install "$tmp" "$@"
	printf '%s\n' "$want" >"$tmp/$MARK"
	if [ -e "$root" ]; then remove_root "$root"; fi
	mv "$tmp" "$root"
	trap - EXIT
	echo "$root"
}

case ${1:-} in
path)	[ -n "${2:-}" ] || die "usage: $0 path NAME"
	echo "$CACHE/$2" ;;
build)	[ $# -ge 3 ] || die "usage: $0 build NAME SUITE [PKG...]"
	shift
	build "$@" ;;
copy)	[ $# -eq 3 ] || die "usage: $0 copy NAME DEST"
	[ -e "$CACHE/$2/$MARK" ] || die "no root $2 yet: $0 build $2 SUITE"
	exec 8>"$CACHE/$2.lock"
	flock -s 8
	cp -a --reflink=auto "$CACHE/$2" "$3" ;;
mount)	[ -n "${2:-}" ] || die "usage: $0 mount DIR"
	do_mount "$2" ;;
umount)	[ -n "${2:-}" ] || die "usage: $0 umount DIR"
	do_umount "$2" ;;
remove)	[ -n "${2:-}" ] || die "usage: $0 remove DIR"
	remove_root "$2" ;;
*)	echo "usage: $0 path|build|copy|mount|umount|remove ..." >&2; exit 2 ;;
esac
