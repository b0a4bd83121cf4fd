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

# Out of file descriptors: connections beyond `ulimit -n` are closed or
# wait in the listen queue with one warning, no busy loop, and the port
# serves again once they close.
lp=$(free_port)
(ulimit -n 48; exec "$JC" --no-browser --local-port "$lp" $SSH_OPTS \
    "$SSH_TARGET" >"$T/d.out" 2>"$T/d.err") &
pid_d=$!
if wait_for 30 grep -q '^http' "$T/d.out"; then
	url=$(head -n1 "$T/d.out")
	mkfifo "$T/holdin"
	"$ROOT/build/tests/tools/blast" hold "$lp" 60 <"$T/holdin" \
	    >"$T/hold.out" 2>/dev/null &
	hp=$!
	exec 7>"$T/holdin"
	nofd='Too many open files|out of file descriptors'
	wait_for 10 grep -q -E "$nofd" "$T/d.err"
	t0=$(awk '{print $14 + $15}' "/proc/$pid_d/stat")
	sleep 2
	t1=$(awk '{print $14 + $15}' "/proc/$pid_d/stat")
	n=$(grep -c -E "$nofd" "$T/d.err")
	check "no descriptors left: said in a warning, not per connection ($n)" \
	    test "$n" -ge 1 -a "$n" -le 2
	check "  ... and no busy loop ($((t1 - t0)) ticks in 2 s)" \
	    test $((t1 - t0)) -lt 20
	exec 7>&-
	wait "$hp"
	check "  ... and the port serves again once they close" \
	    wait_for 10 sh -c "curl -s -o /dev/null -m 5 -w '%{http_code}' '$url' | grep -q 200"
	kill -INT "$pid_d"; wait "$pid_d"
else
	not_ok "jconnect with ulimit -n 48"; show "$T/d.err"
fi
