#!/bin/sh
# srccopy.sh DEST - copy the source tree (what git tracks plus new files it
# does not ignore, uncommitted edits included) into DEST, without build
# output.  Outside a git checkout: everything but build directories,
# objects and the built binary.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$1
mkdir -p "$DEST"
cd "$ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Deleted but not yet committed files are skipped.
	git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	    tar --null -T - -cf -
else
	tar --exclude='./build' --exclude='./build-*' --exclude='*.o' \
	    --exclude='*.so' --exclude='./jconnect' --exclude='*.deb' -cf - .
fi | tar -C "$DEST" -xf -
