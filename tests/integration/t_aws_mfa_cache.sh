#!/bin/bash
# A role with mfa_serial, against the fake STS: the code asked on a
# pseudo-terminal once, the session kept in the AWS CLI's cache
# (~/.aws/cli/cache/<sha1>.json, 0600 in a 0700 directory) and used by
# the next run without a terminal; botocore (the CLI's engine, with the
# CLI's JSONFileCache on its assume-role provider) reads what jconnect
# wrote without asking for a code, and jconnect reads what botocore
# wrote; duration_seconds is sent as DurationSeconds (a working day) and
# one STS refuses is explained in one line; then a background tunnel
# whose MFA credentials run out says so once in its log, keeps looking
# at the cache, and carries on once a run in a terminal got a new code.
. "$(dirname "$0")/lib.sh"

CODE=472913
SERIAL=arn:aws:iam::123456789012:mfa/ana
cat >"$T/sc.json" <<EOF
{
 "region": "us-east-1",
 "roles": {"arn:aws:iam::123456789012:role/guarded":
            {"mfa_serial": "$SERIAL", "mfa_code": "$CODE"},
           "arn:aws:iam::123456789012:role/capped":
            {"mfa_serial": "$SERIAL", "mfa_code": "$CODE",
             "max_session": 3600}},
 "instances": {
  "i-0123456789abcdef0": {"state": "running", "tags": {"Name": "gpu-box"},
   "public_ip": "127.0.0.1"}
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
CACHE=$HOME/.aws/cli/cache
mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/config" <<EOF
[profile base]
aws_access_key_id = AKIDEXAMPLERIG000001
aws_secret_access_key = rigsecretrigsecretrigsecretrigsecret0001
region = us-east-1

[profile guarded]
role_arn = arn:aws:iam::123456789012:role/guarded
source_profile = base
mfa_serial = $SERIAL
role_session_name = ana-laptop
duration_seconds = 43200
region = us-east-1

[profile capped]
role_arn = arn:aws:iam::123456789012:role/capped
source_profile = base
mfa_serial = $SERIAL
duration_seconds = 7200
region = us-east-1

[profile short]
role_arn = arn:aws:iam::123456789012:role/guarded
source_profile = base
mfa_serial = $SERIAL
duration_seconds = 600
region = us-east-1

[profile loose]
role_arn = arn:aws:iam::123456789012:role/guarded
source_profile = base
mfa_serial = $SERIAL
duration_seconds = 12h
region = us-east-1
EOF
export AWS_ENDPOINT_URL=$URL AWS_EC2_METADATA_DISABLED=true
unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

# Types the MFA code at each prompt on a pseudo-terminal.
TTYRUN=$ROOT/tests/tools/ttyrun.py
calls() { grep -c "\"action\": \"$1\"" "$REQ" 2>/dev/null || true; }
# notty ARGS... : jconnect with no terminal at all; status in $st.
notty() {
	st=0
	setsid timeout 60 "$JC" "$@" >"$T/out" 2>"$T/err" </dev/null || st=$?
}
# The cache file name, as botocore's AssumeRole fetcher makes it.
botokey() {
	"$PY" - "$@" <<'EOF'
import sys
from botocore.credentials import AssumeRoleCredentialFetcher
args = dict(a.split("=", 1) for a in sys.argv[1:])
if "DurationSeconds" in args:
    args["DurationSeconds"] = int(args["DurationSeconds"])
role = args.pop("RoleArn")
f = AssumeRoleCredentialFetcher(None, None, role, extra_args=args)
print(f._cache_key)
EOF
}

# ---- jconnect asks once, keeps the session, uses it ----------------------
st=0
"$PY" "$TTYRUN" $CODE "$JC" resolve --via ssh --profile guarded -v \
    gpu-box >"$T/pty.out" 2>"$T/pty.err" || st=$?
check "MFA code asked on the terminal; resolve exit 0 (got $st)" \
    sh -c "test $st = 0 && grep -q 'prompts=1' '$T/pty.err'"
check "  ... AssumeRole carried DurationSeconds=43200 (duration_seconds)" \
    "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(r.get("action")=="AssumeRole" and r["status"]==200 and r["params"].get("DurationSeconds")=="43200" for r in recs) else 1)' "$REQ"
check "  ... and the credentials last the working day (-v: valid until 12 h on)" \
    "$PY" -c '
import re,sys,time,calendar
m=re.search(r"valid until (\S+Z)", open(sys.argv[1]).read())
t=calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
sys.exit(0 if abs(t - time.time() - 43200) < 120 else 1)' "$T/pty.out"
KEY=$(botokey RoleArn=arn:aws:iam::123456789012:role/guarded \
    RoleSessionName=ana-laptop SerialNumber=$SERIAL DurationSeconds=43200)
F=$CACHE/$KEY.json
check "the session is in ~/.aws/cli/cache under botocore's key ($KEY)" test -s "$F"
check "  ... 0600, in a 0700 directory" sh -c \
    "test \$(stat -c %a '$F') = 600 && test \$(stat -c %a '$CACHE') = 700"
check "  ... shaped as the CLI writes it" "$PY" -c '
import json,sys
d=json.load(open(sys.argv[1]))
c=d["Credentials"]
sys.exit(0 if sorted(c)==["AccessKeyId","Expiration","SecretAccessKey","SessionToken"] and c["AccessKeyId"].startswith("ASIA") and d["AssumedRoleUser"]["Arn"].endswith(":assumed-role/guarded/ana-laptop") else 1)' "$F"
check "  ... and no leftover temporary file" sh -c "test \$(ls '$CACHE' | wc -l) = 1"
AK1=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["Credentials"]["AccessKeyId"])' "$F")
n_assume=$(calls AssumeRole)

notty resolve --via ssh --profile guarded -v gpu-box
check "the next run, with no terminal, uses the cached session (exit $st)" \
    grep -q "its MFA session cached in $F" "$T/err"
check "  ... without calling AssumeRole again" test "$(calls AssumeRole)" = "$n_assume"
check "  ... and EC2 saw its key" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if [r for r in recs if r.get("action")=="DescribeInstances" and r.get("akid")==sys.argv[2] and r["status"]==200] else 1)' "$REQ" "$AK1"

