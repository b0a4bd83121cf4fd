#!/bin/bash
# Session Manager's maximum session duration, which ends every session of
# a tunnel at once, in the middle of a large download (channel_closed,
# then the WebSocket closed for good), with the pool (ssm.sessions=4),
# with one session, and over the compressed path (ssm.compress=yes):
# every response that finished before is byte-exact and so is every one
# curl calls complete; the download in flight fails within seconds (the
# browser retries) instead of hanging; the next request on the same local
# port succeeds, and a full download after it is byte-exact.
. "$(dirname "$0")/lib.sh"

# Paced like AWS (1 KiB messages 1 ms apart): the large download takes
# long enough to be cut in the middle.
rig_start sshd jupyter agent aws --agent-pace 1
head -c 12000000 /dev/urandom >"$RHOME/notebooks/big.bin"
for i in 1 2 3 4 5 6; do
	head -c $((60 * 1024 + i)) /dev/urandom >"$RHOME/notebooks/s$i.bin"
done

# get NAME OUT : curl NAME through the tunnel into OUT (exit status of curl).
get() {
	curl -s -m "${3:-30}" -o "$2" \
	    "http://127.0.0.1:$port/files/$1?token=$token"
}

# one_case LABEL END OPTIONS... : the whole scenario over one
# configuration; END is the agent fault that ends the sessions.
one_case() {
	local label=$1 end=$2 i st t0 t1 ok_n=0 bad=0 pids=""
	shift 2
	faults '{"pace_ms": 1}'
	: >"$T/out.$label"
	"$JC" --no-browser --via ssm -l "$SSH_USER" "$@" demo-stack \
	    >"$T/out.$label" 2>"$T/err.$label" &
	jc=$!
	if ! wait_for 40 grep -q '^http' "$T/out.$label"; then
		not_ok "$label: URL printed"; show "$T/err.$label"
		kill -INT "$jc"; wait "$jc"
		return
	fi
	url=$(head -n1 "$T/out.$label")
	port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
	token=$(echo "$url" | sed -E 's|.*[?&]token=([0-9a-f]+).*|\1|')
	# The compressed path is set up after the URL: let it carry these.
	case "$*" in *compress=yes*)
		wait_for 20 grep -q 'AWS-StartSSHSession' \
		    "$AGENT_STATE"/sessions/*.json ;;
	esac
	sleep 1

	# Several responses complete, byte for byte.
	for i in 1 2 3; do
		get "s$i.bin" "$T/got.$label.s$i" &&
		    cmp -s "$T/got.$label.s$i" "$RHOME/notebooks/s$i.bin" &&
		    ok_n=$((ok_n + 1))
	done
	check "$label: 3 responses before the end are byte-exact ($ok_n)" \
	    test "$ok_n" = 3

	# A large download in flight, and small ones going on beside it.
	rm -f "$T/big.$label"
	(get big.bin "$T/big.$label" 60; echo $? >"$T/big.st.$label") &
	big=$!
	wait_for 20 sh -c "[ \$(stat -c %s '$T/big.$label' 2>/dev/null ||
	    echo 0) -gt 500000 ]"
	for i in 4 5 6; do
		(st=0; get "s$i.bin" "$T/got.$label.s$i" 20 || st=$?
		 echo "$st" >"$T/st.$label.s$i") &
		pids="$pids $!"
	done
	t0=$(now_ms)
	faults "{\"pace_ms\": 1, $end}"
	wait "$big"
	t1=$(now_ms)
	st=$(cat "$T/big.st.$label")
	faults '{"pace_ms": 1}'
	got=$(stat -c %s "$T/big.$label" 2>/dev/null || echo 0)
	check "$label: the download in flight failed (curl $st, $got of 12000000 bytes)" \
	    test "$st" != 0 -a "$got" -lt 12000000
	check "$label: and failed fast, not hung ($((t1 - t0)) ms after the end)" \
	    test $((t1 - t0)) -lt 8000
	for p in $pids; do wait "$p"; done
	for i in 4 5 6; do
		st=$(cat "$T/st.$label.s$i")
		# Finished means whole: a response curl calls complete is exact.
		if [ "$st" = 0 ] && ! cmp -s "$T/got.$label.s$i" \
		    "$RHOME/notebooks/s$i.bin"; then
			bad=$((bad + 1))
		fi
	done
	check "$label: no response curl called complete lost a byte ($bad bad)" \
	    test "$bad" = 0

	# The next request, at once, on the same port.
	t0=$(now_ms)
	code=$(curl -s -o /dev/null -w '%{http_code}' -m 20 \
	    "http://127.0.0.1:$port/api/status?token=$token")
	t1=$(now_ms)
	check "$label: the next request succeeds on the same port (HTTP $code in $((t1 - t0)) ms)" \
	    test "$code" = 200
	get big.bin "$T/big2.$label" 60
	check "$label: a full download after it is byte-exact" \
	    cmp -s "$T/big2.$label" "$RHOME/notebooks/big.bin"
	ended=$(grep -cE 'maximum session duration|refusing a second' \
	    "$T/rig/agent.log" || true)
	check "$label: Session Manager did end sessions ($ended so far)" \
	    test "$ended" -ge 1
	check "$label: the tunnel is still up" kill -0 "$jc"
	kill -INT "$jc"
	st=0
	wait "$jc" || st=$?
	check "$label: Ctrl-C exits 0 (got $st)" test "$st" = 0
	rm -f "$T"/big*."$label"
}

# Every session of the tunnel is older than a second: all end at once.
MAX='"max_session_s": 1'
one_case pool "$MAX" -o ssm.sessions=4 -o ssm.compress=no
one_case single "$MAX" -o ssm.sessions=1 -o ssm.compress=no
one_case compressed "$MAX" -o ssm.compress=yes
# The service closes the WebSockets for good: no resume is let in.
one_case ws-gone '"close_ws": 1, "refuse_resume": true' -o ssm.sessions=4 \
    -o ssm.compress=no
check "the fake agent saw no protocol violation" agent violations
