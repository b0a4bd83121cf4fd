#!/bin/bash
# base_url and password-only servers through a real sshd: the URL goes
# under base_url and Chromium is logged in; a password-only server gets
# its login page and a message that a password is needed.
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

rig_start sshd jupyter --base-url /jupyter/

if jc_open "$T/out1" "$T/err1"; then
	ok "URL printed for a base_url=/jupyter/ server"
else
	not_ok "URL printed for a base_url=/jupyter/ server"; show "$T/err1"
	exit 1
fi
url=$(head -n1 "$T/out1")
port=$(url_port "$url")
check "URL is under /jupyter/" \
    test "$url" = "http://127.0.0.1:$port/jupyter/tree?token=$JUPYTER_TOKEN"
check "api/status 200 under base_url" \
    test "$(api_status "$port" /jupyter/ "$JUPYTER_TOKEN")" = 200
dom "$url" "$T/dom1"
check "Chromium reaches the logged-in page under /jupyter/" \
    grep -q 'id="logout"' "$T/dom1"
jc_close
rig_stop jupyter >/dev/null 2>&1

# Password only (token '' and a password hash).
rig_start jupyter --jupyter-password s3cret-pw
if jc_open "$T/out2" "$T/err2"; then
	ok "URL printed for a password-only server"
else
	not_ok "URL printed for a password-only server"; show "$T/err2"
	exit 1
fi
url=$(head -n1 "$T/out2")
port=$(url_port "$url")
check "URL is the login page" \
    test "$url" = "http://127.0.0.1:$port/login?next=%2Ftree"
check "the message says a password is needed" \
    grep -q 'a password is needed' "$T/err2"
check "api/status refuses without a password (403)" \
    test "$(api_status "$port" /)" = 403
dom "$url" "$T/dom2"
check "Chromium shows the login form" grep -q 'id="login_submit"' "$T/dom2"
jc_close
