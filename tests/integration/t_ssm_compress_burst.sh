#!/bin/bash
# A cold-load-like burst over SSM with the agent paced like AWS's
# (pace_ms 1): 12 parallel downloads of the remote Jupyter's own
# JavaScript (its 2nd to 13th largest static files, about 5.4 MB, near a
# cold JupyterLab 4 load) through the tunnel, over the compressed path
# and over the plain port session (-o ssm.compress=no), byte for byte;
# the compressed path must be faster.  The direct SSH path is timed too,
# with and without ssh.compression, for reference.  Times go to the TAP
# comments.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
faults '{"pace_ms": 1}'
STATIC=/usr/lib/python3/dist-packages/notebook/static
FILES=$(cd "$STATIC" && find . -name '*.js' -printf '%s %P\n' | sort -rn |
    sed -n '2,13p' | cut -d' ' -f2)
total=0
for f in $FILES; do total=$((total + $(stat -c %s "$STATIC/$f"))); done
diag "burst: 12 files, $total bytes"


# burst PORT NAME : the 12 downloads in parallel; prints milliseconds,
# fails unless every file arrived byte for byte.
burst() {
	local t0 t1 i=0 f pids="" bad=0
	mkdir -p "$T/$2"
	t0=$(date +%s%N)
	for f in $FILES; do
		i=$((i + 1))
		curl -s -m 120 -o "$T/$2/$i" "http://127.0.0.1:$1/static/$f" &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || bad=1; done
	t1=$(date +%s%N)
	i=0
	for f in $FILES; do
		i=$((i + 1))
		cmp -s "$T/$2/$i" "$STATIC/$f" || bad=1
	done
	echo $(((t1 - t0) / 1000000))
	return $bad
}

# tunnel NAME ARGS... : start one, port in $port, pid in $jc.
tunnel() {
	local n=$1; shift
	"$JC" -v --no-browser --known-hosts "$T/kh" "$@" >"$T/$n.out" \
	    2>"$T/$n.err" &
	jc=$!
	if ! wait_for 40 grep -q '^http' "$T/$n.out"; then
		not_ok "$n: URL printed"; show "$T/$n.err"; exit 1
	fi
	port=$(head -n1 "$T/$n.out" |
	    sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
}
finish() { kill -INT "$jc"; wait "$jc"; }

# best NAME PORT : the faster of two bursts, in $ms.
best() {
	local a b
	if a=$(burst "$2" "$1.1") && b=$(burst "$2" "$1.2"); then
		ok "$1: every file byte for byte ($a ms, $b ms)"
	else
		not_ok "$1: every file byte for byte"
	fi
	ms=$((a < b ? a : b))
}

SSM=(--via ssm -l "$SSH_USER" -p "$SSHD_PORT" -i "$SSH_KEY" demo-stack)

tunnel compressed "${SSM[@]}"
check "compressed: the path is up" wait_for 30 \
    grep -q 'compressed path up' "$T/compressed.err"
s0=$(doc_out AWS-StartSSHSession)
best compressed "$port"
comp=$ms
s1=$(doc_out AWS-StartSSHSession)
finish
diag "compressed: best $comp ms; agent sent $(((s1 - s0) / 2)) bytes a" \
    "burst for $total ($((100 * (s1 - s0) / 2 / total))%)"

tunnel plain -o ssm.compress=no "${SSM[@]}"
p0=$(doc_out AWS-StartPortForwardingSession)
best plain "$port"
plain=$ms
p1=$(doc_out AWS-StartPortForwardingSession)
finish
diag "plain: best $plain ms; agent sent $(((p1 - p0) / 2)) bytes a burst"
check "compressed burst faster than plain ($comp ms vs $plain ms)" \
    test "$comp" -lt "$plain"

faults '{}'
# shellcheck disable=SC2086
tunnel ssh $SSH_OPTS "$SSH_TARGET"
best ssh "$port"
ssh=$ms
finish
# shellcheck disable=SC2086
tunnel sshz $SSH_OPTS -o ssh.compression=yes "$SSH_TARGET"
best "ssh with compression" "$port"
sshz=$ms
finish
diag "direct SSH (no pacing): best $ssh ms plain, $sshz ms with" \
    "ssh.compression=yes"
diag "SSM paced: compressed in $((100 * comp / plain))% of the plain time" \
    "(direct SSH on loopback has neither pacing nor latency)"
check "every Session Manager session was terminated" agent terminated
