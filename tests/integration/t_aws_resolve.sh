#!/bin/bash
# TARGET -> instance against the fake AWS: each target form, nested
# stacks, Auto Scaling groups, the stack-name tag and Name tag fallbacks,
# ambiguity (exit 3 listing every match), nothing found (exit 3 saying
# what was searched), AccessDenied in plain words naming the IAM action,
# XML with and without namespaces, paged answers, the SSM/SSH choice, and
# the rig's default scenario.
. "$(dirname "$0")/lib.sh"

RIG_KEY=AKIDEXAMPLERIG000001
RIG_SECRET=rigsecretrigsecretrigsecretrigsecret0001
scenario() {	# scenario XMLNS PAGE
	cat <<EOF
{
 "region": "us-east-1",
 "xmlns": $1,
 "ec2_page_size": $2,
 "credentials": [
  {"access_key": "$RIG_KEY", "secret_key": "$RIG_SECRET",
   "arn": "arn:aws:iam::123456789012:user/ana"},
  {"access_key": "AKIDNOCFN00000000001", "secret_key": "nocfn",
   "arn": "arn:aws:iam::123456789012:user/nocfn",
   "deny": ["cloudformation:DescribeStackResources",
            "ssm:DescribeInstanceInformation"]},
  {"access_key": "AKIDNOEC200000000001", "secret_key": "noec2",
   "arn": "arn:aws:iam::123456789012:user/noec2",
   "deny": ["ec2:DescribeInstances"]}
 ],
 "stacks": {
  "single": {"resources": [
   {"LogicalResourceId": "Notebook", "PhysicalResourceId": "i-0123456789abcdef0",
    "ResourceType": "AWS::EC2::Instance"},
   {"LogicalResourceId": "Bucket", "PhysicalResourceId": "nb-bucket",
    "ResourceType": "AWS::S3::Bucket"}]},
  "outer": {"resources": [
   {"LogicalResourceId": "Net", "PhysicalResourceId": "outer-net",
    "ResourceType": "AWS::CloudFormation::Stack"}]},
  "outer-net": {"resources": [
   {"LogicalResourceId": "Compute", "PhysicalResourceId": "outer-compute",
    "ResourceType": "AWS::CloudFormation::Stack"}]},
  "outer-compute": {"resources": [
   {"LogicalResourceId": "Box", "PhysicalResourceId": "i-0bbbbbbbbbbbbbbb1",
    "ResourceType": "AWS::EC2::Instance"},
   {"LogicalResourceId": "Old", "PhysicalResourceId": "i-0bbbbbbbbbbbbbbb2",
    "ResourceType": "AWS::EC2::Instance", "ResourceStatus": "DELETE_COMPLETE"}]},
  "asg-stack": {"resources": [
   {"LogicalResourceId": "Group", "PhysicalResourceId": "nb-asg",
    "ResourceType": "AWS::AutoScaling::AutoScalingGroup"}]},
  "two": {"resources": [
   {"LogicalResourceId": "A", "PhysicalResourceId": "i-0ccccccccccccccc1",
    "ResourceType": "AWS::EC2::Instance"},
   {"LogicalResourceId": "B", "PhysicalResourceId": "i-0ccccccccccccccc2",
    "ResourceType": "AWS::EC2::Instance"}]},
  "no-instances": {"resources": [
   {"LogicalResourceId": "Bucket", "PhysicalResourceId": "b",
    "ResourceType": "AWS::S3::Bucket"}]}
 },
 "asgs": {"nb-asg": {"instances": [
   {"InstanceId": "i-0aaaaaaaaaaaaaaa1", "LifecycleState": "InService"},
   {"InstanceId": "i-0aaaaaaaaaaaaaaa2", "LifecycleState": "Pending"},
   {"InstanceId": "i-0aaaaaaaaaaaaaaa3", "LifecycleState": "Terminating"}]}},
 "instances": {
  "i-0123456789abcdef0": {"state": "running",
   "tags": {"Name": "gpu-box", "aws:cloudformation:stack-name": "single",
            "team": "ml"},
   "public_dns": "ec2-54-1-2-3.compute-1.amazonaws.com",
   "public_ip": "54.1.2.3", "private_ip": "10.0.0.5",
   "ssm_online": true, "agent_version": "3.3.40.0",
   "launch_time": "2026-11-20T10:00:00.000Z"},
  "i-0123456789abcdef9": {"state": "terminated", "tags": {"Name": "gpu-box"}},
  "i-0bbbbbbbbbbbbbbb1": {"state": "running", "tags": {"Name": "deep"},
   "public_ip": "54.1.2.4", "private_ip": "10.0.1.5"},
  "i-0aaaaaaaaaaaaaaa1": {"state": "running", "tags": {"Name": "asg-a"},
   "public_ip": "54.1.2.5"},
  "i-0aaaaaaaaaaaaaaa2": {"state": "pending", "tags": {"Name": "asg-b"}},
  "i-0aaaaaaaaaaaaaaa3": {"state": "running", "tags": {"Name": "asg-c"}},
  "i-0ccccccccccccccc1": {"state": "running", "tags": {"Name": "twin"},
   "public_ip": "54.1.2.6", "launch_time": "2026-11-21T08:00:00.000Z"},
  "i-0ccccccccccccccc2": {"state": "stopped", "tags": {"Name": "twin"},
   "launch_time": "2026-11-22T09:30:00.000Z"},
  "i-0ddddddddddddddd1": {"state": "running",
   "tags": {"aws:cloudformation:stack-name": "tag-only", "Name": "t1"},
   "public_ip": "54.1.2.7", "ssm_managed": true, "ssm_online": false},
  "i-0ddddddddddddddd2": {"state": "running",
   "tags": {"aws:cloudformation:stack-name": "no-instances"},
   "public_ip": "54.1.2.8"},
  "i-0eeeeeeeeeeeeeee1": {"state": "running", "private_ip": "10.0.9.9",
   "tags": {"Name": "private-only"}},
  "mi-0123456789abcdef0": {"ssm_managed": true, "ssm_online": true,
   "private_ip": "192.168.1.9", "tags": {"Name": "lab-box"}}
 }
}
EOF
}
start_fake() {	# start_fake NAME XMLNS PAGE
	scenario "$2" "$3" >"$T/$1.json"
	"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/$1.json" --port 0 \
	    --port-file "$T/$1.port" --state "$T/$1" 2>"$T/$1.log" &
	_bg="${_bg:-} $!"
	if ! wait_for 30 test -s "$T/$1.port"; then
		not_ok "fake AWS $1 starts"; show "$T/$1.log"; exit 0
	fi
}
start_fake ns true 0
start_fake plain false 1

