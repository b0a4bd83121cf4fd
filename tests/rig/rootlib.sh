# rootlib.sh - what the scripts that build debootstrapped roots share
# (debroot.sh: Debian 12 for the package check, Debian 13 for building;
# trixie_root.sh: the Debian 13 remote): the mirror, the mounts a chroot
# needs, and removing a root safely.  Sourced; the caller defines die().

# The Debian archive apt uses here, without the security archive (whose
# URL serves other suites than the main one).
mirror() {
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
	    /etc/apt/sources.list.d/*.list 2>/dev/null |
	    awk '/^[ \t]*#/ { next }
		/^URIs:/ { for (i = 2; i <= NF; i++) print $i }
		/^deb[ \t]/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' |
	    grep -v -e security -e '^cdrom:' | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

is_mounted() {
	awk -v p="$1" '$2 == p { f = 1 } END { exit !f }' /proc/mounts
}

do_mount() {
	r=$1
	is_mounted "$r/proc" || mount -t proc proc "$r/proc"
	is_mounted "$r/dev" || mount --bind /dev "$r/dev"
	is_mounted "$r/dev/pts" || mount --bind /dev/pts "$r/dev/pts"
	mkdir -p "$r/dev/shm"
	is_mounted "$r/dev/shm" || mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
	cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
}

# Every mount below r, innermost first (callers may add their own binds).
do_umount() {
	r=$1
	awk -v p="$r/" 'index($2, p) == 1 { print $2 }' /proc/mounts |
	    sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

# rm -rf through a bound /dev would wipe this machine's device nodes:
# delete only once nothing is mounted inside.
remove_root() {
	r=$1
	[ -d "$r" ] || return 0
	do_umount "$r"
	if awk -v p="$r/" 'index($2, p) == 1 { f = 1 } END { exit !f }' \
	    /proc/mounts; then
		die "$r still has mounts inside; not deleting it"
	fi
	rm -rf --one-file-system "$r"
}
