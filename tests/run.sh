#!/bin/sh
# run.sh BUILD [unit|integration|valgrind|PATTERN] - run the test suite and
# print one summary line "N passed, N failed".  Unit tests are cmocka
# binaries in BUILD/tests (TAP output); integration tests are
# tests/integration/t_*.sh, the fault tests among them once more under
# valgrind.
# Each test's TAP output goes to BUILD/test-logs/NAME.log.

B=${1:-build}
WHAT=${2:-all}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOGS=$ROOT/$B/test-logs
mkdir -p "$LOGS"
pass=0
fail=0
failed_names=""

count() {	# count NAME LOGFILE RC
	p=$(grep -c '^ok ' "$2")
	f=$(grep -c '^not ok ' "$2")
	if [ "$3" != 0 ] && [ "$f" = 0 ]; then
		# A crash or a timeout: count it, the log says why.
		f=1
		echo "not ok - $1 exited with status $3" >>"$2"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" != 0 ]; then
		failed_names="$failed_names $1"
		grep -E '^not ok' "$2" | sed 's/^/  /' >&2
	fi
	printf '%-40s %3d passed, %d failed\n' "$1" "$p" "$f" >&2
}

matches() {
	case $WHAT in
	all) return 0 ;;
	unit) case $1 in test_*|replay_*) return 0 ;; esac; return 1 ;;
	integration) case $1 in t_*) return 0 ;; esac; return 1 ;;
	valgrind) return 1 ;;
	*) case $1 in *$WHAT*) return 0 ;; esac; return 1 ;;
	esac
}

for t in "$ROOT/$B"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	matches "$n" || continue
	( cd "$ROOT" && CMOCKA_MESSAGE_OUTPUT=TAP JC_TEST_BUILD="$ROOT/$B" \
	    timeout 300 "$t" ) >"$LOGS/$n.log" 2>&1
	count "$n" "$LOGS/$n.log" $?
done

for t in "$ROOT/$B"/tests/replay_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	matches "$n" || continue
	c=$ROOT/tests/fuzz/corpus/${n#replay_}
	g=$ROOT/tests/fuzz/grown/${n#replay_}
	[ -d "$g" ] || g=
	( cd "$ROOT" && timeout 300 "$t" "$c" $g ) >"$LOGS/$n.log" 2>&1
	count "$n" "$LOGS/$n.log" $?
done

for t in "$ROOT"/tests/integration/t_*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	matches "$n" || continue
	( cd "$ROOT" && JC_TEST_BUILD="$ROOT/$B" timeout 600 bash "$t" ) \
	    >"$LOGS/$n.log" 2>&1
	count "$n" "$LOGS/$n.log" $?
done

# The fault tests once more with every jconnect run under valgrind (no
# memory errors, nothing definitely lost, across every fault).  An ASan
# build cannot run under valgrind; LeakSanitizer covers it there.
VG_TESTS="t_fault_ssh t_ssm_faults t_ssm_errors t_aws_retry t_keys_fail
t_jupyter_token t_ssm_tls"
if [ "$WHAT" != unit ] && ! ldd "$ROOT/jconnect" | grep -q libasan; then
	for n in $VG_TESTS; do
		matches "$n" || [ "$WHAT" = valgrind ] || continue
		( cd "$ROOT" && JC_VALGRIND=1 JC_TEST_BUILD="$ROOT/$B" \
		    timeout 900 bash "tests/integration/$n.sh" ) \
		    >"$LOGS/valgrind-$n.log" 2>&1
		count "valgrind-$n" "$LOGS/valgrind-$n.log" $?
	done
fi

[ -n "$failed_names" ] && echo "failed:$failed_names (logs in $B/test-logs)" >&2
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
