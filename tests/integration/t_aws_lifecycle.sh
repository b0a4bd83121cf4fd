#!/bin/bash
# Instance lifecycle against the fake AWS: a stopped instance without
# --start-instance (exit 5 saying how to start it), with it (StartInstances,
# pending -> running with progress lines, fresh public address, wait for
# the SSM agent), pending, stopping, shutting-down and terminated states,
# a start that is not allowed (exit 4 naming ec2:StartInstances) and a
# start that takes too long.
. "$(dirname "$0")/lib.sh"

RIG_KEY=AKIDEXAMPLERIG000001
RIG_SECRET=rigsecretrigsecretrigsecretrigsecret0001
cat >"$T/sc.json" <<EOF
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "$RIG_KEY", "secret_key": "$RIG_SECRET"},
  {"access_key": "AKIDNOSTART000000001", "secret_key": "nostart",
   "arn": "arn:aws:iam::123456789012:user/viewer",
   "deny": ["ec2:StartInstances"]}
 ],
 "stacks": {"nb": {"resources": [
   {"LogicalResourceId": "Notebook", "PhysicalResourceId": "i-0aaaaaaaaaaaaaaa1",
    "ResourceType": "AWS::EC2::Instance"}]}},
 "instances": {
  "i-0aaaaaaaaaaaaaaa1": {"state": "stopped", "tags": {"Name": "gpu-box"},
   "public_dns": "localhost", "public_ip": "127.0.0.1", "private_ip": "10.0.0.5",
   "pending_seconds": 1.5, "ssm_online": true, "ssm_online_delay": 4},
  "i-0aaaaaaaaaaaaaaa2": {"state": "stopped", "public_ip": "127.0.0.2",
   "pending_seconds": 0.5},
  "i-0aaaaaaaaaaaaaaa3": {"state": "running", "public_ip": "127.0.0.3",
   "stopping_seconds": 1.5, "pending_seconds": 0.5},
  "i-0aaaaaaaaaaaaaaa4": {"state": "pending", "public_ip": "127.0.0.4",
   "pending_seconds": 1.0},
  "i-0aaaaaaaaaaaaaaa5": {"state": "terminated"},
  "i-0aaaaaaaaaaaaaaa6": {"state": "shutting-down"},
  "i-0aaaaaaaaaaaaaaa7": {"state": "stopped", "public_ip": "127.0.0.7",
   "pending_seconds": 600},
  "i-0aaaaaaaaaaaaaaa8": {"state": "stopped", "public_ip": "127.0.0.8"},
  "i-0aaaaaaaaaaaaaaa9": {"state": "stopping", "public_ip": "127.0.0.9",
   "stopping_seconds": 600}
 }
}
EOF
"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/sc.json" --port 0 \
    --port-file "$T/port" --state "$T/state" 2>"$T/fake.log" &
_bg="${_bg:-} $!"
if ! wait_for 30 test -s "$T/port"; then
	not_ok "fake AWS starts"; show "$T/fake.log"; exit 0
fi
REQ=$T/state/requests.jsonl
export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$T/port") \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=$RIG_KEY AWS_SECRET_ACCESS_KEY=$RIG_SECRET
res() {
	st=0
	"$JC" resolve --json "$@" >"$T/out" 2>"$T/err" || st=$?
}
field() {
	"$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1]).get(sys.argv[2]))' "$T/out" "$1"
}
starts() { grep -c '"StartInstances"' "$REQ" 2>/dev/null || true; }

# ---- stopped -------------------------------------------------------------------
res nb
check "stopped, no --start-instance: exit 5" test "$st" = 5
check "  ... says it is stopped and how to start it" grep -q \
    'instance i-0aaaaaaaaaaaaaaa1 is stopped; start it with --start-instance' "$T/err"
check "  ... and does not start it" test "$(starts)" = 0
check "  ... nothing on stdout" test ! -s "$T/out"

t0=$(date +%s)
res --start-instance nb
check "stopped + --start-instance: exit 0" test "$st" = 0
check "  ... running, with its public address again" sh -c \
    "test '$(field state)' = running && test '$(field public_dns)' = localhost"
