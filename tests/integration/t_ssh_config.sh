#!/bin/bash
# jconnect ssh-config against the rig (real sshd, fake AWS, fake SSM
# agent): the generated blocks carry the user, key, known_hosts file and
# host key name jconnect uses; real ssh, scp and rsync work through them
# (-F generated) over SSH and over SSM (ProxyCommand jconnect proxy); the
# host key jconnect recorded is the one ssh checks (no prompt in strict
# mode) and the other way round, and a changed key is refused.  --install
# into an odd file (CRLF, no final newline, `Host *` first, mode 0640):
# every other byte kept, the block before the first Host line, a second
# run changes nothing, a changed setting updates the block in place; a
# symbolic link or a group-writable file is refused.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws
INST=i-0123456789abcdef0
KH=$T/kh
mkdir -p "$XDG_CONFIG_HOME/jconnect"
cat >"$XDG_CONFIG_HOME/jconnect/config.json" <<EOF
{ "defaults": { "known_hosts": "$KH", "user": "$SSH_USER",
                "port": $SSHD_PORT, "identity": "$SSH_KEY" },
  "aliases": {
    "box-ssm": { "target": "demo-stack", "via": "ssm" },
    "box-ssh": { "target": "$INST", "via": "ssh" },
    "direct": { "target": "127.0.0.1" } } }
EOF
GEN=$T/gen
# block NAME : the block of Host NAME in $GEN.
block() { sed -n "/^# >>> jconnect $1 >>>/,/^# <<< jconnect $1 <<</p" "$GEN"; }
# sshx NAME CMD... : real ssh through the generated config, never asking.
sshx() { ssh -F "$GEN" -o BatchMode=yes -o StrictHostKeyChecking=yes "$@"; }

st=0
"$JC" ssh-config --all-aliases >"$GEN" 2>"$T/gen.err" || st=$?
check "ssh-config --all-aliases exits 0 (got $st)" test "$st" = 0
show "$T/gen.err" 5
check "one block per alias" test "$(grep -c '^Host ' "$GEN")" = 3
block box-ssm >"$T/b.ssm"
block box-ssh >"$T/b.ssh"
block direct >"$T/b.direct"
check "SSM block: HostName is the instance id" \
    grep -qx "    HostName $INST" "$T/b.ssm"
check "SSM block: ProxyCommand is this jconnect's absolute path, proxy, region" \
    grep -qx "    ProxyCommand $ROOT/jconnect proxy -q --via ssm --region us-east-1 %h %p" "$T/b.ssm"
check "SSM block: HostKeyAlias is the name jconnect records" \
    grep -qx "    HostKeyAlias \[$INST\]:$SSHD_PORT" "$T/b.ssm"
check "SSM block: user, port, key, known_hosts, keepalive" sh -c "
    grep -qx '    User $SSH_USER' '$T/b.ssm' &&
    grep -qx '    Port $SSHD_PORT' '$T/b.ssm' &&
    grep -qx '    IdentityFile $SSH_KEY' '$T/b.ssm' &&
    grep -qx '    UserKnownHostsFile $KH' '$T/b.ssm' &&
    grep -qx '    ServerAliveInterval 5' '$T/b.ssm' &&
    grep -qx '    ServerAliveCountMax 3' '$T/b.ssm'"
check "SSH block: direct form, no ProxyCommand, the instance's address" \
    sh -c "! grep -q ProxyCommand '$T/b.ssh' &&
    grep -qx '    HostName localhost' '$T/b.ssh' &&
    grep -qx '    HostKeyAlias \[$INST\]:$SSHD_PORT' '$T/b.ssh'"
check "host block: no proxy, no alias (known_hosts names the host)" \
    sh -c "! grep -q 'ProxyCommand\|HostKeyAlias' '$T/b.direct' &&
    grep -qx '    HostName 127.0.0.1' '$T/b.direct'"
check "nothing but blocks on stdout" \
    sh -c "! grep -v '^ \|^Host \|^# \|^$' '$GEN'"

