#!/bin/bash
# The remote user when none is given, against the fake AWS: the usual
# login user of each instance's AMI (Amazon Linux, Debian, Ubuntu, the
# Deep Learning AMIs, RHEL and SUSE from the platform details, CentOS,
# Fedora, Bitnami), "ubuntu" for an AMI nobody knows, a deregistered one
# or DescribeImages refused; -v says which and why; one DescribeImages per
# AMI ever (cached, 0600), none when a user is given.  Over SSM, with no
# user given, the Jupyter search runs as whoever runs Jupyter: the real
# server of the rig is found although the AMI's user does not exist here.
. "$(dirname "$0")/lib.sh"

RIG_KEY=AKIDEXAMPLERIG000001
RIG_SECRET=rigsecretrigsecretrigsecretrigsecret0001
# inst N AMI [EXTRA] : a running instance i-0N..., public address, SSM off
inst() {
	printf '"i-0%s": {"image_id": "%s", "public_dns": "ec2.example.com"%s},\n' \
	    "$(printf '%016d' "$1")" "$2" "${3:-}"
}
cat >"$T/sc.json" <<EOF2
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "$RIG_KEY", "secret_key": "$RIG_SECRET"},
  {"access_key": "AKIDNOIMAGES00000001", "secret_key": "noimages",
   "deny": ["ec2:DescribeImages"]}
 ],
 "images": {
  "ami-0a00000000000001a": {"name": "al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64",
   "description": "Amazon Linux 2023 AMI 2023.4.20240611.0 x86_64 HVM kernel-6.1",
   "owner": "137112412989"},
  "ami-0a00000000000002a": {"name": "amzn2-ami-kernel-5.10-hvm-2.0.20240610.1-x86_64-gp2",
   "owner": "137112412989"},
  "ami-0a00000000000003a": {"name": "debian-12-amd64-20240507-1740",
   "description": "Debian 12 (20240507-1740)", "owner": "136693071363"},
  "ami-0a00000000000004a": {"name": "Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.3.0 (Ubuntu 20.04) 20240611",
   "owner": "898082745236"},
  "ami-0a00000000000005a": {"name": "Deep Learning AMI GPU PyTorch 2.0.1 (Amazon Linux 2) 20230926",
   "owner": "898082745236"},
  "ami-0a00000000000006a": {"name": "CentOS-7-2111-20220825_1.x86_64",
   "owner": "125523088429"},
  "ami-0a00000000000007a": {"name": "Fedora-Cloud-Base-39-1.5.x86_64-hvm-us-east-1-gp3-0",
   "owner": "125523088429"},
  "ami-0a00000000000008a": {"name": "bitnami-jupyterhub-4.1.5-0-r01-linux-debian-12-x86_64-hvm-ebs",
   "owner": "979382823631"},
  "ami-0a00000000000009a": {"name": "golden-image-42", "description": "our build",
   "owner": "123456789012"},
  "ami-0a0000000000000aa": {"name": "suse-sles-15-sp5-v20240129-hvm-ssd-x86_64",
   "platform_details": "SUSE Linux", "owner": "013907871322"}
 },
 "instances": {
  $(inst 1 ami-0a00000000000001a)
  $(inst 2 ami-0a00000000000002a)
  $(inst 3 ami-0a00000000000003a)
  $(inst 4 ami-0a00000000000004a)
  $(inst 5 ami-0a00000000000005a)
  $(inst 6 ami-0a00000000000006a)
  $(inst 7 ami-0a00000000000007a)
  $(inst 8 ami-0a00000000000008a)
  $(inst 9 ami-0a00000000000009a)
  $(inst 10 ami-0a0000000000000ba ', "platform_details": "Red Hat Enterprise Linux"')
  $(inst 11 ami-0a0000000000000ca)
  $(inst 12 ami-0a0000000000000aa ', "platform_details": "SUSE Linux"')
  $(inst 13 ami-0123456789abcdef0)
  "i-00000000000000014": {"image_id": "ami-0a00000000000001a", "public_dns": "x"}
 }
}
EOF2
"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/sc.json" --port 0 \
    --port-file "$T/aws.port" --state "$T/aws" 2>"$T/aws.log" &