check "  ... one StartInstances" test "$(starts)" = 1
check "  ... progress on stderr: starting, pending, running" sh -c "
    grep -q 'starting instance i-0aaaaaaaaaaaaaaa1 (gpu-box)' '$T/err' &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa1 is pending; waiting for it to run' '$T/err' &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa1: running ([0-9]* s)' '$T/err' &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa1 is running' '$T/err'"
check "  ... then waits for the SSM agent (PingStatus Online)" sh -c "
    grep -q 'waiting for its SSM agent to come online' '$T/err' &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa1: SSM agent online' '$T/err' &&
    test '$(field via)' = ssm"
check "  ... in bounded time" test $(( $(date +%s) - t0 )) -lt 20
res --start-instance nb
check "already running: no second start" sh -c \
    "test $st = 0 && test $(starts) = 1 && ! grep -q starting '$T/err'"

res --via ssh --start-instance i-0aaaaaaaaaaaaaaa2
check "--via ssh start: no SSM wait" sh -c "test $st = 0 &&
    test '$(field state)' = running && ! grep -q 'SSM agent' '$T/err'"

# ---- other states ----------------------------------------------------------------
res i-0aaaaaaaaaaaaaaa4
check "pending: waits until running without any flag" sh -c \
    "test $st = 0 && test '$(field state)' = running"
res i-0aaaaaaaaaaaaaaa9
check "stopping, no flag: exit 5 with its own message" sh -c "test $st = 5 &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa9 is stopping; once it has stopped, start it with --start-instance' '$T/err'"
# Stopped through the real CLI, so it is still stopping when we look.
AWS_PAGER="" /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ec2 \
    stop-instances --instance-ids i-0aaaaaaaaaaaaaaa3 >/dev/null 2>&1
res --start-instance i-0aaaaaaaaaaaaaaa3
check "stopping + --start-instance: waits for stopped, then starts" sh -c "
    test $st = 0 && test '$(field state)' = running &&
    grep -q 'is stopping; waiting for it to stop before starting it' '$T/err' &&
    grep -q 'i-0aaaaaaaaaaaaaaa3: stopped' '$T/err'"
res --start-instance i-0aaaaaaaaaaaaaaa5
check "terminated: exit 5, cannot be started" sh -c "test $st = 5 &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa5 is terminated; it cannot be started again' '$T/err'"
res --start-instance i-0aaaaaaaaaaaaaaa6
check "shutting-down: exit 5 with its own message" sh -c "test $st = 5 &&
    grep -q 'instance i-0aaaaaaaaaaaaaaa6 is shutting down' '$T/err'"

# ---- refused and slow starts -------------------------------------------------------
AWS_ACCESS_KEY_ID=AKIDNOSTART000000001 AWS_SECRET_ACCESS_KEY=nostart \
    res --start-instance i-0aaaaaaaaaaaaaaa8
check "StartInstances denied: exit 4 naming ec2:StartInstances" sh -c \
    "test $st = 4 && grep -q 'StartInstances: AWS denied ec2:StartInstances for arn:aws:iam::123456789012:user/viewer' '$T/err'"
t0=$(date +%s)
st=0
"$JC" resolve --json -o aws.start_timeout=2 --start-instance \
    i-0aaaaaaaaaaaaaaa7 >"$T/out" 2>"$T/err" || st=$?
check "start slower than aws.start_timeout: gives up with a message" sh -c \
    "test $st = 1 && grep -q 'instance i-0aaaaaaaaaaaaaaa7 is still pending after 2 s; giving up' '$T/err'"
check "  ... promptly" test $(( $(date +%s) - t0 )) -lt 10

# ---- Ctrl-C while waiting ------------------------------------------------------------
"$JC" resolve --json --start-instance i-0aaaaaaaaaaaaaaa7 >"$T/out" \
    2>"$T/err" &
pid=$!
wait_for 10 grep -q 'is pending; waiting' "$T/err"
kill -INT "$pid"
st=0; wait "$pid" || st=$?
check "SIGINT during the wait ends it (exit 0 like any ^C)" sh -c \
    "test $st = 0 || test $st = 130"
