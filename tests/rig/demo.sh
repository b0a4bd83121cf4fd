#!/bin/sh
# demo.sh - `make demo`: start the sandbox that stands in for an EC2
# instance (sshd + Jupyter on 127.0.0.1, the fake AWS API and the fake SSM
# agent), then run jconnect against the stack "demo-stack" exactly as a user
# would against AWS, and print the URL.  The fake agent paces its sessions
# as AWS's does (1 KiB, then 1 ms: about 1 MB/s a session), so the demo
# feels like the real service.  Ctrl-C tears everything down.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/jconnect-demo.XXXXXX")
PY=/usr/bin/python3

cleanup() {
	trap - EXIT INT TERM
	[ -n "${jc:-}" ] && kill -INT "$jc" 2>/dev/null && wait "$jc"
	"$PY" "$ROOT/tests/rig/rig.py" stop --dir "$D" >/dev/null 2>&1
	rm -rf "$D"
	echo "demo: sandbox stopped and removed" >&2
}
trap cleanup EXIT
trap 'exit 0' INT TERM

echo "demo: starting the sandbox (sshd, Jupyter, fake AWS, fake SSM agent" \
    "paced like AWS's)" >&2
if ! "$PY" "$ROOT/tests/rig/rig.py" start --dir "$D" sshd jupyter agent aws \
    --jupyter-file --agent-pace 1 >"$D/rig.out" 2>&1; then
	cat "$D/rig.out" >&2
	echo "demo: the sandbox did not start" >&2
	exit 1
fi
. "$D/env"
# A private HOME: the demo leaves your ~/.ssh and ~/.config alone.
export HOME="$D/home" XDG_STATE_HOME="$D/home/.local/state"
mkdir -p "$HOME"
[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || NB=--no-browser

echo "demo: sandbox up; the stack demo-stack resolves to i-0123456789abcdef0" >&2
echo "demo: running: jconnect -l $SSH_USER demo-stack" >&2
"$ROOT/jconnect" ${NB:-} -l "$SSH_USER" demo-stack &
jc=$!
wait "$jc"
st=$?
jc=
exit $st