# An alias that does not resolve: skipped with a warning, the others
# still written, and the exit status says something was missing.
sed 's|"direct": {|"gone": { "target": "stack:no-such-stack" },\n    "direct": {|' \
    "$XDG_CONFIG_HOME/jconnect/config.json" >"$T/gone.json"
st=0
"$JC" ssh-config -F "$T/gone.json" --all-aliases >"$T/gen.gone" \
    2>"$T/gone.err" || st=$?
check "--all-aliases with an alias that does not resolve: exit 3 (got $st)" \
    test "$st" = 3
check "it names the alias" grep -q "alias gone: no Host block" "$T/gone.err"
check "the other three blocks are there" \
    test "$(grep -c '^Host ' "$T/gen.gone")" = 3

# --- over SSH: jconnect records the host key, ssh finds it ---------------
rm -f "$KH"
# (keys with the key that logs in: nothing to add, exit 0, a real login)
"$JC" keys --key "$SSH_KEY.pub" box-ssh >/dev/null 2>"$T/keys.err"
check "jconnect recorded the key as [$INST]:$SSHD_PORT" \
    grep -q "^\[$INST\]:$SSHD_PORT " "$KH"
out=$(sshx box-ssh 'echo over-ssh' 2>"$T/ssh1.err")
check "ssh box-ssh (strict: no prompt possible) logs in with that entry" \
    test "$out" = over-ssh
show "$T/ssh1.err" 5
check "ssh added nothing to known_hosts" test "$(wc -l <"$KH")" = 1
"$JC" keys --key "$SSH_KEY.pub" direct >/dev/null 2>&1
check "jconnect recorded the plain host as [127.0.0.1]:$SSHD_PORT" \
    grep -q "^\[127.0.0.1\]:$SSHD_PORT " "$KH"
out=$(sshx direct 'echo direct' 2>"$T/ssh2.err")
check "ssh direct (a plain host block) logs in" test "$out" = direct
head -c 3000000 /dev/urandom >"$T/up.bin"
check "scp up over SSH" scp -O -q -F "$GEN" -o BatchMode=yes "$T/up.bin" \
    "box-ssh:$RHOME/up.copy"
check "byte-exact" cmp -s "$T/up.bin" "$RHOME/up.copy"
mkdir -p "$T/tree/sub"
head -c 200000 /dev/urandom >"$T/tree/a.bin"
echo small >"$T/tree/sub/b.txt"
check "rsync a tree over SSH" rsync -a -e "ssh -F $GEN -o BatchMode=yes" \
    "$T/tree/" "box-ssh:$RHOME/tree-ssh/"
check "the tree arrived byte-exact" diff -r "$T/tree" "$RHOME/tree-ssh"

# The other way: ssh records it (accept-new), jconnect in strict mode
# accepts that entry.
rm -f "$KH"
out=$(ssh -F "$GEN" -o BatchMode=yes box-ssh 'echo first' 2>"$T/ssh3.err")
check "first ssh records the key itself (accept-new)" test "$out" = first
check "under the same name" grep -q "^\[$INST\]:$SSHD_PORT " "$KH"
st=0
"$JC" keys --key "$SSH_KEY.pub" --host-key-check strict box-ssh >/dev/null 2>"$T/keys2.err" || st=$?
check "jconnect --host-key-check strict accepts ssh's entry (got $st)" \
    test "$st" = 0
show "$T/keys2.err" 3

# --- over SSM: jconnect's compressed path records, ssh through the proxy -
rm -f "$KH"
st=0
url=$("$JC" url box-ssm 2>"$T/url.err") || st=$?
check "jconnect url over SSM (got $st)" test "$st" = 0
show "$T/url.err" 5
# The SSH login inside SSM comes up right after the URL.
check "its SSH-inside-SSM login recorded [$INST]:$SSHD_PORT" \
    wait_for 30 grep -q "^\[$INST\]:$SSHD_PORT " "$KH"
