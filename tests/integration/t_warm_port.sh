#!/bin/bash
# A warm browser cache: a target gets the local port it had last time
# (remembered in a 0600 file in the state directory), so the browser sees
# the same origin, even when a port earlier in the usual order (8888, 8889,
# 8080) has become free; a busy remembered port falls back to that order
# and -v says so; --local-port still wins (and is what is remembered next).
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
A="$SSH_OPTS"
SD=$XDG_STATE_HOME/jconnect

port_of() { sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|' <<<"$1"; }
release_held() {
	local pid
	for pid in ${_held:-}; do kill "$pid" 2>/dev/null; done
	_held=
}

# First run with 8888, 8889 and 8080 busy (held here, or by whoever
# holds them on this machine): most likely some other port.
for p in 8888 8889 8080; do port_free "$p" && hold_port "$p"; done
u1=$("$JC" url $A "$SSH_TARGET" 2>"$T/e1")
p1=$(port_of "$u1")
check "first run: a tunnel ($p1)" test -n "$p1"
pf=$(ls "$SD"/*.port 2>/dev/null)
check "the port is remembered in a state file" test -f "$pf"
check "which is 0600" test "$(stat -c %a "$pf")" = 600
check "and names the target" grep -qF "\"$SSH_TARGET\"" "$pf"
"$JC" stop -q "$SSH_TARGET"
release_held
wait_for 5 port_free 8888
diag "8888 is $(port_free 8888 && echo free || echo busy) for the second run"

u2=$("$JC" url $A "$SSH_TARGET" 2>"$T/e2")
p2=$(port_of "$u2")
check "second run: the same port again ($p2), though 8888 etc. are free" \
    test "$p2" = "$p1"
check "and says so" grep -q "port $p1 (as last time)" "$T/e2"
token=${u2##*token=}
check "the tunnel on it works" curl -fsS -m 5 -o /dev/null \
    -H "Authorization: token $token" "http://127.0.0.1:$p2/api/status"
"$JC" stop -q "$SSH_TARGET"

# Remembered but busy: the usual order, and -v says why.
hold_port "$p1"
u3=$("$JC" url -v $A "$SSH_TARGET" 2>"$T/e3")
p3=$(port_of "$u3")
check "remembered port busy: another one ($p3)" \
    sh -c "test -n '$p3' && test '$p3' != '$p1'"
check "-v says the port of last time is busy" \
    grep -q "port $p1, used last time for $SSH_TARGET, is busy" "$T/e3"
"$JC" stop -q "$SSH_TARGET"
release_held

# --local-port wins over the remembered port, and is remembered too.
pl=$(free_port)
u4=$("$JC" url --local-port "$pl" $A "$SSH_TARGET" 2>"$T/e4")
check "--local-port wins ($(port_of "$u4") = $pl)" test "$(port_of "$u4")" = "$pl"
"$JC" stop -q "$SSH_TARGET"

# The foreground tunnel remembers too.
"$JC" $A --no-browser "$SSH_TARGET" >"$T/fg.out" 2>"$T/fg.err" &
fg=$!
_bg="${_bg:-} $fg"
wait_for 30 grep -q token "$T/fg.out"
check "a foreground run takes the port of last time too" \
    test "$(port_of "$(head -1 "$T/fg.out")")" = "$pl"
kill -INT "$fg"
wait "$fg"
