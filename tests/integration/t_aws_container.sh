#!/bin/bash
# Container credentials the way ECS hands them to a task:
# AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, which always means
# http://169.254.170.2.  The test runs in a private network namespace
# (unshare -n) where that address is on the loopback interface, with the
# fake AWS and its ECS endpoint on 169.254.170.2:80 inside it: jconnect
# gets credentials there (with the authorization token when one is set),
# says so at -v, and the fake AWS sees calls signed with that key.
# botocore's own container provider reads the same endpoint.  Needs root
# (a network namespace); skipped, with a line saying so, without it.

if [ -z "${JC_IN_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 ||
	    ! command -v ip >/dev/null 2>&1; then
		echo "ok 1 - t_aws_container: # SKIP needs root, unshare and ip (a private network namespace holding 169.254.170.2)"
		echo "1..1"
		exit 0
	fi
	JC_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

if ! ip link set lo up || ! ip addr add 169.254.170.2/32 dev lo; then
	not_ok "169.254.170.2 on the loopback interface of a private namespace"
	exit 0
fi
ok "in a private network namespace with 169.254.170.2 on lo"

cat >"$T/sc.json" <<'EOF'
{
 "region": "us-east-1",
 "container": {"listen": "169.254.170.2:80", "token": "ctr-auth-token-0001"},
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
	not_ok "fake AWS and its ECS endpoint start"; show "$T/fake.log"; exit 0
fi
REQ=$T/state/requests.jsonl
printf 'ctr-auth-token-0001\n' >"$T/ctr-token"
REL=/v2/credentials/5f1a6b0e-3c1d-4b7e-9a52-0d1e2f3a4b5c

# crun ENV... : jconnect resolve -v with only the container's variables.
crun() {
	st=0
	env AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
	    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
	    AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$T/port")" \
	    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=$REL "$@" \
	    timeout 60 "$JC" resolve --via ssh -v gpu-box >"$T/out" 2>"$T/err" \
	    </dev/null || st=$?
}

crun AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$T/ctr-token"
check "RELATIVE_URI with a token file: resolve exit 0 (got $st)" test "$st" = 0
[ "$st" = 0 ] || show "$T/err"
check "  ... -v says the credentials came from the container endpoint" \
    grep -q 'AWS credentials: container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with an authorization token)' "$T/err"
check "  ... fetched from 169.254.170.2 at that path, with the token" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if [r for r in recs if r.get("service")=="container" and r.get("action")=="GetCredentials" and r.get("authorized")] and [r for r in recs if r.get("action")=="Served" and r["path"]==sys.argv[2]] else 1)' "$REQ" "$REL"
check "  ... and EC2 calls were signed with the key it served" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
served={r["akid"] for r in recs if r.get("action")=="Served"}
ec2=[r for r in recs if r.get("action")=="DescribeInstances"]
sys.exit(0 if ec2 and all(r["akid"] in served and r["status"]==200 for r in ec2) else 1)' "$REQ"

crun AWS_CONTAINER_AUTHORIZATION_TOKEN=ctr-auth-token-0001
check "RELATIVE_URI with the token in the environment: exit 0 (got $st)" \
    grep -q 'container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with an authorization token)' "$T/err"
crun AWS_CONTAINER_AUTHORIZATION_TOKEN=not-the-token
check "a wrong token: exit 4 naming the endpoint and HTTP 401 (got $st)" \
    sh -c "test $st = 4 && grep -q 'http://169.254.170.2$REL answered HTTP 401 (check the authorization token)' '$T/err'"
crun
check "no token where the endpoint wants one: exit 4 (got $st)" test "$st" = 4
check "the token never shows in any output" sh -c \
    "! grep -rqF ctr-auth-token-0001 '$T/out' '$T/err'"

st=0
# (This botocore knows the token variable, not yet the token file.)
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=$REL \
    AWS_CONTAINER_AUTHORIZATION_TOKEN=ctr-auth-token-0001 \
    "$PY" -c '
import json,os,sys
from botocore.credentials import ContainerProvider
c = ContainerProvider(environ=os.environ).load().get_frozen_credentials()
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if c.access_key == [r for r in recs if r.get("action")=="Served"][-1]["akid"] and c.token else 1)' \
    "$REQ" >"$T/boto.out" 2>&1 || st=$?
check "botocore's container provider reads the same endpoint (exit $st)" test "$st" = 0
[ "$st" = 0 ] || show "$T/boto.out"