"$JC" stop box-ssm 2>/dev/null
out=$(sshx box-ssm 'echo over-ssm' 2>"$T/ssm1.err")
check "ssh box-ssm through jconnect proxy, strict, no prompt" \
    test "$out" = over-ssm
show "$T/ssm1.err" 5
check "scp up over SSM" scp -O -q -F "$GEN" -o BatchMode=yes "$T/up.bin" \
    "box-ssm:$RHOME/up.ssm"
check "byte-exact" cmp -s "$T/up.bin" "$RHOME/up.ssm"
check "scp down over SSM" scp -O -q -F "$GEN" -o BatchMode=yes \
    "box-ssm:$RHOME/up.ssm" "$T/down.ssm"
check "byte-exact" cmp -s "$T/up.bin" "$T/down.ssm"
check "rsync a tree over SSM" rsync -a -e "ssh -F $GEN -o BatchMode=yes" \
    "$T/tree/" "box-ssm:$RHOME/tree-ssm/"
check "the tree arrived byte-exact" diff -r "$T/tree" "$RHOME/tree-ssm"

# A config file whose path needs quoting in the ProxyCommand (a blank, a
# quote, a percent sign): ssh's %-expansion and the shell give it back.
ODD="$T/odd dir/it's 100%.json"
mkdir -p "$T/odd dir"
cp "$XDG_CONFIG_HOME/jconnect/config.json" "$ODD"
"$JC" ssh-config -F "$ODD" box-ssm >"$T/gen.odd" 2>"$T/odd.err"
check "the odd path is quoted in the ProxyCommand" \
    grep -qF -- "-F '$T/odd dir/it'\\''s 100%%.json' %h %p" "$T/gen.odd"
out=$(ssh -F "$T/gen.odd" -o BatchMode=yes -o StrictHostKeyChecking=yes \
    box-ssm 'echo odd-path' 2>"$T/odd.ssh")
check "and ssh through it reaches the instance" test "$out" = odd-path
show "$T/odd.ssh" 5

# --- a changed host key is refused, over both ----------------------------
ssh-keygen -q -t ed25519 -N '' -f "$T/other"
printf '[%s]:%s %s\n' "$INST" "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/other.pub")" >"$KH"
for h in box-ssh box-ssm; do
	st=0
	sshx "$h" 'echo should-not-run' >"$T/mm.out" 2>"$T/mm.err" || st=$?
	check "$h with a changed key: ssh refuses (exit $st)" \
	    sh -c "test $st = 255 && test ! -s '$T/mm.out' &&
	    grep -q 'IDENTIFICATION HAS CHANGED\|verification failed' '$T/mm.err'"
done
st=0
"$JC" keys --key "$SSH_KEY.pub" box-ssh >/dev/null 2>"$T/mm.jc" || st=$?
check "and jconnect agrees: exit 6 (got $st)" test "$st" = 6
rm -f "$KH"

# --- --install into an odd file -----------------------------------------
SC=$T/sshconf
printf '# mine\r\nHost *\r\n    User nobody\r\nHost other\r\n  HostName x.example\r\n# last, no newline' >"$SC"
chmod 640 "$SC"
cp "$SC" "$T/sc.orig"
st=0
"$JC" ssh-config --install --file "$SC" box-ssm 2>"$T/inst.err" || st=$?
check "--install exits 0 (got $st)" test "$st" = 0
check "and says it added the block" grep -q "added Host box-ssm" "$T/inst.err"
check "nothing on stdout" test -z "$("$JC" ssh-config -q --install --file "$SC" box-ssm)"
check "the mode is kept (0640)" test "$(stat -c %a "$SC")" = 640
check "the block is first, before Host * and its comment" \
    sh -c "head -n 1 '$SC' | grep -q '^# >>> jconnect box-ssm >>>'"
# all_crlf : every line of the block ends in CR LF.
all_crlf() { ! sed -n '/jconnect box-ssm >>>/,/jconnect box-ssm <<</p' "$SC" |
    grep -qv $'\r$'; }
