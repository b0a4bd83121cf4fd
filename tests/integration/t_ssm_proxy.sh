#!/bin/bash
# jconnect proxy over SSM (AWS-StartSSHSession, fake AWS + fake agent) as
# ssh's ProxyCommand to the real sshd: exit status and stderr of remote
# commands, nothing but SSH bytes on stdout, scp (50 MB each way) and
# rsync byte for byte, a lone LF stays LF, EOF on either side ends the
# proxy cleanly, an unreachable port and a refused resume exit non-zero.
. "$(dirname "$0")/lib.sh"

rig_start sshd agent aws
PC="ProxyCommand=$JC proxy -q --via ssm %h %p"
SSHO=(-F /dev/null -o BatchMode=yes -o "$PC" -o StrictHostKeyChecking=no
    -o UserKnownHostsFile="$T/kh" -i "$SSH_KEY")

# A remote command: its stdout exactly, its stderr, its exit status.
st=0
ssh "${SSHO[@]}" -p "$SSHD_PORT" "$SSH_USER@demo-stack" \
    'printf hello; echo oops >&2; exit 3' >"$T/out" 2>"$T/err" || st=$?
check "ssh through jconnect proxy runs the command (exit $st)" \
    test "$st" = 3
check "its stdout arrives untouched" test "$(cat "$T/out")" = hello
check "its stderr arrives" grep -q oops "$T/err"

# jconnect proxy alone: only the server's bytes on stdout, exit 0 after
# stdin EOF once the far side went quiet.
st=0
timeout 20 "$JC" proxy --via ssm demo-stack "$SSHD_PORT" </dev/null \
    >"$T/banner" 2>"$T/perr" || st=$?
check "proxy exits 0 after stdin EOF (got $st)" test "$st" = 0
check "stdout starts with the SSH banner, nothing before it" \
    sh -c "head -c 8 '$T/banner' | grep -q '^SSH-2.0-'"
check "no log line on stdout" sh -c "! grep -q jconnect '$T/banner'"

# Raw bytes both ways: a line echo server on the "instance".
EPORT=$(free_port)
"$PY" -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
while True:
    c, _ = s.accept()
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()' "$EPORT" >/dev/null 2>&1 &
_bg="${_bg:-} $!"
wait_for 5 port_busy "$EPORT"
printf '\n' | timeout 20 "$JC" proxy -q --via ssm demo-stack "$EPORT" \
    >"$T/lf" 2>"$T/lferr"
check "a lone LF comes back as LF, not CR" \
    test "$(od -An -tx1 <"$T/lf" | tr -d ' ')" = 0a
head -c 3000000 /dev/urandom >"$T/raw.bin"
timeout 60 "$JC" proxy -q --via ssm demo-stack "$EPORT" <"$T/raw.bin" \
    >"$T/raw.back" 2>"$T/rawerr"
check "3 MB of random bytes through the proxy and back, byte-exact" \
    cmp -s "$T/raw.bin" "$T/raw.back"

# scp (legacy protocol: the rig's sshd has no sftp subsystem) and rsync.
head -c 50000000 /dev/urandom >"$T/big.bin"
check "scp 50 MB up through SSM" scp -O -q "${SSHO[@]}" -P "$SSHD_PORT" \
    "$T/big.bin" "$SSH_USER@demo-stack:$RHOME/big.copy"
check "the upload is byte-exact" cmp -s "$T/big.bin" "$RHOME/big.copy"
check "scp 50 MB down through SSM" scp -O -q "${SSHO[@]}" -P "$SSHD_PORT" \
    "$SSH_USER@demo-stack:$RHOME/big.copy" "$T/big.back"
check "the download is byte-exact" cmp -s "$T/big.bin" "$T/big.back"
mkdir -p "$T/tree/sub"
cp "$T/big.bin" "$T/tree/a.bin"
echo small >"$T/tree/sub/b.txt"
check "rsync a tree through SSM" rsync -a -e "ssh ${SSHO[*]@Q} -p $SSHD_PORT" \
    "$T/tree/" "$SSH_USER@demo-stack:$RHOME/tree/"
check "the tree arrived byte-exact" diff -r "$T/tree" "$RHOME/tree"

# Nothing listens there: the session ends before a byte -> exit 5.
DEAD=$(free_port)
st=0
timeout 20 "$JC" proxy --via ssm demo-stack "$DEAD" </dev/null \
    >"$T/dead" 2>"$T/deaderr" || st=$?
check "proxy to a closed port exits 5 (got $st)" test "$st" = 5
check "and says why" grep -q "could not reach port $DEAD" "$T/deaderr"
check "with nothing on stdout" test ! -s "$T/dead"

# Session Manager drops the WebSocket and refuses to let us back in: the
# proxy gives up within its budget (2 s here), says so, exits 5, and ssh
# on top of it ends instead of hanging.
# (the wrapper lets go of ssh's pipes, so only jconnect holds them, and
# outlives ssh's SIGHUP to report jconnect's exit status)
cat >"$T/pc.sh" <<PCEOF
#!/bin/sh
trap '' HUP
exec 3>&1 4<&0 >/dev/null </dev/null
"$JC" proxy -o ssm.reconnect_s=2 --via ssm "\$1" "\$2" <&4 >&3 \
    3>&- 4<&- 2>"$T/rerr" &
pid=\$!
exec 3>&- 4<&-
wait \$pid
echo \$? >"$T/rst"
PCEOF
chmod +x "$T/pc.sh"
(st=0; timeout 60 ssh -F /dev/null -o BatchMode=yes \
    -o ProxyCommand="$T/pc.sh %h %p" -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile="$T/kh" -i "$SSH_KEY" -p "$SSHD_PORT" \
    "$SSH_USER@demo-stack" 'echo started; sleep 40' >"$T/sout" 2>&1 ||
    st=$?; echo "$st" >"$T/sst") &
wait_for 20 grep -q started "$T/sout"
faults '{"refuse_resume": true, "close_ws": 1}'
t0=$(date +%s)
wait_for 20 test -s "$T/sst"
t1=$(date +%s)
check "ssh ends soon after the proxy gives up ($((t1 - t0)) s)" \
    test $((t1 - t0)) -le 10 -a -s "$T/sst"
wait_for 10 test -s "$T/rst"
check "the proxy exits 5 (got $(cat "$T/rst" 2>/dev/null))" \
    test "$(cat "$T/rst" 2>/dev/null)" = 5
check "and says it could not resume" grep -q "could not resume" "$T/rerr"
faults '{}'

# MGS closes the WebSocket every 10 MB ("Bye"): resumed, byte-exact.
scp_down_through_closes 10000000 5

sleep 1
check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
