#!/bin/sh
# deb_check.sh PACKAGE.deb - `make deb-check`: install the package into a
# fresh Debian 12 root (a copy of a debootstrapped one cached as
# bookworm-base by debroot.sh) with apt resolving its Depends, then run,
# inside the root: jconnect --version, jconnect plugins (from /usr/lib/jconnect,
# also for a copy of the binary elsewhere: the directory built into it), and
# the demo's connection (`jconnect -l USER demo-stack` over SSM to the rig's
# fake AWS, fake agent and Jupyter on this machine's loopback; chroot shares
# the network), with the printed URL fetched through the tunnel.
# Needs root (debootstrap, mount, chroot).  Prints "ok" lines; exits 1 on
# the first failure.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEBROOT="sh $ROOT/tests/rig/debroot.sh"
PY=/usr/bin/python3
DEB=${1:?usage: deb_check.sh PACKAGE.deb}
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")

[ "$(id -u)" -eq 0 ] || { echo "deb-check: needs root (chroot)" >&2; exit 1; }
[ -f "$DEB" ] || { echo "deb-check: no $DEB: run make deb" >&2; exit 1; }
VERSION=$(dpkg-deb -f "$DEB" Version)

BASE=$($DEBROOT build bookworm-base bookworm)
W=$(mktemp -d "$(dirname "$BASE")/deb-check.XXXXXX")
R=$W/root
D=""
jc=""
cleanup() {
	trap - EXIT INT TERM
	[ -n "$jc" ] && kill -INT "$jc" 2>/dev/null && wait "$jc" 2>/dev/null
	[ -n "$D" ] && "$PY" "$ROOT/tests/rig/rig.py" stop --dir "$D" \
	    >/dev/null 2>&1
	# Logs and the root go only once nothing is mounted in the root.
	if $DEBROOT remove "$R"; then rm -rf "$W"; fi
	[ -n "$D" ] && rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "not ok - $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 HOME=/root "$@"
}

$DEBROOT copy bookworm-base "$R"
$DEBROOT mount "$R"
cp "$DEB" "$R/tmp/"
in_root dpkg-query -W jconnect >/dev/null 2>&1 &&
    fail "the fresh root already has jconnect"
# apt fetches what the package's Depends name from the Debian mirror.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
in_root sh -c "DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends /tmp/$(basename "$DEB")" >"$W/apt.log" 2>&1 ||
    { tail -n 30 "$W/apt.log" >&2; fail "apt-get install of the package"; }
ok "apt-get install $(basename "$DEB") in a fresh Debian 12 root"

out=$(in_root jconnect --version 2>&1) || fail "jconnect --version: $out"
case $out in
*"$VERSION"*) ok "jconnect --version: $out" ;;
*) fail "jconnect --version printed \"$out\", not $VERSION" ;;
esac

# Every plugin loads from /usr/lib/jconnect: through bin/../lib/jconnect,
# and through the directory built in when the binary sits elsewhere.
for exe in /usr/bin/jconnect /opt/elsewhere/jconnect; do
	if [ "$exe" != /usr/bin/jconnect ]; then
		mkdir -p "$R/opt/elsewhere"
		cp "$R/usr/bin/jconnect" "$R$exe"
	fi
	out=$(in_root "$exe" plugins --json 2>&1) ||
	    fail "$exe plugins: $out"
	for p in ssh ssm keys; do
		printf '%s\n' "$out" | grep "\"name\":\"$p\"" |
		    grep '"loaded":true' | grep -q '/lib/jconnect/jc-'"$p"'.so' ||
		    fail "$exe plugins: $p not loaded from /usr/lib/jconnect: $out"
	done
	case $exe in
	/opt/*) printf '%s\n' "$out" | grep -q '"path":"/usr/lib/jconnect/jc-ssh.so"' ||
		    fail "$exe plugins: not from the built-in /usr/lib/jconnect: $out" ;;
	esac
	ok "$exe plugins: ssh, ssm and keys loaded from /usr/lib/jconnect"
done
in_root jconnect plugins >/dev/null 2>&1 || fail "jconnect plugins (text)"

# The demo: the rig on this machine, its directory visible at the same
# path inside the root (keys, state), jconnect run inside the root.
D=$(mktemp -d "${TMPDIR:-/tmp}/jconnect-debcheck.XXXXXX")
chmod 755 "$D"
"$PY" "$ROOT/tests/rig/rig.py" start --dir "$D" sshd jupyter agent aws \
    --jupyter-file >"$W/rig.out" 2>&1 ||
    { cat "$W/rig.out" >&2; fail "the demo sandbox did not start"; }
mkdir -p "$R$D"
mount --bind "$D" "$R$D"
mkdir -p "$D/home"
# shellcheck disable=SC1091
. "$D/env"
# The rig's settings (endpoint, fake credentials), nothing else of ours.
envs=$(sed -n "s/^export \(AWS_[A-Z_]*\)$/\1/p" "$D/env" |
    while read -r k; do eval "printf '%s=%s\n' \"\$k\" \"\$$k\""; done)
# shellcheck disable=SC2086
chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 HOME="$D/home" XDG_STATE_HOME="$D/home/.local/state" \
    $envs /usr/bin/jconnect --no-browser -l "$SSH_USER" demo-stack \
    >"$W/demo.out" 2>"$W/demo.err" &
jc=$!
url=""
i=0
while [ $i -lt 600 ]; do
	url=$(grep -m1 '^http://127\.0\.0\.1:' "$W/demo.out" || true)
	[ -n "$url" ] && break
	kill -0 "$jc" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
[ -n "$url" ] || { cat "$W/demo.err" >&2; fail "the demo printed no URL"; }
code=$(curl -s -o "$W/page" -w '%{http_code}' --max-time 30 "$url") || true
[ "$code" = 200 ] ||
    { cat "$W/demo.err" >&2; fail "GET of the demo's URL: HTTP $code"; }
grep -q -i jupyter "$W/page" || fail "the demo's URL did not serve Jupyter"
ok "the demo from the package: $(sed 's/token=.*/token=.../' "$W/demo.out" | head -n 1) serves Jupyter"
kill -INT "$jc"
wait "$jc" && st=0 || st=$?
jc=""
[ "$st" = 0 ] || { cat "$W/demo.err" >&2; fail "jconnect exited $st on Ctrl-C"; }
ok "jconnect stopped cleanly on Ctrl-C"
