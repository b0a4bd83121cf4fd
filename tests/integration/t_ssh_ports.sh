#!/bin/bash
# The local port picker end to end: 8888 busy -> 8889; 8888 and 8889 busy
# -> 8080; --local-port busy -> exit 8.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter

# start_jc NAME ARGS... : run jconnect in the background until the URL is out
start_jc() {
	local n=$1; shift
	"$JC" --no-browser $SSH_OPTS "$@" "$SSH_TARGET" >"$T/$n.out" \
	    2>"$T/$n.err" &
	eval "pid_$n=$!"
	wait_for 30 grep -q '^http' "$T/$n.out"
}
stop_jc() { local p; eval "p=\$pid_$1"; kill -INT "$p"; wait "$p"; }

for p in 8888 8889 8080; do
	# A tunnel of an earlier test may still be closing.
	if ! wait_for 30 port_free $p; then
		not_ok "port $p must be free for this test"; exit 1
	fi
done

hold_port 8888
if start_jc a; then
	check "8888 held -> 8889 used" grep -q '^http://127.0.0.1:8889/' "$T/a.out"
	check "the reason is reported" grep -q '8888 in use' "$T/a.err"
	stop_jc a
else
	not_ok "jconnect with 8888 held"; show "$T/a.err"
fi

hold_port 8889
if start_jc b; then
	check "8888 and 8889 held -> 8080" \
	    grep -q '^http://127.0.0.1:8080/' "$T/b.out"
	stop_jc b
else
	not_ok "jconnect with 8888 and 8889 held"; show "$T/b.err"
fi

st=0
"$JC" --no-browser --local-port 8888 $SSH_OPTS "$SSH_TARGET" \
    >"$T/c.out" 2>"$T/c.err" || st=$?
check "--local-port 8888 while busy exits 8 (got $st)" test "$st" = 8
check "and says which port" grep -q 'local port 8888 is busy' "$T/c.err"
check "and prints no URL" test ! -s "$T/c.out"
