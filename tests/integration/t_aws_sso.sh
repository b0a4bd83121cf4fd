#!/bin/bash
# IAM Identity Center without the AWS CLI, against the fake AWS (SSO OIDC
# and the portal in their REST-JSON shapes, checked with botocore's own
# sso-oidc and sso clients): jconnect login through a headless browser
# stand-in that approves the device code (SlowDown honoured), the token
# cache keyed and written as botocore keys and writes it (0600), accepted
# by botocore's SSO token provider and the other way round, an expired
# access token refreshed and the cache rewritten, an unusable refresh
# token -> exit 4 naming jconnect login, the legacy profile form; the
# other sources of the SDK chain: MFA asked on a pseudo-terminal (and a
# clear exit 4 without one), web identity from a profile and from the
# environment, container credentials with an authorization token, and
# credential_source EcsContainer.  No secret in any output at -vv, in the
# browser's argv or in any command line.
. "$(dirname "$0")/lib.sh"

cat >"$T/sc.json" <<'EOF'
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "AKIDEXAMPLERIG000001",
   "secret_key": "rigsecretrigsecretrigsecretrigsecret0001",
   "arn": "arn:aws:iam::123456789012:user/ana"}
 ],
 "sso": {"interval": 1, "slow_down": 1,
         "accounts": {"123456789012": ["Admin"]}},
 "roles": {"arn:aws:iam::123456789012:role/guarded":
            {"mfa_serial": "arn:aws:iam::123456789012:mfa/ana",
             "mfa_code": "472913"},
           "arn:aws:iam::123456789012:role/task-admin": {}},
 "web_identity": {"tokens": ["wit-eyJhbGciOiJSUzI1NiJ9.pod-token-0001"]},
 "container": {"token": "ctr-auth-token-0001"},
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
CACHE=$HOME/.aws/sso/cache
START=https://corp.awsapps.com/start

mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/config" <<EOF
[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin
region = us-east-1

[sso-session corp]
sso_start_url = $START
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile old]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Admin
region = us-east-1

[profile base]
aws_access_key_id = AKIDEXAMPLERIG000001
aws_secret_access_key = rigsecretrigsecretrigsecretrigsecret0001
region = us-east-1

[profile guarded]
role_arn = arn:aws:iam::123456789012:role/guarded
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/ana
region = us-east-1

[profile pod]
role_arn = arn:aws:iam::123456789012:role/pod
web_identity_token_file = $T/wit
region = us-east-1

[profile task]
role_arn = arn:aws:iam::123456789012:role/task-admin
credential_source = EcsContainer
region = us-east-1
EOF
printf 'wit-eyJhbGciOiJSUzI1NiJ9.pod-token-0001\n' >"$T/wit"
printf 'ctr-auth-token-0001' >"$T/ctr-token"

export AWS_ENDPOINT_URL=$URL AWS_EC2_METADATA_DISABLED=true
unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE

