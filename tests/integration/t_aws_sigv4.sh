#!/bin/bash
# jconnect's SigV4 (libcurl CURLOPT_AWS_SIGV4) as botocore verifies it in
# the fake AWS, for every service and protocol it calls, with and without
# a session token; bad secrets and tokens are refused and explained;
# endpoint overrides per service and per profile; proxies from the
# environment; TLS verification that cannot be turned off.
. "$(dirname "$0")/lib.sh"

RIG_KEY=AKIDEXAMPLERIG000001
RIG_SECRET=rigsecretrigsecretrigsecretrigsecret0001
cat >"$T/sc.json" <<EOF
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "$RIG_KEY", "secret_key": "$RIG_SECRET"},
  {"access_key": "ASIATEMPORARY0000001", "secret_key": "tempsecret/with+slash",
   "token": "IQoJb3JpZ2luX2VjEXAMPLE+token/with=specials"}
 ],
 "stacks": {
  "nb": {"resources": [
   {"LogicalResourceId": "Inner", "PhysicalResourceId": "nb-inner",
    "ResourceType": "AWS::CloudFormation::Stack"}]},
  "nb-inner": {"resources": [
   {"LogicalResourceId": "Group", "PhysicalResourceId": "nb-asg",
    "ResourceType": "AWS::AutoScaling::AutoScalingGroup"}]}
 },
 "asgs": {"nb-asg": {"instances": [
   {"InstanceId": "i-0123456789abcdef0", "LifecycleState": "InService"}]}},
 "instances": {
  "i-0123456789abcdef0": {"state": "running", "tags": {"Name": "gpu-box"},
   "public_dns": "localhost", "public_ip": "127.0.0.1",
   "private_ip": "10.0.0.5", "ssm_online": true}
 }
}
EOF
# start_fake NAME [ARGS...] : a fake AWS; its URL in $URL
start_fake() {
	local n=$1; shift
	"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/sc.json" --port 0 \
	    --port-file "$T/$n.port" --state "$T/$n" "$@" 2>"$T/$n.log" &
	_bg="${_bg:-} $!"
	if ! wait_for 30 test -s "$T/$n.port"; then
		not_ok "fake AWS $n starts"; show "$T/$n.log"; exit 0
	fi
}
start_fake state
URL=http://127.0.0.1:$(cat "$T/state.port")
REQ=$T/state/requests.jsonl

export AWS_ENDPOINT_URL=$URL AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    AWS_REGION=us-east-1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY \
    ALL_PROXY all_proxy
res() {
	st=0
	"$JC" resolve --json "$@" >"$T/out" 2>"$T/err" || st=$?
}
# calls_since N PYEXPR : every request logged after line N satisfies r
calls_since() {
	"$PY" -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):]]
svc={x["service"] for x in r}
ok=all(eval(sys.argv[3]) for r in r) and {"cloudformation", "ec2", "autoscaling", "ssm"} <= svc
sys.exit(0 if ok else 1)' "$REQ" "$1" "$2"
}
lines() { if [ -f "$REQ" ]; then wc -l <"$REQ"; else echo 0; fi; }

# A stack with a nested stack and an ASG: CloudFormation, Auto Scaling and
# EC2 (query/ec2 XML) and SSM (JSON 1.1) all get called.
export AWS_ACCESS_KEY_ID=$RIG_KEY AWS_SECRET_ACCESS_KEY=$RIG_SECRET
n=$(lines)
res stack:nb
check "long-term key: resolve through four services" test "$st" = 0
check "  ... botocore verified every signature, no token sent" calls_since \
    "$n" 'r["status"] == 200 and not r["token"] and r["signed_headers"].split(";")[:2] != []'
check "  ... host and x-amz-date signed, X-Amz-Target for JSON" calls_since \
    "$n" '{"host", "x-amz-date"} <= set(r["signed_headers"].split(";")) and (r["service"] != "ssm" or "x-amz-target" in r["signed_headers"])'

export AWS_ACCESS_KEY_ID=ASIATEMPORARY0000001 \
    AWS_SECRET_ACCESS_KEY=tempsecret/with+slash \
    AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEXAMPLE+token/with=specials
n=$(lines)
res stack:nb
check "session token: resolve through four services" test "$st" = 0
check "  ... botocore verified every signature with the token signed" \
    calls_since "$n" 'r["status"] == 200 and r["token"] and "x-amz-security-token" in r["signed_headers"].split(";")'

AWS_SESSION_TOKEN=wrong-token res stack:nb
check "wrong session token: exit 4" test "$st" = 4
check "  ... says the key is not recognised" grep -q \
    'AWS does not recognise the access key from environment' "$T/err"
