#!/bin/bash
# jconnect keys --push-key: EC2 Instance Connect SendSSHPublicKey through
# the fake AWS (signed requests, checked by botocore), which records each
# key it receives in $AWS_STATE/instance-connect/<instance>.json.
. "$(dirname "$0")/lib.sh"

rig_start sshd aws

INST=i-0123456789abcdef0
REC=$AWS_STATE/instance-connect/$INST.json
ssh-keygen -q -t ed25519 -N '' -C 'pushed key' -f "$T/push"

st=0
"$JC" keys --push-key --key "$T/push.pub" -l ubuntu "$INST" >"$T/out" \
    2>"$T/err" || st=$?
check "--push-key --key exits 0 (got $st)" test "$st" = 0
check "nothing on stdout" test ! -s "$T/out"
check "the fake AWS recorded the key" \
    grep -qF "$(cut -d' ' -f2 "$T/push.pub")" "$REC"
check "for user ubuntu" grep -q '"ubuntu"' "$REC"
check "it says the key lasts 60 seconds" grep -q "60 seconds" "$T/err"

# No --key: the key beside -i is the one that will log in.
ssh-keygen -q -t rsa -b 2048 -N '' -C 'ident key' -f "$T/ident"
"$JC" keys --push-key -i "$T/ident" -l ubuntu "$INST" 2>"$T/err"
check "-i: its key is pushed" \
    grep -qF "$(cut -d' ' -f2 "$T/ident.pub")" "$REC"

# Only a key type Instance Connect refuses: a usage error, nothing sent.
ssh-keygen -q -t ecdsa -N '' -f "$T/ec"
cp "$REC" "$T/rec.before"
st=0
"$JC" keys --push-key --key "$T/ec.pub" -l ubuntu "$INST" 2>"$T/err" || st=$?
check "ecdsa only: exit 2 (got $st)" test "$st" = 2
check "ecdsa only: says which types work" grep -q "ssh-ed25519 or ssh-rsa" \
    "$T/err"
check "ecdsa only: nothing recorded" cmp "$REC" "$T/rec.before"

# A host name is not an EC2 target.
st=0
"$JC" keys --push-key --key "$T/push.pub" ubuntu@127.0.0.1 2>"$T/err" || st=$?
check "host name: exit 2 (got $st)" test "$st" = 2