# ---- botocore and jconnect, each reading the other's --------------------
cat >"$T/boto.py" <<'EOF'
import os, sys
import botocore.session
from botocore.utils import JSONFileCache
profile, code = sys.argv[1], sys.argv[2]
s = botocore.session.Session(profile=profile)
# This botocore predates AWS_ENDPOINT_URL: every client it makes (the
# assume-role provider's STS client too) gets the fake's address.
plain = s.create_client
def create_client(*a, **k):
    k.setdefault("endpoint_url", os.environ["AWS_ENDPOINT_URL"])
    return plain(*a, **k)
s.create_client = create_client
asked = []
def prompter(prompt):
    asked.append(prompt)
    if code == "-":
        raise SystemExit("botocore asked for an MFA code: " + prompt)
    return code
p = s.get_component("credential_provider").get_provider("assume-role")
p.cache = JSONFileCache(os.path.expanduser("~/.aws/cli/cache"))
p._prompter = prompter
c = s.get_credentials().get_frozen_credentials()
sts = s.create_client("sts", region_name="us-east-1")
who = sts.get_caller_identity()["Arn"]
print(c.access_key, len(asked), who)
EOF
st=0
"$PY" "$T/boto.py" guarded - >"$T/boto.out" 2>"$T/boto.err" || st=$?
check "botocore with the CLI's cache uses jconnect's session, no code (exit $st)" \
    sh -c "test $st = 0 && grep -q '^$AK1 0 arn:aws:sts::123456789012:assumed-role/guarded/ana-laptop' '$T/boto.out'"
[ "$st" = 0 ] || show "$T/boto.err"
check "  ... and no AssumeRole" test "$(calls AssumeRole)" = "$n_assume"

rm -f "$F"
st=0
"$PY" "$T/boto.py" guarded $CODE >"$T/boto.out" 2>"$T/boto.err" || st=$?
check "botocore asks for the code and writes the cache (exit $st)" \
    sh -c "test $st = 0 && grep -q ' 1 arn:' '$T/boto.out' && test -s '$F'"
AK2=$(cut -d' ' -f1 "$T/boto.out")
check "  ... in its own time format (...UTC)" grep -q '"Expiration": "[0-9T:-]*UTC"' "$F"
n_assume=$(calls AssumeRole)
notty resolve --via ssh --profile guarded -v gpu-box
check "jconnect with no terminal uses botocore's session (exit $st)" \
    sh -c "test $st = 0 && grep -q 'its MFA session cached in' '$T/err'"
