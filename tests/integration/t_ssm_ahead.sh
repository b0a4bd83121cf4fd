#!/bin/bash
# Connections to Session Manager's data-channel host made ahead: every
# StreamUrl of a region names the same host, so once jconnect has seen
# one it connects there while the target is still resolved and
# StartSession asked; the sessions' WebSockets then find their TCP (and
# TLS) handshakes done and only the upgrade is left.  What the fake agent
# sees proves it: the upgrades come on connections that were open long
# before them (waited_ms).  A stale memo (another port), a connection the
# far end closed while it waited, or one that never answers (made before
# a network change) costs nothing but the gain, or 2 s at most.
. "$(dirname "$0")/lib.sh"

RTT=60
rig_start sshd jupyter agent aws --aws-rtt $RTT
SD=$XDG_STATE_HOME/jconnect
RT=$AGENT_STATE/roundtrips.jsonl
ORIGIN=ws://127.0.0.1:$AGENT_PORT

url() {	# url NAME : a background tunnel, its URL in $u, its log in err.NAME
	local st=0
	"$JC" url -vvv --via ssm -l "$SSH_USER" --local-port "$(free_port)" \
	    demo-stack >"$T/out.$1" 2>"$T/err.$1" || st=$?
	u=$(head -n1 "$T/out.$1")
	return $st
}
works() {	# works URL : the notebook answers with the token
	curl -fsS -m 10 -o /dev/null -H "Authorization: token ${1##*token=}" \
	    "$(echo "$1" | sed -E 's|^(http://[^/]*/).*|\1|')api/status"
}
lines() { if [ -f "$RT" ]; then wc -l <"$RT"; else echo 0; fi; }
# waited N MIN : the first two upgrades after the first N lines came on
# connections open for at least MIN ms before them.
waited() {
	tail -n +$(($1 + 1)) "$RT" | "$PY" -c 'import json, sys
w = [json.loads(l).get("waited_ms", -1) for l in sys.stdin
     if json.loads(l)["what"] == "upgrade"]
print(" ".join(map(str, w)))
sys.exit(0 if len(w) >= 2 and min(w[:2]) >= int(sys.argv[1]) else 1)' "$2"
}

# ---- first run: nothing known yet -----------------------------------------
st=0; url first || st=$?
check "first run: a working URL (exit $st)" works "$u"
"$JC" stop -q demo-stack
check "  ... nothing made ahead (no StreamUrl seen yet)" \
    sh -c "! grep -q 'made ahead' '$T/err.first'"
check "  ... the StreamUrls' origin remembered per region, 0600, no token" \
    sh -c "f=\$(ls '$SD'/plugin_ssm-*.memo) && test \$(stat -c %a \"\$f\") = 600 &&
    grep -q '\"stream_origin.us-east-1\":\"$ORIGIN\"' \"\$f\" &&
    ! grep -qi 'token' \"\$f\""

# ---- next run: the WebSockets take connections made ahead -----------------
n=$(lines)
st=0; url next || st=$?
check "next run: a working URL (exit $st)" works "$u"
"$JC" stop -q demo-stack
check "  ... two connections to $ORIGIN made ahead, both taken" sh -c \
    "grep -q '2 connections to $ORIGIN made ahead' '$T/err.next' &&
    test \$(grep -c 'takes a connection made ahead' '$T/err.next') = 2"
# Made while EC2 was asked: open for at least the StartSession round trip
# (and DescribeInstances') before their upgrade came.
w=$(waited "$n" $((RTT * 2)))
check "  ... the agent saw the upgrades on connections open ${w:-?} ms before it (>= $((RTT * 2)))" \
    waited "$n" $((RTT * 2))
check "  ... no protocol violation" test ! -s "$AGENT_STATE/violations.log"

# ---- a stale memo: the origin moved ---------------------------------------
f=$(ls "$SD"/plugin_ssm-*.memo)
dead=$(free_port)
printf '{"target":"plugin:ssm","values":{"stream_origin.us-east-1":"ws://127.0.0.1:%s"}}' \
    "$dead" >"$f"
st=0; url stale || st=$?
check "a stale origin: the URL still works (exit $st)" works "$u"
"$JC" stop -q demo-stack
check "  ... nothing taken, and the memo corrected" sh -c \
    "! grep -q 'takes a connection made ahead' '$T/err.stale' &&
    grep -q '\"$ORIGIN\"' '$f'"

# ---- connections the far end closes while they wait -----------------------
faults "{\"rtt_ms\": $RTT, \"idle_close_ms\": 20}"
st=0; url idle || st=$?
check "connections closed while they waited: the URL still works (exit $st)" \
    works "$u"
"$JC" stop -q demo-stack
check "  ... each WebSocket dialled anew" sh -c \
    "! grep -q 'takes a connection made ahead' '$T/err.idle' ||
    grep -q 'dialling anew' '$T/err.idle'"
check "  ... no protocol violation" test ! -s "$AGENT_STATE/violations.log"
faults "{\"rtt_ms\": $RTT}"

# ---- the far end gave up on them just as the request came ------------------
faults "{\"rtt_ms\": $RTT, \"idle_drop_ms\": 100}"
st=0; url drop || st=$?
check "connections dropped at their request: the URL still works (exit $st)" \
    works "$u"
"$JC" stop -q demo-stack
check "  ... the WebSockets taken, then dialled anew, no error shown" sh -c \
    "grep -q 'takes a connection made ahead' '$T/err.drop' &&
    grep -q 'dialling anew' '$T/err.drop' &&
    ! grep -qi 'error' '$T/err.drop'"
check "  ... no protocol violation" test ! -s "$AGENT_STATE/violations.log"
faults "{\"rtt_ms\": $RTT}"

# ---- made before a network change: they never answer ------------------------
faults "{\"rtt_ms\": $RTT, \"idle_stall_ms\": 100}"
t0=$(now_ms)
st=0; url stall || st=$?
t1=$(now_ms)
check "connections that never answer: the URL still works (exit $st)" \
    works "$u"
"$JC" stop -q demo-stack
check "  ... given up on after 2 s and dialled anew ($((t1 - t0)) ms in all, < 8000)" \
    sh -c "grep -q 'dialling anew' '$T/err.stall' && test $((t1 - t0)) -lt 8000"
faults "{\"rtt_ms\": $RTT}"
