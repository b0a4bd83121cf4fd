#!/bin/sh
# make fuzz: build every tests/fuzz/fuzz_NAME.c with clang's libFuzzer and
# ASan+UBSan, run each for FUZZ_TIME seconds (default 600) on a copy of
# corpus/NAME plus grown/NAME (with NAME.dict when present), keep crashes in
# build/fuzz/crash-NAME-*, and append the figures to tests/fuzz/RESULTS.md.
# FUZZ_TARGETS="a b" limits the run; FUZZ_JOBS=N runs N targets at once.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build/fuzz
TIME=${FUZZ_TIME:-600}
PKGS="libssh libcurl libpcre2-8 libcjson expat libcrypto"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DJC_VERSION=\"fuzz\"
-DJC_LIBDIR=\"/nonexistent\" -I$ROOT/core $(for d in "$ROOT"/core/*/; do
printf ' -I%s' "${d%/}"; done) -I$ROOT/build/gen $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS libssl) -lwslay -ldl -lm"
mkdir -p "$B"
command -v clang >/dev/null || { echo "fuzz: clang missing (make deps)"; exit 1; }
# core/access/plugin.c learns the plugin list from the Makefile's PLUGINS.
PLUGINS=$(sed -n 's/^PLUGINS[[:space:]]*=[[:space:]]*//p' "$ROOT/Makefile")
# The remote scripts as C strings (build/gen), which jupyter.c and
# keys_remote.c include.
make --no-print-directory -C "$ROOT" B=build gen >/dev/null ||
    { echo "fuzz: make gen failed"; exit 1; }

core=$(ls "$ROOT"/core/*/*.c | grep -v '/main\.c$')
status=0
res=$B/results.txt
: >"$res"
names=""
for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c | sed 's/^fuzz_//')
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
	fi
	# Plugin sources only for the plugin's own parsers (each plugin
	# defines jc_plugin_entry, so they cannot all link together).
	case $name in
	ssm*|smux*|ws*) srcs=$(ls "$ROOT"/plugins/ssm/*.c) ;;
	authorized_keys*|keys*) srcs=$(ls "$ROOT"/plugins/keys/*.c) ;;
	*) srcs="" ;;
	esac
	echo "fuzz: building $name" >&2
	# shellcheck disable=SC2086
	if ! clang $CFLAGS "-DJC_PLUGINS=\"$PLUGINS\"" -o "$B/fuzz_$name" \
	    "$f" $core $srcs $LIBS \
	    2>"$B/build-$name.log"; then
		echo "fuzz: build of $name failed, see $B/build-$name.log" >&2
		status=1
		continue
	fi
	names="$names $name"
done

# One campaign: copy the seeds, run, write its table row to $B/row-NAME.
campaign() {
	name=$1
	rm -rf "$B/corpus-$name" "$B"/crash-$name-*
	mkdir -p "$B/corpus-$name"
	cp -r "$ROOT/tests/fuzz/corpus/$name/." "$B/corpus-$name/" 2>/dev/null
	cp -r "$ROOT/tests/fuzz/grown/$name/." "$B/corpus-$name/" 2>/dev/null
	dict=""
	[ -f "$ROOT/tests/fuzz/$name.dict" ] && dict="-dict=$ROOT/tests/fuzz/$name.dict"
	echo "fuzz: running $name for ${TIME}s" >&2
	# shellcheck disable=SC2086
	"$B/fuzz_$name" -max_total_time="$TIME" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$B/crash-$name-" $dict \
	    "$B/corpus-$name" >"$B/run-$name.log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
	    "$B/run-$name.log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$B/run-$name.log" | tail -n1 |
	    grep -o '[0-9]*')
	crashes=$(ls "$B"/crash-$name-* 2>/dev/null | wc -l)
	printf '| %s | %s s | %s | %s | %s |\n' "$name" "$TIME" \
	    "${execs:-?}" "${cov:-?}" "$([ $rc = 0 ] && echo "no crash" ||
	    echo "FAILED ($crashes artifacts)")" >"$B/row-$name"
	cat "$B/row-$name"
	return $rc
}

# Run FUZZ_JOBS campaigns at a time; each reports through its exit code.
jobs=${FUZZ_JOBS:-1}
set -- $names
while [ $# -gt 0 ]; do
	pids=""
	n=0
	while [ $# -gt 0 ] && [ $n -lt "$jobs" ]; do
		campaign "$1" &
		pids="$pids $!"
		n=$((n + 1))
		shift
	done
	for p in $pids; do
		wait "$p" || status=1
	done
done
for name in $names; do
	cat "$B/row-$name" >>"$res" 2>/dev/null ||
		echo "| $name | $TIME s | ? | ? | no result |" >>"$res"
done
{
	printf '\n## %s, %s s per target\n\n' "$(date -u +%Y-%m-%d)" "$TIME"
	echo '| target | time | executions | coverage (edges) | result |'
	echo '|---|---|---|---|---|'
	cat "$res"
} >>"$ROOT/tests/fuzz/RESULTS.md"
exit $status