check "  ... signing with its key, no AssumeRole" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
late=[r for r in recs if r.get("action")=="DescribeInstances"][-1]
sys.exit(0 if late["akid"]==sys.argv[2] and not [r for r in recs if r.get("action")=="AssumeRole"][int(sys.argv[3]):] else 1)' \
    "$REQ" "$AK2" "$n_assume"

# An entry about to expire is not used: a new code is needed.
"$PY" -c '
import json,sys,time
d=json.load(open(sys.argv[1]))
d["Credentials"]["Expiration"]=time.strftime("%Y-%m-%dT%H:%M:%SUTC", time.gmtime(time.time()+120))
json.dump(d, open(sys.argv[1], "w"))' "$F"
notty resolve --via ssh --profile guarded gpu-box
check "a cached session with 2 minutes left is not used: exit 4 (got $st)" \
    sh -c "test $st = 4 && grep -q 'no terminal to ask for it' '$T/err'"
check "  ... in one line saying to run jconnect from a terminal" sh -c \
    "test \$(wc -l <'$T/err') = 1 && grep -q 'no terminal to ask for it: run jconnect from a terminal' '$T/err'"

# ---- duration_seconds that STS refuses, and one that is no number --------
st=0
"$PY" "$TTYRUN" $CODE "$JC" resolve --via ssh --profile short gpu-box \
    >"$T/pty.out" 2>&1 || st=$?
check "duration_seconds = 600: exit 4 (got $st)" test "$st" = 4
[ "$st" = 4 ] || show "$T/pty.out" 60
check "  ... one line naming the setting and what STS takes" grep -q \
    "STS refused duration_seconds 600 of profile short .*ValidationError: 1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900.*set 900 to 43200 seconds" \
    "$T/pty.out"
st=0
"$PY" "$TTYRUN" $CODE "$JC" resolve --via ssh --profile capped gpu-box \
    >"$T/pty.out" 2>&1 || st=$?
check "duration_seconds over the role's maximum: exit 4, STS's words (got $st)" \
    sh -c "test $st = 4 && grep -q 'STS refused duration_seconds 7200 of profile capped .*exceeds the MaxSessionDuration set for this role' '$T/pty.out'"
st=0
"$PY" "$TTYRUN" $CODE "$JC" resolve --via ssh --profile loose gpu-box \
    >"$T/pty.out" 2>&1 || st=$?
check "duration_seconds = 12h: a warning, then STS's default (exit $st)" \
    sh -c "test $st = 0 && grep -q 'duration_seconds \"12h\" of profile loose is not a whole number of seconds; ignored' '$T/pty.out'"
check "botocore's sts client parses the fake's refusals (ValidationError)" \
    "$PY" - <<'EOF'
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
s = botocore.session.Session(profile="base")
import os
c = s.create_client("sts", region_name="us-east-1",
                    endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                    config=Config(parameter_validation=False))
seen = []
for role, d in (("guarded", 600), ("guarded", 50000), ("capped", 7200)):
    try:
        c.assume_role(RoleArn="arn:aws:iam::123456789012:role/" + role,
                      RoleSessionName="x1", DurationSeconds=d,
                      SerialNumber="arn:aws:iam::123456789012:mfa/ana",
                      TokenCode="472913")
    except ClientError as e:
        seen.append((e.response["Error"]["Code"],
                     e.response["ResponseMetadata"]["HTTPStatusCode"],
                     e.response["Error"]["Message"]))
ok = (len(seen) == 3 and all(x[0] == "ValidationError" and x[1] == 400
                             for x in seen) and
      "less than or equal to 43200" in seen[1][2] and
      "MaxSessionDuration" in seen[2][2])
c.assume_role(RoleArn="arn:aws:iam::123456789012:role/guarded",
              RoleSessionName="x1", DurationSeconds=43200,
              SerialNumber="arn:aws:iam::123456789012:mfa/ana",
              TokenCode="472913")
raise SystemExit(0 if ok else seen)
EOF
check "no session token or secret key of the cache in any output" sh -c "! \"$PY\" -c '
import json,glob,sys
for f in glob.glob(sys.argv[1]+\"/*.json\"):
    c=json.load(open(f))[\"Credentials\"]
    print(c[\"SecretAccessKey\"]); print(c[\"SessionToken\"])' '$CACHE' | grep -qF -f - '$T/err' '$T/pty.out'"
