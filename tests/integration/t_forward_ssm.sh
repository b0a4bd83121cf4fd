#!/bin/bash
# --forward over SSM: each extra destination gets port sessions of its own
# (AWS-StartPortForwardingSession for the instance's ports,
# AWS-StartPortForwardingSessionToRemoteHost for a host behind it, which
# the agent dials); foreground, --json, background with ls --json, a busy
# LOCAL (exit 8), an alias's forward list; a denied remote host (the
# instance metadata address) fails alone, the tunnel stays up.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
VIA=ssm
ACCESS="--via ssm -l $SSH_USER"
TARGET=demo-stack
ALIAS_KEYS="\"target\": \"demo-stack\", \"via\": \"ssm\",
  \"user\": \"$SSH_USER\""
. "$(dirname "$0")/forward_lib.sh"

n=$(agent sessions AWS-StartPortForwardingSessionToRemoteHost)
check "the host behind the instance used ToRemoteHost sessions ($n)" \
    test "$n" -ge 1
check "every ToRemoteHost session named host 127.0.0.2 and port $DB" "$PY" -c '
import glob, json, os, sys
n = 0
for fn in glob.glob(os.path.join(sys.argv[1], "sessions", "*.json")):
    s = json.load(open(fn))
    if s.get("DocumentName") != "AWS-StartPortForwardingSessionToRemoteHost":
        continue
    p = s["Parameters"]
    assert p["host"] == ["127.0.0.2"] and p["portNumber"] == [sys.argv[2]], p
    n += 1
assert n > 0
' "$AGENT_STATE" "$DB"

check "the instance's port $TB had AWS-StartPortForwardingSession sessions" \
    "$PY" -c '
import glob, json, os, sys
n = 0
for fn in glob.glob(os.path.join(sys.argv[1], "sessions", "*.json")):
    s = json.load(open(fn))
    p = s.get("Parameters", {})
    if (s.get("DocumentName") == "AWS-StartPortForwardingSession" and
            p.get("portNumber") == [sys.argv[2]]):
        assert "host" not in p, p
        n += 1
assert n > 0
' "$AGENT_STATE" "$TB"

# The agent refuses the instance metadata address: that forward fails,
# Jupyter and the other forward keep working.  Over Session Manager's own
# sessions (ssm.compress=no): once the compressed path is up, new
# connections go through the remote's sshd instead, which has no such
# rule and no such words.
L4=$(free_port)
"$JC" --no-browser $ACCESS -o ssm.compress=no --forward "$L4:169.254.169.254:80" \
    --forward "$TB" "$TARGET" >"$T/deny.out" 2>"$T/deny.err" &
jc=$!
if wait_for 60 grep -q '^http' "$T/deny.out"; then
	# The client waits long enough for the session to be refused (a
	# client that gives up first takes the session down before the
	# agent's reason arrives).
	check "a forward to a denied host gets no answer" \
	    sh -c "! curl -fsS -m 40 -o /dev/null http://127.0.0.1:$L4/"
	check "jconnect says why, in the agent's words" wait_for 40 \
	    grep -q "ended the session to 169.254.169.254:80: .*is forbidden" \
	    "$T/deny.err"
	d1=$(fwd_port "$T/deny.err" "127.0.0.1:$TB")
	check "the other forward still answers" got "${d1:-1}" tensorboard
	url=$(head -n1 "$T/deny.out")
	jp=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	check "Jupyter still answers" sh -c "curl -fsS -m 10 -o /dev/null \
	    -H 'Authorization: token $JUPYTER_TOKEN' \
	    http://127.0.0.1:$jp/api/status"
	check "the tunnel did not reconnect" \
	    sh -c "! grep -q 'connection lost' '$T/deny.err'"
else
	not_ok "tunnel with a denied forward gets ready"; show "$T/deny.err"
fi
kill -INT "$jc"; wait "$jc"
check "every Session Manager session was terminated" wait_for 10 agent terminated
check "the agent saw no protocol violation" agent violations
