#!/bin/bash
# Fault injection on the SSH path through a loopback proxy that cuts,
# stalls or refuses on command: a connection cut mid-transfer -> jconnect
# reconnects and the same local port serves again; a peer gone silent is
# noticed by keepalives; refused for good -> the foreground tunnel keeps
# trying until Ctrl-C and exits 0.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter
pp=$(free_port)
echo pass >"$T/ctl"
"$PY" "$ROOT/tests/rig/faultproxy.py" --listen "$pp" --to "$SSHD_PORT" \
    --control "$T/ctl" >"$T/proxy.log" 2>&1 &
_bg="${_bg:-} $!"
wait_for 5 port_busy "$pp"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$RHOME/notebooks/big.bin"
want=$(sha256sum <"$RHOME/notebooks/big.bin" | cut -d' ' -f1)

lp=$(free_port)
"$JC" --no-browser -o ssh.keepalive=1 --local-port "$lp" -i "$SSH_KEY" \
    -p "$pp" --known-hosts "$KNOWN_HOSTS" "$SSH_TARGET" >"$T/out" \
    2>"$T/err" &
jc=$!
wait_for 30 grep -q '^http' "$T/out" || { not_ok "tunnel up"; show "$T/err"; exit 1; }
url=$(head -n1 "$T/out")
token=${url##*token=}
api() { curl -fsS -m 3 -H "Authorization: token $token" "http://127.0.0.1:$lp/api/status" -o /dev/null; }

# Cut the SSH connection in the middle of a download (once 2 MB arrived).
# has_more FILE N: FILE holds more than N bytes (re-read on every try).
has_more() { test "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2"; }
curl -s -m 30 --limit-rate 5M -o "$T/dl1" \
    "http://127.0.0.1:$lp/files/big.bin?token=$token" &
dl=$!
wait_for 20 has_more "$T/dl1" 2000000
echo cut >"$T/ctl"; sleep 0.3; echo pass >"$T/ctl"
wait "$dl"
check "the cut download is not reported as complete" \
    sh -c "test \"\$(sha256sum <'$T/dl1' | cut -d' ' -f1)\" != '$want'"
if wait_for 15 api; then
	ok "same local port works again after the cut"
else
	not_ok "same local port works again after the cut"; show "$T/err"
fi
check "jconnect said it reconnected" wait_for 10 grep -q 'reconnected; still on 127.0.0.1:'"$lp" "$T/err"
curl -s -m $((60 * SLOW)) -o "$T/dl2" "http://127.0.0.1:$lp/files/big.bin?token=$token"
check "a full 64 MB download after the reconnect is byte-exact" \
    test "$(sha256sum <"$T/dl2" | cut -d' ' -f1)" = "$want"
# A download that lasts several keepalive periods is not silence, however
# libssh happens to read the bytes.
n0=$(grep -c 'stopped answering' "$T/err")
curl -s -m $((60 * SLOW)) --limit-rate 12M -o "$T/dl3" \
    "http://127.0.0.1:$lp/files/big.bin?token=$token"
check "a 5 s download with 1 s keepalives is byte-exact" \
    test "$(sha256sum <"$T/dl3" | cut -d' ' -f1)" = "$want"
check "and is not taken for a silent peer" \
    test "$(grep -c 'stopped answering' "$T/err")" = "$n0"

# The peer goes silent: keepalives notice, then it comes back.
echo stall >"$T/ctl"
if wait_for 10 grep -q 'stopped answering' "$T/err"; then
	ok "a silent peer is detected by keepalives"
else
	not_ok "a silent peer is detected by keepalives"
fi
echo cut >"$T/ctl"; sleep 0.2; echo pass >"$T/ctl"
check "and the tunnel recovers" wait_for 20 api

# Refused for good: keep trying, then Ctrl-C ends it cleanly.
echo refuse >"$T/ctl"
wait_for 10 grep -c 'reconnecting' "$T/err" >/dev/null
sleep 1
check "still running while the server is unreachable" kill -0 "$jc"
kill -INT "$jc"
st=0; wait "$jc" || st=$?
check "Ctrl-C during reconnects exits 0 (got $st)" test "$st" = 0
check "and frees the port" port_free "$lp"