_bg="${_bg:-} $!"
if ! wait_for 30 test -s "$T/aws.port"; then
	not_ok "fake AWS starts"; show "$T/aws.log"; exit 0
fi
export AWS_ENDPOINT_URL=http://127.0.0.1:$(cat "$T/aws.port") \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=$RIG_KEY AWS_SECRET_ACCESS_KEY=$RIG_SECRET
# The fake's DescribeImages is what the real client (/usr/bin/aws) reads.
awscli() { AWS_PAGER="" /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
awscli ec2 describe-images --image-ids ami-0a00000000000003a --output text \
    --query 'Images[0].[Name,Description,OwnerId,PlatformDetails]' \
    >"$T/cli.out" 2>"$T/cli.err"
printf 'debian-12-amd64-20240507-1740\tDebian 12 (20240507-1740)\t%s\t%s\n' \
    136693071363 Linux/UNIX >"$T/cli.want"
check "aws ec2 describe-images reads the fake's answer" \
    cmp -s "$T/cli.out" "$T/cli.want"
st=0
awscli ec2 describe-images --image-ids ami-0a0000000000000ba >/dev/null \
    2>"$T/cli.err" || st=$?
check "  ... and its InvalidAMIID.NotFound (exit $st)" sh -c \
    "test $st = 254 && grep -q 'InvalidAMIID.NotFound' '$T/cli.err'"
id_of() { printf 'i-0%016d' "$1"; }
images_asked() {
	grep -c '"action": "DescribeImages"' "$T/aws/requests.jsonl" 2>/dev/null ||
	    true
}
# user_is NAME N USER [ARGS...] : resolve instance N (or TARGET when N
# is not a number), expect USER
user_is() {
	local name=$1 n=$2 want=$3 got st=0 t=$2; shift 3
	case $n in *[!0-9]*) ;; *) t=$(id_of "$n") ;; esac
	"$JC" resolve --json -v "$@" "$t" >"$T/out" 2>"$T/err" || st=$?
	got=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1]).get("user"))' "$T/out" 2>/dev/null)
	if [ "$st" = 0 ] && [ "$got" = "$want" ]; then
		ok "$name: $want"
	else
		not_ok "$name: want $want, got $got (exit $st)"; show "$T/err"
	fi
}

user_is "Amazon Linux 2023" 1 ec2-user
check "  ... -v says why" grep -q \
    "remote user ec2-user: the usual login user of AMI ami-0a00000000000001a (al2023-ami-2023.4" \
    "$T/err"
user_is "Amazon Linux 2" 2 ec2-user
user_is "Debian 12" 3 admin
user_is "Deep Learning AMI on Ubuntu" 4 ubuntu
user_is "Deep Learning AMI on Amazon Linux 2" 5 ec2-user
user_is "CentOS 7" 6 centos
user_is "Fedora" 7 fedora
user_is "Bitnami (on Debian)" 8 bitnami
user_is "an AMI nobody knows" 9 ubuntu
check "  ... -v says it is a guess and how to fix it" grep -q \
    "remote user ubuntu: none given, and AMI ami-0a00000000000009a (golden-image-42) is no system jconnect knows; pass -l USER" \
    "$T/err"
n0=$(images_asked)
user_is "RHEL, from the platform details" 10 ec2-user
check "  ... -v names the platform" grep -q \
    "remote user ec2-user: the usual login user on Red Hat Enterprise Linux" \
    "$T/err"
user_is "SUSE, from the platform details" 12 ec2-user
check "  ... without asking DescribeImages" test "$(images_asked)" = "$n0"
user_is "a deregistered AMI" 11 ubuntu
check "  ... -v says EC2 does not know it" grep -q "(unknown to EC2)" "$T/err"
user_is "the Ubuntu 22.04 AMI" 13 ubuntu

# Cached: the second look at an AMI asks nothing.
n0=$(images_asked)
user_is "Amazon Linux 2023 again" 1 ec2-user
user_is "another instance of the same AMI" 14 ec2-user
check "  ... from the cache, no DescribeImages ($n0 before, $(images_asked) after)" \
    test "$(images_asked)" = "$n0"
