#!/bin/bash
# The way to the URL over SSM with AWS far away (every round trip costs):
# a stack found by one DescribeInstances (its aws:cloudformation:stack-name
# tag), no session spent only on proving the instance reachable, one port
# session for the checks (a connection that comes while the other's is
# closing takes the same session, no second StartSession), and on the
# next run the port session opened while the remote is searched (where
# Jupyter was last time) and the default page remembered for the same
# server process.  A wrong guess (Jupyter moved) costs nothing visible:
# the URL is right and the idle session is closed.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws --aws-rtt 20
REQ=$AWS_STATE/requests.jsonl
SD=$XDG_STATE_HOME/jconnect

# since N ACTION [DOC] : how many ACTION requests (with DocumentName DOC)
# the fake AWS got after its first N.
since() {
	tail -n +$(($1 + 1)) "$REQ" | "$PY" -c 'import json, sys
a, d = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None
n = 0
for line in sys.stdin:
    r = json.loads(line)
    if r.get("action") == a and (d is None or
            r.get("params", {}).get("DocumentName") == d):
        n += 1
print(n)' "$2" ${3:+"$3"}
}
count() { if [ -f "$REQ" ]; then wc -l <"$REQ"; else echo 0; fi; }
PORTDOC=AWS-StartPortForwardingSession
CMDDOC=AWS-StartNonInteractiveCommand
url() {	# url NAME : a background tunnel, its URL in $u
	"$JC" url -vv --via ssm -l "$SSH_USER" -o ssm.compress=no \
	    -o ssm.session_idle_s=2 demo-stack >"$T/out.$1" 2>"$T/err.$1"
	u=$(head -n1 "$T/out.$1")
}
works() {	# works URL : the notebook answers with the token
	curl -fsS -m 10 -o /dev/null -H "Authorization: token ${1##*token=}" \
	    "$(echo "$1" | sed -E 's|^(http://[^/]*/).*|\1|')api/status"
}

# ---- first run: nothing remembered ----------------------------------------
n0=$(count)
url first
check "first run: a URL to the notebook's default page" sh -c \
    "echo '$u' | grep -q '^http://127.0.0.1:[0-9]*/tree?token=$JUPYTER_TOKEN\$'"
check "  ... that works" works "$u"
check "  ... the stack found by one DescribeInstances, no CloudFormation" \
    sh -c "test $(since "$n0" DescribeInstances) = 1 &&
    test $(since "$n0" DescribeStackResources) = 0"
check "  ... the agent's state asked by the stack's tag while EC2 was asked, once" \
    sh -c "test $(since "$n0" DescribeInstanceInformation) = 1 &&
    tail -n +$((n0 + 1)) '$REQ' | grep '\"DescribeInstanceInformation\"' |
    grep -q '\"Key\": \"tag:aws:cloudformation:stack-name\", \"Values\": \[\"demo-stack\"\]' &&
    grep -q 'the answer asked ahead covers' '$T/err.first'"
# The two calls overlap: DescribeInstanceInformation arrived before
# DescribeInstances was answered (arrival + its round trips).
check "  ... the two calls overlapped" "$PY" -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t = {}
for i, r in enumerate(rows):
    if r.get("detail") in ("DescribeInstances", "DescribeInstanceInformation"):
        con = rows[i - 1]["rtts"] if i and rows[i - 1]["what"] == "connect" and rows[i - 1]["t"] == r["t"] else 0
        t[r["detail"]] = (r["t"], r["t"] + (1 + con) * 0.020)
sys.exit(0 if t["DescribeInstanceInformation"][0] < t["DescribeInstances"][1] else 1)' \
    "$AWS_STATE/roundtrips.jsonl"
check "  ... no session only to prove the instance reachable: one command session, one port session" \
    sh -c "test $(since "$n0" StartSession) = 2 &&
    test $(since "$n0" StartSession $CMDDOC) = 1 &&
    test $(since "$n0" StartSession $PORTDOC) = 1"
