#!/bin/bash
# A foreground tunnel on a terminal whose credentials are a role with
# mfa_serial, while the fake STS makes them live 335 s (35 s before
# jconnect renews): the code is asked for at the start, and once the
# session runs out it is asked for again beside the running tunnel: the
# prompt waits on the terminal (typed 15 s later here) while the notebook
# keeps answering; the typed code gives a new MFA session that the next
# Session Manager calls use.  Ctrl-C leaves the terminal's echo on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mfa_lib.sh"
for i in 1 2 3 4 5 6; do
	head -c $((200 * 1024)) /dev/urandom >"$RHOME/notebooks/b$i.bin"
done

LP=$(free_port)
"$PY" "$TTYRUN" --later 15 --max 150 "$CODE" \
    "$JC" --no-browser --local-port "$LP" --via ssm -l "$SSH_USER" \
    -o ssm.compress=no -o ssm.sessions=4 -o ssm.session_idle_s=2 \
    demo-stack >"$T/tty.out" 2>"$T/tty.err" &
tty=$!
_bg="${_bg:-} $tty"
t0=$(date +%s)
if ! wait_for 40 grep -q "^http" "$T/tty.out"; then
	not_ok "the tunnel starts after the first code"; show "$T/tty.out"
	exit 1
fi
ok "the tunnel starts after the first code"
url=$(grep '^http' "$T/tty.out" | head -n1 | tr -d '\r')
token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
status() { curl -fsS -m 3 -o /dev/null \
    "http://127.0.0.1:$LP/api/status?token=$token"; }

# Past the renewal point, parallel downloads need more sessions, so
# credentials: the question comes back.
sleep $((t0 + 40 - $(date +%s)))
pids=""
for i in 1 2 3 4 5 6; do
	curl -s -m 60 -o "$T/d$i" \
	    "http://127.0.0.1:$LP/files/b$i.bin?token=$token" &
	pids="$pids $!"
done
check "the code is asked for again" \
    wait_for 20 sh -c "test \$(grep -c 'MFA code for' '$T/tty.out') -ge 2"
# ttyrun types it 15 s after the prompt: meanwhile the tunnel serves.
fails=0
for i in 1 2 3 4 5 6 7 8; do status || fails=$((fails + 1)); sleep 1; done
check "while the prompt waits, the notebook answers (8 checks, $fails failed)" \
    test "$fails" = 0
for p in $pids; do wait "$p"; done
bad=0
for i in 1 2 3 4 5 6; do
	cmp -s "$T/d$i" "$RHOME/notebooks/b$i.bin" || bad=$((bad + 1))
done
check "  ... and the downloads arrive byte-exact ($bad bad)" test "$bad" = 0
check "once typed, the new MFA session is taken" \
    wait_for 30 grep -q 'new MFA credentials for profile tun; carrying on' \
    "$T/tty.out"
check "  ... from a second AssumeRole with the code" \
    test "$(grep '"action": "AssumeRole"' "$REQ" | grep -c '"status": 200')" = 2
# Sessions started after that carry the new key.
pids=""
for i in 1 2 3 4 5 6; do
	curl -s -m 60 -o /dev/null \
	    "http://127.0.0.1:$LP/files/b$i.bin?token=$token" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
check "  ... and Session Manager calls after it use the new key" "$PY" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
keys = [r["akid"] for r in recs if r.get("action") in
        ("StartSession", "TerminateSession") and r.get("status") == 200]
sys.exit(0 if len(set(keys)) >= 2 else 1)' "$REQ"

pkill -INT -P "$tty"
st=0
wait "$tty" || st=$?
check "Ctrl-C ends the tunnel (exit $st)" test "$st" = 0
check "  ... asked twice in all" grep -q 'prompts=2' "$T/tty.err"
check "  ... and the terminal's echo is on again" grep -q 'echo=on' "$T/tty.err"
