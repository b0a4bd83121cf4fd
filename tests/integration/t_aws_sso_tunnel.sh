#!/bin/bash
# A long tunnel over SSM whose credentials come from IAM Identity Center
# (jconnect login, then the SSO profile) while the fake SSO portal hands
# out role credentials that live 10 seconds: the Session Manager calls
# made long after the first credentials expired (extra port sessions
# started for a second burst of downloads, idle ones terminated) carry
# renewed credentials, nothing is refused as expired, and every download
# is byte-exact.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws --agent-pace 1 \
    --scenario-add '{"sso": {"interval": 1, "role_ttl": 10}}'
REQ=$AWS_STATE/requests.jsonl

# The rig's keys are not ours: only the SSO profile gives credentials.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
mkdir -p "$HOME/.aws"
cat >"$HOME/.aws/config" <<'EOF'
[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Admin
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
EOF
export AWS_CONFIG_FILE=$HOME/.aws/config AWS_PROFILE=dev

# Sign in, approving the code the way a browser would.
"$JC" login --no-browser >"$T/login.out" 2>"$T/login.err" &
lpid=$!
wait_for 20 grep -q "^  $AWS_ENDPOINT_URL/device" "$T/login.err"
code=$(sed -n 's/^  \([A-Z0-9]*-[A-Z0-9]*\)$/\1/p' "$T/login.err")
curl -s "$AWS_ENDPOINT_URL/device?user_code=$code" >/dev/null
st=0; wait $lpid || st=$?
check "jconnect login for the tunnel's profile (exit $st)" test "$st" = 0

N=8
for i in $(seq 1 $N); do
	head -c $((300 * 1024)) /dev/urandom >"$RHOME/notebooks/b$i.bin"
done
"$JC" --no-browser --via ssm -l "$SSH_USER" -v -o ssm.sessions=4 \
    -o ssm.session_idle_s=2 demo-stack >"$T/out" 2>"$T/err" &
jc=$!
if ! wait_for 40 grep -q '^http' "$T/out"; then
	not_ok "tunnel up with SSO credentials"; show "$T/err"; exit 1
fi
ok "tunnel up with SSO credentials"
url=$(head -n1 "$T/out")
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')

burst() {	# burst NAME: N parallel downloads; bad = failures
	local i p pids=""
	bad=0
	for i in $(seq 1 $N); do
		curl -s -m 120 -o "$T/d.$1.$i" \
		    "http://127.0.0.1:$port/files/b$i.bin?token=$token" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad=$((bad + 1)); done
	for i in $(seq 1 $N); do
		cmp -s "$T/d.$1.$i" "$RHOME/notebooks/b$i.bin" || bad=$((bad + 1))
	done
}

burst first
check "first burst byte-exact ($bad bad)" test "$bad" = 0
first_key=$("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get("action")=="StartSession" and r.get("status")==200:
        print(r["akid"]); break' "$REQ")
t_mid=$(date +%s)
# The first role credentials expire; idle extra sessions are ended.
sleep 14
burst second
check "second burst, 14 s later, byte-exact ($bad bad)" test "$bad" = 0
kill -INT "$jc"
st=0; wait "$jc" || st=$?
check "the tunnel ends cleanly on Ctrl-C (exit $st)" test "$st" = 0

check "the first credentials had expired at the fake by then" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
gets=[r["t"] for r in recs if r.get("action")=="GetRoleCredentials"]
sys.exit(0 if gets and float(sys.argv[2]) + 14 > gets[0] + 10 else 1)' "$REQ" "$t_mid"
check "Session Manager calls after that carried other, renewed keys" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
t=float(sys.argv[3]) + 10
late=[r for r in recs if r.get("service")=="ssm" and r["t"] > t]
sys.exit(0 if late and all(r["status"]==200 and r["akid"]!=sys.argv[2] for r in late) else 1)' \
    "$REQ" "$first_key" "$t_mid"
check "the portal was asked again (GetRoleCredentials more than once)" \
    test "$(grep -c '"action": "GetRoleCredentials"' "$REQ")" -ge 2
check "no AWS call was refused as expired" \
    sh -c "! grep -q 'ExpiredToken' '$REQ'"
check "-v says the SSO credentials were renewed" \
    grep -q 'AWS credentials from AWS SSO (profile dev.*expire soon; renewing' "$T/err"
