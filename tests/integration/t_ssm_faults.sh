#!/bin/bash
# The SSM tunnel under the fake agent's fault switches, through the real
# jconnect and real Jupyter: 5% of frames lost, duplicated and reordered
# each way on a 50 MB download and a 10 MB upload; the WebSocket closed mid-transfer (resumed,
# same local port); pause_publication mid-transfer; then an old agent
# (basic mode, one connection at a time) and a 3.1 agent (smux keepalive).
# Every download is checked byte for byte.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
head -c 50000000 /dev/urandom >"$RHOME/notebooks/big.bin"
head -c 1000000 /dev/urandom >"$RHOME/notebooks/one.bin"
want_big=$(sha256sum <"$RHOME/notebooks/big.bin" | cut -d' ' -f1)
want_one=$(sha256sum <"$RHOME/notebooks/one.bin" | cut -d' ' -f1)

# tunnel_start [OPTIONS]: jconnect in the background; sets url, port, jc.
tunnel_start() {
	: >"$T/out"
	"$JC" --no-browser --via ssm -l "$SSH_USER" "$@" demo-stack \
	    >"$T/out" 2>>"$T/err" &
	jc=$!
	if ! wait_for 40 grep -q '^http' "$T/out"; then
		not_ok "tunnel up ($*)"; show "$T/err"; exit 1
	fi
	url=$(head -n1 "$T/out")
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
}
tunnel_stop() {
	kill -INT "$jc"
	wait "$jc"
}
# fetch NAME WANT: download NAME through the tunnel, compare its hash.
fetch() {
	local f=$T/dl.$1.$$
	curl -s -m 240 -o "$f" "http://127.0.0.1:$port/files/$1?token=$token" &&
	    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$2" ]
	local r=$?
	rm -f "$f"
	return $r
}

faults '{"drop_pct": 5, "dup_pct": 5, "reorder_pct": 5, "chunk_size": 16384}'
# One port session: a pool that grows under a slow client (valgrind) must
# not pass for a session replaced.
tunnel_start -o ssm.chunk_size=16384 -o ssm.sessions=1
check "50 MB with 5% loss, duplicates and reordering: byte-exact" \
    fetch big.bin "$want_big"
# An upload too (Jupyter's contents API): our resends, its re-acks.
head -c 10000000 /dev/urandom >"$T/up.bin"
printf '{"type": "file", "format": "base64", "content": "%s"}' \
    "$(base64 -w0 <"$T/up.bin")" >"$T/up.json"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 240 -X PUT \
    -H "Authorization: token $token" -H 'Content-Type: application/json' \
    --data-binary @"$T/up.json" \
    "http://127.0.0.1:$port/api/contents/up.bin")
check "10 MB upload with 5% loss, duplicates and reordering (HTTP $code)" \
    test "$code" = 201 -o "$code" = 200
check "the upload is byte-exact" cmp -s "$T/up.bin" "$RHOME/notebooks/up.bin"
sleep 0.7
check "the agent had to resend" test "$(agent stat out_resent)" -gt 0
check "and re-acknowledged our duplicates" test "$(agent stat reacks)" -gt 0

c0=$(agent stat connections)
p0=$(agent sessions AWS-StartPortForwardingSession)
faults '{"close_every_bytes": 15000000, "chunk_size": 16384}'
check "50 MB while the WebSocket is closed every 15 MB: byte-exact" \
    fetch big.bin "$want_big"
sleep 0.7
check "the session was resumed on new WebSockets" \
    test "$(agent stat connections)" -ge $((c0 + 3))
faults '{"chunk_size": 16384}'
check "the same local port still serves" fetch one.bin "$want_one"
check "resumed, not replaced: still $p0 port session(s)" \
    test "$(agent sessions AWS-StartPortForwardingSession)" = "$p0"
check "and jconnect never gave up resuming" \
    sh -c "! grep -q 'could not resume' '$T/err'"

# pause_publication for a second in the middle of a download.
(fetch big.bin "$want_big"; echo $? >"$T/pst") &
sleep 1
faults '{"pause": true, "chunk_size": 16384}'
sleep 1
faults '{"chunk_size": 16384}'
wait_for 120 test -s "$T/pst"
check "a download across pause/start publication is byte-exact" \
    test "$(cat "$T/pst")" = 0
tunnel_stop
check "the fake agent saw no protocol violation (no data while paused)" \
    agent violations

# Resuming refused: the plugin gives up within its budget (2 s), says so,
# and jconnect logs in again with new sessions on the same local port.
tunnel_start -o ssm.reconnect_s=2
lport=$port
check "before: a download" fetch one.bin "$want_one"
faults '{"refuse_resume": true, "close_ws": 1}'
wait_for 30 grep -q "could not resume" "$T/err"
check "the plugin gave up resuming and said so" \
    grep -q "could not resume" "$T/err"
faults '{}'
check "jconnect reconnected: the same local port serves again" \
    wait_for 30 fetch one.bin "$want_one"
check "still port $lport" test "$port" = "$lport"
check "and it is still running" kill -0 "$jc"
tunnel_stop
: >"$T/err"

# An agent too old for smux: basic mode, connections one after another.
faults '{"agent_version": "3.0.196.0"}'
tunnel_start
ok_n=0
for i in 1 2 3 4 5; do fetch one.bin "$want_one" && ok_n=$((ok_n + 1)); done
check "basic mode: 5 sequential downloads byte-exact ($ok_n/5)" \
    test "$ok_n" = 5
sleep 0.7
check "the agent ran basic mode" agent mode basic
tunnel_stop

# Agent 3.1: smux with keepalive on both sides; idle beyond 3 intervals.
faults '{"agent_version": "3.1.0.0", "smux_keepalive_ms": 300}'
tunnel_start -o ssm.smux_keepalive_ms=300
check "keepalive mode: a download" fetch one.bin "$want_one"
sleep 2
check "keepalive mode: still serving after 2 s idle" fetch one.bin "$want_one"
sleep 0.7
check "the agent ran smux with keepalive" agent mode mux-keepalive
check "and received our NOPs" test "$(agent stat nops_in)" -gt 3
tunnel_stop
faults '{}'

sleep 1
check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
