#!/bin/bash
# SSM failures the user must understand: an instance whose agent is
# offline (TargetNotConnected -> exit 5 and the reasons in plain words),
# a KMS-encrypted session (refused with a clear message, non-zero exit),
# an agent asking for an action we do not know (answered "unsupported",
# non-zero exit).  No SSM session is left behind.
. "$(dirname "$0")/lib.sh"

cat >"$T/scenario.json" <<'SCEOF'
{"region": "us-east-1",
 "stacks": {"demo-stack": {"resources": [{"LogicalResourceId": "Notebook",
   "PhysicalResourceId": "i-0123456789abcdef0",
   "ResourceType": "AWS::EC2::Instance"}]}},
 "instances": {
  "i-0123456789abcdef0": {"state": "running", "ssm_online": true,
   "tags": {"Name": "demo-notebook"}, "private_ip": "127.0.0.1"},
  "i-0aaaaaaaaaaaaaaa1": {"state": "running", "ssm_online": false,
   "ssm_managed": true, "tags": {"Name": "lost-agent"},
   "private_ip": "127.0.0.1"}}}
SCEOF
rig_start sshd jupyter agent aws --scenario "$T/scenario.json"

for cmd in url proxy; do
	st=0
	if [ $cmd = url ]; then
		timeout 60 "$JC" url --via ssm -l "$SSH_USER" i-0aaaaaaaaaaaaaaa1 \
		    >"$T/out" 2>"$T/err" </dev/null || st=$?
	else
		timeout 60 "$JC" proxy --via ssm i-0aaaaaaaaaaaaaaa1 22 \
		    >"$T/out" 2>"$T/err" </dev/null || st=$?
	fi
	check "$cmd: agent offline exits 5 (got $st)" test "$st" = 5
	check "$cmd: the message names the instance" \
	    grep -q "i-0aaaaaaaaaaaaaaa1" "$T/err"
	check "$cmd: and says what to check in plain words" \
	    grep -qi "offline\|instance profile" "$T/err"
	check "$cmd: nothing on stdout" test ! -s "$T/out"
done

# KMS: the agent asks for KMSEncryption; we refuse, say why, exit non-zero.
faults '{"kms": true}'
st=0
timeout 60 "$JC" url --via ssm -l "$SSH_USER" demo-stack >"$T/out" \
    2>"$T/err" </dev/null || st=$?
check "KMS-encrypted session: non-zero exit (got $st)" test "$st" != 0
check "KMS-encrypted session: the message says KMS is not supported" \
    grep -q "KMS-encrypted sessions" "$T/err"
check "KMS: nothing on stdout" test ! -s "$T/out"

# An action this client does not know: answered "unsupported" (status 3,
# checked by the agent), the session is cancelled, we exit non-zero.
faults '{"unknown_action": true}'
st=0
timeout 60 "$JC" proxy --via ssm demo-stack "$SSHD_PORT" </dev/null \
    >"$T/out" 2>"$T/err" || st=$?
check "unknown handshake action: non-zero exit (got $st)" test "$st" != 0
check "unknown handshake action: named in the message" \
    grep -q "FancyNewFeature" "$T/err"
faults '{}'

sleep 1
check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
