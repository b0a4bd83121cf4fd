#!/bin/sh
# trixie_build.sh - `make check-trixie`: build jconnect with -Werror and run
# its unit tests on Debian 13 (GCC 14, libssh 0.11, libcurl 8, OpenSSL
# 3.5), in a debootstrapped root cached as trixie-build (debroot.sh; built
# on first use, about 1 GB).  The working tree, uncommitted edits included,
# is copied into the root's /src; the host's build/ is left alone.
# Needs root (chroot, mount).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEBROOT="sh $ROOT/tests/rig/debroot.sh"
# What Debian 13 needs to build jconnect and run its unit tests (the
# live unit tests start Jupyter, ssh-keygen and the fake agent).
PKGS="build-essential pkg-config libssh-dev libcurl4-openssl-dev libpcre2-dev
libcjson-dev libwslay-dev libexpat1-dev libssl-dev libcmocka-dev
openssh-client openssh-server python3 python3-websockets python3-botocore
jupyter-notebook python3-notebook jupyter-server python3-jupyter-server
curl ca-certificates openssl procps psmisc"

[ "$(id -u)" -eq 0 ] || { echo "check-trixie: needs root (chroot)" >&2; exit 1; }
# shellcheck disable=SC2086
R=$($DEBROOT build trixie-build trixie $PKGS)
CACHE=$(dirname "$R")
# One run at a time: they share the root's /src.
exec 9>"$CACHE/trixie-build.run.lock"
flock 9
trap '$DEBROOT umount "$R"' EXIT
trap 'exit 130' INT TERM
rm -rf "$R/src"
sh "$ROOT/tests/rig/srccopy.sh" "$R/src"
$DEBROOT mount "$R"
echo "check-trixie: $(chroot "$R" sh -c '. /etc/os-release; echo $PRETTY_NAME'):" \
    "gcc $(chroot "$R" gcc -dumpversion)," \
    "libssh $(chroot "$R" pkg-config --modversion libssh)," \
    "libcurl $(chroot "$R" pkg-config --modversion libcurl)," \
    "OpenSSL $(chroot "$R" pkg-config --modversion libcrypto)" >&2
chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 HOME=/root sh -c \
    'cd /src && make -j2 WERROR=1 tests >build.log 2>&1 ||
	{ tail -n 40 build.log >&2; echo "check-trixie: build failed" >&2; exit 1; }
     sh tests/run.sh build unit'
