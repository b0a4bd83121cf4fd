#!/bin/bash
# Credential sources one by one, against the fake AWS (which checks every
# signature with botocore): environment keys with and without a session
# token, shared credentials/config files and profiles, credential_process,
# role_arn + source_profile (STS AssumeRole), IMDSv2; the order between
# them; expired and refused credentials in plain words; -v names the
# source and the region; secrets never reach the output.
. "$(dirname "$0")/lib.sh"

RIG_KEY=AKIDEXAMPLERIG000001
RIG_SECRET=rigsecretrigsecretrigsecretrigsecret0001
cat >"$T/sc.json" <<EOF
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "$RIG_KEY", "secret_key": "$RIG_SECRET",
   "arn": "arn:aws:iam::123456789012:user/ana"},
  {"access_key": "ASIAPROCESS000000001", "secret_key": "processsecret",
   "token": "process-token-0001", "arn": "arn:aws:iam::123456789012:user/proc"},
  {"access_key": "ASIAEXPIRED000000001", "secret_key": "expiredsecret",
   "token": "expired-token-0001", "expired": true,
   "arn": "arn:aws:iam::123456789012:user/old"}
 ],
 "roles": {"arn:aws:iam::123456789012:role/notebook": {"external_id": "ext-42"}},
 "imds": {"role": "nb-instance-role", "region": "eu-west-1"},
 "instances": {
  "i-0123456789abcdef0": {"state": "running", "tags": {"Name": "gpu-box"},
   "public_dns": "localhost", "public_ip": "127.0.0.1",
   "private_ip": "10.0.0.5"},
  "i-0eeeeeeeeeeeeeee1": {"state": "running", "region": "eu-west-1",
   "tags": {"Name": "eu-box"}, "public_ip": "127.0.0.2"}
 }
}
EOF
"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/sc.json" --port 0 \
    --port-file "$T/port" --state "$T/state" 2>"$T/fake.log" &
_bg="${_bg:-} $!"
if ! wait_for 30 test -s "$T/port"; then
	not_ok "fake AWS starts"; show "$T/fake.log"; exit 0
fi
URL=http://127.0.0.1:$(cat "$T/port")
REQ=$T/state/requests.jsonl

# A clean AWS environment for each case: nothing but the fake's address.
base_env() {
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
	    AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION \
	    AWS_EC2_METADATA_SERVICE_ENDPOINT
	export AWS_ENDPOINT_URL=$URL AWS_CONFIG_FILE=/dev/null \
	    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
}
# res ARGS... : jconnect resolve --json -v, status in $st
res() {
	st=0
	"$JC" resolve --json --via ssh -v "$@" >"$T/out" 2>"$T/err" || st=$?
}
# got KEY VALUE : the result's KEY is VALUE
got() {
	"$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(0 if d.get(sys.argv[2]) == sys.argv[3] else 1)' "$T/out" "$1" "$2"
}
# last_call ACTION PYEXPR : the last logged ACTION request satisfies r
last_call() {
	"$PY" -c 'import json,sys
r=[x for x in map(json.loads, open(sys.argv[1])) if x.get("action") == sys.argv[2]][-1]
sys.exit(0 if eval(sys.argv[3]) else 1)' "$REQ" "$1" "$2"
}
expect_ok() {	# expect_ok NAME : resolve succeeded to i-0123...
	if [ "$st" = 0 ] && got instance_id i-0123456789abcdef0; then ok "$1"
	else not_ok "$1 (exit $st)"; show "$T/err"; fi
}
expect_fail() {	# expect_fail NAME STATUS PATTERN
	if [ "$st" = "$2" ] && grep -q -- "$3" "$T/err"; then ok "$1"
	else not_ok "$1 (exit $st)"; show "$T/err"; fi
}

# ---- environment ------------------------------------------------------
base_env
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=$RIG_KEY \
    AWS_SECRET_ACCESS_KEY=$RIG_SECRET
res i-0123456789abcdef0
expect_ok "environment keys"
check "  ... -v names the source and the region" grep -q \
    'AWS credentials: environment (AWS_ACCESS_KEY_ID) .*region us-east-1 (AWS_REGION)' "$T/err"
