#!/bin/bash
# A hung peer never hangs jconnect.  Every connection jconnect makes (the
# AWS API, the Session Manager WebSocket that StartSession's StreamUrl
# names, sshd) goes through a fault proxy; then the peers stop answering
# (no FIN, no RST) or keep the WebSocket up without a byte of data.
# Ctrl-C ends a foreground tunnel at once (exit 0, as the README's table
# says), and `jconnect stop` ends a background one within its documented
# 10 s.
. "$(dirname "$0")/lib.sh"

rig_proxied

# interrupt NAME : SIGINT to the foreground jconnect $_jc; checks it ends
# within 2 s with exit 0.
interrupt() {
	local t0 t1 st=0
	t0=$(now_ms)
	kill -INT "$_jc"
	for _ in $(seq 100); do kill -0 "$_jc" 2>/dev/null || break; sleep 0.05; done
	wait "$_jc" || st=$?
	t1=$(now_ms)
	check "$1: Ctrl-C ends it in $((t1 - t0)) ms (<= 2000)" \
	    test $((t1 - t0)) -le 2000
	check "$1: ... with exit 0 (got $st)" test "$st" = 0
}

# fg NAME ARGS... : a foreground tunnel, up until its URL is out.
fg() {
	local name=$1; shift
	"$JC" --no-browser "$@" >"$T/$name.out" 2>"$T/$name.err" &
	_jc=$!
	_bg="$_bg $_jc"
	if wait_for 90 grep -q '^http' "$T/$name.out"; then
		ok "$name: URL out"
	else
		not_ok "$name: URL out"; show "$T/$name.err"
	fi
}

SSM=(--via ssm -l "$SSH_USER" -o ssm.ping_s=2 demo-stack)
SSHT=(-i "$SSH_KEY" -p "$SSHP_PORT" --known-hosts "$KNOWN_HOSTS"
    -o ssh.keepalive=2 "$SSH_USER@127.0.0.1")

# ---- every path silent ----------------------------------------------------
fg "SSM, silent paths" "${SSM[@]}"
paths stall
sleep 1
interrupt "SSM, silent paths"
paths pass

fg "SSH, silent path" "${SSHT[@]}"
paths stall
sleep 1
interrupt "SSH, silent path"
paths pass

# ---- a silent path found by keepalives, then Ctrl-C during the reconnect ---
fg "SSH, reconnecting" "${SSHT[@]}"
paths stall
if wait_for 20 grep -q 'stopped answering' "$T/SSH, reconnecting.err"; then
	ok "SSH: keepalives notice the silent path"
else
	not_ok "SSH: keepalives notice the silent path"
	show "$T/SSH, reconnecting.err"
fi
sleep 1
interrupt "SSH, reconnecting"
paths pass

# ---- a WebSocket that stays up and sends nothing --------------------------
fg "SSM, agent mute" "${SSM[@]}"
faults '{"pause": true, "withhold_acks": true}'
curl -s -m 2 -o /dev/null "$(head -n 1 "$T/SSM, agent mute.out")" || true
interrupt "SSM, agent mute"
faults '{}'

# ---- background: jconnect stop with every path silent -----------------------
u=$(timeout 120 "$JC" url "${SSM[@]}" 2>"$T/bg.err")
check "background over SSM: URL" test -n "$u"
paths stall
t0=$(now_ms); st=0
timeout 30 "$JC" stop demo-stack 2>"$T/stop.err" || st=$?
t1=$(now_ms)
check "stop with silent paths: exit 0 (got $st)" test "$st" = 0
check "stop with silent paths: $((t1 - t0)) ms (<= 10500)" \
    test $((t1 - t0)) -le 10500
port=$(echo "$u" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
check "the port is free afterwards" port_free "$port"
paths pass
