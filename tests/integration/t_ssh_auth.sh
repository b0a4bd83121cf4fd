#!/bin/bash
# Logins that must fail, and fail clearly: wrong key (exit 5, names the
# key), changed host key (exit 6, names file and line, nothing
# forwarded), strict checking of an unknown host, and a world-readable key
# (warned about, like ssh).
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter

ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
st=0
"$JC" --no-browser -i "$T/wrong_key" -p "$SSHD_PORT" \
    --known-hosts "$KNOWN_HOSTS" "$SSH_TARGET" >"$T/out" 2>"$T/err" || st=$?
check "wrong key exits 5 (got $st)" test "$st" = 5
check "the message names the key tried" grep -q "$T/wrong_key" "$T/err"
check "no URL printed" test ! -s "$T/out"

# A known_hosts entry with another key for this host:port.
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host_key"
{
	echo "# a comment line"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/other_host_key.pub")"
} >"$T/kh_bad"
st=0
"$JC" --no-browser -i "$SSH_KEY" -p "$SSHD_PORT" --known-hosts "$T/kh_bad" \
    --local-port "$(free_port)" "$SSH_TARGET" >"$T/out" 2>"$T/err" || st=$?
check "changed host key exits 6 (got $st)" test "$st" = 6
check "the message names the file and line 2" \
    grep -q "line 2 of $T/kh_bad" "$T/err"
check "nothing forwarded, no URL" test ! -s "$T/out"
check "no login attempted after the mismatch" \
    sh -c "! grep -q 'Accepted publickey' '$SSHD_LOG'"

# Hashed known_hosts entries are found too (HashKnownHosts yes).
cp "$T/kh_bad" "$T/kh_hashed"
ssh-keygen -q -H -f "$T/kh_hashed" >/dev/null 2>&1
st=0
"$JC" --no-browser -i "$SSH_KEY" -p "$SSHD_PORT" --known-hosts "$T/kh_hashed" \
    "$SSH_TARGET" >"$T/out" 2>"$T/err" || st=$?
check "hashed mismatching entry: exit 6 (got $st)" test "$st" = 6
check "hashed entry: line 2 named" grep -q "line 2 of" "$T/err"

st=0
"$JC" --no-browser -i "$SSH_KEY" -p "$SSHD_PORT" --known-hosts "$T/kh_new" \
    --host-key-check strict "$SSH_TARGET" >"$T/out" 2>"$T/err" || st=$?
check "strict + unknown host exits 6 (got $st)" test "$st" = 6
check "strict leaves known_hosts alone" test ! -s "$T/kh_new"

# accept-new records the key; a second run matches it.
"$JC" resolve "$SSH_TARGET" >/dev/null 2>&1
cp "$SSH_KEY" "$T/loose_key"
chmod 644 "$T/loose_key"
"$JC" --no-browser -i "$T/loose_key" -p "$SSHD_PORT" --known-hosts "$T/kh_acc" \
    "$SSH_TARGET" >"$T/out" 2>"$T/err" &
pid=$!
if wait_for 30 grep -q '^http' "$T/out"; then
	ok "accept-new logs in to a new host"
else
	not_ok "accept-new logs in to a new host"; show "$T/err"
fi
kill -INT $pid; wait $pid
check "accept-new recorded [127.0.0.1]:$SSHD_PORT" \
    grep -q "^\[127.0.0.1\]:$SSHD_PORT " "$T/kh_acc"
check "a key readable by others is warned about" \
    grep -q "chmod 600 $T/loose_key" "$T/err"
