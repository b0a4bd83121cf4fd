#!/bin/bash
# Every documented exit code, each from a real situation, each with one
# clear line on stderr and nothing on stdout.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter aws
# expect CODE DESC CMD... : run CMD, check the exit code and the output.
expect() {
	local want=$1 d=$2 st=0; shift 2
	"$@" >"$T/o" 2>"$T/e" </dev/null || st=$?
	if [ "$st" = "$want" ] && [ ! -s "$T/o" ] && [ -s "$T/e" ]; then
		ok "exit $want: $d"
	else
		not_ok "exit $want: $d (got $st)"; show "$T/e" 5
	fi
}
AWSENV="AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=$AWS_REGION AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true"

st=0; "$JC" --version >"$T/o" 2>&1 || st=$?
check "exit 0: --version" test "$st" = 0

# 1: a plugin that is refused (group-writable) is an "other failure".
mkdir -p "$T/pl"
cp "$ROOT/plugins/ssh/jc-ssh.so" "$T/pl/"
chmod 664 "$T/pl/jc-ssh.so"
expect 1 "a group-writable plugin is refused" \
    "$JC" --plugin-dir "$T/pl" --no-browser $SSH_OPTS "$SSH_TARGET"
expect 2 "usage error" "$JC" --via telnet "$SSH_TARGET"
expect 2 "-i names a key file that is not there" "$JC" --no-browser \
    -i "$T/missing.pem" -p "$SSHD_PORT" --known-hosts "$KNOWN_HOSTS" \
    "$SSH_TARGET"
expect 2 "--key names a public key that is not there" "$JC" keys \
    --key "$T/missing.pub" $SSH_OPTS "$SSH_TARGET"
expect 2 "a port with a sign" "$JC" resolve -p "+$SSHD_PORT" "$SSH_TARGET"
# 1: the URL cannot be written (stdout is a full disk); the tunnel is up.
st=0
"$JC" url $SSH_OPTS --local-port "$(free_port)" "$SSH_TARGET" >/dev/full \
    2>"$T/e" </dev/null || st=$?
check "exit 1: url >/dev/full (got $st)" test "$st" = 1
check "exit 1: url >/dev/full says the URL could not be written" \
    grep -q 'cannot write to standard output' "$T/e"
"$JC" stop -q "$SSH_TARGET" >/dev/null 2>&1
expect 3 "unknown stack" env $AWSENV "$JC" --no-browser stack:no-such-stack
expect 3 "stop of a tunnel that does not exist" "$JC" stop nothing-here
expect 4 "bad AWS credentials" env $AWSENV AWS_SECRET_ACCESS_KEY=wrong \
    "$JC" --no-browser demo-stack
expect 5 "wrong SSH key" "$JC" --no-browser -i "$RHOME/.ssh/authorized_keys" \
    -p "$SSHD_PORT" --known-hosts "$KNOWN_HOSTS" "$SSH_TARGET"
expect 5 "nothing listens on the SSH port" "$JC" --no-browser -i "$SSH_KEY" \
    -p "$(free_port)" --known-hosts "$KNOWN_HOSTS" "$SSH_TARGET"
printf '[127.0.0.1]:%s ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n' \
    "$SSHD_PORT" >"$T/kh"
expect 6 "host key mismatch" "$JC" --no-browser -i "$SSH_KEY" -p "$SSHD_PORT" \
    --known-hosts "$T/kh" "$SSH_TARGET"
expect 7 "no Jupyter on the asked port" "$JC" --no-browser \
    --jupyter-port "$(free_port)" $SSH_OPTS "$SSH_TARGET"
hold_port 47999
expect 8 "forced local port busy" "$JC" --no-browser --local-port 47999 \
    $SSH_OPTS "$SSH_TARGET"
