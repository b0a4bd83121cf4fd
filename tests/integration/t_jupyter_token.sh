#!/bin/bash
# A token the server refuses (it restarted between discovery and the
# check: its runtime file still names the old token): exit 7 with a
# message saying which server and what to do, and no URL.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/jupyter_lib.sh"

rig_start sshd jupyter
rt="$JUPYTER_RUNTIME_DIR/nbserver-$JUPYTER_PID.json"
check "runtime file present" test -f "$rt"
sed -i "s/$JUPYTER_TOKEN/0123456789abcdef0123456789abcdef0123456789abcdef/" "$rt"

st=0
timeout 60 "$JC" --no-browser $SSH_OPTS "$SSH_TARGET" >"$T/out" \
    2>"$T/err" || st=$?
check "refused token: exit 7 (got $st)" test "$st" = 7
check "the message says the token was refused" \
    grep -q 'refused the token' "$T/err"
check "the message names the server's port" grep -q "$JUPYTER_PORT" "$T/err"
check "no URL on stdout" test ! -s "$T/out"
check "neither token on stderr" \
    sh -c "! grep -q -e '$JUPYTER_TOKEN' -e 0123456789abcdef0123 '$T/err'"