check "in the file's CRLF style" all_crlf
# rest_is_old : all but the block (and the CR LF after it) is the old file.
rest_is_old() {
	cmp -s <(sed '/^# >>> jconnect box-ssm >>>/,/^# <<< jconnect box-ssm <<</d' \
	    "$SC" | tail -c +3) "$T/sc.orig"
}
check "every other byte is kept" rest_is_old
cp "$SC" "$T/sc.1"
"$JC" ssh-config --install --file "$SC" box-ssm 2>"$T/inst2.err"
check "a second --install changes nothing" cmp -s "$SC" "$T/sc.1"
check "and says so" grep -q "up to date" "$T/inst2.err"
out=$(ssh -F "$SC" -o BatchMode=yes box-ssm 'echo installed' 2>"$T/inst.ssh")
check "ssh -F the installed file logs in (the block wins over Host *)" \
    test "$out" = installed
show "$T/inst.ssh" 5
"$JC" ssh-config --install --file "$SC" -o ssh.keepalive=30 box-ssm \
    2>"$T/inst3.err"
check "a changed setting updates the block" \
    sh -c "grep -q 'updated Host box-ssm' '$T/inst3.err' &&
    grep -q 'ServerAliveInterval 30' '$SC' && ! grep -q 'ServerAliveInterval 5' '$SC'"
check "still one block" test "$(grep -c 'jconnect box-ssm >>>' "$SC")" = 1
check "every other byte still kept" rest_is_old
"$JC" ssh-config --install --file "$SC" box-ssh 2>/dev/null
check "a second target gets its own block, the first is untouched" \
    sh -c "grep -q '^Host box-ssh' '$SC' && grep -q 'ServerAliveInterval 30' '$SC'"
check "no temporary file left" sh -c "! ls -a '$T' | grep -q jconnect"

# Refusals: the file is left as it is, exit 2, one line.
cp "$SC" "$T/sc.before"
ln -s "$SC" "$T/link"
st=0
"$JC" ssh-config --install --file "$T/link" direct 2>"$T/ln.err" || st=$?
check "a symbolic link is refused (exit $st)" \
    sh -c "test $st = 2 && grep -q 'symbolic link' '$T/ln.err' &&
    test \$(wc -l <'$T/ln.err') = 1 && test -L '$T/link'"
chmod 660 "$SC"
st=0
"$JC" ssh-config --install --file "$SC" direct 2>"$T/gw.err" || st=$?
check "a group-writable file is refused (exit $st)" \
    sh -c "test $st = 2 && grep -q 'chmod go-w' '$T/gw.err'"
check "both left the file unchanged" cmp -s "$SC" "$T/sc.before"

# The default file: ~/.ssh/config, created 0600.
"$JC" ssh-config --install direct 2>"$T/def.err"
show "$T/def.err" 3
check "~/.ssh/config created 0600 with the block" \
    sh -c "test \$(stat -c %a '$HOME/.ssh/config') = 600 &&
    grep -q '^Host direct' '$HOME/.ssh/config'"

# Usage errors.
st=0; "$JC" ssh-config 2>"$T/u1" || st=$?
check "no TARGET: exit 2" sh -c "test $st = 2 && grep -q 'all-aliases' '$T/u1'"
st=0; "$JC" ssh-config --all-aliases box-ssm 2>"$T/u2" || st=$?
check "--all-aliases with a TARGET: exit 2" test "$st" = 2
st=0; "$JC" ssh-config --file "$SC" box-ssm 2>"$T/u3" || st=$?
check "--file without --install: exit 2" test "$st" = 2
st=0; "$JC" ls --install 2>"$T/u4" || st=$?
check "--install is for ssh-config only" test "$st" = 2
"$JC" help ssh-config >"$T/help"
check "help ssh-config shows the options" sh -c \
    "grep -q -- '--all-aliases' '$T/help' && grep -q -- '--install' '$T/help'"
