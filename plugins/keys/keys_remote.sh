# shellcheck shell=sh
# authorized_keys read/write, after keys_remote.c's three-line prelude:
# N=$2, M (the section marker, JC_RS_SH_MARK) and err (message with the
# "jconnect-keys: " prefix on stderr, exit 70).  Comment lines are left
# out of the embedded string.
# shellcheck disable=SC2015 # either test failing is the error, as meant
[ -n "$HOME" ] && [ -d "$HOME" ] || err "no home directory (HOME=$HOME)"
d=$HOME/.ssh
f=$d/authorized_keys
case $1 in
read)
	if [ -e "$f" ] || [ -L "$f" ]; then
		[ -r "$f" ] || err "cannot read $f as $(id -un)"
		M present "$f"
		cat "$f" || err "cannot read $f"
		M end
	elif [ -d "$d" ]; then
		M missing "$f"
	else
		M nodir "$f"
	fi
	exit 0 ;;
write) ;;
*) err "unknown operation $1" ;;
esac
umask 077
if [ ! -d "$d" ]; then
	[ "$3" = missing ] || err "$d disappeared meanwhile; try again"
	mkdir -m 700 "$d" || err "cannot create $d"
	command -v restorecon >/dev/null 2>&1 && restorecon "$d" 2>/dev/null
fi
[ -L "$f" ] && err "$f is a symbolic link; not replacing it"
if [ -e "$f" ]; then
	[ "$3" != missing ] || err "$f appeared meanwhile; try again"
	[ "$(cksum < "$f")" = "$3" ] || err "$f changed meanwhile; try again"
	case $(ls -ld "$f") in
	??w*) ;;
	*) err "$f is read-only; make it writable (chmod u+w) or edit it by hand" ;;
	esac
	[ -w "$f" ] || err "$f is not writable by $(id -un)"
else
	[ "$3" = missing ] || err "$f disappeared meanwhile; try again"
fi
[ -w "$d" ] || err "cannot write in $d as $(id -un)"
t=$d/.authorized_keys.jconnect.$$
( set -C; : > "$t" ) 2>/dev/null || err "cannot create a temporary file in $d"
trap 'rm -f "$t"' EXIT
trap 'exit 71' HUP INT TERM PIPE
if [ -e "$f" ]; then
	cp -p "$f" "$t" || err "cannot copy $f"
fi
cat > "$t" || err "cannot write $t"
[ "$(cksum < "$t")" = "$4" ] || err "the new content arrived incomplete; $f is unchanged"
if [ -e "$f" ]; then
	[ "$(cksum < "$f")" = "$3" ] || err "$f changed meanwhile; try again"
fi
sync "$t" 2>/dev/null
mv -f "$t" "$f" || err "cannot replace $f"
trap - EXIT
command -v restorecon >/dev/null 2>&1 && restorecon "$f" 2>/dev/null
M written "$f"
exit 0
