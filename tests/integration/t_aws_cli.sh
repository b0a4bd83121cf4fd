#!/bin/bash
# The fake AWS speaks the real formats: /usr/bin/aws (botocore's parsers
# and signer) runs every operation jconnect and its fakes use against it
# and the parsed results are compared with the scenario.  Also: botocore's
# own signatures pass the fake's check with and without a session token,
# bad ones are refused, and each protocol's error shape parses.
. "$(dirname "$0")/lib.sh"

cat >"$T/sc.json" <<'EOF'
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "AKIDEXAMPLERIG000001",
   "secret_key": "rigsecretrigsecretrigsecretrigsecret0001",
   "arn": "arn:aws:iam::123456789012:user/ana"},
  {"access_key": "ASIATEMPORARY0000001", "secret_key": "tempsecret",
   "token": "temporary-session-token-1",
   "arn": "arn:aws:sts::123456789012:assumed-role/nb/ana"}
 ],
 "stacks": {
  "my-stack": {"resources": [
   {"LogicalResourceId": "Notebook", "PhysicalResourceId": "i-0123456789abcdef0",
    "ResourceType": "AWS::EC2::Instance"},
   {"LogicalResourceId": "Inner", "PhysicalResourceId": "inner",
    "ResourceType": "AWS::CloudFormation::Stack"}],
   "outputs": {"NotebookUrl": "https://nb.example"}},
  "inner": {"resources": [
   {"LogicalResourceId": "Group", "PhysicalResourceId": "nb-asg",
    "ResourceType": "AWS::AutoScaling::AutoScalingGroup"}]}
 },
 "asgs": {"nb-asg": {"instances": [
   {"InstanceId": "i-0aaaaaaaaaaaaaaa1", "LifecycleState": "InService"},
   {"InstanceId": "i-0aaaaaaaaaaaaaaa2", "LifecycleState": "Pending"}]}},
 "instances": {
  "i-0123456789abcdef0": {"state": "running",
   "tags": {"Name": "gpu-box", "aws:cloudformation:stack-name": "my-stack"},
   "public_dns": "ec2-54-1-2-3.compute-1.amazonaws.com",
   "public_ip": "54.1.2.3", "private_ip": "10.0.0.5",
   "ssm_online": true, "agent_version": "3.3.40.0"},
  "i-0aaaaaaaaaaaaaaa1": {"state": "stopped", "tags": {"Name": "asg-box"},
   "private_ip": "10.0.0.6", "pending_seconds": 0.5, "stopping_seconds": 0.5},
  "i-0aaaaaaaaaaaaaaa2": {"state": "pending", "private_ip": "10.0.0.7"}
 },
 "roles": {"arn:aws:iam::123456789012:role/nb": {}},
 "ec2_page_size": 2
}
EOF
"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/sc.json" --port 0 \
    --port-file "$T/port" --state "$T/state" 2>"$T/fake.log" &
_bg="${_bg:-} $!"
if ! wait_for 30 test -s "$T/port"; then
	not_ok "fake AWS starts"; show "$T/fake.log"; exit 0
fi
URL=http://127.0.0.1:$(cat "$T/port")
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=AKIDEXAMPLERIG000001 \
    AWS_SECRET_ACCESS_KEY=rigsecretrigsecretrigsecretrigsecret0001
unset AWS_ENDPOINT_URL

aws() { /usr/bin/aws --endpoint-url "$URL" --output json "$@"; }
# pyq FILE EXPR : evaluate a Python expression over the JSON in FILE (d)
pyq() {
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}
# op NAME EXPR AWS-ARGS... : run the CLI, check its parsed answer
op() {
	local name=$1 expr=$2; shift 2
	if aws "$@" >"$T/out.json" 2>"$T/err"; then
		if pyq "$T/out.json" "$expr"; then ok "$name"; return; fi
		not_ok "$name: answer"; show "$T/out.json"
	else
		not_ok "$name: aws exited $?"; show "$T/err"
	fi
}

