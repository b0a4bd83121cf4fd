#!/bin/bash
# A Jupyter server listening on a Unix socket (ServerApp.sock) is found
# and forwarded over SSH (direct-streamlocal); the URL works.
. "$(dirname "$0")/lib.sh"

rig_start sshd
sock=$T/jup.sock
mkdir -p "$RHOME/nb"
(cd "$RHOME/nb"; HOME=$RHOME exec setsid /usr/bin/jupyter server --no-browser \
    --allow-root --ServerApp.sock="$sock" --ServerApp.root_dir="$RHOME/nb") \
    >"$T/jup.log" 2>&1 &
jpid=$!
_bg="${_bg:-} $jpid"
wait_for 60 test -S "$sock" || { not_ok "jupyter on a Unix socket"; show "$T/jup.log"; exit 1; }
"$JC" --no-browser $SSH_OPTS "$SSH_TARGET" >"$T/out" 2>"$T/err" &
jc=$!
if wait_for 30 grep -q '^http' "$T/out"; then
	ok "URL printed for a Unix-socket server"
else
	not_ok "URL printed for a Unix-socket server"; show "$T/err"
fi
check "the socket server is named" grep -q "Unix socket $sock" "$T/err"
url=$(head -n1 "$T/out")
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
    -H "Authorization: token ${url##*token=}" "${url%%\?*}api/status")
check "/api/status through the forwarded socket answers 200" test "$code" = 200
kill -INT "$jc"; wait "$jc"
kill "$jpid" 2>/dev/null