# The headless browser: jconnect hands it a file:// page; it reads the
# redirect there and fetches the sign-in address as a browser would,
# which approves the code.  It also records its argv and every command
# line on the machine at that moment.
cat >"$T/browser" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/browser.argv"
cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' >"$T/browser.cmdlines"
f=\${1#file://}
u=\$("$PY" -c 'import html,re,sys; print(html.unescape(re.search(r"url=([^\"]+)\"", open(sys.argv[1]).read()).group(1)))' "\$f")
printf '%s\n' "\$u" >"$T/browser.url"
curl -s "\$u" >"$T/browser.page"
EOF
chmod 755 "$T/browser"
export BROWSER=$T/browser

# run ARGS... : jconnect, status in $st, stderr in $T/err
run() {
	st=0
	timeout 60 "$JC" "$@" >"$T/out" 2>"$T/err" </dev/null || st=$?
	cat "$T/err" >>"$T/all-output"
	cat "$T/out" >>"$T/all-output"
}
expect() {	# expect NAME STATUS [PATTERN]
	if [ "$st" = "$2" ] && { [ $# -lt 3 ] || grep -q -- "$3" "$T/err"; }
	then ok "$1"
	else not_ok "$1 (exit $st)"; show "$T/err"; fi
}
sha1() { printf '%s' "$1" | sha1sum | cut -c1-40; }
mode() { stat -c %a "$1"; }
calls() { grep -c "\"action\": \"$1\"" "$REQ" 2>/dev/null || true; }
json() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }

# ---- before any sign-in ---------------------------------------------------
run resolve --via ssh --profile dev gpu-box
expect "no cached token: exit 4" 4
check "  ... one line naming jconnect login and aws sso login" sh -c \
    "test \$(wc -l <'$T/err') = 1 && grep -q 'run jconnect login --profile dev (or aws sso login --profile dev)' '$T/err'"

# ---- jconnect login -------------------------------------------------------
run login --profile dev -v
expect "jconnect login through the browser stand-in: exit 0" 0
check "  ... the browser got one file:// URL, nothing else" sh -c \
    "test \$(wc -l <'$T/browser.argv') = 1 && grep -q '^file:///' '$T/browser.argv'"
check "  ... which led to the verification address of the fake" \
    grep -q "^$URL/device?user_code=" "$T/browser.url"
code=$(sed 's/.*user_code=//' "$T/browser.url")
check "  ... the user code is shown on the terminal" grep -q "$code" "$T/err"
check "  ... SlowDownException made it poll 5 s slower" \
    grep -q 'poll slower: every 6 s' "$T/err"
check "  ... CreateToken was polled until the approval" \
    test "$(grep -c '"code": "SlowDownException"' "$REQ")" = 1
TOK=$CACHE/$(sha1 corp).json
REG=$CACHE/$("$PY" -c 'import hashlib,json,sys
a={"tool":"botocore","startUrl":sys.argv[1],"region":"us-east-1","scopes":["sso:account:access"],"session_name":"corp"}
print(hashlib.sha1(json.dumps(a,sort_keys=True).encode()).hexdigest())' "$START").json
check "token cache named by the sha1 of the sso-session name" test -s "$TOK"
check "registration cache named as botocore names it" test -s "$REG"
check "  ... both 0600" sh -c "test $(mode "$TOK") = 600 && test $(mode "$REG") = 600"
check "  ... in a 0700 directory" test "$(mode "$CACHE")" = 700
check "  ... no temporary file left" sh -c "! ls '$CACHE' | grep -q tmp"
check "the token file has the AWS CLI's fields" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1]))
need={"startUrl","region","accessToken","expiresAt","clientId","clientSecret","registrationExpiresAt","refreshToken"}
sys.exit(0 if need <= set(d) and d["startUrl"]==sys.argv[2] and d["expiresAt"].endswith("Z") else 1)' "$TOK" "$START"
ACCESS1=$(json "$TOK" accessToken)
REFRESH1=$(json "$TOK" refreshToken)
SECRET=$(json "$TOK" clientSecret)
check "no secret in any command line during the sign-in" sh -c \
    "! grep -qF -e '$SECRET' -e '$ACCESS1' '$T/browser.cmdlines'"

# ---- the SSO profile in use -----------------------------------------------
run resolve --via ssh --profile dev -vv gpu-box
expect "resolve with the SSO profile: exit 0" 0
check "  ... -v says the credentials come from AWS SSO" grep -q \
    'AWS credentials: AWS SSO (profile dev, role Admin in account 123456789012)' "$T/err"
check "  ... GetRoleCredentials was called once" test "$(calls GetRoleCredentials)" = 1
check "  ... and EC2 was called with those role credentials" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(r.get("service")=="ec2" and r.get("akid","").startswith("ASIA") and r.get("token") for r in recs) else 1)' "$REQ"
check "  ... no CreateToken (the token was fresh)" test "$(calls CreateToken)" = 2

# botocore reads what jconnect wrote, and its clients parse the fake.
cat >"$T/boto.py" <<'EOF'
import sys
import botocore.session, botocore.tokens
from botocore import UNSIGNED
from botocore.config import Config
url, profile, want = sys.argv[1], sys.argv[2], sys.argv[3]
s = botocore.session.Session(profile=profile)
cfg = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
p = botocore.tokens.SSOTokenProvider(s)
p._client = s.create_client("sso-oidc", region_name="us-east-1",
                            endpoint_url=url, config=cfg)