op "cloudformation describe-stack-resources" \
    'len(d["StackResources"]) == 2 and d["StackResources"][0]["PhysicalResourceId"] == "i-0123456789abcdef0" and d["StackResources"][0]["ResourceType"] == "AWS::EC2::Instance" and d["StackResources"][1]["PhysicalResourceId"].startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/inner/") and d["StackResources"][0]["ResourceStatus"] == "CREATE_COMPLETE"' \
    cloudformation describe-stack-resources --stack-name my-stack
inner=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["StackResources"][1]["PhysicalResourceId"])' "$T/out.json")
op "describe-stack-resources by nested stack ARN" \
    'd["StackResources"][0]["ResourceType"] == "AWS::AutoScaling::AutoScalingGroup" and d["StackResources"][0]["PhysicalResourceId"] == "nb-asg"' \
    cloudformation describe-stack-resources --stack-name "$inner"
op "cloudformation describe-stacks" \
    'd["Stacks"][0]["StackName"] == "my-stack" and d["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE" and d["Stacks"][0]["Outputs"][0]["OutputValue"] == "https://nb.example"' \
    cloudformation describe-stacks --stack-name my-stack
op "autoscaling describe-auto-scaling-groups" \
    'd["AutoScalingGroups"][0]["AutoScalingGroupName"] == "nb-asg"' \
    autoscaling describe-auto-scaling-groups --auto-scaling-group-names nb-asg
check "  ... members and lifecycle states" pyq "$T/out.json" \
    '[(m["InstanceId"], m["LifecycleState"]) for m in d["AutoScalingGroups"][0]["Instances"]] == [("i-0aaaaaaaaaaaaaaa1", "InService"), ("i-0aaaaaaaaaaaaaaa2", "Pending")]'
op "ec2 describe-instances by id" \
    'len(d["Reservations"]) == 1' \
    ec2 describe-instances --instance-ids i-0123456789abcdef0
check "  ... id, state, addresses, tags" pyq "$T/out.json" \
    '(lambda i: i["InstanceId"] == "i-0123456789abcdef0" and i["State"] == {"Code": 16, "Name": "running"} and i["PublicDnsName"] == "ec2-54-1-2-3.compute-1.amazonaws.com" and i["PublicIpAddress"] == "54.1.2.3" and i["PrivateIpAddress"] == "10.0.0.5" and {t["Key"]: t["Value"] for t in i["Tags"]}["Name"] == "gpu-box" and "LaunchTime" in i)(d["Reservations"][0]["Instances"][0])'
op "ec2 describe-instances with tag and state filters" \
    '[i["InstanceId"] for r in d["Reservations"] for i in r["Instances"]] == ["i-0123456789abcdef0"]' \
    ec2 describe-instances --filters Name=tag:Name,Values=gpu-* \
    Name=instance-state-name,Values=pending,running,stopping,stopped
op "ec2 describe-instances: pages followed through nextToken" \
    'sorted(i["InstanceId"] for r in d["Reservations"] for i in r["Instances"]) == ["i-0123456789abcdef0", "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"]' \
    ec2 describe-instances
check "  ... in two pages" "$PY" -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
d=[x for x in r if x.get("action") == "DescribeInstances"][-2:]
sys.exit(0 if "NextToken" not in d[0]["params"] and "NextToken" in d[1]["params"] else 1)' "$T/state/requests.jsonl"
op "ec2 describe-instances with MaxResults" \
    'len(d["Reservations"]) == 3' ec2 describe-instances --page-size 5
op "ec2 start-instances" \
    'd["StartingInstances"][0]["CurrentState"]["Name"] == "pending" and d["StartingInstances"][0]["PreviousState"]["Name"] == "stopped"' \
    ec2 start-instances --instance-ids i-0aaaaaaaaaaaaaaa1
sleep 0.7
op "  ... pending becomes running over time" \
    'd["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"' \
    ec2 describe-instances --instance-ids i-0aaaaaaaaaaaaaaa1
op "ec2 stop-instances" \
    'd["StoppingInstances"][0]["CurrentState"]["Name"] == "stopping"' \
    ec2 stop-instances --instance-ids i-0aaaaaaaaaaaaaaa1