check "  ... signed without a token" last_call DescribeInstances \
    'r["akid"] == "'$RIG_KEY'" and not r["token"] and r["status"] == 200'
export AWS_ACCESS_KEY_ID=ASIAPROCESS000000001 \
    AWS_SECRET_ACCESS_KEY=processsecret AWS_SESSION_TOKEN=process-token-0001
res i-0123456789abcdef0
expect_ok "environment keys with AWS_SESSION_TOKEN"
check "  ... token sent and signed" last_call DescribeInstances \
    'r["token"] and "x-amz-security-token" in r["signed_headers"].split(";")'
check "  ... -v says so" grep -q 'environment (AWS_ACCESS_KEY_ID with AWS_SESSION_TOKEN)' "$T/err"
unset AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
res i-0123456789abcdef0
expect_fail "key id without secret: exit 4 saying what is missing" 4 \
    'AWS_SECRET_ACCESS_KEY is not'

# ---- shared files and profiles ------------------------------------------
mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/credentials" <<EOF
[default]
aws_access_key_id = $RIG_KEY
aws_secret_access_key = $RIG_SECRET

[dev]
aws_access_key_id = $RIG_KEY
aws_secret_access_key = $RIG_SECRET
EOF
cat >"$HOME/.aws/config" <<EOF
[default]
region = us-east-1

[profile dev]
region = us-east-1

[profile proc]
region = us-east-1
credential_process = sh -c 'cat "$T/proc.json"'

[profile proc-old]
region = us-east-1
credential_process = sh -c 'cat "$T/proc-old.json"'

[profile notebook]
region = us-east-1
role_arn = arn:aws:iam::123456789012:role/notebook
source_profile = dev
external_id = ext-42
role_session_name = ana-laptop

[profile wrong-role]
region = us-east-1
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = dev

[profile chained]
region = us-east-1
role_arn = arn:aws:iam::123456789012:role/notebook
source_profile = notebook-src
external_id = ext-42

[profile notebook-src]
credential_process = sh -c 'cat "$T/proc.json"'

[profile expired]
region = us-east-1
aws_access_key_id = ASIAEXPIRED000000001
aws_secret_access_key = expiredsecret
aws_session_token = expired-token-0001
EOF
chmod 600 "$HOME/.aws/credentials" "$HOME/.aws/config"
cat >"$T/proc.json" <<EOF
{"Version": 1, "AccessKeyId": "ASIAPROCESS000000001",
 "SecretAccessKey": "processsecret", "SessionToken": "process-token-0001",
 "Expiration": "2099-01-01T00:00:00Z"}
EOF
cat >"$T/proc-old.json" <<EOF
{"Version": 1, "AccessKeyId": "ASIAPROCESS000000001",
 "SecretAccessKey": "processsecret", "SessionToken": "process-token-0001",
 "Expiration": "2001-02-03T04:05:06Z"}
EOF

base_env
unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
res i-0123456789abcdef0
expect_ok "default profile from ~/.aws/credentials, region from ~/.aws/config"
check "  ... -v names the file and the profile's region" grep -q \
    "profile default in $HOME/.aws/credentials.*region us-east-1 (profile default)" "$T/err"
export AWS_ACCESS_KEY_ID=AKIDBOGUS00000000000 AWS_SECRET_ACCESS_KEY=bogus
res --profile dev i-0123456789abcdef0
expect_ok "--profile dev wins over environment keys (like the AWS CLI)"
check "  ... -v says profile dev" grep -q "AWS credentials: profile dev in" "$T/err"
res i-0123456789abcdef0
expect_fail "AWS_PROFILE unset: environment keys come first" 4 \
    'does not recognise the access key'
export AWS_PROFILE=dev
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
res i-0123456789abcdef0
expect_ok "AWS_PROFILE=dev"
res --profile ghost i-0123456789abcdef0
expect_fail "unknown profile: exit 4 naming both files" 4 \
    "AWS profile \"ghost\" is not in $HOME/.aws/config or $HOME/.aws/credentials"
unset AWS_PROFILE

