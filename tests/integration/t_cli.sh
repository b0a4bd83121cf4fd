#!/bin/bash
# The command line: help for every subcommand, usage errors exit 2 with
# one clear line, plugins are found in the build tree, bad config exits 2.
. "$(dirname "$0")/lib.sh"

check "--help exits 0" "$JC" --help >"$T/help"
check "--help lists every subcommand" sh -c \
    "for c in open url proxy keys resolve ls stop plugins; do grep -q \"jconnect \\(\\[\\)\\?\$c\" '$T/help' || exit 1; done"
check "--help documents the exit codes" grep -q '8 no free local port' "$T/help"
for c in open url proxy keys resolve ls stop plugins; do
	check "help $c" sh -c "'$JC' help $c | grep -q 'Usage: jconnect .*$c\\|Usage: jconnect \\[open\\]'"
	check "$c --help" sh -c "'$JC' $c --help | grep -q Usage"
done
check "--version" sh -c "'$JC' --version | grep -q 'plugin ABI 1.3'"

st=0; "$JC" 2>"$T/err" || st=$?
check "no arguments: exit 2" test "$st" = 2
st=0; "$JC" --frobnicate box 2>"$T/err" || st=$?
check "unknown option: exit 2" test "$st" = 2
check "unknown option: one line naming it" \
    sh -c "test \$(wc -l <'$T/err') = 1 && grep -q frobnicate '$T/err'"
st=0; "$JC" ls -i key 2>"$T/err" || st=$?
check "option not for the command: exit 2" test "$st" = 2
st=0; "$JC" --local-port 99999 box 2>"$T/err" || st=$?
check "bad port: exit 2" test "$st" = 2
st=0; "$JC" 'a;b' 2>"$T/err" || st=$?
check "bad target: exit 2" test "$st" = 2
check "bad target: says why" grep -q 'not a host' "$T/err"
st=0; "$JC" url 2>"$T/err" || st=$?
check "missing target: exit 2" test "$st" = 2

"$JC" plugins >"$T/plugins" 2>&1
for p in ssh ssm keys; do
	check "plugins: $p found in the build tree" \
	    grep -q "^$p .*ABI 1\.3  $ROOT/plugins/$p/jc-$p.so" "$T/plugins"
done
"$JC" plugins --json >"$T/pj"
check "plugins --json: one object per line" \
    sh -c "$PY -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$T/pj'"

mkdir -p "$XDG_CONFIG_HOME/jconnect"
printf '{\n "aliases": {\n  "x": }\n}\n' >"$XDG_CONFIG_HOME/jconnect/config.json"
st=0; "$JC" resolve box.example.com 2>"$T/err" || st=$?
check "broken config: exit 2" test "$st" = 2
check "broken config: names the file and line" grep -q 'config.json: invalid JSON near line 3' "$T/err"
rm -f "$XDG_CONFIG_HOME/jconnect/config.json"

check "resolve of a host needs no AWS" sh -c \
    "'$JC' resolve --json ubuntu@box.example.com:2222 | grep -q '\"via\":\"ssh\"'"
