#!/bin/bash
# The rig's real-world knobs do what the benchmarks rely on: with
# --agent-pace 1 one port session carries about 1 MB/s at most (AWS's
# agent: 1 KiB, then 1 ms), and with --aws-rtt AWS is far away: a new
# connection to the API costs TCP + TLS round trips, each call one more,
# each WebSocket upgrade a new connection plus one, and frames a one-way
# delay each way; both fakes log what they charged.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws --agent-pace 1 --aws-rtt 100
BLAST=$ROOT/build/tests/tools/blast
[ -x "$BLAST" ] || { not_ok "blast is built (make tests)"; exit 0; }
sp=$(free_port)
"$BLAST" serve "$sp" >"$T/blast.out" 2>&1 &
_bg="${_bg:-} $!"
wait_for 5 port_busy "$sp"

# ---- time to URL at 100 ms: counted round trips and a slower start -------
t0=$(date +%s%N)
"$JC" url -q --via ssm -l "$SSH_USER" demo-stack >"$T/url" 2>"$T/err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "jconnect url over SSM works at 100 ms RTT" test "$rc" = 0
"$JC" stop -q demo-stack >/dev/null 2>&1
rt() { "$PY" -c 'import json, sys
n = 0
for fn in sys.argv[2:]:
    for line in open(fn):
        r = json.loads(line)
        if r["what"] == sys.argv[1]:
            n += r["rtts"]
print(n)' "$@"; }
conn=$(rt connect "$AWS_STATE/roundtrips.jsonl")
req=$(rt request "$AWS_STATE/roundtrips.jsonl")
upg=$(rt upgrade "$AGENT_STATE/roundtrips.jsonl")
diag "to URL: ${ms} ms; AWS connections $conn, calls $req, upgrades $upg round trips"
check "the fake AWS charged 2 round trips per new connection" \
    test "$conn" -ge 2 -a $((conn % 2)) = 0
check "the fake AWS logged the API calls" test "$req" -ge 1
check "each WebSocket upgrade cost 3 round trips (TCP, TLS, upgrade)" \
    test "$upg" -ge 3 -a $((upg % 3)) = 0
# However parallel the calls, StartSession (a new connection and the call)
# comes before the WebSocket (a new connection and the upgrade): 6 RTT.
check "the URL waited for the round trips no client can avoid" \
    test "$ms" -ge 600

# ---- one paced stream ---------------------------------------------------------
faults '{"pace_ms": 1}'
lp=$(free_port)
"$JC" --no-browser -q --local-port "$lp" --remote-port "$sp" --via ssm \
    -l "$SSH_USER" demo-stack >/dev/null 2>"$T/err2" &
jc=$!
_bg="$_bg $jc"
wait_for 30 port_busy "$lp"
read -r _ secs mbs < <("$BLAST" down "$lp" 2000000)
diag "2 MB down through a paced session: $secs s, $mbs MB/s"
check "a paced session carries at most about 1 MB/s ($mbs MB/s)" \
    "$PY" -c "import sys; sys.exit(not 0.2 < $mbs <= 1.05)"
kill -INT "$jc"
wait "$jc"

faults '{"pace_ms": 0}'
lp=$(free_port)
"$JC" --no-browser -q --local-port "$lp" --remote-port "$sp" --via ssm \
    -l "$SSH_USER" demo-stack >/dev/null 2>"$T/err3" &
jc=$!
_bg="$_bg $jc"
wait_for 30 port_busy "$lp"
read -r _ secs mbs < <("$BLAST" down "$lp" 20000000)
diag "20 MB down unpaced: $secs s, $mbs MB/s"
check "without pacing the same session is faster than 2 MB/s ($mbs MB/s)" \
    "$PY" -c "import sys; sys.exit(not $mbs > 2)"
kill -INT "$jc"
wait "$jc"

# ---- data frames pay the one-way delay both ways ------------------------------
faults '{"rtt_ms": 400}'
t0=$(date +%s%N)
"$JC" url -q --via ssm -l "$SSH_USER" --remote-port "$sp" demo-stack \
    >/dev/null 2>"$T/err4"
ms4=$(( ($(date +%s%N) - t0) / 1000000 ))
"$JC" stop -q demo-stack >/dev/null 2>&1
diag "to URL with a 400 ms agent: $ms4 ms"
# Upgrade (3 x 400) plus the handshake: request out (200), response in
# (200), at the very least.
check "a 400 ms agent holds the session back by upgrade + handshake" \
    test "$ms4" -ge 1600
check "no protocol violation" agent violations
