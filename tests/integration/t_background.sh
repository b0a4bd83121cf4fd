#!/bin/bash
# Background tunnels: `url` prints the URL once it answers and exits 0; a
# second `url` reuses the tunnel; it survives its terminal (SIGHUP); `ls`
# shows it (0600 state, --json); sshd killed and restarted -> the same
# local port works again within 10 s; `stop` frees the port; a real
# Makefile drives it all.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
A="$SSH_OPTS"

t0=$(date +%s%N)
url=$("$JC" url $A "$SSH_TARGET" 2>"$T/err1")
st=$?
check "url exits 0 (got $st)" test "$st" = 0
check "url prints the URL and nothing else" \
    sh -c "echo '$url' | grep -qx 'http://127.0.0.1:[0-9]*/tree?token=[0-9a-f]*'"
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
token=${url##*token=}
check "the tunnel answers /api/status with the token" sh -c \
    "curl -fsS -m 5 -H 'Authorization: token $token' http://127.0.0.1:$port/api/status >/dev/null"

t1=$(date +%s%N)
url2=$("$JC" url $A "$SSH_TARGET" 2>/dev/null)
t2=$(date +%s%N)
check "a second url reuses the tunnel (same URL)" test "$url2" = "$url"
check "and answers at once (<1 s)" test $(( (t2 - t1) / 1000000 )) -lt 1000
diag "first url: $(( (t1 - t0) / 1000000 )) ms, reuse: $(( (t2 - t1) / 1000000 )) ms"

"$JC" ls >"$T/ls"
check "ls shows the tunnel" grep -q "^$SSH_TARGET .*ssh .*$port " "$T/ls"
"$JC" ls --json >"$T/lsj"
check "ls --json gives target, port, pid, url" "$PY" -c '
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
assert len(t) == 1 and t[0]["local_port"] == int(sys.argv[2]), t
assert t[0]["url"] == sys.argv[3] and t[0]["pid"] > 1 and t[0]["via"] == "ssh"
' "$T/lsj" "$port" "$url"
sf=$(ls "$XDG_STATE_HOME"/jconnect/*.json)
logf=${sf%.json}.log
check "state file is 0600" test "$(stat -c %a "$sf")" = 600
check "state dir is 0700" test "$(stat -c %a "$XDG_STATE_HOME/jconnect")" = 700
pid=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$sf")

# The terminal goes away: the supervisor ignores SIGHUP.
kill -HUP "$pid"
sleep 0.3
check "the tunnel survives SIGHUP (terminal closed)" kill -0 "$pid"

# sshd dies and comes back: the same local port works again.
rig_stop sshd >/dev/null 2>&1
pkill -f "sshd: $SSH_USER" 2>/dev/null
sleep 1
"$PY" "$ROOT/tests/rig/rig.py" start --dir "$T/rig" --sshd-port "$SSHD_PORT" \
    sshd >"$T/rig2.out" 2>&1
t3=$(date +%s)
if wait_for 10 curl -fsS -m 2 -H "Authorization: token $token" \
    "http://127.0.0.1:$port/api/status" -o /dev/null; then
	ok "after an sshd restart the same port works again ($(( $(date +%s) - t3 )) s)"
else
	not_ok "after an sshd restart the same port works again"
	show "$logf"
fi
check "the supervisor logged the reconnect" wait_for 10 \
    grep -q reconnected "$logf"
check "the log is 0600" test "$(stat -c %a "$logf")" = 600
check "the log holds no token" sh -c "! grep -q '$token' '$logf'"

# A real Makefile: URL := $(shell jconnect url ...), curl, jconnect stop.
cat >"$T/Makefile" <<MK
URL := \$(shell $JC url $A $SSH_TARGET)
BASE := \$(dir \$(URL))
TOKEN := \$(lastword \$(subst =, ,\$(URL)))

status:
	curl -fsS -m 10 -H "Authorization: token \$(TOKEN)" "\$(BASE)api/status" | grep -q last_activity
	@echo status-ok

stop:
	$JC stop $SSH_TARGET
MK
make -s -C "$T" status >"$T/make.out" 2>&1
check "a Makefile fetches \$(URL)api/status through jconnect url" \
    grep -q status-ok "$T/make.out"
make -s -C "$T" stop >"$T/make2.out" 2>&1
check "jconnect stop from the Makefile" test $? = 0
check "stop waited until the port is free" port_free "$port"
check "the supervisor is gone" sh -c "! kill -0 $pid 2>/dev/null"
check "ls is empty" sh -c "test \$('$JC' ls --json | wc -l) = 0"

st=0; "$JC" stop "$SSH_TARGET" 2>"$T/err" || st=$?
check "stop of an unknown tunnel exits 3" test "$st" = 3

# --all stops several; a stale state file is cleaned by ls.
"$JC" url $A "$SSH_TARGET" >/dev/null 2>&1
echo '{"pid": 999999, "target": "ghost", "via": "ssh", "local_port": 1, "url": "x", "started": 1}' \
    >"$XDG_STATE_HOME/jconnect/ghost.json"
"$JC" ls --json >"$T/ls2"
check "ls drops a stale tunnel" sh -c "! grep -q ghost '$T/ls2' && test ! -e '$XDG_STATE_HOME/jconnect/ghost.json'"
# A recycled pid, even one whose command line says jconnect, is not the
# tunnel: its start time differs from the one recorded.
bash -c 'exec -a jconnect-impostor sleep 60' &
imp=$!
_bg="${_bg:-} $imp"
wait_for 5 grep -q jconnect-impostor "/proc/$imp/cmdline"
echo "{\"pid\": $imp, \"target\": \"reused\", \"via\": \"ssh\", \"local_port\": 1, \"url\": \"x\", \"started\": 1, \"pid_start\": 1}" \
    >"$XDG_STATE_HOME/jconnect/reused.json"
"$JC" ls --json >"$T/ls3"
check "ls drops a tunnel whose pid now belongs to another process" \
    sh -c "! grep -q reused '$T/ls3' && test ! -e '$XDG_STATE_HOME/jconnect/reused.json'"
kill "$imp" 2>/dev/null
"$JC" stop --all
check "stop --all leaves no tunnel" sh -c "test \$('$JC' ls --json | wc -l) = 0"

# Started through a link with another name: still listed and stopped.
ln -s "$JC" "$T/jc"
"$T/jc" url $A "$SSH_TARGET" >/dev/null 2>&1
check "a tunnel started as 'jc' (a symlink) is listed" \
    sh -c "test \$('$JC' ls --json | wc -l) = 1"
"$JC" stop --all >/dev/null 2>&1
check "and stopped" sh -c "test \$('$JC' ls --json | wc -l) = 0"
