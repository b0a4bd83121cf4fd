#!/bin/bash
# jconnect keys over SSH against a real sshd: install, then plain ssh logs
# in with only that key; a second run changes nothing; every other line
# stays byte for byte; --remove; keys from a real ssh-agent and from
# ~/.ssh; --generate; a comment full of shell metacharacters; a remote
# with no ~/.ssh at all.
. "$(dirname "$0")/lib.sh"

rig_start sshd

AK=$RHOME/.ssh/authorized_keys
# plain_ssh KEY PORT : OpenSSH logs in with exactly this key.
plain_ssh() {
	ssh -F /dev/null -i "$1" -o IdentitiesOnly=yes -o BatchMode=yes \
	    -o UserKnownHostsFile="$T/kh_plain" \
	    -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 \
	    -p "$2" "$SSH_USER@127.0.0.1" echo logged-in-ok 2>>"$T/ssh.err" |
	    grep -qx logged-in-ok
}

# The rig's file plus lines that must survive untouched.
{
	cat "$SSH_KEY.pub"
	printf '# managed by hand\r\n'
	printf 'from="10.0.0.0/8",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHizJ/nYctg/ErUBt1h+CFfCaFoXxRW3IcZng8VCmqe6 other\r\n'
	printf '\r\n'
	printf 'junk without newline'
} >"$AK"
cp "$AK" "$T/ak.orig"

ssh-keygen -q -t ed25519 -N '' -C 'new key' -f "$T/new"
if plain_ssh "$T/new" "$SSHD_PORT"; then
	not_ok "a key not installed is refused by sshd"
else
	ok "a key not installed is refused by sshd"
fi

st=0
"$JC" keys --key "$T/new.pub" $SSH_OPTS "$SSH_TARGET" >"$T/out" \
    2>"$T/err" || st=$?
check "keys --key exits 0 (got $st)" test "$st" = 0
check "nothing on stdout" test ! -s "$T/out"
check "it says what it added" grep -q "added ssh-ed25519 new key" "$T/err"
check "plain ssh with only the new key logs in" plain_ssh "$T/new" "$SSHD_PORT"
n=$(wc -c <"$T/ak.orig")
check "every old byte is kept, as a prefix" \
    cmp -n "$n" "$AK" "$T/ak.orig"
check "the last old line got its newline, CRLF style kept" \
    sh -c "tail -c +$((n + 1)) '$AK' | head -c 2 | od -c | grep -q '\\\\r  \\\\n'"
check "the key is in exactly once" test "$(grep -c "$(cut -d' ' -f2 "$T/new.pub")" "$AK")" = 1
check "authorized_keys stays 0600" test "$(stat -c %a "$AK")" = 600
check "no temporary file left" sh -c "! ls -a '$RHOME/.ssh' | grep -q jconnect"

cp "$AK" "$T/ak.after1"
"$JC" keys --key "$T/new.pub" $SSH_OPTS "$SSH_TARGET" 2>"$T/err"
check "a second run changes nothing" cmp "$AK" "$T/ak.after1"
check "and says it was there" grep -q "already" "$T/err"

# Present with options and another comment: still not added again.
ssh-keygen -q -t ed25519 -N '' -C 'opt key' -f "$T/opt"
printf 'no-agent-forwarding,command="echo hi there" %s %s different comment\n' \
    "$(cut -d' ' -f1 "$T/opt.pub")" "$(cut -d' ' -f2 "$T/opt.pub")" >>"$AK"
cp "$AK" "$T/ak.opt"
"$JC" keys --key "$T/opt.pub" $SSH_OPTS "$SSH_TARGET" 2>"$T/err"
check "present with options + another comment: unchanged" cmp "$AK" "$T/ak.opt"

# --remove takes out exactly the given key.
st=0
"$JC" keys --remove --key "$T/new.pub" $SSH_OPTS "$SSH_TARGET" 2>"$T/err" ||
    st=$?
check "--remove exits 0 (got $st)" test "$st" = 0
grep -v "$(cut -d' ' -f2 "$T/new.pub")" "$T/ak.opt" >"$T/ak.want"
check "--remove: only that line is gone" cmp "$AK" "$T/ak.want"
if plain_ssh "$T/new" "$SSHD_PORT"; then
	not_ok "--remove: the removed key no longer logs in"
else
	ok "--remove: the removed key no longer logs in"
fi
st=0
"$JC" keys --remove $SSH_OPTS "$SSH_TARGET" 2>"$T/err" || st=$?
check "--remove without --key is a usage error (got $st)" test "$st" = 2

# A comment made of shell metacharacters stays data.
ssh-keygen -q -t ed25519 -N '' -f "$T/meta"
printf '%s %s $(touch %s/pwned1);`touch %s/pwned2`|&;<>'"'"'"\\ x\n' \
    "$(cut -d' ' -f1 "$T/meta.pub")" "$(cut -d' ' -f2 "$T/meta.pub")" \
    "$T" "$T" >"$T/meta.pub"
"$JC" keys --key "$T/meta.pub" $SSH_OPTS "$SSH_TARGET" 2>"$T/err"
check "metacharacter comment: nothing ran" \
    test ! -e "$T/pwned1" -a ! -e "$T/pwned2"
check "metacharacter comment: stored verbatim" \
    grep -qF "$(cat "$T/meta.pub")" "$AK"