check "  ... the default page asked for once, on the same session" sh -c \
    "grep -q 'httpcheck: GET / on' '$T/err.first' &&
    ! grep -q 'another session to port' '$T/err.first' ||
    grep -q 'free again: took 1 waiting connection' '$T/err.first'"
check "  ... where Jupyter was is remembered (0600, no token)" sh -c \
    "f=\$(ls '$SD'/*.dest) && test \$(stat -c %a \"\$f\") = 600 &&
    grep -q '\"port\":$JUPYTER_PORT' \"\$f\" &&
    grep -q '\"default_path\":\"/tree\"' \"\$f\" &&
    ! grep -q '$JUPYTER_TOKEN' \"\$f\""
"$JC" stop -q demo-stack

# ---- second run: the port session opens alongside the search --------------
n1=$(count)
url second
check "second run: the same URL" test "$u" = "$(head -n1 "$T/out.first")"
check "  ... that works" works "$u"
check "  ... the port session was opened before Jupyter was found" sh -c \
    "grep -n 'opened ahead\|jupyter: discovery on the remote\|found Jupyter' '$T/err.second' |
    head -n 1 | grep -q 'opened ahead'"
check "  ... still one command session and one port session" sh -c \
    "test $(since "$n1" StartSession $CMDDOC) = 1 &&
    test $(since "$n1" StartSession $PORTDOC) = 1"
check "  ... the default page not asked again: one check through the tunnel" \
    sh -c "test \$(grep -c 'httpcheck: GET' '$T/err.second') = 1"
"$JC" stop -q demo-stack

# ---- Jupyter elsewhere than remembered: the guess is wasted, nothing else -
f=$(ls "$SD"/*.dest)
wrong=$(free_port)
sed -i "s/\"port\":$JUPYTER_PORT/\"port\":$wrong/" "$f"
url moved
check "Jupyter moved: the right URL still" sh -c \
    "echo '$u' | grep -q 'token=$JUPYTER_TOKEN' && test \"\$(head -n1 '$T/out.second')\" = '$u'"
check "  ... that works" works "$u"
check "  ... the guessed port was tried ahead" grep -q \
    "a session to port $wrong opened ahead" "$T/err.moved"
log=$(ls "$SD"/*.log | head -n1)
check "  ... and its session closed once idle" wait_for 20 grep -q \
    "idle for 2 s after 0 connections; terminated" "$log"
check "  ... the tunnel still works after that" works "$u"
check "  ... the right place is remembered again" grep -q \
    "\"port\":$JUPYTER_PORT" "$f"
"$JC" stop -q demo-stack

# ---- asked ahead by the wrong tag, or by id --------------------------------
# A bare word that is the instance's Name, not a stack: the answer asked
# ahead (by the stack tag) lists nothing, so the agent is asked again.
n2=$(count)
st=0; "$JC" resolve -vv --via ssm -l "$SSH_USER" demo-notebook \
    >"$T/out.name" 2>"$T/err.name" || st=$?
check "a Name tag as a bare word: resolved over SSM (exit $st)" sh -c \
    "test $st = 0 && grep -q 'SSM to i-' '$T/err.name'"
check "  ... asked ahead by the stack tag, then by id" sh -c \
    "test $(since "$n2" DescribeInstanceInformation) = 2 &&
    ! grep -q 'the answer asked ahead covers' '$T/err.name'"
iid=$(sed -n 's/.*demo-notebook -> \(i-[0-9a-f]*\).*/\1/p;s/.* -> \(i-[0-9a-f]*\) (.*/\1/p' "$T/err.name" | head -n1)
n3=$(count)
st=0; "$JC" resolve -vv --via ssm -l "$SSH_USER" "$iid" \
    >"$T/out.id" 2>"$T/err.id" || st=$?
check "an instance id ($iid): asked ahead by id, once (exit $st)" sh -c \
    "test $st = 0 && test $(since "$n3" DescribeInstanceInformation) = 1 &&
    grep -q 'the answer asked ahead covers $iid' '$T/err.id'"
