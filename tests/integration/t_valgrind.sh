#!/bin/bash
# jconnect under valgrind on the SSH path (login, discovery, forwarding,
# 10 parallel downloads, a connection cut and reconnect, Ctrl-C) and on
# the SSM path (AWS calls, exec for discovery, smux streams, a WebSocket
# closed and resumed mid-session, Ctrl-C with TerminateSession).  No
# memory errors and nothing definitely lost.  (An ASan build cannot run
# under valgrind; `make asan` covers the same path with LeakSanitizer.)
. "$(dirname "$0")/lib.sh"

if ldd "$JC" | grep -q libasan; then
	ok "# SKIP valgrind: this is the ASan build (LeakSanitizer covers it)"
	exit 0
fi
rig_start sshd jupyter agent aws
pp=$(free_port)
echo pass >"$T/ctl"
"$PY" "$ROOT/tests/rig/faultproxy.py" --listen "$pp" --to "$SSHD_PORT" \
    --control "$T/ctl" >/dev/null 2>&1 &
_bg="${_bg:-} $!"
wait_for 5 port_busy "$pp"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$RHOME/notebooks/f.bin"
# vg LOG ARGS...: jconnect under valgrind in the background ($jc).
vg() {
	local log=$1; shift
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	    --error-exitcode=99 --log-file="$log" "$JC" --no-browser "$@" &
	jc=$!
}
# vg_end WHAT LOG: Ctrl-C, then exit 0 and a clean log.
vg_end() {
	local st=0
	kill -INT "$jc"
	wait "$jc" || st=$?
	check "${1}exit 0 under valgrind: no errors, nothing definitely lost (got $st)" \
	    test "$st" = 0
	check "${1}valgrind log is clean" \
	    sh -c "! grep -q 'Invalid\|uninitialised\|definitely lost: [1-9]' '$2'"
	[ "$st" = 0 ] || show "$2" 40
}

lp=$(free_port)
vg "$T/vg.log" --local-port "$lp" -i "$SSH_KEY" -p "$pp" \
    --known-hosts "$KNOWN_HOSTS" "$SSH_TARGET" >"$T/out" 2>"$T/err"
wait_for 120 grep -q '^http' "$T/out" || { not_ok "URL under valgrind"; show "$T/err"; exit 1; }
url=$(head -n1 "$T/out"); token=${url##*token=}
dl=()
for i in $(seq 1 10); do
	curl -s -m 60 -o "$T/d.$i" "http://127.0.0.1:$lp/files/f.bin?token=$token" &
	dl+=($!)
done
wait "${dl[@]}"
bad=0
for i in $(seq 1 10); do cmp -s "$T/d.$i" "$RHOME/notebooks/f.bin" || bad=$((bad+1)); done
check "10 downloads byte-exact under valgrind ($bad bad)" test "$bad" = 0
echo cut >"$T/ctl"; sleep 0.3; echo pass >"$T/ctl"
check "reconnects under valgrind" wait_for 60 grep -q reconnected "$T/err"
vg_end "" "$T/vg.log"

# The SSM path.
lp=$(free_port)
vg "$T/vg2.log" --local-port "$lp" --via ssm -l "$SSH_USER" demo-stack \
    >"$T/out2" 2>"$T/err2"
wait_for 120 grep -q '^http' "$T/out2" || { not_ok "SSM: URL under valgrind"; show "$T/err2"; exit 1; }
url=$(head -n1 "$T/out2"); token=${url##*token=}
fetch_all() {
	local i bad=0 dl=()
	for i in $(seq 1 "$1"); do
		curl -s -m 120 -o "$T/s.$i" \
		    "http://127.0.0.1:$lp/files/f.bin?token=$token" &
		dl+=($!)
	done
	wait "${dl[@]}"
	for i in $(seq 1 "$1"); do
		cmp -s "$T/s.$i" "$RHOME/notebooks/f.bin" || bad=$((bad+1))
	done
	return $bad
}
check "SSM: jconnect runs under valgrind" \
    grep -q '^memcheck' "/proc/$jc/comm"
check "SSM: 10 downloads byte-exact under valgrind" fetch_all 10
c0=$(agent stat connections)
faults '{"close_ws": 1}'
check "SSM: 3 downloads byte-exact across a WebSocket close" fetch_all 3
check "SSM: the session was resumed on a new WebSocket" \
    test "$(agent stat connections)" -gt "$c0"
vg_end "SSM: " "$T/vg2.log"