export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$T/ns.port") \
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
# finds NAME ID TARGET [ARGS...] : resolve TARGET to instance ID
finds() {
	local name=$1 id=$2; shift 2
	res "$@"
	if [ "$st" = 0 ] && [ "$(field instance_id)" = "$id" ]; then
		ok "$name"
	else
		not_ok "$name (exit $st)"; show "$T/err"; show "$T/out"
	fi
}
# fails NAME STATUS PATTERN TARGET [ARGS...]
fails() {
	local name=$1 want=$2 pat=$3; shift 3
	res "$@"
	if [ "$st" = "$want" ] && grep -q -- "$pat" "$T/err"; then
		ok "$name"
	else
		not_ok "$name (exit $st)"; show "$T/err"
	fi
}

# ---- each target form ------------------------------------------------------
finds "instance id" i-0123456789abcdef0 i-0123456789abcdef0
check "  ... every field of the answer" "$PY" -c 'import json,sys
d=json.loads(open(sys.argv[1]).read().splitlines()[-1])
want={"instance_id": "i-0123456789abcdef0", "state": "running", "name": "gpu-box",
 "public_dns": "ec2-54-1-2-3.compute-1.amazonaws.com", "public_ip": "54.1.2.3",
 "private_ip": "10.0.0.5", "platform": "linux", "region": "us-east-1", "via": "ssm"}
