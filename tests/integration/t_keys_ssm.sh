#!/bin/bash
# jconnect keys over SSM (fake AWS + fake SSM agent running real shell
# commands as the remote user): the key lands in the remote
# authorized_keys and plain ssh to the real sshd logs in with only it;
# with no key logging in, the .pub beside -i is installed too; --remove.
. "$(dirname "$0")/lib.sh"

rig_start sshd agent aws

INST=i-0123456789abcdef0
AK=$RHOME/.ssh/authorized_keys
cp "$AK" "$T/ak.orig"
plain_ssh() {
	ssh -F /dev/null -i "$1" -o IdentitiesOnly=yes -o BatchMode=yes \
	    -o UserKnownHostsFile="$T/kh_plain" \
	    -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 \
	    -p "$SSHD_PORT" "$SSH_USER@127.0.0.1" echo logged-in-ok \
	    2>>"$T/ssh.err" | grep -qx logged-in-ok
}

ssh-keygen -q -t ed25519 -N '' -C 'over ssm' -f "$T/new"
# An AWS-style key pair: -i names the private half, the .pub sits beside.
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C 'beside -i' -f "$T/aws.pem"

st=0
"$JC" keys --via ssm -l "$SSH_USER" -i "$T/aws.pem" --key "$T/new.pub" \
    "$INST" >"$T/out" 2>"$T/err" || st=$?
check "keys over SSM exits 0 (got $st)" test "$st" = 0
check "nothing on stdout" test ! -s "$T/out"
check "old lines kept as a prefix" \
    cmp -n "$(wc -c <"$T/ak.orig")" "$AK" "$T/ak.orig"
check "plain ssh with only the new key logs in" plain_ssh "$T/new"

# No --key and no key logging in: the .pub beside -i goes in.
st=0
"$JC" keys --via ssm -l "$SSH_USER" -i "$T/aws.pem" "$INST" 2>"$T/err" ||
    st=$?
check "keys over SSM with -i only exits 0 (got $st)" test "$st" = 0
check "the .pub beside -i is installed" grep -q "beside -i$" "$AK"
check "and that key logs in" plain_ssh "$T/aws.pem"

st=0
"$JC" keys --via ssm -l "$SSH_USER" --remove --key "$T/new.pub" "$INST" \
    2>"$T/err" || st=$?
check "--remove over SSM exits 0 (got $st)" test "$st" = 0
check "--remove over SSM: the key is gone" \
    sh -c "! grep -qF '$(cut -d' ' -f2 "$T/new.pub")' '$AK'"
if plain_ssh "$T/new"; then
	not_ok "--remove over SSM: the key no longer logs in"
else
	ok "--remove over SSM: the key no longer logs in"
fi
