#!/bin/bash
# Retries against the fake AWS: throttling (query, ec2 and JSON shapes) and
# 5xx answers are retried with jittered backoff and then succeed; endless
# throttling gives up after the configured attempts with a plain message;
# errors that cannot improve (AccessDenied, unknown stack) are not retried.
. "$(dirname "$0")/lib.sh"

RIG_KEY=AKIDEXAMPLERIG000001
RIG_SECRET=rigsecretrigsecretrigsecretrigsecret0001
scenario() {	# scenario FAULTS-JSON
	cat <<EOF
{
 "region": "us-east-1",
 "faults": $1,
 "stacks": {
  "nb": {"resources": [
   {"LogicalResourceId": "Group", "PhysicalResourceId": "nb-asg",
    "ResourceType": "AWS::AutoScaling::AutoScalingGroup"}]}},
 "asgs": {"nb-asg": {"instances": [
   {"InstanceId": "i-0123456789abcdef0", "LifecycleState": "InService"}]}},
 "instances": {
  "i-0123456789abcdef0": {"state": "running", "public_ip": "127.0.0.1",
   "ssm_online": true}}
}
EOF
}
start_fake() {	# start_fake NAME FAULTS-JSON
	scenario "$2" >"$T/$1.json"
	"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/$1.json" --port 0 \
	    --port-file "$T/$1.port" --state "$T/$1" 2>"$T/$1.log" &
	_bg="${_bg:-} $!"
	if ! wait_for 30 test -s "$T/$1.port"; then
		not_ok "fake AWS $1 starts"; show "$T/$1.log"; exit 0
	fi
}
start_fake flaky '[
  {"action": "DescribeStackResources", "code": "Throttling", "status": 400,
   "message": "Rate exceeded", "count": 1},
  {"action": "DescribeAutoScalingGroups", "code": "InternalFailure",
   "status": 500, "message": "internal", "count": 1},
  {"action": "DescribeInstances", "code": "RequestLimitExceeded",
   "status": 503, "message": "Request limit exceeded.", "count": 2},
  {"action": "DescribeInstanceInformation", "code": "ThrottlingException",
   "status": 400, "message": "Rate exceeded", "count": 2}]'
start_fake jammed '[
  {"action": "DescribeInstances", "code": "RequestLimitExceeded",
   "status": 503, "message": "Request limit exceeded.", "count": 1000}]'
start_fake refused '[
  {"action": "DescribeInstances", "code": "AccessDenied", "status": 403,
   "message": "no", "count": 1000}]'

export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=$RIG_KEY AWS_SECRET_ACCESS_KEY=$RIG_SECRET
unset AWS_MAX_ATTEMPTS
res() {	# res FAKE ARGS...
	local f=$1; shift
	st=0
	AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$T/$f.port") \
	    "$JC" resolve --json "$@" >"$T/out" 2>"$T/err" || st=$?
}
# calls FAKE ACTION : "status status ..." of ACTION's requests, in order
calls() {
	"$PY" -c 'import json,sys
print(" ".join(str(x["status"]) for x in map(json.loads, open(sys.argv[1])) if x.get("action") == sys.argv[2]))' "$T/$1/requests.jsonl" "$2"
}

res flaky -v stack:nb
check "throttling and 5xx on every service, then success: exit 0" sh -c \
    "test $st = 0 && grep -q '\"via\":\"ssm\"' '$T/out'"
check "  ... CloudFormation Throttling (query) retried" \
    test "$(calls flaky DescribeStackResources)" = "400 200"
check "  ... Auto Scaling InternalFailure (500) retried" \
    test "$(calls flaky DescribeAutoScalingGroups)" = "500 200"
# The first DescribeInstances (by the stack-name tag: none tagged) meets
# the two 503s; the second asks for the group's instance.
check "  ... EC2 RequestLimitExceeded (503) retried twice" \
    test "$(calls flaky DescribeInstances)" = "503 503 200 200"
check "  ... SSM ThrottlingException (JSON) retried twice" \
    test "$(calls flaky DescribeInstanceInformation)" = "400 400 200"
check "  ... -v says what is retried and when" grep -q \
    'ec2:DescribeInstances: RequestLimitExceeded: Request limit exceeded.; retrying in [0-9]* ms (attempt 2 of 5)' "$T/err"
check "  ... with a growing, jittered pause between attempts" "$PY" -c 'import json,sys
t=[x["t"] for x in map(json.loads, open(sys.argv[1])) if x.get("action") == "DescribeInstances"][:3]
d=[b - a for a, b in zip(t, t[1:])]
sys.exit(0 if len(d) == 2 and 0.09 <= d[0] <= 1.0 and 0.19 <= d[1] <= 2.0 else 1)' "$T/flaky/requests.jsonl"

AWS_MAX_ATTEMPTS=3 res jammed i-0123456789abcdef0
check "endless throttling: gives up (exit 1)" test "$st" = 1
check "  ... after exactly AWS_MAX_ATTEMPTS=3 attempts" \
    test "$(calls jammed DescribeInstances)" = "503 503 503"
check "  ... saying so in plain words" grep -q \
    'AWS kept throttling or failing the requests (RequestLimitExceeded: Request limit exceeded.) after 3 attempts; wait a minute and try again' "$T/err"
st=0
AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$T/jammed.port") "$JC" resolve \
    -o aws.max_attempts=2 i-0123456789abcdef0 >/dev/null 2>&1 || st=$?
check "-o aws.max_attempts=2 is honoured" \
    test "$(calls jammed DescribeInstances)" = "503 503 503 503 503"

res refused i-0123456789abcdef0
check "AccessDenied is not retried (exit 4)" sh -c \
    "test $st = 4 && test '$(calls refused DescribeInstances)' = 403"
check "  ... and the refused action is named" grep -q \
    'AWS denied ec2:DescribeInstances' "$T/err"
res flaky stack:nope
check "an unknown stack is not retried" test \
    "$(calls flaky DescribeStackResources | wc -w)" = 3