op "ssm describe-instance-information" \
    '[(i["InstanceId"], i["PingStatus"], i["AgentVersion"]) for i in d["InstanceInformationList"]] == [("i-0123456789abcdef0", "Online", "3.3.40.0")]' \
    ssm describe-instance-information --filters Key=InstanceIds,Values=i-0123456789abcdef0

# start-session hands its parsed answer to session-manager-plugin: ours
# records it.
mkdir -p "$T/bin"
cat >"$T/bin/session-manager-plugin" <<EOF
#!/bin/sh
printf '%s' "\$1" >"$T/smp-response.json"
printf '%s' "\$5" >"$T/smp-params.json"
EOF
chmod +x "$T/bin/session-manager-plugin"
if PATH=$T/bin:$PATH aws ssm start-session --target i-0123456789abcdef0 \
    --document-name AWS-StartPortForwardingSession \
    --parameters portNumber=8888,localPortNumber=0 >/dev/null 2>"$T/err"; then
	ok "ssm start-session"
else
	not_ok "ssm start-session"; show "$T/err"
fi
check "  ... SessionId, TokenValue and StreamUrl parsed" pyq "$T/smp-response.json" \
    'd["SessionId"].startswith("ana-") and len(d["SessionId"]) == 21 and len(d["TokenValue"]) > 100 and d["StreamUrl"] == "wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/" + d["SessionId"] + "?role=publish_subscribe"'
SID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["SessionId"])' "$T/smp-response.json")
check "  ... session file for the agent" pyq "$T/state/sessions/$SID.json" \
    'd["Target"] == "i-0123456789abcdef0" and d["DocumentName"] == "AWS-StartPortForwardingSession" and d["Parameters"] == {"portNumber": ["8888"], "localPortNumber": ["0"]} and d["Status"] == "Active" and len(d["Tokens"]) == 1'
op "ssm resume-session" \
    'd["SessionId"] == "'"$SID"'" and d["StreamUrl"].endswith("'"$SID"'?role=publish_subscribe") and len(d["TokenValue"]) > 100' \
    ssm resume-session --session-id "$SID"
check "  ... new token appended" pyq "$T/state/sessions/$SID.json" \
    'len(d["Tokens"]) == 2 and d["Tokens"][1] == json.load(open(sys.argv[1].replace("sessions/'"$SID"'.json", "../out.json")))["TokenValue"]'
op "ssm terminate-session" 'd["SessionId"] == "'"$SID"'"' \
    ssm terminate-session --session-id "$SID"
check "  ... session marked Terminated" pyq "$T/state/sessions/$SID.json" \
    'd["Status"] == "Terminated"'
# Without the plugin the CLI terminates the session itself.
if PATH=/usr/bin:/bin aws ssm start-session --target i-0123456789abcdef0 \
    >/dev/null 2>"$T/err"; then
	not_ok "start-session without plugin fails"
else
	check "start-session without plugin: CLI calls TerminateSession" sh -c \
	    "grep -c '\"TerminateSession\"' '$T/state/requests.jsonl' | grep -qx 2"
fi

ssh-keygen -q -t ed25519 -N '' -C 'ana@laptop' -f "$T/id" </dev/null
op "ec2-instance-connect send-ssh-public-key" 'd["Success"] is True' \
    ec2-instance-connect send-ssh-public-key --instance-id \
    i-0123456789abcdef0 --instance-os-user ubuntu \
    --ssh-public-key "file://$T/id.pub"
check "  ... key recorded for the instance" pyq \
    "$T/state/instance-connect/i-0123456789abcdef0.json" \
    'd["Keys"][-1]["InstanceOSUser"] == "ubuntu" and d["Keys"][-1]["SSHPublicKey"].strip() == open("'"$T/id.pub"'").read().strip()'
op "sts get-caller-identity" \
    'd["Arn"] == "arn:aws:iam::123456789012:user/ana" and d["Account"] == "123456789012"' \
    sts get-caller-identity
