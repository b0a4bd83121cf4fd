#!/bin/bash
# make install: binary, plugins, man page and completions land under
# DESTDIR/PREFIX, and the installed binary finds its plugins there.
. "$(dirname "$0")/lib.sh"

d=$T/dest
make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/opt/jc >"$T/make.out" 2>&1
check "make install DESTDIR=... PREFIX=/opt/jc succeeds" test $? = 0
for f in bin/jconnect lib/jconnect/jc-ssh.so lib/jconnect/jc-ssm.so \
    lib/jconnect/jc-keys.so share/man/man1/jconnect.1 \
    share/bash-completion/completions/jconnect \
    share/zsh/site-functions/_jconnect; do
	check "installed $f" test -f "$d/opt/jc/$f"
done
check "plugins are not group/world writable" \
    sh -c "! find '$d/opt/jc/lib/jconnect' -perm /022 | grep -q ."
"$d/opt/jc/bin/jconnect" plugins >"$T/plugins" 2>&1
check "the installed binary loads the installed plugins" \
    grep -q "^ssh .*$d/opt/jc/bin/../lib/jconnect/jc-ssh.so" "$T/plugins"
check "man page has its sections" sh -c "grep -q '^.TH JCONNECT 1' '$d/opt/jc/share/man/man1/jconnect.1' && grep -q '^.SH EXIT STATUS' '$d/opt/jc/share/man/man1/jconnect.1'"
check "bash completion offers subcommands" bash -c "
	. '$d/opt/jc/share/bash-completion/completions/jconnect'
	COMP_WORDS=(jconnect pl); COMP_CWORD=1; _jconnect
	[ \"\${COMPREPLY[*]}\" = plugins ]"
check "zsh completion file defines _jconnect" grep -q '^_jconnect()' "$d/opt/jc/share/zsh/site-functions/_jconnect"
