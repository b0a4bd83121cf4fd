#!/bin/bash
# Config aliases end to end, through the command line, one key at a time
# (the rest given as options): each key must change what jconnect does
# against the real sshd, Jupyter, fake AWS and fake SSM agent -- target,
# via, user, identity, port, region, profile, jupyter_port, jupyter_log,
# local_port, known_hosts, host_key_check and options -- and the command
# line must still win over the alias, which wins over "defaults".
. "$(dirname "$0")/lib.sh"

OTHER_KEY=AKIDOTHERPROFILE0001
OTHER_SECRET=otherprofilesecretotherprofilesecret01
cat >"$T/scenario.json" <<EOF
{
 "region": "us-east-1",
 "credentials": [
  {"access_key": "AKIDEXAMPLERIG000001",
   "secret_key": "rigsecretrigsecretrigsecretrigsecret0001",
   "arn": "arn:aws:iam::123456789012:user/rig"},
  {"access_key": "$OTHER_KEY", "secret_key": "$OTHER_SECRET",
   "arn": "arn:aws:iam::123456789012:user/other"}
 ],
 "stacks": {"demo-stack": {"resources": [{"LogicalResourceId": "Notebook",
   "PhysicalResourceId": "i-0123456789abcdef0",
   "ResourceType": "AWS::EC2::Instance"}]}},
 "instances": {"i-0123456789abcdef0": {"state": "running",
   "tags": {"Name": "demo-notebook",
            "aws:cloudformation:stack-name": "demo-stack"},
   "public_dns": "localhost", "public_ip": "127.0.0.1",
   "private_ip": "127.0.0.1", "ssm_online": true,
   "agent_version": "3.3.40.0"}}
}
EOF
rig_start sshd jupyter agent aws --scenario "$T/scenario.json"
printf '[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$OTHER_KEY" "$OTHER_SECRET" >"$T/credentials"
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
LPORT=$(free_port)
NOJUP=$(free_port)
HOST=127.0.0.1:$SSHD_PORT
UHOST=$SSH_USER@$HOST

mkdir -p "$XDG_CONFIG_HOME/jconnect"
cat >"$XDG_CONFIG_HOME/jconnect/config.json" <<EOF
{
 "defaults": {"user": "nobody-here", "local_port": $NOJUP},
 "aliases": {
  "a-via":      {"target": "stack:demo-stack", "via": "ssh"},
  "a-user-aws": {"target": "stack:demo-stack", "user": "ec2-user"},
  "a-region":   {"target": "stack:demo-stack", "region": "eu-west-1"},
  "a-profile":  {"target": "stack:demo-stack", "profile": "other"},
  "a-identity": {"target": "$UHOST", "identity": "$SSH_KEY"},
  "a-user":     {"target": "$HOST", "user": "$SSH_USER"},
  "a-port":     {"target": "$SSH_USER@127.0.0.1", "port": $SSHD_PORT},
  "a-kh":       {"target": "$UHOST", "known_hosts": "$T/kh_alias"},
  "a-strict":   {"target": "$UHOST", "host_key_check": "strict"},
  "a-lport":    {"target": "$UHOST", "local_port": $LPORT},
  "a-jport":    {"target": "$UHOST", "jupyter_port": $NOJUP},
  "a-jlog":     {"target": "$UHOST", "jupyter_log": "$T/no-such.log"},
  "a-options":  {"target": "$UHOST",
                 "options": {"ssh.ciphers": "aes128-cbc"}}
 }
}
EOF
# The defaults above would break every login (no such user, a port where
# no Jupyter listens): each alias below overrides what it needs, or the
# command line does.
OPTS="-i $SSH_KEY --known-hosts $KNOWN_HOSTS -l $SSH_USER"

# url ALIAS [ARGS...] : a background tunnel; $T/out, $T/err, $st.
url() {
	local a=$1; shift
	st=0
	timeout 60 "$JC" url "$@" "$a" >"$T/out" 2>"$T/err" || st=$?
	"$JC" stop -q "$a" >/dev/null 2>&1
}
json() {	# json FIELD : from the resolve --json answer in $T/out
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' \
	    "$T/out" "$1" 2>/dev/null
}
res() {
	st=0
	"$JC" resolve --json "$@" >"$T/out" 2>"$T/err" || st=$?
}
# url_ok DESC : the last url printed the rig's Jupyter URL with its token.
url_ok() {
	if grep -q "^http://127.0.0.1:.*token=$JUPYTER_TOKEN" "$T/out"; then
		ok "$1"
	else
		not_ok "$1 (exit $st)"; show "$T/err" 5
	fi
}

# -- AWS side: via, user, region, profile (resolve shows what is used) --
res a-via
check "via: alias \"via\": \"ssh\" is used (SSM is online; got $(json via))" \
    test "$(json via)" = ssh
res --via auto a-via
check "via: --via auto on the command line beats the alias (got $(json via))" \
    test "$(json via)" = ssm
res a-user-aws
check "user: the alias's user is the login user (got $(json user))" \
    test "$(json user)" = ec2-user
