#!/bin/bash
# The command line: help for every subcommand, usage errors exit 2 with
# one clear line, plugins are found in the build tree, bad config exits 2
# naming the file, the key and what is allowed, strict numbers, missing
# files named on the command line, and stdout write errors (exit 1).
. "$(dirname "$0")/lib.sh"

check "--help exits 0" "$JC" --help >"$T/help"
check "--help lists every subcommand" sh -c \
    "for c in open url proxy keys resolve ls stop ssh-config login plugins; do grep -q \"jconnect \\(\\[\\)\\?\$c\" '$T/help' || exit 1; done"
check "--help documents the exit codes" grep -q '8 no free local port' "$T/help"
for c in open url proxy keys resolve ls stop ssh-config login plugins; do
	check "help $c" sh -c "'$JC' help $c | grep -q 'Usage: jconnect .*$c\\|Usage: jconnect \\[open\\]'"
	check "$c --help" sh -c "'$JC' $c --help | grep -q Usage"
done
abi=$(sed -n 's/^#define JC_PLUGIN_ABI_MAJOR[[:space:]]*//p' "$ROOT/core/jc_plugin.h").$(sed -n 's/^#define JC_PLUGIN_ABI_MINOR[[:space:]]*//p' "$ROOT/core/jc_plugin.h")
check "--version names the plugin ABI of core/jc_plugin.h ($abi)" sh -c \
    "'$JC' --version | grep -q 'plugin ABI $abi'"

st=0; "$JC" >"$T/out" 2>"$T/err" || st=$?
check "no arguments: exit 2" test "$st" = 2
check "no arguments: usage on stderr, nothing on stdout" \
    sh -c "test ! -s '$T/out' && grep -q '^Usage:' '$T/err'"
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

