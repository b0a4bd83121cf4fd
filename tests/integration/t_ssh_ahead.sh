#!/bin/bash
# Streams opened ahead over SSH: each new stream costs a round trip (the
# channel open and its answer) before its first byte may go, so the SSH
# plugin keeps a few open to where Jupyter was last time, and over SSM to
# the compressed path's destination.  With sshd 300 ms away (a delaying
# proxy), a connection through the tunnel is answered after one round
# trip, not two, and the log says it took a stream opened ahead.
. "$(dirname "$0")/lib.sh"

RTT=300
rig_start sshd jupyter
DP=$(free_port)
"$PY" "$ROOT/tests/rig/delayproxy.py" --listen "$DP" --to "$SSHD_PORT" \
    --rtt-ms $RTT >"$T/dp.log" 2>&1 &
_bg="${_bg:-} $!"
wait_for 10 sh -c "exec 3<>/dev/tcp/127.0.0.1/$DP" 2>/dev/null
A="-i $SSH_KEY -p $DP --known-hosts $KNOWN_HOSTS"
LP=$(free_port)

# ttfb : seconds to the first byte of /api/status through the tunnel.
ttfb() {
	curl -s -o /dev/null -m 10 -w '%{time_starttransfer}' \
	    -H "Authorization: token $JUPYTER_TOKEN" \
	    "http://127.0.0.1:$LP/api/status"
}

# ---- first run: Jupyter's place learnt -----------------------------------
st=0; "$JC" url -vv --local-port "$LP" $A "$SSH_TARGET" >"$T/out.1" \
    2>"$T/err.1" || st=$?
check "first run: a URL (exit $st)" grep -q '^http' "$T/out.1"
"$JC" stop -q "$SSH_TARGET"

# ---- next run: streams opened ahead there ---------------------------------
st=0; "$JC" --no-browser -vv --local-port "$LP" $A "$SSH_TARGET" \
    >"$T/out.2" 2>"$T/err.2" &
jc=$!
_bg="${_bg:-} $jc"
check "next run: a URL" wait_for 30 grep -q '^http' "$T/out.2"
check "  ... six streams to Jupyter's port opened ahead" \
    grep -q "opening 6 streams to .*:$JUPYTER_PORT ahead" "$T/err.2"
sleep $((RTT * 3 / 1000 + 1))
t=$(ttfb)
check "  ... a new connection answered after one round trip ($t s, < 1.6 x ${RTT} ms)" \
    "$PY" -c "import sys; sys.exit(0 if float('$t') < 1.6 * $RTT / 1000 else 1)"
check "  ... on a stream opened ahead" grep -q 'one opened ahead' "$T/err.2"
# A burst larger than the spares: every request answered all the same.
pids=""
for i in $(seq 1 10); do
	curl -fsS -m 20 -o "$T/burst.$i" -H "Authorization: token $JUPYTER_TOKEN" \
	    "http://127.0.0.1:$LP/api/status" &
	pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
check "ten connections at once, all answered ($fails failed)" test "$fails" = 0
kill -INT "$jc"
st=0; wait "$jc" || st=$?
check "Ctrl-C ends it (exit $st)" test "$st" = 0