cache=$HOME/.cache/jconnect/ami-users
check "  ... cache file 0600 in a 0700 directory" sh -c \
    "test \"\$(stat -c %a '$cache')\" = 600 &&
     test \"\$(stat -c %a '$(dirname "$cache")')\" = 700"
check "  ... one line per AMI" test "$(grep -c '^ami-0a00000000000001a	' "$cache")" = 1
# A cache another user could write is not believed.
chmod 666 "$cache"
n0=$(images_asked)
user_is "a group-writable cache is ignored" 1 ec2-user
check "  ... and EC2 asked again" test "$(images_asked)" -gt "$n0"
chmod 600 "$cache"

# A user given: no DescribeImages at all.
rm -f "$cache"
n0=$(images_asked)
user_is "-l USER wins" 3 bob -l bob
user_is "USER@TARGET wins" "carol@$(id_of 3)" carol
printf '{"defaults": {"user": "dave"}}\n' >"$T/cfg.json"
user_is "the config's user wins" 3 dave -F "$T/cfg.json"
check "  ... none of them asked DescribeImages" test "$(images_asked)" = "$n0"

# DescribeImages refused: the fallback, said at -v, resolution goes on.
AWS_ACCESS_KEY_ID=AKIDNOIMAGES00000001 AWS_SECRET_ACCESS_KEY=noimages \
    user_is "DescribeImages refused" 3 ubuntu
check "  ... -v says why" grep -q \
    "remote user ubuntu: none given, and the AMI ami-0a00000000000003a of $(id_of 3) cannot be read" \
    "$T/err"
check "  ... nothing said at default verbosity" sh -c \
    "AWS_ACCESS_KEY_ID=AKIDNOIMAGES00000001 AWS_SECRET_ACCESS_KEY=noimages \
     '$JC' resolve '$(id_of 3)' 2>&1 >/dev/null | (! grep -q .)"

# A host target: ubuntu, said at -v.
"$JC" resolve -v 10.0.0.1 >"$T/out" 2>"$T/err"
check "a host without user: ubuntu, said at -v" grep -q \
    "remote user ubuntu: none given" "$T/err"

# ---- over SSM: whose Jupyter runs -------------------------------------------
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
cat >"$T/ssm.json" <<EOF2
{
 "region": "us-east-1",
 "images": {"ami-0a00000000000001a": {"name": "al2023-ami-2023.4.20240611.0-kernel-6.1-x86_64",
   "owner": "137112412989"}},
 "stacks": {"al-stack": {"resources": [{"LogicalResourceId": "Notebook",
   "PhysicalResourceId": "i-0123456789abcdef0",
   "ResourceType": "AWS::EC2::Instance"}]}},
 "instances": {"i-0123456789abcdef0": {"state": "running",
   "image_id": "ami-0a00000000000001a", "public_dns": "localhost",
   "ssm_online": true}}
}
EOF2
rig_start jupyter agent aws --scenario "$T/ssm.json"
if id ec2-user >/dev/null 2>&1; then
	not_ok "this machine has no ec2-user (the test needs it absent)"
fi
"$JC" url -v --via ssm al-stack >"$T/out" 2>"$T/err"
st=$?
url=$(head -n1 "$T/out")
check "SSM, no user given: the running Jupyter is found (exit $st)" sh -c \
    "test $st = 0 && echo '$url' | grep -q 'token=$JUPYTER_TOKEN'"
[ "$st" = 0 ] || show "$T/err"
check "  ... the AMI said ec2-user" grep -q "remote user ec2-user" "$T/err"
check "  ... -v: searched as the owner of the running Jupyter" grep -q \
    "jupyter: searching as $SSH_USER, who runs Jupyter on the remote (pid [0-9]*)" \
    "$T/err"
"$JC" stop al-stack >/dev/null 2>&1
"$JC" url --via ssm -l ec2-user al-stack >"$T/out2" 2>"$T/err2"
st=$?
check "  ... while -l ec2-user (given) is used as given: exit 7 ($st)" \
    test "$st" = 7
