#!/bin/bash
# Ctrl-C while AWS's answer to a StartSession is on its way: AWS made the
# session already, so jconnect waits a moment for the answer and
# terminates that session too, instead of leaving it open on the
# instance.  The fake AWS holds every StartSession answer back 0.6 s (a
# congested path); Ctrl-C comes as soon as the session exists.  Once for
# the first session (a call that waits) and once for an extra session of
# the pool (a call the loop drives), then Ctrl-C still ends jconnect
# within 2 s and every session is terminated.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws --agent-pace 1 \
    --scenario-add '{"slow": [{"action": "StartSession", "seconds": 0.6}]}'
for i in 1 2 3 4 5 6; do
	head -c $((300 * 1024)) /dev/urandom >"$RHOME/notebooks/s$i.bin"
done
sessions() { find "$AGENT_STATE/sessions" -name '*.json' 2>/dev/null | wc -l; }

# stop_when_more NAME N : Ctrl-C to $jc once AWS holds more than N
# sessions; checks how soon jconnect ends and that none is left open.
stop_when_more() {
	local t0 t1 end=$(( $(now_ms) + 60000 ))
	while [ "$(sessions)" -le "$2" ] && [ "$(now_ms)" -lt "$end" ]; do
		sleep 0.02
	done
	t0=$(now_ms)
	kill -INT "$jc"
	wait "$jc"
	t1=$(now_ms)
	check "$1: Ctrl-C while StartSession's answer is held back ends it in $((t1 - t0)) ms (<= 2000)" \
	    test $((t1 - t0)) -le 2000
	check "$1: the session AWS made meanwhile was terminated" \
	    wait_for 5 agent terminated
}

# The first session: StartSession waited for, Ctrl-C before the URL.
"$JC" --no-browser --via ssm -l "$SSH_USER" -o ssm.compress=no demo-stack \
    >"$T/first.out" 2>"$T/first.err" &
jc=$!
stop_when_more "first session" 0
check "first session: no URL was printed" test ! -s "$T/first.out"

# An extra session of the pool (ssm.sessions=4), started by the loop
# while a burst of downloads flows.
before=$(sessions)
"$JC" --no-browser --via ssm -l "$SSH_USER" -o ssm.compress=no \
    -o ssm.sessions=4 demo-stack >"$T/pool.out" 2>"$T/pool.err" &
jc=$!
if wait_for 40 grep -q '^http' "$T/pool.out"; then
	url=$(head -n1 "$T/pool.out")
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
	up=$(sessions)
	for i in 1 2 3 4 5 6; do
		curl -s -m 30 -o /dev/null \
		    "http://127.0.0.1:$port/files/s$i.bin?token=$token" &
	done
	stop_when_more "extra session" "$up"
	check "extra session: the pool had started one ($(sessions) > $up > $before)" \
	    test "$(sessions)" -gt "$up"
	wait
else
	not_ok "pool: URL printed"; show "$T/pool.err"
	kill -INT "$jc"; wait "$jc"
fi
check "the agent saw no protocol violation" agent violations
