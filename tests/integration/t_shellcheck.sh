#!/bin/bash
# The remote shell scripts (core/*/sh/*.sh, plugins/*/*.sh), which the
# build embeds as C strings: shellcheck -s sh finds nothing in any of them,
# alone or as jupyter.c sends them (common.sh, then the body); each one is
# included by a C file; and the built binaries carry each file's bytes,
# comment lines left out, unchanged.
. "$(dirname "$0")/lib.sh"

command -v shellcheck >/dev/null 2>&1 ||
    { echo "Bail out! shellcheck missing (make deps)"; exit 1; }

cd "$ROOT" || exit 1
scripts=$(ls core/*/sh/*.sh plugins/*/*.sh 2>/dev/null)
n=$(printf '%s\n' "$scripts" | grep -c '\.sh$')
check "the remote scripts are .sh files ($n)" [ "$n" -ge 5 ]

# Every finding counts, info and style included: a finding that cannot be
# fixed without changing what the script does carries a directive with
# its reason next to the line.
for f in $scripts; do
	if shellcheck -s sh "$f" >"$T/sc.out" 2>&1; then
		ok "shellcheck: $f"
	else
		not_ok "shellcheck: $f"; show "$T/sc.out" 40
	fi
done
for b in core/jupyter/sh/*.sh; do
	[ "$b" = core/jupyter/sh/common.sh ] && continue
	if cat core/jupyter/sh/common.sh "$b" |
	    shellcheck -s sh - >"$T/sc.out" 2>&1; then
		ok "shellcheck: common.sh + ${b##*/}"
	else
		not_ok "shellcheck: common.sh + ${b##*/}"; show "$T/sc.out" 40
	fi
done

# The check sees errors: a script with one must fail it.
printf 'if [ "$1" = x ] then echo y; fi\n' >"$T/bad.sh"
if shellcheck -s sh "$T/bad.sh" >"$T/sc.out" 2>&1; then
	not_ok "shellcheck passed a script with a syntax error"
else
	ok "shellcheck fails a script with an error"
fi

# Each script is embedded: a C file includes its B/gen/PATH.sh.inc.
for f in $scripts; do
	if grep -rqF "#include \"$f.inc\"" core plugins; then
		ok "$f is included by a C file"
	else
		not_ok "no C file includes $f.inc"
	fi
done

# The binaries carry the bytes of each file, comment lines left out
# (plugins/NAME/*.sh in jc-NAME.so, core's in jconnect).
for f in $scripts; do
	case $f in
	plugins/*) p=${f#plugins/}; bin=plugins/${p%%/*}/jc-${p%%/*}.so ;;
	*) bin=jconnect ;;
	esac
	if "$PY" - "$f" "$bin" >"$T/emb.out" 2>&1 <<'PY'
import re, sys
src = open(sys.argv[1], 'rb').read().decode()
body = ''.join(l for l in src.splitlines(True)
    if not re.match(r'[ \t]*#', l)).encode()
blob = open(sys.argv[2], 'rb').read()
sys.exit(0 if len(body) > 0 and body + b'\0' in blob else 1)
PY
	then
		ok "$bin carries $f byte for byte"
	else
		not_ok "$bin does not carry $f as written"; show "$T/emb.out"
	fi
done
