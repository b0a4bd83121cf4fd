#!/bin/bash
# The remote Jupyter restarted under a running tunnel (new pid, new token,
# a new port): the foreground finds it again and prints the new URL with
# a line that says why; --json says so in a "url" event with a reason; a
# background tunnel updates what `jconnect url` prints.  An idle tunnel
# does not look (Session Manager's idle timeout must still apply).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jupyter_lib.sh"

rig_start sshd jupyter agent aws

# restart : stop every Jupyter of the rig, start a new one (another port,
# another token); its values are in JUPYTER_*_2.
restart() {
	rig_stop jupyter
	rig_start jupyter
	NEW_PORT=$JUPYTER_PORT_2 NEW_TOKEN=$JUPYTER_TOKEN_2
}
two_urls() { [ "$(grep -c '^http' "$1")" -ge 2 ]; }

# ---- foreground over SSH ------------------------------------------------
jc_open_ok "foreground over SSH: URL out" "$T/out" "$T/err" \
    -o jupyter.check_s=1
lport=$(url_port "$(head -n 1 "$T/out")")
restart
check "the new Jupyter is on another port ($JUPYTER_PORT -> $NEW_PORT)" \
    test "$NEW_PORT" != "$JUPYTER_PORT"
api_status "$lport" / "$NEW_TOKEN" >/dev/null	# the tab is in use
if wait_for 30 two_urls "$T/out"; then
	ok "a second URL on stdout after the restart"
else
	not_ok "a second URL on stdout after the restart"
	show "$T/err"
fi
url2=$(grep '^http' "$T/out" | tail -n 1)
check "it carries the new token" test "$(url_token "$url2")" = "$NEW_TOKEN"
check "same local port" test "$(url_port "$url2")" = "$lport"
check "the new URL works through the tunnel" \
    test "$(api_status "$lport" / "$NEW_TOKEN")" = 200
check "stderr says why" grep -q 'Jupyter on the remote restarted' "$T/err"
check "no token on stderr" sh -c "! grep -q -e '$NEW_TOKEN' '$T/err'"
jc_close

# ---- an idle tunnel does not check --------------------------------------
jc_open_ok "idle tunnel: URL out" "$T/out2" "$T/err2" -o jupyter.check_s=1
n0=$(grep -c 'GET /api/status' "$JUPYTER_LOG_2" 2>/dev/null || true)
sleep 4
n1=$(grep -c 'GET /api/status' "$JUPYTER_LOG_2" 2>/dev/null || true)
check "no check while nobody uses the tunnel ($n0 -> $n1 status calls)" \
    test "$n0" = "$n1"
jc_close

# ---- --json over SSM ------------------------------------------------------
"$JC" --json --no-browser --via ssm -l "$SSH_USER" -o jupyter.check_s=1 \
    demo-stack >"$T/ev" 2>"$T/everr" &
_jc=$!
_bg="${_bg:-} $_jc"
if wait_for 90 grep -q '"event":"ready"' "$T/ev"; then
	ok "SSM --json: ready"
else
	not_ok "SSM --json: ready"; show "$T/everr"
fi
lport=$(sed -nE 's/.*"port":([0-9]+).*/\1/p' "$T/ev" | head -n 1)
restart
api_status "$lport" / "$NEW_TOKEN" >/dev/null
if wait_for 40 grep -q '"reason":"Jupyter on the remote restarted' "$T/ev"
then
	ok "SSM --json: a url event says Jupyter restarted"
else
	not_ok "SSM --json: a url event says Jupyter restarted"
	show "$T/everr"; show "$T/ev"
fi
check "SSM: the new URL works" \
    test "$(api_status "$lport" / "$NEW_TOKEN")" = 200
jc_close

# ---- background over SSM: `jconnect url` follows ----------------------------
u1=$(timeout 120 "$JC" url --via ssm -l "$SSH_USER" -o jupyter.check_s=1 \
    demo-stack 2>"$T/bgerr")
check "background over SSM: a URL" test -n "$u1"
lport=$(url_port "$u1")
restart
api_status "$lport" / "$NEW_TOKEN" >/dev/null
follows() {
	u=$(timeout 30 "$JC" url --via ssm -l "$SSH_USER" demo-stack \
	    2>/dev/null)
	[ "$(url_token "$u")" = "$NEW_TOKEN" ]
}
if wait_for 40 follows; then
	ok "jconnect url prints the new token after the restart"
else
	not_ok "jconnect url prints the new token after the restart"
	show "$T/bgerr"
fi
check "same local port ($lport, got $(url_port "$u"))" test "$(url_port "$u")" = "$lport"
"$JC" stop demo-stack 2>/dev/null
