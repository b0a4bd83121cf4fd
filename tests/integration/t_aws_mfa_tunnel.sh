#!/bin/bash
# Tunnels over SSM whose credentials are a role with mfa_serial, while
# the fake STS makes them live 335 s (35 s before jconnect renews):
# `jconnect url` started in a pseudo-terminal asks for the code itself
# (the background tunnel has left the terminal's session) and keeps the
# session in the AWS CLI's cache; once it runs out, the background
# tunnel (and a --json tunnel with no terminal) says once that a code is
# needed and how to give one, the sessions it has carry on, and each time
# it needs credentials it reads the cache again: after botocore (the
# AWS CLI's engine) got a new code and wrote the cache, the tunnels start
# sessions again with the new key, with a line saying so.  Then the same
# again while Session Manager ends every session of the tunnel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mfa_lib.sh"

OPTS="--via ssm -l $SSH_USER -o ssm.sessions=4 -o ssm.session_idle_s=2"
st=0
# shellcheck disable=SC2086
"$PY" "$TTYRUN" $CODE "$JC" url -v $OPTS demo-stack >"$T/url.out" \
    2>"$T/url.err" || st=$?
check "jconnect url in a terminal asks for the MFA code and starts the tunnel (exit $st)" \
    sh -c "test $st = 0 && grep -q 'prompts=1' '$T/url.err' && grep -q '^http' '$T/url.out'"
t0=$(date +%s)
LOG=$(find "$XDG_STATE_HOME/jconnect" -name "*.log" 2>/dev/null | head -n1)
url=$(grep '^http' "$T/url.out" | head -n1 | tr -d '\r')
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')

# A foreground tunnel with --json and no terminal: the cache serves it.
# shellcheck disable=SC2086
setsid "$JC" --json --no-browser $OPTS demo-stack >"$T/json.out" \
    2>"$T/json.err" </dev/null &
jpid=$!
_bg="${_bg:-} $jpid"
if ! wait_for 40 grep -q '"event":"ready"' "$T/json.out"; then
	not_ok "a --json tunnel with no terminal starts from the cache"
	show "$T/json.err"
else
	ok "a --json tunnel with no terminal starts from the cache"
fi
jport=$(sed -n 's/.*"event":"url".*"port":\([0-9]*\).*/\1/p' "$T/json.out" | head -n1)

N=8
for i in $(seq 1 $N); do
	head -c $((300 * 1024)) /dev/urandom >"$RHOME/notebooks/b$i.bin"
done
burst() {	# burst NAME PORT: N parallel downloads; bad = failures
	local i p pids=""
	bad=0
	for i in $(seq 1 $N); do
		curl -s -m 120 -o "$T/d.$1.$i" \
		    "http://127.0.0.1:$2/files/b$i.bin?token=$token" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad=$((bad + 1)); done
	for i in $(seq 1 $N); do
		cmp -s "$T/d.$1.$i" "$RHOME/notebooks/b$i.bin" || bad=$((bad + 1))
	done
}
burst first "$port"
check "first burst byte-exact ($bad bad)" test "$bad" = 0
burst jfirst "$jport"
check "first burst on the --json tunnel byte-exact ($bad bad)" test "$bad" = 0

# 35 s on, jconnect wants new credentials: the cache has none it takes.
sleep $((t0 + 38 - $(date +%s)))
burst second "$port"
check "with the MFA session run out, downloads still work ($bad bad)" test "$bad" = 0
# More bursts, idle sessions ended in between, until each tunnel has
# wanted a new session (so credentials) at least twice.
for i in 1 2 3 4 5 6; do
	[ "$(grep -c 'StartSession .*needs an MFA code' "$LOG")" -ge 2 ] &&
	    grep -q '"event":"credentials"' "$T/json.out" && break
	sleep 3
	burst "again$i" "$port"
	burst "jagain$i" "$jport"
done
sleep 1
check "the background tunnel says once that a new code is needed, and how" sh -c \
    "test \$(grep -c 'the MFA session of profile tun is running out and needs a new code; run jconnect url demo-stack (or jconnect resolve demo-stack) in a terminal to enter a new code' '$LOG') = 1"
check "  ... even though it looked at the cache more than once" \
    test "$(grep -c 'StartSession .*needs an MFA code' "$LOG")" -ge 2
check "the --json tunnel says it in one credentials event" sh -c \
    "test \$(grep -c '\"event\":\"credentials\",\"time\":[0-9]*,\"state\":\"mfa_code_needed\",\"profile\":\"tun\"' '$T/json.out') = 1"
