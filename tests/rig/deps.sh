#!/bin/sh
# deps.sh - install the Debian 12 packages jconnect builds and tests with,
# only those missing.  Uses sudo when not root.  `deps.sh bench` adds what
# the benchmark's realistic rows need: debootstrap (the Debian 13 remote)
# and golang-go (AWS's session-manager-plugin, built from source).
# `deps.sh deb` adds the packaging tools and debootstrap (make deb,
# make deb-check).
PKGS="build-essential pkg-config libssh-dev libcurl4-openssl-dev libpcre2-dev
libcjson-dev libwslay-dev libexpat1-dev libssl-dev libcmocka-dev
openssh-server openssh-client jupyter-notebook python3-notebook
jupyter-server python3-jupyter-server awscli python3-botocore
python3-websockets chromium curl ca-certificates openssl procps psmisc
rsync shellcheck
clang libclang-rt-14-dev valgrind sudo"
[ "${1:-}" = bench ] && PKGS="$PKGS debootstrap golang-go"
# `deps.sh deb`: what make deb and make deb-check need.
[ "${1:-}" = deb ] && PKGS="$PKGS debhelper dpkg-dev fakeroot lintian debootstrap"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "jconnect: installing Debian packages:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "jconnect: need root or sudo to install:$missing" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || exit 1
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null ||
    exit 1
