# lib.sh - shared helpers for the integration tests (sourced, bash).
#
# Gives $ROOT, $JC (./jconnect), $T (a private temp dir removed on exit, with
# a temp HOME in $T/home), TAP output helpers and rig_start, which starts
# real components on 127.0.0.1 through tests/rig/rig.py and stops them on
# exit.  Each test script prints TAP lines and a plan at the end.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
JC=$ROOT/jconnect
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/jct.XXXXXX")
TESTNAME=$(basename "$0" .sh)
_n=0
_failed=0
_rig_started=0
export HOME=$T/home XDG_STATE_HOME=$T/home/.local/state \
    XDG_CONFIG_HOME=$T/home/.config BROWSER=true
mkdir -p "$HOME/.ssh"
chmod 700 "$HOME/.ssh"
unset SSH_AUTH_SOCK AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION

# JC_VALGRIND=1: every jconnect run goes through valgrind (memory errors
# and definite leaks make it exit 99); the end of the test checks that no
# run logged any.  `make valgrind` runs the fault tests this way.
# SLOW scales the time limits of bulk transfers.
SLOW=1
if [ -n "${JC_VALGRIND:-}" ]; then
	SLOW=10
	mkdir -p "$T/vg"
	printf '#!/bin/sh\nexec valgrind -q --leak-check=full %s %s "$@"\n' \
	    "--errors-for-leak-kinds=definite --error-exitcode=99" \
	    "--log-file=$T/vg/%p.log $JC" >"$T/vgjc"
	chmod 755 "$T/vgjc"
	JC=$T/vgjc
fi

ok() { _n=$((_n + 1)); echo "ok $_n - $TESTNAME: $*"; }
not_ok() {
	_n=$((_n + 1)); _failed=$((_failed + 1))
	echo "not ok $_n - $TESTNAME: $*"
}
# check DESC CMD... : ok when CMD exits 0.
check() {
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# diag TEXT : a TAP comment.
diag() { echo "# $*" | sed '2,$s/^/# /'; }
# show FILE : a file's tail as TAP comments (for failures).
show() { [ -f "$1" ] && tail -n "${2:-20}" "$1" | sed 's/^/#   /'; }

rig_start() {
	_rig_started=1
	if ! "$PY" "$ROOT/tests/rig/rig.py" start --dir "$T/rig" "$@" \
	    >"$T/rig.out" 2>&1; then
		not_ok "rig start $*"
		show "$T/rig.out"
		exit 0
	fi
	. "$T/rig/env"
	# Our TARGET and the options that reach the rig's sshd.
	SSH_TARGET=${SSH_USER:-root}@127.0.0.1
	SSH_OPTS="-i ${SSH_KEY:-} -p ${SSHD_PORT:-22} --known-hosts ${KNOWN_HOSTS:-}"
}

rig_stop() { "$PY" "$ROOT/tests/rig/rig.py" stop --dir "$T/rig" "$@"; }

# agent WHAT... : what the fake SSM agent recorded (sessions DOC,
# terminated, violations, stat NAME, mode MODE); see fake_agent.py.
agent() { "$PY" "$ROOT/tests/rig/fake_agent.py" --state "$AGENT_STATE" \
    --report "$@"; }
# doc_out DOC : out_bytes the fake agent sent so far in sessions of
# document DOC (e.g. AWS-StartSSHSession).
doc_out() {
	sleep 1		# the agent saves its counters twice a second
	"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(v.get("out_bytes", 0) for v in d.values()
          if v.get("document") == sys.argv[2]))' \
	    "$AGENT_STATE/agent-stats.json" "$1"
}
# faults JSON : set the fake agent's fault switches (read on change).
faults() { printf '%s\n' "$1" >"$AGENT_FAULTS.tmp" &&
    mv "$AGENT_FAULTS.tmp" "$AGENT_FAULTS" && sleep 0.3; }
# scp_down_through_closes BYTES MIN : as MGS does ("Bye"), the fake agent
# closes the WebSocket every BYTES while scp (ssh options in SSHO, with
# jconnect proxy) fetches $RHOME/big.copy; it must arrive byte for byte as
# $T/big.bin, after at least MIN more WebSocket connections.
scp_down_through_closes() {
	local c0 c1
	sleep 1
	c0=$(agent stat connections)
	faults "{\"close_every_bytes\": $1}"
	if scp -O "${SSHO[@]}" -P "$SSHD_PORT" \
	    "$SSH_USER@demo-stack:$RHOME/big.copy" "$T/big.resumed" \
	    2>"$T/scp.err"; then
		ok "scp down while the WebSocket is closed every $1 bytes"
	else
		not_ok "scp down while the WebSocket is closed every $1 bytes"
		show "$T/scp.err"
	fi
	check "still byte-exact" cmp -s "$T/big.bin" "$T/big.resumed"
	sleep 1
	c1=$(agent stat connections)
	check "the client came back after each close ($c0 -> $c1 connections)" \
	    test "$c1" -ge $((c0 + $2))
	faults '{}'
}

