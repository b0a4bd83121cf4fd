#!/bin/sh
# A Debian 13 ("trixie") root standing in for a current remote box: its own
# sshd and JupyterLab 4 on jupyter_server 2, run with chroot (which shares
# the network and the pid space with this machine).
#
#   trixie_root.sh path          print where the root lives (built or not)
#   trixie_root.sh build         build it if missing, print its path
#   trixie_root.sh mount USER    mount proc, /dev, /dev/pts, /dev/shm in it
#                                for USER (any word: a rig directory)
#   trixie_root.sh umount USER   USER is done; unmount when nobody is left
#   trixie_root.sh umount -f     unmount now (innermost first)
#
# The remote user is "rig", uid and gid 1500 inside the root (names resolve
# differently inside and outside, so callers use the numbers).
#
# The root is cached outside the repository, in
# ${JCONNECT_RIG_CACHE:-${XDG_CACHE_HOME:-~/.cache}/jconnect-rig}/trixie
# (~ from passwd, so a test's temporary HOME does not move it),
# and built once (about 1 GB, several minutes): debootstrap --variant=minbase
# from the Debian mirror this machine's apt uses, then apt-get install of
# JupyterLab inside it (not through --include: JupyterLab's build-time node
# packages fail to configure that way).  Two builds never run at once (a
# lock); a build goes to a temporary directory renamed when complete, so an
# interrupted one leaves nothing that looks usable.
#
# Needs root (debootstrap, mount, chroot).
set -eu

# The account's home from passwd, not $HOME: tests run with a temporary
# HOME, and the root must outlive them.
PWHOME=$(getent passwd "$(id -u)" | cut -d: -f6)
CACHE=${JCONNECT_RIG_CACHE:-${XDG_CACHE_HOME:-${PWHOME:-$HOME}/.cache}/jconnect-rig}
ROOT=$CACHE/trixie
PKGS="jupyterlab python3-jupyter-server jupyter-core openssh-server procps sudo"
RUSER=rig
RUID=1500

die() { echo "trixie_root: $*" >&2; exit 1; }

. "$(dirname "$0")/rootlib.sh"

# The remote user, with a usable (not locked) account so sshd lets a key
# in without PAM.
ensure_user() {
	r=$1
	if ! chroot "$r" getent passwd "$RUSER" >/dev/null; then
		chroot "$r" groupadd -g "$RUID" "$RUSER"
		chroot "$r" useradd -m -u "$RUID" -g "$RUID" -s /bin/bash "$RUSER"
		chroot "$r" usermod -p '*' "$RUSER"
	fi
	mkdir -p "$r/run/sshd"
}

# Mounts are shared by every rig using the root: each registers in
# $CACHE/trixie.users, the last one out unmounts.  A registration whose rig
# directory is gone is stale.
users_live() {
	n=0
	for f in "$CACHE"/trixie.users/*; do
		[ -f "$f" ] || continue
		d=$(cat "$f")
		if [ -d "$d" ]; then n=$((n + 1)); else rm -f "$f"; fi
	done
	echo "$n"
}

user_file() {
	echo "$CACHE/trixie.users/$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
}

build() {
	[ "$(id -u)" -eq 0 ] || die "building the root needs root (debootstrap, chroot)"
	command -v debootstrap >/dev/null 2>&1 ||
	    die "debootstrap is missing: apt-get install debootstrap"
	mkdir -p "$CACHE"
	exec 9>"$CACHE/trixie.lock"
	flock 9
	if [ -e "$ROOT/.jconnect-rig-complete" ]; then
		ensure_user "$ROOT"
		echo "$ROOT"
		return
	fi
	for old in "$CACHE"/trixie.tmp.*; do
		if [ -d "$old" ]; then remove_root "$old"; fi
	done
	tmp=$CACHE/trixie.tmp.$$
	trap 'remove_root "$tmp" 2>/dev/null || true' EXIT
	trap 'exit 130' INT TERM
	mir=$(mirror)
	echo "trixie_root: debootstrap trixie from $mir (once, about 1 GB)" >&2
	debootstrap --variant=minbase trixie "$tmp" "$mir" >&2
	# No daemon starts while packages install (openssh-server would).
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
	do_mount "$tmp"
	chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
	    sh -c "apt-get update && apt-get install -y --no-install-recommends $PKGS && apt-get clean" >&2
	do_umount "$tmp"
	rm -f "$tmp/usr/sbin/policy-rc.d"
	[ -x "$tmp/usr/sbin/sshd" ] || die "openssh-server did not install"
	[ -x "$tmp/usr/bin/jupyter" ] || die "jupyter-core did not install"
	ensure_user "$tmp"
	touch "$tmp/.jconnect-rig-complete"
	if [ -e "$ROOT" ]; then remove_root "$ROOT"; fi
	mv "$tmp" "$ROOT"
	trap - EXIT
	echo "$ROOT"
}

case ${1:-} in
path)	echo "$ROOT" ;;
build)	build ;;
mount)	[ -e "$ROOT/.jconnect-rig-complete" ] || die "no root yet: $0 build"
	[ -n "${2:-}" ] || die "usage: $0 mount USER"
	mkdir -p "$CACHE/trixie.users"
	exec 9>"$CACHE/trixie.lock"
	flock 9
	printf '%s\n' "$2" >"$(user_file "$2")"
	do_mount "$ROOT" ;;
umount)	[ -n "${2:-}" ] || die "usage: $0 umount USER|-f"
	mkdir -p "$CACHE/trixie.users"
	exec 9>"$CACHE/trixie.lock"
	flock 9
	[ "$2" = -f ] || rm -f "$(user_file "$2")"
	if [ "$2" = -f ] || [ "$(users_live)" -eq 0 ]; then
		do_umount "$ROOT"
	fi ;;
*)	echo "usage: $0 path|build|mount USER|umount USER|-f" >&2; exit 2 ;;
esac