sys.exit(0 if all(d.get(k) == v for k, v in want.items()) else 1)' "$T/out"
n0=$(wc -l <"$T/ns/requests.jsonl")
finds "stack:NAME" i-0123456789abcdef0 stack:single
tail -n +$((n0 + 1)) "$T/ns/requests.jsonl" >"$T/calls"
check "  ... one DescribeInstances by the stack-name tag, no CloudFormation" \
    sh -c "test \$(grep -c '\"DescribeInstances\"' '$T/calls') = 1 &&
    grep -q 'tag:aws:cloudformation:stack-name' '$T/calls' &&
    ! grep -q DescribeStackResources '$T/calls'"
finds "bare word = stack" i-0123456789abcdef0 single
finds "name:NAME (terminated twins ignored)" i-0123456789abcdef0 name:gpu-box
finds "bare word = Name tag when no stack has that name" \
    i-0123456789abcdef0 gpu-box
check "  ... -v-less error output is empty" test ! -s "$T/err"
finds "tag:KEY=VALUE" i-0123456789abcdef0 tag:team=ml
finds "user@word" i-0123456789abcdef0 ubuntu@single
finds "hybrid managed node mi-..." mi-0123456789abcdef0 mi-0123456789abcdef0
check "  ... reached through SSM" test "$(field via)" = ssm

# ---- stacks ----------------------------------------------------------------
res -v stack:outer
if [ "$st" = 0 ] && [ "$(field instance_id)" = i-0bbbbbbbbbbbbbbb1 ]; then
	ok "nested stacks two levels deep (deleted resources skipped)"
else
	not_ok "nested stacks (exit $st)"; show "$T/err"
fi
check "  ... -v shows the way down" sh -c "grep -q 'stack outer: nested stack Net' '$T/err' &&
    grep -q 'stack outer-net: nested stack Compute' '$T/err' &&
    grep -q 'stack outer-compute: Box is instance i-0bbbbbbbbbbbbbbb1' '$T/err'"
finds "Auto Scaling group: its one InService instance" \
    i-0aaaaaaaaaaaaaaa1 stack:asg-stack
finds "stack without instances: aws:cloudformation:stack-name tag" \
    i-0ddddddddddddddd2 stack:no-instances
finds "no such stack: aws:cloudformation:stack-name tag" \
    i-0ddddddddddddddd1 tag-only

# ---- ambiguity and nothing found ------------------------------------------------
fails "two instances in a stack: exit 3" 3 \
    'two matches 2 instances in us-east-1; name one by its id:' stack:two
check "  ... both listed with name, state and launch time" sh -c "
    grep -q 'i-0ccccccccccccccc1 *twin *running *launched 2026-11-21T08:00:00.000Z' '$T/err' &&
    grep -q 'i-0ccccccccccccccc2 *twin *stopped *launched 2026-11-22T09:30:00.000Z' '$T/err'"
check "  ... nothing on stdout" test ! -s "$T/out"
fails "two instances with one Name: exit 3" 3 'twin matches 2 instances' \
    name:twin
fails "unknown stack: exit 3 saying what was searched" 3 \
    'no instance found for nope in us-east-1: searched CloudFormation stack nope (no such stack); instances tagged aws:cloudformation:stack-name=nope$' \
    stack:nope
fails "unknown word: the Name tag was searched too" 3 \
    'searched CloudFormation stack nope (no such stack); instances tagged aws:cloudformation:stack-name=nope; instances tagged Name=nope' \
    nope
fails "unknown instance id: exit 3" 3 \
    'no instance i-0fffffffffffffff0 in us-east-1' i-0fffffffffffffff0
fails "unknown tag: exit 3" 3 'searched instances tagged team=nobody' \
    tag:team=nobody
fails "unknown managed node: exit 3" 3 'no managed node mi-0fffffffffffffff0' \
    mi-0fffffffffffffff0

# ---- the access choice -------------------------------------------------------
res -v i-0123456789abcdef0
check "--via auto: SSM when the agent is Online, -v says why" sh -c \
    "test '$(field via)' = ssm && grep -q 'access: SSM to i-0123456789abcdef0: its agent 3.3.40.0 is online' '$T/err'"