# usage_line DESC PATTERN ARGS... : exit 2, one line on stderr matching
# PATTERN, nothing on stdout.
usage_line() {
	local d=$1 pat=$2 st=0; shift 2
	"$JC" "$@" >"$T/out" 2>"$T/err" </dev/null || st=$?
	if [ "$st" = 2 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
	    grep -q -- "$pat" "$T/err"; then
		ok "$d"
	else
		not_ok "$d (exit $st)"; show "$T/err" 3
	fi
}
# Numbers are digits only: no blank, no sign.
usage_line "-p ' 22' is refused" 'digits only' resolve -p ' 22' box.example.com
usage_line "-p +22 is refused" 'digits only' resolve -p +22 box.example.com
usage_line "--local-port ' 8888' is refused" 'digits only' \
    --local-port ' 8888' box.example.com
usage_line "host:+22 in TARGET is refused" 'bad port' resolve box.example.com:+22
usage_line "proxy PORT ' 22' is refused" 'digits only' proxy box.example.com ' 22'
# Files jconnect reads itself must be there.
usage_line "-i with a missing file" "-i: $T/nokey.pem: No such file" \
    -i "$T/nokey.pem" box.example.com
usage_line "--key with a missing file" "--key: $T/nokey.pub: No such file" \
    keys --key "$T/nokey.pub" box.example.com
usage_line "-F naming a directory" "config file $T: Is a directory" \
    resolve -F "$T" box.example.com
usage_line "-l with a blank in the name" 'user name' -l 'a b' box.example.com
# -o: known keys, values of their type.
usage_line "-o with an unknown key lists the known ones" \
    'no option "ssm.chunksize"; known: .*ssm.chunk_size' \
    resolve -o ssm.chunksize=4096 box.example.com
usage_line "-o with a non-numeric value says what is allowed" \
    '"16k" is not a number from 64 to 65536' \
    resolve -o ssm.chunk_size=16k box.example.com

# Write errors on stdout are failures (exit 1, one line), like coreutils.
for a in --version --help "help url" ls "resolve --json box.example.com" \
    "resolve box.example.com"; do
	st=0
	# shellcheck disable=SC2086
	"$JC" $a >/dev/full 2>"$T/err" || st=$?
	check "$a >/dev/full: exit 1 (got $st)" test "$st" = 1
	check "$a >/dev/full: says so" \
	    grep -q 'cannot write to standard output' "$T/err"
done

"$JC" plugins >"$T/plugins" 2>&1
for p in ssh ssm keys eice; do
	check "plugins: $p found in the build tree" \
	    grep -qF " ABI $abi  $ROOT/plugins/$p/jc-$p.so" "$T/plugins"
done
"$JC" plugins --json >"$T/pj"
check "plugins --json: one object per line" \
    sh -c "$PY -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$T/pj'"

mkdir -p "$XDG_CONFIG_HOME/jconnect"
printf '{\n "aliases": {\n  "x": }\n}\n' >"$XDG_CONFIG_HOME/jconnect/config.json"
st=0; "$JC" resolve box.example.com 2>"$T/err" || st=$?
check "broken config: exit 2" test "$st" = 2
check "broken config: names the file and line" grep -q 'config.json: invalid JSON near line 3' "$T/err"
# Every value is checked when the file is loaded, whatever the command.
cfgline() {	# cfgline DESC EXPECTED-LINE JSON
	printf '%s\n' "$3" >"$XDG_CONFIG_HOME/jconnect/config.json"
	st=0; "$JC" resolve box.example.com >"$T/out" 2>"$T/err" || st=$?
	if [ "$st" = 2 ] && [ "$(cat "$T/err")" = "jconnect: $XDG_CONFIG_HOME/jconnect/config.json: $2" ]; then
		ok "config: $1"
	else
		not_ok "config: $1 (exit $st)"; show "$T/err" 3
	fi
}
# The -o keys as --help lists them (one table behind both).
"$JC" --help | sed -n '/^Options for -o/,/^$/p' | awk 'NR > 1 && NF { print $1 }' \
    >"$T/okeys"
KNOWN=$(paste -sd, "$T/okeys" | sed 's/,/, /g')
cfgline "a port that is not a number" \
    'alias "gpu": local_port: "88a" is not a port (1-65535)' \
    '{"aliases": {"gpu": {"target": "stack:ml", "local_port": "88a"}}}'
cfgline "a negative port" \
    'alias "gpu": jupyter_port: -1 is not a port (1-65535)' \
    '{"aliases": {"gpu": {"target": "stack:ml", "jupyter_port": -1}}}'
cfgline "a port out of range" \
    'defaults: port: 65536 is not a port (1-65535)' \
    '{"defaults": {"port": 65536}}'
cfgline "an unknown host_key_check spelling" \
    'alias "gpu": host_key_check: "Strict" is not strict or accept-new' \
    '{"aliases": {"gpu": {"target": "stack:ml", "host_key_check": "Strict"}}}'
cfgline "an unknown option" \
    "defaults: options: no option \"ssh.keepalive_s\"; known: $KNOWN" \
    '{"defaults": {"options": {"ssh.keepalive_s": 30}}}'
cfgline "a non-numeric option value" \
    'alias "gpu": options: ssh.keepalive: "30s" is not a number from 0 to 3600 (seconds, 0 = off)' \
    '{"aliases": {"gpu": {"target": "stack:ml", "options": {"ssh.keepalive": "30s"}}}}'
cfgline "an unknown key in an alias" \
    'alias "gpu": no setting "local-port"; known: target, via, user, identity, port, region, profile, jupyter_port, jupyter_log, local_port, known_hosts, host_key_check, forward, options' \
    '{"aliases": {"gpu": {"target": "stack:ml", "local-port": 9000}}}'
# An alias's identity must exist when the alias is used.
printf '{"aliases": {"gpu": {"target": "box.example.com", "identity": "%s"}}}\n' \
    "$T/gone.pem" >"$XDG_CONFIG_HOME/jconnect/config.json"
st=0; "$JC" resolve gpu >"$T/out" 2>"$T/err" || st=$?
check "config: an alias's missing identity is exit 2 when used (got $st)" \
    test "$st" = 2
check "config: ... naming the file, the alias and the key file" grep -q \
    "config.json: alias \"gpu\": identity: $T/gone.pem: No such file" "$T/err"
rm -f "$XDG_CONFIG_HOME/jconnect/config.json"

check "resolve of a host needs no AWS" sh -c \
    "'$JC' resolve --json ubuntu@box.example.com:2222 | grep -q '\"via\":\"ssh\"'"

# The -o keys jconnect checks are the ones help, README, man page and
# both completions offer.
check "--help lists the -o keys ($(wc -l <"$T/okeys"))" \
    test "$(wc -l <"$T/okeys")" -ge 16
missing=
while read -r k; do
	grep -qF "$k=" "$ROOT/completions/jconnect.bash" &&
	    grep -qF "$k" "$ROOT/completions/_jconnect" &&
	    grep -qF "| \`$k\` |" "$ROOT/README.md" &&
	    grep -qF "\\fB$k\\fR" "$ROOT/jconnect.1" || missing="$missing $k"
done <"$T/okeys"
check "every -o key is in README, jconnect.1 and the completions${missing:+ (missing:$missing)}" \
    test -z "$missing"

# ---- one table behind the parser, --help, the completions, the man page --
# opts_of FILE: the option names of a help text's "Options:" section.
opts_of() {
	sed -n '/^Options:/,/^$/p' "$1" | grep -o -- '^  -[a-zA-Z], --[a-z-]*\|^  --[a-z-]*' |
	    grep -o -- '--[a-z-]*\|-[a-zA-Z]' | sort -u
}
"$JC" --help >"$T/help"
opts_of "$T/help" >"$T/opts"
check "--help lists the command-line options ($(wc -l <"$T/opts"))" \
    test "$(wc -l <"$T/opts")" -ge 45
# What each completion offers.
sed -n '/local opts="/,/"$/p' "$ROOT/completions/jconnect.bash" |
    grep -o -- '--[a-z-]*\|\(^\|[[:space:]"]\)-[a-zA-Z]\b' | tr -d ' \t"' |
    sort -u >"$T/bash"
sed -n '/_arguments/,/1: :/p' "$ROOT/completions/_jconnect" |
    grep -o -- "--[a-z-]*\|[{,'(]-[a-zA-Z][],[ }]" | tr -d "{},[]( '" |
    sort -u >"$T/zsh"
check "the bash completion offers exactly the options of --help" \
    diff "$T/opts" "$T/bash"
check "the zsh completion offers exactly the options of --help" \
    diff "$T/opts" "$T/zsh"
missing=
while read -r o; do
	m=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
	sed -n '/^\.SH OPTIONS/,/^\.SH CONFIGURATION/p' "$ROOT/jconnect.1" |
	    grep -A1 '^\.TP' | grep -q -- "$m\\( \\|\"\\|\$\\)" ||
	    missing="$missing $o"
done <"$T/opts"
check "jconnect.1 has an entry for every option of --help${missing:+ (missing:$missing)}" \
    test -z "$missing"
# Per command: help shows exactly the options the parser takes for it
# (the unknown option after it stops the run before anything connects).
for c in open url proxy keys resolve ls stop login ssh-config plugins; do
	"$JC" help "$c" >"$T/h.$c"
	opts_of "$T/h.$c" >"$T/o.$c"
	wrong=
	while read -r o; do
		"$JC" "$c" "$o" x --no-such-option >/dev/null 2>"$T/e" </dev/null
		if grep -q 'does not apply' "$T/e"; then
			grep -qx -- "$o" "$T/o.$c" && wrong="$wrong +$o"
		else
			grep -qx -- "$o" "$T/o.$c" || wrong="$wrong -$o"
		fi
	done <"$T/opts"
	check "help $c lists exactly the options $c takes${wrong:+ (wrong:$wrong)}" \
	    test -z "$wrong"
done