check "neither tunnel ended" sh -c "kill -0 $jpid && grep -q '^' '$LOG' && ! grep -q 'closing the tunnel' '$LOG'"
n_start=$(grep -c '"action": "StartSession"' "$REQ")

# The AWS CLI's engine gets a new code in a terminal and writes the cache.
cat >"$T/boto.py" <<'EOF'
import os, sys
import botocore.session
from botocore.utils import JSONFileCache
s = botocore.session.Session(profile="tun")
plain = s.create_client
def create_client(*a, **k):
    k.setdefault("endpoint_url", os.environ["AWS_ENDPOINT_URL"])
    return plain(*a, **k)
s.create_client = create_client
p = s.get_component("credential_provider").get_provider("assume-role")
p.cache = JSONFileCache(os.path.expanduser("~/.aws/cli/cache"))
p._prompter = lambda prompt: sys.argv[1]
print(s.get_credentials().get_frozen_credentials().access_key)
EOF
st=0
"$PY" "$T/boto.py" $CODE >"$T/boto.out" 2>"$T/boto.err" || st=$?
check "botocore with the CLI's cache gets a new MFA session (exit $st)" test "$st" = 0
AK=$(cat "$T/boto.out")
for i in 1 2 3 4 5; do
	sleep 3
	burst "healed$i" "$port"
	[ "$bad" = 0 ] || break
	grep -q 'carrying on' "$LOG" && break
done
check "after that, downloads byte-exact ($bad bad)" test "$bad" = 0
burst jthird "$jport"
check "the background tunnel found the new session in the cache and says so" \
    grep -q 'new MFA credentials for profile tun found in .*/.aws/cli/cache; carrying on' "$LOG"
check "  ... and started sessions again, signed with botocore's key" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
st=[r for r in recs if r.get("action")=="StartSession"][int(sys.argv[2]):]
sys.exit(0 if st and all(r["akid"]==sys.argv[3] and r["status"]==200 for r in st) else 1)' \
    "$REQ" "$n_start" "$AK"
check "no new AssumeRole by jconnect meanwhile (the code was botocore's)" \
    test "$(grep -c '"action": "AssumeRole"' "$REQ")" = 2
tb=$(date +%s)

# Once more, and this time the service ends every session of the
# background tunnel: it needs a new one, so credentials, at once, and
# tries the cache each time until botocore wrote a new session there.
sleep $((tb + 38 - $(date +%s)))
grep -o 'session [^ ]* started' "$LOG" | cut -d' ' -f2 |
    sort -u >"$T/sids"
cat >"$T/term.py" <<'PYEOF'
import os, sys
import botocore.session
s = botocore.session.Session(profile="base")
c = s.create_client("ssm", region_name="us-east-1",
                    endpoint_url=os.environ["AWS_ENDPOINT_URL"])
for sid in open(sys.argv[1]).read().split():
    c.terminate_session(SessionId=sid)
PYEOF
"$PY" "$T/term.py" "$T/sids" >"$T/term.out" 2>&1
check "the service ends the background tunnel's sessions" \
    wait_for 30 grep -q 'closed by Session Manager' "$LOG"
check "  ... it finds no session in the cache and says so, once more" \
    wait_for 30 sh -c "test \$(grep -c 'is running out and needs a new code' '$LOG') = 2"
sleep 4
st=0
"$PY" "$T/boto.py" $CODE >"$T/boto.out" 2>"$T/boto.err" || st=$?
AK=$(cat "$T/boto.out")
check "botocore gets another MFA session (exit $st)" test "$st" = 0
for i in 1 2 3 4 5; do
	burst "fifth$i" "$port"
	[ "$bad" = 0 ] || break
	[ "$(grep -c 'carrying on' "$LOG")" -ge 2 ] && break
	sleep 3
done
check "downloads byte-exact meanwhile and after ($bad bad)" test "$bad" = 0
check "  ... the tunnel took the new session from the cache" \
    test "$(grep -c 'new MFA credentials for profile tun found' "$LOG")" = 2
check "  ... over a session started with botocore's new key" "$PY" -c '
import json,sys
recs=[json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if [r for r in recs if r.get("action")=="StartSession" and r["akid"]==sys.argv[2] and r["status"]==200] else 1)' \
    "$REQ" "$AK"

kill -INT "$jpid"
st=0; wait "$jpid" || st=$?
check "the --json tunnel ends cleanly on Ctrl-C (exit $st)" test "$st" = 0
