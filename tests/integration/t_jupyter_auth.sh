#!/bin/bash
# base_url and password-only servers through a real sshd: the URL goes
# under base_url and Chromium is logged in; a password-only server gets
# its login page and a message that a password is needed.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/jupyter_lib.sh"

rig_start sshd jupyter --base-url /jupyter/

jc_open_ok "URL printed for a base_url=/jupyter/ server" "$T/out1" "$T/err1"
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
jc_open_ok "URL printed for a password-only server" "$T/out2" "$T/err2"
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
