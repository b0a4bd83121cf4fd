#!/bin/bash
# Layers without circles: no module of core/ or plugins/ depends on
# itself through others (tests/tools/include_cycles.py), except the
# circles listed as left for later in tests/tools/include_cycles.known;
# a listed circle that is gone must leave the list too.
. "$(dirname "$0")/lib.sh"

TOOL=$ROOT/tests/tools/include_cycles.py
KNOWN=$ROOT/tests/tools/include_cycles.known

st=0
"$PY" "$TOOL" --root "$ROOT" --known "$KNOWN" >"$T/out" 2>&1 || st=$?
if [ "$st" = 0 ]; then
	ok "no module circle beyond the known ones"
else
	not_ok "module circles (exit $st)"; show "$T/out" 60
fi

# The tool itself: a circle made of two files that call each other
# through their headers, and one hidden behind a shared header.
mkdir -p "$T/src/core" "$T/src/plugins/p"
cat >"$T/src/core/a.h" <<'H'
int	a_one(void);
H
cat >"$T/src/core/a.c" <<'C'
#include "a.h"
#include "b.h"
int
a_one(void)
{
	return b_two();
}
C
cat >"$T/src/core/b.h" <<'H'
int	b_two(void);
H
cat >"$T/src/core/b.c" <<'C'
#include "b.h"
int
b_two(void)
{
	return 2;
}
C
cat >"$T/src/plugins/p/p.h" <<'H'
int	p_main(void);
int	p_chan(void);
H
cat >"$T/src/plugins/p/p.c" <<'C'
#include "p.h"
int
p_main(void)
{
	return p_chan();
}
C
cat >"$T/src/plugins/p/p_chan.c" <<'C'
#include "p.h"
int
p_chan(void)
{
	return 1;
}
C
st=0; "$PY" "$TOOL" --root "$T/src" >"$T/out1" 2>&1 || st=$?
check "a one-way graph passes" test "$st" = 0
# b.c starts calling a_one(): a.c <-> b.c.
sed -i -e '1a #include "a.h"' -e 's/return 2;/return a_one();/' \
    "$T/src/core/b.c"
# p_chan.c starts calling p_main() through the shared p.h.
sed -i 's/return 1;/return p_main();/' "$T/src/plugins/p/p_chan.c"
st=0; "$PY" "$TOOL" --root "$T/src" >"$T/out2" 2>&1 || st=$?
check "a circle fails" test "$st" = 1
check "the circle through own headers is named" \
    grep -qx 'NEW circle: core/a core/b' "$T/out2"
check "the circle behind a shared header is named" \
    grep -qx 'NEW circle: plugins/p/p plugins/p/p_chan' "$T/out2"
check "each edge says what it uses" \
    grep -q 'plugins/p/p_chan -> plugins/p/p: p_main()' "$T/out2"
printf 'core/a core/b\nplugins/p/p plugins/p/p_chan\ncore/x core/y\n' \
    >"$T/known"
st=0; "$PY" "$TOOL" --root "$T/src" --known "$T/known" >"$T/out3" 2>&1 ||
    st=$?
check "a listed circle that is gone fails" sh -c \
    "test $st = 1 && grep -q 'GONE circle.*core/x core/y' '$T/out3'"
printf 'core/a core/b\nplugins/p/p plugins/p/p_chan\n' >"$T/known"
check "listed circles pass" "$PY" "$TOOL" --root "$T/src" --known "$T/known"
printf 'core/*\nplugins/p/p*\n' >"$T/known"
check "a pattern line lists a circle of its area" \
    "$PY" "$TOOL" --root "$T/src" --known "$T/known"
printf 'core/a\nplugins/p/p*\n' >"$T/known"
st=0; "$PY" "$TOOL" --root "$T/src" --known "$T/known" >"$T/out4" 2>&1 ||
    st=$?
check "a circle that grew out of its line fails" sh -c \
    "test $st = 1 && grep -qx 'NEW circle: core/a core/b' '$T/out4'"

# The command layer owns the options: below core/cmd nothing reads or
# writes jc_opts (the access layer gets a struct jc_access_req).
hits=$(grep -rln 'jc_opts' "$ROOT/core" "$ROOT/plugins" --include='*.c' |
    grep -v "^$ROOT/core/cmd/" || true)
check "jc_opts is used in core/cmd only${hits:+ (also in:$(echo "$hits" | sed "s|$ROOT/||" | tr '\n' ' '))}" \
    test -z "$hits"
# No access method is named in the core's code (comments may give
# examples); the AWS endpoint table names the SSM API, not the plugin.
hits=$(grep -rn 'JC_VIA_\|"ssm"\|"ssh"\|"eice"' "$ROOT/core" --include='*.c' \
    --include='*.h' | grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*' |
    grep -v '/aws_parse\.c:[0-9]*:[[:space:]]*{ "ssm",[[:space:]]*"SSM",' || true)
check "the core names no access method${hits:+ ($(echo "$hits" | head -3 | sed "s|$ROOT/||"))}" \
    test -z "$hits"
