#!/bin/bash
# --json: one JSON object per line on stdout and nothing else; events in
# order; an error is an event too, with the exit code.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
"$JC" --json --no-browser $SSH_OPTS "$SSH_TARGET" >"$T/out" 2>"$T/err" &
jc=$!
wait_for 30 grep -q '"event":"ready"' "$T/out" || { not_ok "ready event"; show "$T/err"; exit 1; }
kill -INT $jc; wait $jc
check "every stdout line is a JSON object with an event" "$PY" -c '
import json, sys
ev = [json.loads(l)["event"] for l in open(sys.argv[1])]
want = ["connected", "port", "url", "ready", "closed"]
assert [e for e in ev if e in want] == want, ev
' "$T/out"
check "the url event holds the working URL" "$PY" -c '
import json, sys, urllib.request
u = [json.loads(l) for l in open(sys.argv[1]) if "\"url\"" in l][0]
assert u["url"].startswith("http://127.0.0.1:") and "token=" in u["url"]
' "$T/out"
# A key sshd does not know (a missing -i file is a usage error, exit 2).
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
st=0
"$JC" --json --no-browser -i "$T/wrong_key" -p "$SSHD_PORT" \
    --known-hosts "$KNOWN_HOSTS" "$SSH_TARGET" >"$T/out2" 2>/dev/null || st=$?
check "a failure exits 5" test "$st" = 5
check "and is an error event with exit 5" "$PY" -c '
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])][-1]
assert e["event"] == "error" and e["exit"] == 5, e
' "$T/out2"