unset AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=$RIG_KEY AWS_SECRET_ACCESS_KEY=not-the-secret
n=$(lines)
res stack:nb
check "bad secret: exit 4" test "$st" = 4
check "  ... explained in plain words" grep -q \
    'AWS rejected the request signature: the secret access key from environment (AWS_ACCESS_KEY_ID) does not match its key id' "$T/err"
# The first call of the query protocol (SSM's, asked alongside, is JSON
# and has its own word for it).
check "  ... the fake answered SignatureDoesNotMatch" "$PY" -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):]]
r=[x for x in r if x.get("service") in ("ec2", "cloudformation")]
sys.exit(0 if r and r[0]["code"] == "SignatureDoesNotMatch" and r[0]["status"] == 403 else 1)' "$REQ" "$n"
res i-0123456789abcdef0
check "bad secret on EC2: exit 4" test "$st" = 4
export AWS_ACCESS_KEY_ID=AKIDUNKNOWN000000000
res i-0123456789abcdef0
check "unknown key on EC2 (AuthFailure): exit 4, plain words" sh -c \
    "test $st = 4 && grep -q 'does not recognise the access key' '$T/err'"
export AWS_ACCESS_KEY_ID=$RIG_KEY AWS_SECRET_ACCESS_KEY=$RIG_SECRET

# ---- endpoint overrides ----------------------------------------------------
AWS_ENDPOINT_URL=http://127.0.0.1:1 AWS_ENDPOINT_URL_EC2=$URL \
    res --via ssh i-0123456789abcdef0
check "AWS_ENDPOINT_URL_EC2 beats AWS_ENDPOINT_URL" test "$st" = 0
AWS_ENDPOINT_URL_CLOUDFORMATION=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=1 \
    res stack:nb
check "AWS_ENDPOINT_URL_CLOUDFORMATION is used for CloudFormation" sh -c \
    "test $st = 1 && grep -q 'cannot reach AWS at http://127.0.0.1:1/' '$T/err'"
AWS_ENDPOINT_URL_AUTO_SCALING=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=1 \
    res stack:nb
check "AWS_ENDPOINT_URL_AUTO_SCALING is used for Auto Scaling" sh -c \
    "test $st = 1 && grep -q 'cannot reach AWS at http://127.0.0.1:1/' '$T/err'"
cat >"$T/config" <<EOF
[profile local]
region = us-east-1
endpoint_url = $URL
aws_access_key_id = $RIG_KEY
aws_secret_access_key = $RIG_SECRET
EOF
AWS_CONFIG_FILE=$T/config AWS_ENDPOINT_URL= res --profile local stack:nb
check "profile endpoint_url" test "$st" = 0
AWS_CONFIG_FILE=$T/config AWS_ENDPOINT_URL=http://127.0.0.1:1 \
    AWS_MAX_ATTEMPTS=1 res --profile local stack:nb
check "AWS_ENDPOINT_URL beats the profile's endpoint_url" test "$st" = 1
AWS_ENDPOINT_URL=ftp://127.0.0.1/ res stack:nb
check "an endpoint that is not http(s) is refused" sh -c \
    "test $st != 0 && grep -q 'not http(s)' '$T/err'"

# ---- proxies from the environment (libcurl's own handling) -----------------
http_proxy=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=1 res --via ssh \
    i-0123456789abcdef0
check "http_proxy is honoured (a dead proxy fails the call)" sh -c \
    "test $st = 1 && grep -q 'port 1' '$T/err'"
http_proxy=http://127.0.0.1:1 NO_PROXY=127.0.0.1 res --via ssh \
    i-0123456789abcdef0
check "NO_PROXY is honoured" test "$st" = 0

# ---- TLS: always verified ------------------------------------------------
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" \
    -out "$T/cert.pem" >/dev/null 2>&1; then
	start_fake tls --tls "$T/cert.pem" "$T/key.pem"
	TLS=https://127.0.0.1:$(cat "$T/tls.port")
	AWS_ENDPOINT_URL=$TLS AWS_MAX_ATTEMPTS=1 res --via ssh \
	    i-0123456789abcdef0
	check "HTTPS with an untrusted certificate is refused" sh -c \
	    "test $st = 1 && grep -qi 'certificate' '$T/err'"
	check "and the error says to set AWS_CA_BUNDLE" \
	    grep -q 'set AWS_CA_BUNDLE to its CA file' "$T/err"
	AWS_ENDPOINT_URL=$TLS AWS_CA_BUNDLE=$T/cert.pem res --via ssh \
	    i-0123456789abcdef0
	check "AWS_CA_BUNDLE adds trust: signed HTTPS call verified" sh -c \
	    "test $st = 0 && grep -q '\"status\": 200' '$T/tls/requests.jsonl'"
else
	not_ok "openssl makes a test certificate"
fi