# No --key: keys from a real ssh-agent and ~/.ssh; the -i key is skipped.
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
_bg="${_bg:-} $SSH_AGENT_PID"
ssh-keygen -q -t ecdsa -N '' -C 'in the agent' -f "$T/agentkey"
ssh-add -q "$T/agentkey" 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -C 'home key' -f "$HOME/.ssh/id_ed25519"
cp "$AK" "$T/ak.before_defaults"
SSH_AUTH_SOCK=$T/agent.sock "$JC" keys $SSH_OPTS "$SSH_TARGET" 2>"$T/err"
check "agent key installed" grep -q "in the agent$" "$AK"
check "~/.ssh/id_ed25519.pub installed" grep -q "home key$" "$AK"
check "the -i login key is not added again" \
    test "$(grep -c "$(cut -d' ' -f2 "$SSH_KEY.pub")" "$AK")" = 1
check "agent key logs in" plain_ssh "$T/agentkey" "$SSHD_PORT"
check "home key logs in" plain_ssh "$HOME/.ssh/id_ed25519" "$SSHD_PORT"
kill "$SSH_AGENT_PID" 2>/dev/null
unset SSH_AUTH_SOCK

# No key at all: exit 2 suggesting --generate, then --generate.
rm -f "$HOME/.ssh/id_ed25519" "$HOME/.ssh/id_ed25519.pub"
st=0
"$JC" keys $SSH_OPTS "$SSH_TARGET" 2>"$T/err" || st=$?
check "no key: exit 2 (got $st)" test "$st" = 2
check "no key: suggests --generate" grep -q -- "--generate" "$T/err"
st=0
"$JC" keys --generate $SSH_OPTS "$SSH_TARGET" 2>"$T/err" || st=$?
check "--generate exits 0 (got $st)" test "$st" = 0
check "--generate says where" grep -q "$HOME/.ssh/id_ed25519" "$T/err"
check "private key 0600" test "$(stat -c %a "$HOME/.ssh/id_ed25519")" = 600
check "public key 0644" test "$(stat -c %a "$HOME/.ssh/id_ed25519.pub")" = 644
check "ssh-keygen -y reads the private key" \
    sh -c "ssh-keygen -y -f '$HOME/.ssh/id_ed25519' | cut -d' ' -f2 |
    grep -qxF \"\$(cut -d' ' -f2 '$HOME/.ssh/id_ed25519.pub')\""
check "the generated key logs in" plain_ssh "$HOME/.ssh/id_ed25519" "$SSHD_PORT"

# A remote with no ~/.ssh: a second sshd that authorizes our login key
# from elsewhere and reads $RHOME2/.ssh/authorized_keys too.
RHOME2=$T/rhome2
mkdir -p "$RHOME2"
cp "$SSH_KEY.pub" "$T/login_keys"
P2=$(free_port)
sed -e "s|^Port .*|Port $P2|" -e "s|^PidFile .*|PidFile $T/sshd2.pid|" \
    -e "s|^AuthorizedKeysFile .*|AuthorizedKeysFile $T/login_keys $RHOME2/.ssh/authorized_keys|" \
    -e "s|^SetEnv .*|SetEnv HOME=$RHOME2 LANG=C.UTF-8|" \
    "$SSHD_CONFIG" >"$T/sshd2_config"
/usr/sbin/sshd -D -e -f "$T/sshd2_config" 2>"$T/sshd2.log" &
_bg="${_bg:-} $!"
wait_for 10 grep -q "Server listening" "$T/sshd2.log"
st=0
"$JC" keys --key "$T/new.pub" -i "$SSH_KEY" -p "$P2" \
    --known-hosts "$T/kh2" "$SSH_TARGET" 2>"$T/err" || st=$?
check "no ~/.ssh: exit 0 (got $st)" test "$st" = 0
check "~/.ssh created 0700" test "$(stat -c %a "$RHOME2/.ssh")" = 700
check "authorized_keys created 0600" \
    test "$(stat -c %a "$RHOME2/.ssh/authorized_keys")" = 600
check "owned by the login user" \
    test "$(stat -c %U "$RHOME2/.ssh/authorized_keys")" = "$SSH_USER"
check "holds exactly the key" \
    cmp "$RHOME2/.ssh/authorized_keys" "$T/new.pub"
check "plain ssh with only that key logs in" plain_ssh "$T/new" "$P2"

# --install-keys on proxy: the keys go in before the relay starts, and
# stdout still carries nothing but the relayed SSH bytes.
st=0
timeout 30 "$JC" proxy --install-keys -i "$SSH_KEY" -p "$P2" \
    --known-hosts "$T/kh2" "$SSH_TARGET" "$P2" </dev/null >"$T/out" \
    2>"$T/err" || st=$?
check "proxy --install-keys exits 0 (got $st)" test "$st" = 0
check "proxy stdout starts with the SSH banner" grep -q "^SSH-2.0-" "$T/out"
check "proxy --install-keys added ~/.ssh/id_ed25519.pub" \
    grep -qF "$(cut -d' ' -f2 "$HOME/.ssh/id_ed25519.pub")" \
    "$RHOME2/.ssh/authorized_keys"
check "and that key logs in" plain_ssh "$HOME/.ssh/id_ed25519" "$P2"
