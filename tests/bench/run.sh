#!/bin/sh
# make bench: see bench.py.  BENCH_RUNS=N and BENCH_CIPHER=... override.
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
