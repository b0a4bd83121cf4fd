#!/bin/bash
# Several Session Manager port sessions per destination (ssm.sessions),
# against a fake agent paced like AWS's (1 KiB output messages, 1 ms
# apart: about 0.7 MB/s per session) and a fake AWS that rate-limits
# StartSession as AWS does (ThrottlingException "Rate exceeded"):
# a parallel burst is spread over several sessions and finishes much
# sooner than through one; throttled starts are retried without a word
# to the user; a session that Session Manager ends is replaced and no
# request fails; idle extra sessions are terminated, one is kept.
. "$(dirname "$0")/lib.sh"

# StartSession: 1 per second, 2 at once.  The ramp of extra sessions
# (three starts 340 ms apart) needs more: at least one is throttled.
rig_start sshd jupyter agent aws --agent-pace 1 --scenario-add \
    '{"rate_limits": {"ssm:StartSession": {"rate": 1, "burst": 2}}}'
N=12
for i in $(seq 1 $N); do
	head -c $((400 * 1024)) /dev/urandom >"$RHOME/notebooks/b$i.bin"
done

# snap FILE : output bytes per port session so far (SessionId bytes).
snap() {
	"$PY" - "$AGENT_STATE/agent-stats.json" >"$1" <<'PYEOF'
import json, sys
try:
    st = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    st = {}
for sid, v in st.items():
    if v.get("document", "").startswith("AWS-StartPortForwarding"):
        print(sid, v.get("out_bytes", 0))
PYEOF
}
# carried A B : port sessions that sent at least 200 KB between snaps.
carried() {
	awk 'NR == FNR { a[$1] = $2; next }
	    $2 - a[$1] >= 200 * 1024 { n++ } END { print n + 0 }' "$1" "$2"
}

# tunnel NAME OPTS... : start jconnect; sets jc, port, token.
tunnel() {
	local name=$1
	shift
	"$JC" --no-browser --via ssm -l "$SSH_USER" "$@" demo-stack \
	    >"$T/out.$name" 2>"$T/err.$name" &
	jc=$!
	if ! wait_for 40 grep -q '^http' "$T/out.$name"; then
		not_ok "$name: URL printed"; show "$T/err.$name"; exit 1
	fi
	url=$(head -n1 "$T/out.$name")
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
}

# burst NAME : N parallel 400 KB downloads; sets took (ms) and bad.
burst() {
	local i p t0 pids="" fail=0
	sleep 1.2		# stats are saved every 0.5 s
	snap "$T/s0.$1"
	t0=$(now_ms)
	for i in $(seq 1 $N); do
		curl -s -m 120 -o "$T/d.$1.$i" \
		    "http://127.0.0.1:$port/files/b$i.bin?token=$token" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || fail=$((fail + 1)); done
	took=$(( $(now_ms) - t0 ))
	bad=$fail
	for i in $(seq 1 $N); do
		cmp -s "$T/d.$1.$i" "$RHOME/notebooks/b$i.bin" || bad=$((bad + 1))
	done
	sleep 1.2
	snap "$T/s1.$1"
}

# One session: the baseline.
tunnel one -o ssm.sessions=1
burst one
t_one=$took
check "ssm.sessions=1: $N parallel 400 KB downloads byte-exact in $took ms ($bad bad)" \
    test "$bad" = 0
n=$(carried "$T/s0.one" "$T/s1.one")
check "ssm.sessions=1: one port session carried them ($n)" test "$n" = 1
kill -INT "$jc"
wait "$jc"

# Four sessions, extra ones closed after 8 idle seconds.
tunnel four -o ssm.sessions=4 -o ssm.session_idle_s=8
burst warm		# the pool grows during this one
check "ssm.sessions=4: the first burst is byte-exact ($bad bad, $took ms)" \
    test "$bad" = 0
burst four
t_four=$took
check "ssm.sessions=4: $N parallel downloads byte-exact in $took ms ($bad bad)" \
    test "$bad" = 0
n=$(carried "$T/s0.four" "$T/s1.four")
check "ssm.sessions=4: $n port sessions carried the burst (want >= 3)" \
    test "$n" -ge 3
# Paced at ~0.7 MB/s each, four sessions should be ~3x faster; ask 1.5x.
check "the burst is faster over several sessions ($t_four ms vs $t_one ms)" \
    test $((t_four * 3)) -lt $((t_one * 2))
thr=$(grep -c '"action": "StartSession".*ThrottlingException' \
    "$AWS_STATE/requests.jsonl")
check "Session Manager throttled some StartSession calls ($thr)" \
    test "$thr" -ge 1
check "throttling never reached the user" \
    sh -c "! grep -qiE 'throttl|rate exceeded|StartSession' '$T/err.four'"
check "the tunnel is still up" kill -0 "$jc"

# Session Manager ends one of the sessions (as its idle timeout would):
# the next burst goes to the others and a replacement, nothing fails.
active() {
	"$PY" - "$AGENT_STATE/sessions" <<'PYEOF'
import json, os, sys
d = sys.argv[1]
for fn in sorted(os.listdir(d), key=lambda f: os.path.getmtime(
        os.path.join(d, f))):
    if fn.endswith(".json"):
        r = json.load(open(os.path.join(d, fn)))
        if r.get("DocumentName", "").startswith("AWS-StartPortForwarding") \
                and r.get("Status") == "Active":
            print(r["SessionId"])
PYEOF
}
victim=$(active | tail -n1)
started=$(agent sessions AWS-StartPortForwardingSession)
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ssm terminate-session \
    --session-id "$victim" >/dev/null 2>"$T/cli.err" || show "$T/cli.err"
wait_for 10 sh -c "! grep -q '\"Status\": \"Active\"' \
    '$AGENT_STATE/sessions/$victim.json'"
sleep 1
burst killed
check "after Session Manager ended $victim: byte-exact, no request failed ($bad bad)" \
    test "$bad" = 0
now=$(agent sessions AWS-StartPortForwardingSession)
check "a replacement session was started ($started -> $now)" \
    test "$now" -gt "$started"
n=$(carried "$T/s0.killed" "$T/s1.killed")
check "and the burst was spread again ($n sessions, want >= 3)" test "$n" -ge 3
check "nothing about it on stderr" \
    sh -c "! grep -qiE 'session|error|failed' '$T/err.four'"

# Idle: extra sessions go after ssm.session_idle_s, one is kept.
one_active() { [ "$(active | wc -l)" = 1 ]; }
wait_for 25 one_active
check "idle extra sessions were terminated, one kept ($(active | wc -l) active)" \
    test "$(active | wc -l)" = 1
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
    "http://127.0.0.1:$port/api/status?token=$token")
check "the kept session still serves (/api/status $code)" test "$code" = 200

kill -INT "$jc"
st=0
wait "$jc" || st=$?
check "Ctrl-C exits 0 (got $st)" test "$st" = 0
check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
diag "ssm.sessions=1: $t_one ms, ssm.sessions=4: $t_four ms for $N x 400 KB;" \
    "$(agent sessions AWS-StartPortForwardingSession) port sessions in all"
