#!/bin/bash
# jconnect keys failing safely against a real sshd: a read-only
# authorized_keys (clear error, exit 1, file unchanged byte for byte), a
# remote shell that dies in the middle of writing (old file intact), a
# private key or a missing file given as --key.
. "$(dirname "$0")/lib.sh"

rig_start sshd

AK=$RHOME/.ssh/authorized_keys
ssh-keygen -q -t ed25519 -N '' -C 'new key' -f "$T/new"
printf '# keep\r\n' >>"$AK"
cp "$AK" "$T/ak.orig"

# Read-only file.
chmod 444 "$AK"
st=0
"$JC" keys --key "$T/new.pub" $SSH_OPTS "$SSH_TARGET" >"$T/out" \
    2>"$T/err" || st=$?
check "read-only: exit 1 (got $st)" test "$st" = 1
check "read-only: the error says so" grep -q "is read-only" "$T/err"
check "read-only: one error line for it" \
    test "$(grep -c "read-only" "$T/err")" = 1
check "read-only: unchanged byte for byte" cmp "$AK" "$T/ak.orig"
check "read-only: mode kept" test "$(stat -c %a "$AK")" = 444
check "read-only: nothing on stdout" test ! -s "$T/out"
check "read-only: no temporary file left" \
    sh -c "! ls -a '$RHOME/.ssh' | grep -q jconnect"
chmod 600 "$AK"

# The login shell (bash -l reads ~/.profile) puts a `cat` first in PATH
# that copies 30 bytes of the new file, then kills the script's shell.
mkdir -p "$RHOME/fakebin"
cat >"$RHOME/fakebin/cat" <<'EOF'
#!/bin/sh
if [ $# -gt 0 ]; then exec /bin/cat "$@"; fi
head -c 30
: >"$HOME/fakecat.ran"
kill -9 $PPID
exit 0
EOF
chmod 755 "$RHOME/fakebin/cat"
echo "PATH=$RHOME/fakebin:\$PATH; export PATH" >"$RHOME/.profile"
st=0
"$JC" keys --key "$T/new.pub" $SSH_OPTS "$SSH_TARGET" >"$T/out" \
    2>"$T/err" || st=$?
check "shell killed mid-write: exit 1 (got $st)" test "$st" = 1
check "shell killed mid-write: says the file is unchanged" \
    grep -q "unchanged" "$T/err"
check "shell killed mid-write: old file intact" cmp "$AK" "$T/ak.orig"
grep -q "unchanged" "$T/err" || show "$T/err"
check "the fake cat really ran" test -e "$RHOME/fakecat.ran"
rm -f "$RHOME/.profile" "$RHOME"/.ssh/.authorized_keys.jconnect.*
st=0
"$JC" keys --key "$T/new.pub" $SSH_OPTS "$SSH_TARGET" 2>"$T/err" || st=$?
check "after the fault: a normal run works (got $st)" test "$st" = 0
[ "$st" = 0 ] || show "$T/err"
check "after the fault: key added once" \
    test "$(grep -c "$(cut -d' ' -f2 "$T/new.pub")" "$AK")" = 1

# A private key where a .pub is wanted.
st=0
"$JC" keys --key "$T/new" $SSH_OPTS "$SSH_TARGET" 2>"$T/err" || st=$?
check "private key as --key: exit 2 (got $st)" test "$st" = 2
check "private key as --key: says to give the .pub" \
    grep -q "is a private key" "$T/err"
st=0
"$JC" keys --key "$T/nonexistent.pub" $SSH_OPTS "$SSH_TARGET" 2>"$T/err" ||
    st=$?
check "missing --key file: a usage error, exit 2 (got $st)" test "$st" = 2
check "missing --key file: named" grep -q "nonexistent.pub" "$T/err"