# idle_check PID : with nothing to do, PID burns (almost) no CPU for 2 s.
idle_check() {
	local t0 t1
	sleep 0.5
	t0=$(awk '{print $14 + $15}' "/proc/$1/stat")
	sleep 2
	t1=$(awk '{print $14 + $15}' "/proc/$1/stat")
	check "idle tunnel: no busy loop ($((t1 - t0)) ticks of CPU in 2 s)" \
	    test $((t1 - t0)) -le 10
}

# now_ms : the wall clock in milliseconds.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# wait_for SECONDS CMD... : poll CMD every 50 ms until it succeeds.
wait_for() {
	local end=$(( $(now_ms) + $1 * 1000 )); shift
	while ! "$@" 2>/dev/null; do
		[ "$(now_ms)" -ge $end ] && return 1
		sleep 0.05
	done
}

# port_busy PORT / port_free PORT : is something listening on 127.0.0.1:PORT?
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free() { ! port_busy "$1"; }

# proxy NAME PORT : a fault proxy (tests/rig/faultproxy.py) in front of
# 127.0.0.1:PORT, stopped with the test; sets NAME_PORT and NAME_CTL.
proxy() {
	local p ctl=$T/$1.ctl
	p=$(free_port)
	echo pass >"$ctl"
	"$PY" "$ROOT/tests/rig/faultproxy.py" --listen "$p" --to "$2" \
	    --control "$ctl" >"$T/$1.log" 2>&1 &
	_bg="${_bg:-} $!"
	wait_for 10 port_busy "$p"
	eval "${1}_PORT=$p ${1}_CTL=$ctl"
}
# rig_proxied : sshd, Jupyter, the fake agent and the fake AWS, with a
# fault proxy in front of every connection jconnect makes: sshd
# (SSHP_PORT), the WebSocket that StartSession's StreamUrl names, and the
# AWS API (AWS_ENDPOINT_URL).  `paths MODE` sets them all (faultproxy.py
# lists the modes: pass, stall, strand...).
rig_proxied() {
	rig_start sshd jupyter agent
	proxy AGENT "$AGENT_PORT"
	proxy SSHP "$SSHD_PORT"
	rig_start aws --stream-url "ws://127.0.0.1:$AGENT_PORT/v1/data-channel/"
	proxy AWSP "$AWS_PORT"
	export AWS_ENDPOINT_URL="http://127.0.0.1:$AWSP_PORT"
}
paths() {
	local c
	for c in "$AGENT_CTL" "$SSHP_CTL" "$AWSP_CTL"; do
		echo "$1" >"$c.tmp" && mv "$c.tmp" "$c"
	done
	sleep 0.2
}

# Headless Chromium as the test-rig notes prescribe (no network chatter).
CHROME_FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
--disable-background-networking --disable-component-update --disable-sync
--virtual-time-budget=10000"
# dom URL FILE : what headless Chromium shows for URL.
dom() {
	local prof
	prof=$(mktemp -d "$T/chrome.XXXXXX")
	# shellcheck disable=SC2086
	timeout 60 chromium $CHROME_FLAGS --user-data-dir="$prof" \
	    --dump-dom "$1" >"$2" 2>/dev/null
}
# free_port : a currently free TCP port on 127.0.0.1.
free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# hold_port PORT : keep PORT busy on 127.0.0.1 until the test ends.
hold_port() {
	"$PY" -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
print("held", flush=True); time.sleep(3600)' "$1" >"$T/hold.$1" 2>&1 &
	_held="${_held:-} $!"
	wait_for 5 grep -q held "$T/hold.$1"
}

_valgrind_verdict() {
	local runs bad f
	runs=$(ls "$T/vg" | wc -l)
	bad=$(find "$T/vg" -name '*.log' -size +0 | wc -l)
	[ "$bad" = 0 ] || for f in "$T"/vg/*.log; do show "$f" 30; done
	check "valgrind: $runs runs of jconnect, $bad with memory errors or leaks" \
	    test "$bad" = 0 -a "$runs" -gt 0
}

_cleanup() {
	local pid
	for pid in ${_held:-} ${_bg:-}; do kill "$pid" 2>/dev/null; done
	[ -x "$JC" ] && HOME=$T/home "$JC" stop --all -q >/dev/null 2>&1
	[ "$_rig_started" = 1 ] && rig_stop >/dev/null 2>&1
	wait 2>/dev/null
	[ -n "${JC_VALGRIND:-}" ] && _valgrind_verdict
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}

_finish() {
	local rc=$?
	_cleanup
	echo "1..$_n"
	[ "$_failed" = 0 ] && [ "$rc" = 0 ] || exit 1
	exit 0
}
trap _finish EXIT
trap 'exit 130' INT TERM