tok = p.load_token().get_frozen_token().token
if want != "-" and tok != want:
    sys.exit("botocore read another token")
sso = s.create_client("sso", region_name="us-east-1", endpoint_url=url,
                      config=cfg)
rc = sso.get_role_credentials(roleName="Admin", accountId="123456789012",
                              accessToken=tok)["roleCredentials"]
assert rc["accessKeyId"].startswith("ASIA") and rc["expiration"] > 0
try:
    sso.get_role_credentials(roleName="Admin", accountId="123456789012",
                             accessToken="not-a-token")
    sys.exit("a bad token was accepted")
except sso.exceptions.UnauthorizedException:
    pass
oidc = p._client
try:
    oidc.create_token(clientId="nobody", clientSecret="x",
                      grantType="refresh_token", refreshToken="x")
    sys.exit("an unknown client was accepted")
except oidc.exceptions.InvalidClientException:
    pass
print("ok")
EOF
check "botocore's SSO token provider accepts jconnect's cache; sso and sso-oidc shapes parse" \
    "$PY" "$T/boto.py" "$URL" dev "$ACCESS1"

# The whole device flow through botocore's own sso-oidc client.
cat >"$T/boto_oidc.py" <<'EOF'
import sys, urllib.request
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
url = sys.argv[1]
s = botocore.session.Session()
c = s.create_client("sso-oidc", region_name="us-east-1", endpoint_url=url,
                    config=Config(signature_version=UNSIGNED,
                                  retries={"max_attempts": 1}))
reg = c.register_client(clientName="boto-check", clientType="public",
                        scopes=["sso:account:access"])
assert reg["clientSecretExpiresAt"] > reg["clientIdIssuedAt"]
auth = c.start_device_authorization(clientId=reg["clientId"],
                                    clientSecret=reg["clientSecret"],
                                    startUrl="https://corp.awsapps.com/start")
assert auth["verificationUriComplete"].endswith(auth["userCode"])
assert auth["interval"] >= 1 and auth["expiresIn"] > 0
grant = "urn:ietf:params:oauth:grant-type:device_code"
args = dict(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
            grantType=grant, deviceCode=auth["deviceCode"])
for exc in (c.exceptions.SlowDownException,
            c.exceptions.AuthorizationPendingException):
    try:
        c.create_token(**args)
        sys.exit("no %s" % exc.__name__)
    except exc as e:
        assert e.response["Error"]["Code"] == exc.__name__
urllib.request.urlopen(auth["verificationUriComplete"]).read()
tok = c.create_token(**args)
assert tok["accessToken"] and tok["refreshToken"] and tok["expiresIn"] > 0
try:
    c.create_token(**args)
    sys.exit("a device code was used twice")
except c.exceptions.InvalidGrantException:
    pass
new = c.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                     grantType="refresh_token", refreshToken=tok["refreshToken"])
assert new["accessToken"] != tok["accessToken"]
try:
    c.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="client_credentials")
    sys.exit("an unsupported grant was accepted")
except c.exceptions.UnsupportedGrantTypeException:
    pass
print("ok")
EOF
check "botocore's sso-oidc client runs the device flow against the fake (SlowDown, AuthorizationPending, InvalidGrant, refresh)" \
    "$PY" "$T/boto_oidc.py" "$URL"

# ---- refresh ----------------------------------------------------------------
expire() {	# expire FILE: the access token expired a minute ago
	"$PY" -c 'import json,sys,time
d=json.load(open(sys.argv[1])); d["expiresAt"]=time.strftime("%Y-%m-%dT%H:%M:%SZ",time.gmtime(time.time()-60))
for k,v in zip(sys.argv[2::2], sys.argv[3::2]): d[k]=v
open(sys.argv[1],"w").write(json.dumps(d))' "$@"
}
expire "$TOK"
n0=$(grep -c '"grant": "refresh_token"' "$REQ" || true)
run resolve --via ssh --profile dev -vv gpu-box
expect "expired access token: refreshed, exit 0" 0 'token renewed and cached'
check "  ... through CreateToken with grant_type refresh_token" \
    test "$(grep -c '"grant": "refresh_token"' "$REQ")" = $((n0 + 1))
