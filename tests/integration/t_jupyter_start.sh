#!/bin/bash
# No Jupyter on the remote: exit 7 naming --start-jupyter.  With
# --start-jupyter: a server bound to 127.0.0.1 only, its token in neither
# the remote ps output nor its log, the URL works, it outlives jconnect,
# a second run finds it, and `jconnect stop --jupyter` ends it.
. "$(dirname "$0")/lib.sh"

# ---- helpers (shared by the t_jupyter_* scripts) ----
CHROME_FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
--disable-background-networking --disable-component-update --disable-sync
--virtual-time-budget=10000"
# jc_open OUT ERR [ARGS...] : jconnect in the background until the URL is out.
jc_open() {
	local out=$1 err=$2; shift 2
	# shellcheck disable=SC2086
	"$JC" --no-browser $SSH_OPTS "$@" "$SSH_TARGET" >"$out" 2>"$err" &
	_jc=$!
	_bg="${_bg:-} $_jc"
	wait_for 90 grep -q '^http' "$out"
}
jc_close() { kill -TERM "$_jc" 2>/dev/null; wait "$_jc" 2>/dev/null; }
url_port() { echo "$1" | sed -E 's|^https?://127\.0\.0\.1:([0-9]+)/.*|\1|'; }
url_token() { echo "$1" | sed -nE 's|.*[?&]token=([^&#]+).*|\1|p'; }
# dom URL FILE : what headless Chromium shows for URL.
dom() {
	local prof
	prof=$(mktemp -d "$T/chrome.XXXXXX")
	# shellcheck disable=SC2086
	timeout 60 chromium $CHROME_FLAGS --user-data-dir="$prof" \
	    --dump-dom "$1" >"$2" 2>/dev/null
}
# api_status PORT BASE TOKEN : HTTP code of BASEapi/status through the tunnel.
api_status() {
	curl -s -o /dev/null -w '%{http_code}' -m 10 \
	    ${3:+-H "Authorization: token $3"} "http://127.0.0.1:$1${2}api/status"
}

rig_start sshd

st=0
timeout 60 "$JC" --no-browser $SSH_OPTS "$SSH_TARGET" >"$T/out0" \
    2>"$T/err0" || st=$?
check "no server: exit 7 (got $st)" test "$st" = 7
check "no server: the message names --start-jupyter" \
    grep -q -- '--start-jupyter' "$T/err0"
check "no server: nothing on stdout" test ! -s "$T/out0"

jport=$(free_port)
if jc_open "$T/out1" "$T/err1" --start-jupyter --jupyter-port "$jport"; then
	ok "--start-jupyter: URL printed"
else
	not_ok "--start-jupyter: URL printed"; show "$T/err1"
	show "$RHOME/.jconnect/jupyter.log"; exit 1
fi
url=$(head -n1 "$T/out1")
port=$(url_port "$url")
token=$(url_token "$url")
pid=$(cat "$RHOME/.jconnect/jupyter.pid" 2>/dev/null)
_bg="${_bg:-} $pid"
check "a progress line on stderr" grep -q 'starting Jupyter on the remote' "$T/err1"
check "pid file written ($pid)" test -n "$pid"
check "token is 48 hex characters" sh -c "echo '$token' | grep -qE '^[0-9a-f]{48}\$'"
# Listening sockets on that port, from the kernel's tables (hex addr:port).
addrs=$(awk -v p=":$(printf '%04X' "$jport")" '$2 ~ p"$" && $4 == "0A" \
    { print $2 }' /proc/net/tcp /proc/net/tcp6 | tr '\n' ' ')
check "bound to 127.0.0.1 only ($addrs)" \
    test "$addrs" = "0100007F:$(printf '%04X' "$jport") "
ps -eo args >"$T/ps"
check "token absent from the remote ps output" \
    sh -c "! grep -q '$token' '$T/ps'"
check "ps shows the server bound to 127.0.0.1" grep -q -- '--ip=127.0.0.1' "$T/ps"
check "log in ~/.jconnect/jupyter.log" test -s "$RHOME/.jconnect/jupyter.log"
check "token absent from the remote log" \
    sh -c "! grep -q '$token' '$RHOME/.jconnect/jupyter.log'"
check "no token file left behind" test ! -e "$RHOME/.jconnect/jupyter.token"
check "~/.jconnect is 0700" test "$(stat -c %a "$RHOME/.jconnect")" = 700
check "api/status 200 through the tunnel" \
    test "$(api_status "$port" / "$token")" = 200
dom "$url" "$T/dom1"
check "Chromium reaches the logged-in page" grep -q 'id="logout"' "$T/dom1"
jc_close
check "the server outlives jconnect" kill -0 "$pid"
check "and still listens on $jport" port_busy "$jport"

# A second run finds the server jconnect started.
jc_open "$T/out2" "$T/err2"
url2=$(head -n1 "$T/out2")
check "second run finds it (same token)" test "$(url_token "$url2")" = "$token"
jc_close

st=0
timeout 60 "$JC" stop --jupyter $SSH_OPTS "$SSH_TARGET" >"$T/out3" \
    2>"$T/err3" || st=$?
check "stop --jupyter exits 0 (got $st)" test "$st" = 0
check "the server is gone" wait_for 10 sh -c "! kill -0 $pid"
check "its port is free" wait_for 10 port_free "$jport"
check "pid file removed" test ! -e "$RHOME/.jconnect/jupyter.pid"