op "sts assume-role" \
    'd["Credentials"]["AccessKeyId"].startswith("ASIA") and d["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/nb/t1"' \
    sts assume-role --role-arn arn:aws:iam::123456789012:role/nb \
    --role-session-name t1
cp "$T/out.json" "$T/role.json"
creds() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["Credentials"][sys.argv[2]])' "$T/role.json" "$1"; }
AWS_ACCESS_KEY_ID=$(creds AccessKeyId) AWS_SECRET_ACCESS_KEY=$(creds SecretAccessKey) \
    AWS_SESSION_TOKEN=$(creds SessionToken) aws sts get-caller-identity \
    >"$T/out.json" 2>"$T/err"
check "botocore signature with a session token verified" pyq "$T/out.json" \
    'd["Arn"].endswith("assumed-role/nb/t1")'
AWS_ACCESS_KEY_ID=ASIATEMPORARY0000001 AWS_SECRET_ACCESS_KEY=tempsecret \
    AWS_SESSION_TOKEN=temporary-session-token-1 aws ec2 describe-instances \
    --instance-ids i-0123456789abcdef0 >"$T/out.json" 2>"$T/err"
check "botocore: scenario session credentials verified (ec2)" pyq "$T/out.json" \
    'd["Reservations"][0]["Instances"][0]["InstanceId"] == "i-0123456789abcdef0"'

# Errors: each protocol's shape, as the CLI reports them (exit 254).
err() {		# err NAME CODE AWS-ARGS...
	local name=$1 code=$2 st=0; shift 2
	aws "$@" >/dev/null 2>"$T/err" || st=$?
	if [ "$st" = 254 ] && grep -q "($code)" "$T/err"; then ok "$name"
	else not_ok "$name (exit $st)"; show "$T/err"; fi
}
err "query error shape: unknown stack" ValidationError \
    cloudformation describe-stack-resources --stack-name nope
err "ec2 error shape: unknown instance" InvalidInstanceID.NotFound \
    ec2 describe-instances --instance-ids i-0bbbbbbbbbbbbbbbb
err "ec2 error shape: malformed id" InvalidInstanceID.Malformed \
    ec2 describe-instances --instance-ids i-xyz
err "ec2 error shape: unknown filter" InvalidParameterValue \
    ec2 describe-instances --filters Name=color,Values=red
err "json error shape: TargetNotConnected" TargetNotConnected \
    ssm start-session --target i-0aaaaaaaaaaaaaaa1
err "json error shape: InvalidDocument" InvalidDocument \
    ssm start-session --target i-0123456789abcdef0 --document-name Nope
err "assume-role of an unknown role: AccessDenied" AccessDenied \
    sts assume-role --role-arn arn:aws:iam::123456789012:role/other \
    --role-session-name t1
AWS_SECRET_ACCESS_KEY=wrong err "bad secret: SignatureDoesNotMatch (query)" \
    SignatureDoesNotMatch sts get-caller-identity
AWS_SECRET_ACCESS_KEY=wrong err "bad secret: SignatureDoesNotMatch (ec2)" \
    SignatureDoesNotMatch ec2 describe-instances
AWS_SECRET_ACCESS_KEY=wrong err "bad secret: InvalidSignatureException (json)" \
    InvalidSignatureException ssm describe-instance-information
AWS_ACCESS_KEY_ID=AKIDUNKNOWN000000000 err "unknown key: InvalidClientTokenId" \
    InvalidClientTokenId cloudformation describe-stacks
AWS_ACCESS_KEY_ID=AKIDUNKNOWN000000000 err "unknown key: AuthFailure (ec2)" \
    AuthFailure ec2 describe-instances
AWS_ACCESS_KEY_ID=ASIATEMPORARY0000001 AWS_SECRET_ACCESS_KEY=tempsecret \
    AWS_SESSION_TOKEN=wrong err "wrong session token: UnrecognizedClientException" \
    UnrecognizedClientException ssm describe-instance-information
check "every request was logged with its verdict" "$PY" -c \
    'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if len(r) > 20 and all("status" in x for x in r) else 1)' \
    "$T/state/requests.jsonl"