res -l alice a-user-aws
check "user: -l beats the alias (got $(json user))" test "$(json user)" = alice

: >"$AWS_STATE/requests.jsonl"
res a-region
check "region: the alias's region is asked (stack not there: exit 3, got $st)" \
    test "$st" = 3
check "region: the fake AWS saw eu-west-1 and no other region" "$PY" -c '
import json, sys
rs = {json.loads(l).get("region") for l in open(sys.argv[1]) if l.strip()}
sys.exit(rs != {"eu-west-1"})' "$AWS_STATE/requests.jsonl"
res --region us-east-1 a-region
check "region: --region beats the alias (exit $st)" test "$st" = 0

: >"$AWS_STATE/requests.jsonl"
AWS_SHARED_CREDENTIALS_FILE=$T/credentials res a-profile
check "profile: resolved with the alias's profile (exit $st)" test "$st" = 0
check "profile: every AWS call was signed with the profile's key" "$PY" -c '
import json, sys
ks = {json.loads(l).get("akid") for l in open(sys.argv[1]) if l.strip()}
sys.exit(ks != {sys.argv[2]})' "$AWS_STATE/requests.jsonl" "$OTHER_KEY"
AWS_SHARED_CREDENTIALS_FILE=$T/credentials res --profile nosuch a-profile
check "profile: --profile beats the alias (unknown profile: exit 4, got $st)" \
    test "$st" = 4

# -- SSH side: each key alone changes the login -------------------------
url a-identity --known-hosts "$KNOWN_HOSTS" --jupyter-port "$JUPYTER_PORT" \
    --local-port "$(free_port)"
url_ok "identity: the alias's key logs in"
url a-identity -i "$T/wrong_key" --known-hosts "$KNOWN_HOSTS"
check "identity: -i beats the alias (wrong key: exit 5, got $st)" test "$st" = 5

url a-user -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
    --jupyter-port "$JUPYTER_PORT" --local-port "$(free_port)"
url_ok "user: the alias's user logs in (the default user would not)"

url a-port -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
    --jupyter-port "$JUPYTER_PORT" --local-port "$(free_port)"
url_ok "port: the alias's SSH port is dialled"
url a-port -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" -p "$(free_port)"
check "port: -p beats the alias (nothing there: exit 5, got $st)" \
    test "$st" = 5

url a-kh -i "$SSH_KEY" --jupyter-port "$JUPYTER_PORT" \
    --local-port "$(free_port)"
url_ok "known_hosts: logged in"
check "known_hosts: the host key went to the alias's file" \
    grep -q "^\[127.0.0.1\]:$SSHD_PORT " "$T/kh_alias"
check "known_hosts: not to ~/.ssh/known_hosts" \
    test ! -s "$HOME/.ssh/known_hosts"

url a-strict -i "$SSH_KEY" --known-hosts "$T/kh_strict"
check "host_key_check: strict refuses the unknown host key (exit 6, got $st)" \
    test "$st" = 6
check "host_key_check: the message says strict" grep -q strict "$T/err"
check "host_key_check: nothing recorded" test ! -s "$T/kh_strict"
url a-strict -i "$SSH_KEY" --known-hosts "$T/kh_strict" \
    --host-key-check accept-new --jupyter-port "$JUPYTER_PORT" \
    --local-port "$(free_port)"
url_ok "host_key_check: --host-key-check accept-new beats the alias"

url a-lport -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
    --jupyter-port "$JUPYTER_PORT"
check "local_port: the URL is on the alias's port $LPORT" \
    grep -q "^http://127.0.0.1:$LPORT/" "$T/out"

url a-jport -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
    --local-port "$(free_port)"
check "jupyter_port: the alias's port is asked for (none there: exit 7, got $st)" \
    test "$st" = 7
check "jupyter_port: the message names port $NOJUP" grep -q "$NOJUP" "$T/err"
url a-jport -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
    --jupyter-port "$JUPYTER_PORT" --local-port "$(free_port)"
url_ok "jupyter_port: --jupyter-port beats the alias"

url a-jlog $OPTS --jupyter-port "$JUPYTER_PORT" --local-port "$(free_port)"
url_ok "jupyter_log: logged in"
check "jupyter_log: the alias's log was read (it does not exist: warned)" \
    grep -q "cannot read the log $T/no-such.log" "$T/err"

lines=$(wc -l <"$SSHD_LOG")
url a-options -i "$SSH_KEY" --known-hosts "$KNOWN_HOSTS" \
    --jupyter-port "$JUPYTER_PORT" --local-port "$(free_port)"
check "options: ssh.ciphers from the alias is offered (sshd has no CBC: exit 5, got $st)" \
    test "$st" = 5
check "options: sshd saw only aes128-cbc offered" wait_for 10 \
    sh -c "tail -n +$((lines + 1)) '$SSHD_LOG' | grep -q 'no matching cipher'"
url a-options -o ssh.ciphers=aes128-ctr -i "$SSH_KEY" \
    --known-hosts "$KNOWN_HOSTS" --jupyter-port "$JUPYTER_PORT" \
    --local-port "$(free_port)"
url_ok "options: -o beats the alias's options"