res -v tag-only
check "--via auto: SSH when the agent is not online, -v says why" sh -c \
    "test '$(field via)' = ssh && grep -q 'access: SSH to 54.1.2.7: its SSM agent is not online' '$T/err'"
res -v stack:outer
check "--via auto: SSH when not managed by SSM" grep -q \
    'access: SSH to 54.1.2.4: not managed by SSM' "$T/err"
fails "--via ssm on an instance SSM does not know: exit 5" 5 \
    'is not managed by SSM in us-east-1' --via ssm stack:outer
fails "no public address and no SSM: exit 5 suggesting the private IP" 5 \
    'no public address and is not online in SSM; from inside its network use jconnect USER@10.0.9.9' \
    name:private-only
res --via ssh i-0123456789abcdef0
check "--via ssh: SSH even when SSM is online" test "$(field via)" = ssh
check "  ... and SSM is not asked" sh -c \
    "! tail -n 1 '$T/ns/requests.jsonl' | grep -q DescribeInstanceInformation"

# ---- AccessDenied --------------------------------------------------------------
AWS_ACCESS_KEY_ID=AKIDNOEC200000000001 AWS_SECRET_ACCESS_KEY=noec2 \
    fails "AccessDenied: exit 4 naming the IAM action" 4 \
    'AWS denied ec2:DescribeInstances for arn:aws:iam::123456789012:user/noec2: the IAM policy of these credentials (environment (AWS_ACCESS_KEY_ID)) must allow the action ec2:DescribeInstances' \
    i-0123456789abcdef0
AWS_ACCESS_KEY_ID=AKIDNOCFN00000000001 AWS_SECRET_ACCESS_KEY=nocfn res -v \
    stack:single
check "no CloudFormation rights: found by the stack-name tag" sh -c \
    "test $st = 0 && test '$(field instance_id)' = i-0123456789abcdef0"
check "  ... one tagged instance: CloudFormation is not even asked" sh -c \
    "! grep -q 'cannot read stack' '$T/err'"
check "  ... SSM refused too: SSH, and -v says SSM could not be asked" sh -c \
    "test '$(field via)' = ssh && grep -q 'cannot ask SSM about i-0123456789abcdef0: AWS denied ssm:DescribeInstanceInformation' '$T/err' &&
     grep -q 'SSM could not be asked' '$T/err'"

AWS_ACCESS_KEY_ID=AKIDNOCFN00000000001 AWS_SECRET_ACCESS_KEY=nocfn res -v \
    stack:outer
check "no CloudFormation rights, no tagged instance: -v says CloudFormation refused and names the action" \
    grep -q 'cannot read stack outer (AWS denied cloudformation:DescribeStackResources' "$T/err"

# ---- XML without namespaces, paged answers -------------------------------------
export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$T/plain.port")
finds "XML without namespaces: stack" i-0123456789abcdef0 stack:single
finds "XML without namespaces: nested stacks" i-0bbbbbbbbbbbbbbb1 outer
finds "XML without namespaces: ASG" i-0aaaaaaaaaaaaaaa1 stack:asg-stack
fails "answers one instance per page: both twins listed" 3 \
    'twin matches 2 instances' name:twin
check "  ... after following nextToken" "$PY" -c 'import json,sys
r=[x for x in map(json.loads, open(sys.argv[1])) if x.get("action") == "DescribeInstances"]
sys.exit(0 if any("NextToken" in x["params"] for x in r) else 1)' "$T/plain/requests.jsonl"

# ---- the rig's default scenario ----------------------------------------------------
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
rig_start agent aws
finds "rig default scenario: demo-stack" i-0123456789abcdef0 demo-stack
check "  ... with the fake agent running: SSM" sh -c \
    "test '$(field via)' = ssm && grep -q '\"host\":\"localhost\"' '$T/out'"
res --via ssh demo-stack
check "  ... --via ssh: SSH to localhost" sh -c \
    "test $st = 0 && test '$(field via)' = ssh && test '$(field public_dns)' = localhost"
