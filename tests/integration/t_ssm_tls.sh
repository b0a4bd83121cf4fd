#!/bin/bash
# SSM over wss://, the only scheme MGS serves: the fake agent behind TLS
# with a fresh certificate for 127.0.0.1.  Not trusted: one clear line
# that names the fix, exit 5, the session terminated.  Trusted through
# AWS_CA_BUNDLE (as for the AWS CLI): the notebook URL works, also through
# an HTTPS_PROXY CONNECT tunnel; scp moves 20 MB each way byte for byte
# through TLS records, and a WebSocket that MGS closes every 5 MB is
# dialled again with the same trust.
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter agent aws --agent-tls
check "the fake AWS hands out a wss:// StreamUrl" test "$AGENT_SCHEME" = wss

# Untrusted certificate: refused, and the message says what to do.
st=0
timeout 30 "$JC" url --via ssm -l "$SSH_USER" demo-stack >"$T/out" \
    2>"$T/err" || st=$?
check "an untrusted agent certificate exits 5 (got $st)" test "$st" = 5
check "the error names the certificate problem" \
    grep -q 'cannot connect to 127.0.0.1:.*certificate' "$T/err"
check "and the fix (AWS_CA_BUNDLE)" grep -q 'set AWS_CA_BUNDLE' "$T/err"
check "nothing on stdout" test ! -s "$T/out"
st=0
AWS_CA_BUNDLE=$T/none.pem timeout 30 "$JC" url --via ssm -l "$SSH_USER" \
    demo-stack >/dev/null 2>"$T/err2" || st=$?
check "a missing CA file exits 5 (got $st)" test "$st" = 5
check "and says which setting to check" \
    grep -q "none.pem (check the file AWS_CA_BUNDLE" "$T/err2"

export AWS_CA_BUNDLE=$AGENT_CA
url=$(timeout 60 "$JC" url --via ssm -l "$SSH_USER" demo-stack 2>"$T/err3")
if echo "$url" | grep -q '^http://127.0.0.1:[0-9]*/.*token='; then
	ok "trusted through AWS_CA_BUNDLE: the URL is printed"
else
	not_ok "trusted through AWS_CA_BUNDLE: the URL is printed"; show "$T/err3"
fi
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
    -H "Authorization: token $JUPYTER_TOKEN" \
    "http://127.0.0.1:$port/api/status")
check "/api/status answers 200 through the wss session" test "$code" = 200
"$JC" stop --all >/dev/null 2>&1

# Through an office proxy (HTTPS_PROXY): a CONNECT tunnel, TLS inside it.
"$PY" "$ROOT/tests/rig/connect_proxy.py" --log "$T/proxy.log" \
    >"$T/proxy.port" &
_bg="${_bg:-} $!"
wait_for 5 test -s "$T/proxy.port"
url=$(HTTPS_PROXY=http://127.0.0.1:$(cat "$T/proxy.port") NO_PROXY= \
    no_proxy= timeout 60 "$JC" url --via ssm -l "$SSH_USER" demo-stack \
    2>"$T/err4")
if echo "$url" | grep -q '^http://127.0.0.1:[0-9]*/.*token='; then
	ok "through HTTPS_PROXY: the URL is printed"
else
	not_ok "through HTTPS_PROXY: the URL is printed"; show "$T/err4"
fi
check "the WebSocket went through the proxy's CONNECT" \
    grep -q "^CONNECT 127.0.0.1:$AGENT_PORT HTTP/1.1" "$T/proxy.log"
"$JC" stop --all >/dev/null 2>&1

PC="ProxyCommand=$JC proxy -q --via ssm %h %p"
SSHO=(-F /dev/null -o BatchMode=yes -o "$PC" -o StrictHostKeyChecking=no
    -o UserKnownHostsFile="$T/kh" -i "$SSH_KEY")
head -c 20000000 /dev/urandom >"$T/big.bin"
check "scp 20 MB up over wss" scp -O -q "${SSHO[@]}" -P "$SSHD_PORT" \
    "$T/big.bin" "$SSH_USER@demo-stack:$RHOME/big.copy"
check "the upload is byte-exact" cmp -s "$T/big.bin" "$RHOME/big.copy"
check "scp 20 MB down over wss" scp -O -q "${SSHO[@]}" -P "$SSHD_PORT" \
    "$SSH_USER@demo-stack:$RHOME/big.copy" "$T/big.back"
check "the download is byte-exact" cmp -s "$T/big.bin" "$T/big.back"

# Each close is dialled again over TLS, with the same trust.
scp_down_through_closes 5000000 3

sleep 1
check "every Session Manager session was terminated" agent terminated
check "the fake agent saw no protocol violation" agent violations