ACCESS2=$(json "$TOK" accessToken)
check "  ... the cache holds the new access and refresh tokens" sh -c \
    "test '$ACCESS2' != '$ACCESS1' && test '$(json "$TOK" refreshToken)' != '$REFRESH1'"
check "  ... with a future expiresAt, still 0600" sh -c "$PY -c '
import json,sys,time,calendar
d=json.load(open(sys.argv[1]))
sys.exit(0 if calendar.timegm(time.strptime(d[\"expiresAt\"],\"%Y-%m-%dT%H:%M:%SZ\"))>time.time()+3000 else 1)' '$TOK' && test $(mode "$TOK") = 600"
check "botocore accepts the rewritten cache" \
    "$PY" "$T/boto.py" "$URL" dev "$ACCESS2"

# botocore refreshes (and writes the cache its way); jconnect uses that.
expire "$TOK"
check "botocore refreshes an expired token and writes the cache" \
    "$PY" "$T/boto.py" "$URL" dev -
ACCESS3=$(json "$TOK" accessToken)
n0=$(calls CreateToken)
run resolve --via ssh --profile dev -v gpu-box
expect "jconnect accepts the cache botocore wrote" 0
check "  ... without another CreateToken" test "$(calls CreateToken)" = "$n0"
check "  ... and the cache is as botocore left it" \
    test "$(json "$TOK" accessToken)" = "$ACCESS3"

# Older AWS CLIs wrote the times as "...UTC".
"$PY" -c 'import json,sys,time
d=json.load(open(sys.argv[1])); d["expiresAt"]=time.strftime("%Y-%m-%dT%H:%M:%SUTC",time.gmtime(time.time()+3000))
open(sys.argv[1],"w").write(json.dumps(d))' "$TOK"
n0=$(calls CreateToken)
run resolve --via ssh --profile dev gpu-box
expect "an expiresAt in the older CLIs' \"UTC\" form is read" 0
check "  ... as a valid token (no refresh)" test "$(calls CreateToken)" = "$n0"

# A refresh token the service refuses: sign in again, exit 4.
expire "$TOK" refreshToken aor-revoked-refresh-token
n_ig=$(grep -c '"code": "InvalidGrantException"' "$REQ" || true)
run resolve --via ssh --profile dev -v gpu-box
expect "refused refresh token: exit 4" 4 \
    'run jconnect login --profile dev (or aws sso login --profile dev)'
check "  ... the service said InvalidGrantException" \
    test "$(grep -c '"code": "InvalidGrantException"' "$REQ")" -gt "$n_ig"
run resolve --via ssh --profile dev gpu-box
check "  ... at default verbosity one line" sh -c \
    "test '$st' = 4 && test \$(wc -l <'$T/err') = 1"
# A token the portal no longer accepts (signed out elsewhere).
# --no-browser: the address and code on the terminal; someone opens it.
cp "$T/browser.argv" "$T/browser.argv.before"
st=0
timeout 60 "$JC" login --profile dev --no-browser >"$T/out" 2>"$T/err" &
lpid=$!
wait_for 20 grep -q "^  $URL/device" "$T/err"
code=$(sed -n 's/^  \([A-Z0-9]*-[A-Z0-9]*\)$/\1/p' "$T/err")
curl -s "$URL/device?user_code=$code" >/dev/null
wait $lpid || st=$?
expect "login --no-browser: address and code printed, approved there: exit 0" 0
check "  ... no browser was started" cmp -s "$T/browser.argv" "$T/browser.argv.before"
"$PY" -c 'import json,sys
d=json.load(open(sys.argv[1])); d["accessToken"]="aoa-signed-out"
open(sys.argv[1],"w").write(json.dumps(d))' "$TOK"
run resolve --via ssh --profile dev gpu-box
expect "a token the portal refuses (UnauthorizedException): exit 4" 4 \
    'jconnect login --profile dev'

# A cached client registration the service does not know any more.
"$PY" -c 'import json,sys
d=json.load(open(sys.argv[1])); d["clientId"]="forgotten-client"
open(sys.argv[1],"w").write(json.dumps(d))' "$REG"
run login --profile dev -v
expect "login with a registration the service refuses: registers again, exit 0" 0 \
    'refused; registering again'
check "  ... and caches the new registration" \
    test "$(json "$REG" clientId)" != forgotten-client

# ---- the legacy form --------------------------------------------------------
run login --profile old
expect "login for a legacy profile (sso_start_url in the profile)" 0
check "  ... cached under the sha1 of the start URL" \
    test -s "$CACHE/$(sha1 https://legacy.awsapps.com/start).json"
run resolve --via ssh --profile old -v gpu-box
expect "resolve with the legacy SSO profile" 0 'AWS SSO (profile old'
run login --profile base
expect "login for a profile without SSO: exit 2, says what to add" 2 \
    'not an AWS SSO profile'

# A sign-in nobody approves, and one denied in the browser: a second fake
# whose device codes live 3 seconds.
printf '{"region": "us-east-1", "sso": {"interval": 1, "device_ttl": 3}}\n' \
    >"$T/sc2.json"
"$PY" "$ROOT/tests/rig/fake_aws.py" --scenario "$T/sc2.json" --port 0 \
    --port-file "$T/port2" --state "$T/state2" 2>"$T/fake2.log" &
_bg="${_bg:-} $!"
wait_for 30 test -s "$T/port2"
URL2=http://127.0.0.1:$(cat "$T/port2")
st=0
AWS_ENDPOINT_URL=$URL2 BROWSER=true timeout 60 "$JC" login --profile dev \
    >"$T/out" 2>"$T/err" </dev/null || st=$?
expect "a sign-in nobody approves: exit 4 once the code expired" 4 \
    'expired before it was approved: run jconnect login --profile dev again'
check "  ... the service said ExpiredTokenException" \
    grep -q '"code": "ExpiredTokenException"' "$T/state2/requests.jsonl"
cat >"$T/denier" <<EOF
#!/bin/sh
u=\$("$PY" -c 'import html,re,sys; print(html.unescape(re.search(r"url=([^\"]+)\"", open(sys.argv[1]).read()).group(1)))' "\${1#file://}")
curl -s "\$u&deny=1" >/dev/null
EOF
chmod 755 "$T/denier"
st=0
AWS_ENDPOINT_URL=$URL2 BROWSER=$T/denier timeout 60 "$JC" login \
    --profile dev >"$T/out" 2>"$T/err" </dev/null || st=$?
expect "a sign-in denied in the browser: exit 4" 4 'denied in the browser'

# ---- MFA ----------------------------------------------------------------------
# Types the MFA code at each prompt on a pseudo-terminal.
TTYRUN=$ROOT/tests/tools/ttyrun.py
st=0
"$PY" "$TTYRUN" 472913 "$JC" resolve --via ssh --profile guarded -v \
    gpu-box >"$T/pty.out" 2>&1 || st=$?
check "MFA: the code is asked on the terminal, AssumeRole passes it (exit $st)" \
    sh -c "test $st = 0 && grep -q 'MFA code for arn:aws:iam::123456789012:mfa/ana' '$T/pty.out'"
check "  ... -v names the role" grep -q 'role arn:aws:iam::123456789012:role/guarded' "$T/pty.out"
check "  ... AssumeRole carried SerialNumber and TokenCode" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(r.get("action")=="AssumeRole" and r.get("status")==200 and (r.get("params") or {}).get("TokenCode")=="472913" for r in recs) else 1)' "$REQ"
check "  ... the code is not echoed" sh -c "! grep -q 472913 '$T/pty.out'"
# The session is kept for the next runs (t_aws_mfa_cache): these need a code.
rm -rf "$HOME/.aws/cli/cache"
st=0
"$PY" "$TTYRUN" 654321 "$JC" resolve --via ssh --profile guarded \
    gpu-box >"$T/pty.out" 2>&1 || st=$?
check "MFA: a wrong code is exit 4 (got $st)" test "$st" = 4
check "  ... saying STS refused the code" grep -q 'STS refused role .* with the MFA code' "$T/pty.out"
st=0
echo 472913 | setsid timeout 30 "$JC" resolve --via ssh --profile guarded \
    gpu-box >"$T/out" 2>"$T/err" || st=$?
expect "MFA without a terminal (code on a pipe ignored): exit 4, says so" 4 \
    'no terminal to ask for it'

# ---- web identity ---------------------------------------------------------------
run resolve --via ssh --profile pod -v gpu-box
expect "web_identity_token_file in a profile: exit 0" 0 \
    'AWS credentials: web identity (role arn:aws:iam::123456789012:role/pod, profile pod)'
check "  ... AssumeRoleWithWebIdentity was called unsigned" \
    test "$(calls AssumeRoleWithWebIdentity)" -ge 1
st=0
AWS_WEB_IDENTITY_TOKEN_FILE=$T/wit AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci \
    AWS_ROLE_SESSION_NAME=ci-run-7 AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    timeout 30 "$JC" resolve --via ssh -v gpu-box >"$T/out" 2>"$T/err" || st=$?
cat "$T/err" >>"$T/all-output"
expect "AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: exit 0" 0 \
    'web identity (role arn:aws:iam::123456789012:role/ci, AWS_WEB_IDENTITY_TOKEN_FILE)'
printf 'wit-forged' >"$T/wit-bad"
st=0
AWS_WEB_IDENTITY_TOKEN_FILE=$T/wit-bad AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci \
    AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    timeout 30 "$JC" resolve --via ssh gpu-box >"$T/out" 2>"$T/err" || st=$?
expect "a token STS refuses: exit 4, in one line" 4 'InvalidIdentityToken'

# ---- container credentials --------------------------------------------------------
cenv() { env AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$1" "${@:2}"; }
st=0
cenv "$URL/container-credentials/task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/ctr-token" \
    timeout 30 "$JC" resolve --via ssh -vv gpu-box >"$T/out" 2>"$T/err" || st=$?
cat "$T/err" >>"$T/all-output"
expect "container credentials (FULL_URI, token file): exit 0" 0 \
    'AWS credentials: container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, with an authorization token)'
st=0
cenv "$URL/container-credentials/task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-token \
    timeout 30 "$JC" resolve --via ssh gpu-box >"$T/out" 2>"$T/err" || st=$?
expect "a wrong container authorization token: exit 4" 4 'HTTP 401'
st=0
cenv "http://example.com:$(cat "$T/port")/container-credentials/task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=ctr-auth-token-0001 \
    timeout 30 "$JC" resolve --via ssh gpu-box >"$T/out" 2>"$T/err" || st=$?
expect "FULL_URI to a host that is not the agent or loopback: exit 4" 4 \
    'must name the container agent'
st=0
AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/container-credentials/task" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=ctr-auth-token-0001 \
    timeout 30 "$JC" resolve --via ssh --profile task -v gpu-box \
    >"$T/out" 2>"$T/err" || st=$?
cat "$T/err" >>"$T/all-output"
expect "credential_source EcsContainer assumes the role with them" 0 \
    'role arn:aws:iam::123456789012:role/task-admin (profile task, via container credentials'

# ---- secrets ------------------------------------------------------------------------
secrets=$("$PY" -c 'import json,glob,sys
for f in glob.glob(sys.argv[1]+"/*.json"):
    d=json.load(open(f))
    for k in ("accessToken","refreshToken","clientSecret"):
        if k in d: print(d[k])' "$CACHE")
printf '%s\n' "$secrets" "$ACCESS1" "$REFRESH1" "$ACCESS2" \
    wit-eyJhbGciOiJSUzI1NiJ9.pod-token-0001 ctr-auth-token-0001 \
    | grep -v '^$' >"$T/secrets"
check "no access token, refresh token, client secret or identity token in any output at -v/-vv" \
    sh -c "! grep -qF -f '$T/secrets' '$T/all-output' '$T/pty.out'"
check "cache files are all 0600" sh -c \
    "for f in '$CACHE'/*.json; do test \$(stat -c %a \"\$f\") = 600 || exit 1; done"