# ---- credential_process -------------------------------------------------
res --profile proc i-0123456789abcdef0
expect_ok "credential_process"
check "  ... its temporary key and token signed the call" last_call \
    DescribeInstances 'r["akid"] == "ASIAPROCESS000000001" and r["token"]'
check "  ... -v names it" grep -q 'AWS credentials: credential_process of profile proc' "$T/err"
res --profile proc-old i-0123456789abcdef0
expect_fail "credential_process output already expired: exit 4 with the time" \
    4 'expired at 2001-02-03T04:05:06Z'

# ---- role_arn + source_profile ------------------------------------------
res --profile notebook i-0123456789abcdef0
expect_ok "role_arn + source_profile (AssumeRole)"
check "  ... AssumeRole signed with the source profile's key" last_call \
    AssumeRole 'r["akid"] == "'$RIG_KEY'" and r["params"]["RoleArn"] == "arn:aws:iam::123456789012:role/notebook" and r["params"]["ExternalId"] == "ext-42" and r["params"]["RoleSessionName"] == "ana-laptop"'
check "  ... then the role's temporary credentials" last_call \
    DescribeInstances 'r["akid"].startswith("ASIA") and r["token"] and r["status"] == 200'
check "  ... -v names role, profile and source" grep -q \
    'AWS credentials: role arn:aws:iam::123456789012:role/notebook (profile notebook, via profile dev in' "$T/err"
res --profile chained i-0123456789abcdef0
expect_ok "role whose source profile uses credential_process"
res --profile wrong-role i-0123456789abcdef0
expect_fail "role we may not assume: exit 4 naming sts:AssumeRole" 4 \
    'AWS denied sts:AssumeRole for arn:aws:iam::123456789012:user/ana'

# ---- server-side expiry -------------------------------------------------
res --profile expired i-0123456789abcdef0
expect_fail "expired session token: exit 4 in plain words" 4 \
    'the AWS session token from profile expired in .* has expired: get fresh credentials'

# ---- IMDSv2 -------------------------------------------------------------
base_env
unset AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$URL AWS_REGION=us-east-1
res i-0123456789abcdef0
expect_ok "instance metadata (IMDSv2) when nothing else is configured"
check "  ... -v names the role" grep -q \
    'AWS credentials: instance metadata (IMDSv2, role nb-instance-role)' "$T/err"
check "  ... token first, then the credentials" "$PY" -c 'import json,sys
r=[x for x in map(json.loads, open(sys.argv[1])) if x.get("service") == "imds"]
p=[(x["method"], x["path"]) for x in r]
i=p.index(("PUT", "/latest/api/token"))
sys.exit(0 if ("GET", "/latest/meta-data/iam/security-credentials/nb-instance-role") in p[i:] else 1)' "$REQ"
unset AWS_REGION
res i-0eeeeeeeeeeeeeee1
if [ "$st" = 0 ] && got region eu-west-1; then
	ok "region from instance metadata when none is configured"
else
	not_ok "region from instance metadata (exit $st)"; show "$T/err"
fi
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
res i-0123456789abcdef0
expect_fail "no credentials anywhere: exit 4 listing where it looked" 4 \
    'no AWS credentials found: looked at AWS_ACCESS_KEY_ID, profile default'

# ---- secrets stay secret ------------------------------------------------
base_env
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=ASIAPROCESS000000001 \
    AWS_SECRET_ACCESS_KEY=processsecret AWS_SESSION_TOKEN=process-token-0001
st=0
"$JC" resolve --json -vvv i-0123456789abcdef0 >"$T/out" 2>"$T/err" || st=$?
check "-vvv works" test "$st" = 0
check "-vvv shows neither the secret key nor the session token" sh -c \
    "! grep -q -e processsecret -e process-token-0001 '$T/out' '$T/err'"
env -u AWS_CONFIG_FILE -u AWS_SHARED_CREDENTIALS_FILE -u AWS_ACCESS_KEY_ID \
    -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN "$JC" resolve --json -vvv \
    --profile notebook i-0123456789abcdef0 >"$T/out" 2>"$T/err"
check "-vvv with an assumed role shows no secret either" sh -c \
    "! grep -q -e '$RIG_SECRET' '$T/out' '$T/err'"
