#!/bin/bash
# --via eice: a private instance (no public address, no SSM agent) reached
# through the EC2 Instance Connect Endpoint of its VPC.  The fake AWS
# lists the endpoint, checks the presigned openTunnel URL with botocore
# and carries the tunnel's bytes to the rig's real sshd, which accepts the
# one-time key pushed with SendSSHPublicKey.  Foreground open with
# Jupyter, a background tunnel, `jconnect proxy` under real ssh, keys,
# the endpoint's refusals and the one-hour limit (maxTunnelDuration).
. "$(dirname "$0")/lib.sh"

rig_start sshd jupyter --instance-connect

INST=i-0fedcba9876543210
EP=eice-0123456789abcdef0
cat >"$T/sc.json" <<EOF
{"region": "us-east-1",
 "instances": {"$INST": {"state": "running",
   "tags": {"Name": "my-private-box"},
   "private_ip": "10.0.1.5", "vpc_id": "vpc-0a1b2c3d4e5f60718",
   "subnet_id": "subnet-0a1b2c3d4e5f60719", "ssm_managed": false}},
 "eice": {"endpoints": [{"id": "$EP", "vpc_id": "vpc-0a1b2c3d4e5f60718",
   "subnet_id": "subnet-0a1b2c3d4e5f60719", "state": "create-complete",
   "dns_name": "$EP.1a2b3c4d.ec2-instance-connect-endpoint.us-east-1.amazonaws.com"}],
   "targets": {"10.0.1.5:22": "127.0.0.1:$SSHD_PORT"}}}
EOF
rig_start aws --scenario "$T/sc.json"
TUN=$AWS_STATE/eice-tunnels.jsonl
REC=$AWS_STATE/instance-connect/$INST.json
# The endpoint's DNS name stands for the fake here (as a proxy would).
mkdir -p "$XDG_CONFIG_HOME/jconnect"
printf '{"defaults": {"options": {"eice.endpoint_url": "ws://127.0.0.1:%s"}}}\n' \
    "$AWS_PORT" >"$XDG_CONFIG_HOME/jconnect/config.json"
# No key of ours is on the instance: only a pushed one can log in.
A="--via eice -l $SSH_USER --known-hosts $T/kh"

# -- AWS's own client: a URL presigned by botocore, as the AWS CLI's
# ec2-instance-connect open-tunnel signs it, opens the same tunnel; the
# sshd banner comes back in a binary frame.
cat >"$T/awscli_tunnel.py" <<'PY'
import base64, os, socket, struct, sys
from urllib.parse import urlencode
import botocore.session
from botocore.signers import RequestSigner
port, ep, ip = sys.argv[1], sys.argv[2], sys.argv[3]
s = botocore.session.get_session()
sm = s.get_service_model("ec2-instance-connect")
signer = RequestSigner(sm.service_id, os.environ["AWS_REGION"],
                       sm.signing_name, sm.signature_version,
                       s.get_credentials(), s.get_component("event_emitter"))
host = "127.0.0.1:%s" % port
qs = urlencode({"instanceConnectEndpointId": ep, "remotePort": 22,
                "privateIpAddress": ip, "maxTunnelDuration": 60})
url = signer.generate_presigned_url(
    {"url": "ws://%s/openTunnel?%s" % (host, qs), "body": {},
     "headers": {"host": host}, "method": "GET", "query_string": "",
     "url_path": "/", "context": {}},
    operation_name="openTunnel", expires_in=60)
path = url[url.index("/openTunnel"):]
if len(sys.argv) > 4:	# a signature one digit off
    path = path[:-1] + ("0" if path[-1] != "0" else "1")
c = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
c.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, key)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += c.recv(4096)
head, rest = buf.split(b"\r\n\r\n", 1)
print(head.split(b"\r\n")[0].decode())
if b" 101 " not in head.split(b"\r\n")[0]:
    while True:	# the body, until the server closes
        more = c.recv(4096)
        if not more:
            break
        rest += more
    print(rest.decode(errors="replace"))
    sys.exit(0)
while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
    rest += c.recv(4096)
print("opcode %d" % (rest[0] & 0x0F))
print(rest[2:2 + (rest[1] & 0x7F)].decode(errors="replace").strip())
PY
"$PY" "$T/awscli_tunnel.py" "$AWS_PORT" "$EP" 10.0.1.5 >"$T/awscli.out" \
    2>"$T/awscli.err"
check "botocore's presigned openTunnel URL is accepted (101)" \
    grep -q '^HTTP/1.1 101' "$T/awscli.out"
check "and the sshd banner arrives in a binary frame" sh -c \
    "grep -qx 'opcode 2' '$T/awscli.out' && grep -q '^SSH-2.0-' '$T/awscli.out'"
grep -q '^HTTP/1.1 101' "$T/awscli.out" || show "$T/awscli.err"
"$PY" "$T/awscli_tunnel.py" "$AWS_PORT" "$EP" 10.0.1.5 bad >"$T/awscli2.out" \
    2>&1
check "a signature one digit off: 403 InvalidSignatureException" sh -c \
    "grep -q '^HTTP/1.1 403' '$T/awscli2.out' && grep -q InvalidSignatureException '$T/awscli2.out'"

# -- foreground open ---------------------------------------------------------
"$JC" -v --no-browser $A my-private-box >"$T/out" 2>"$T/err" &
jc=$!
if wait_for 40 grep -q '^http' "$T/out"; then
	ok "--via eice my-private-box: URL printed"
else
	not_ok "--via eice my-private-box: URL printed"; show "$T/err" 30
	show "$TUN"; exit 1
fi
url=$(head -n1 "$T/out")
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
token=${url##*token=}
check "the URL carries the server's token" test "$token" = "$JUPYTER_TOKEN"
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
    -H "Authorization: token $token" "http://127.0.0.1:$port/api/status")
check "/api/status answers 200 through the endpoint's tunnel" \
    test "$code" = 200
head -c $((3 * 1024 * 1024)) /dev/urandom >"$RHOME/notebooks/eice.bin"
curl -s -m 60 -o "$T/dl" "http://127.0.0.1:$port/files/eice.bin?token=$token"
check "a 3 MB download is byte-exact" cmp -s "$T/dl" "$RHOME/notebooks/eice.bin"
check "the tunnel went to the instance's private address and port 22" \
    grep -q "\"endpoint\": \"$EP\", \"ip\": \"10.0.1.5\", \"port\": \"22\", \"max\": \"3600\", \"status\": \"open\"" "$TUN"
check "a one-time key was pushed for $SSH_USER" grep -q "\"$SSH_USER\"" "$REC"
check "the log says it logged in with the pushed key" \
    grep -q "throwaway" "$T/err"
check "the presigned URL is never logged" sh -c "! grep -q 'X-Amz-Signature' '$T/err'"
check "DescribeInstanceConnectEndpoints asked for the instance's VPC" \
    grep -q '"action": "DescribeInstanceConnectEndpoints".*vpc-0a1b2c3d4e5f60718' \
    "$AWS_STATE/requests.jsonl"
check "no SSM call was made" sh -c "! grep -q '\"service\": \"ssm\"' '$AWS_STATE/requests.jsonl'"
kill -INT "$jc"
st=0; wait "$jc" || st=$?
check "Ctrl-C: exit 0 (got $st)" test "$st" = 0
check "the tunnel was closed from our side" wait_for 5 \
    grep -q '"status": "closed", "reason": "client closed"' "$TUN"

# -- background tunnel -------------------------------------------------------
url=$("$JC" url $A my-private-box 2>"$T/err2")
st=$?
check "url exits 0 (got $st)" test "$st" = 0
port=$(echo "$url" | sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|')
check "the background tunnel answers" sh -c \
    "curl -fsS -m 5 -H 'Authorization: token $JUPYTER_TOKEN' http://127.0.0.1:$port/api/status >/dev/null"
"$JC" ls --json >"$T/ls"
check "ls shows it with via eice" grep -q '"via":"eice"' "$T/ls"
"$JC" stop my-private-box 2>/dev/null
check "stop frees the port" port_free "$port"

# -- jconnect proxy under real ssh -------------------------------------------
# ssh brings its own key: pushed first with keys --push-key.
ssh-keygen -q -t ed25519 -N '' -C 'proxy key' -f "$T/pk"
st=0
"$JC" keys --push-key --key "$T/pk.pub" --via eice -l "$SSH_USER" \
    my-private-box 2>"$T/err3" || st=$?
check "keys --push-key for the proxy's key exits 0 (got $st)" test "$st" = 0
[ "$st" = 0 ] || show "$T/err3"
out=$(ssh -F /dev/null -i "$T/pk" -o IdentitiesOnly=yes -o BatchMode=yes \
    -o UserKnownHostsFile="$T/kh_plain" -o StrictHostKeyChecking=accept-new \
    -o ProxyCommand="$JC proxy -q --via eice -l $SSH_USER %h %p" \
    -p "$SSHD_PORT" "$SSH_USER@my-private-box" echo through-eice \
    2>"$T/ssh.err")
check "real ssh logs in through jconnect proxy --via eice" \
    test "$out" = through-eice
[ "$out" = through-eice ] || show "$T/ssh.err"

# -- keys: install through the tunnel ----------------------------------------
AK=$RHOME/.ssh/authorized_keys
ssh-keygen -q -t ed25519 -N '' -C 'eice installed' -f "$T/ik"
"$JC" keys --key "$T/ik.pub" $A my-private-box 2>"$T/err4"
check "keys --key over eice exits 0" test $? = 0
check "the key is in authorized_keys" grep -q "eice installed" "$AK"
"$JC" keys --remove --key "$T/ik.pub" $A my-private-box 2>"$T/err5"
check "keys --remove over eice takes it out" sh -c "! grep -q 'eice installed' '$AK'"

# -- the endpoint refuses, the hour ends --------------------------------------
st=0
"$JC" url $A -o eice.endpoint_id=eice-0000000000000000f my-private-box \
    2>"$T/err6" >/dev/null || st=$?
check "an unknown endpoint: exit 1, an AWS error (got $st)" test "$st" = 1
check "it says what EC2 said" grep -q "InvalidInstanceConnectEndpointId.NotFound.*does not exist" "$T/err6"
[ "$st" = 1 ] || show "$T/err6"
st=0
"$JC" url $A -o eice.max_tunnel_s=3601 my-private-box 2>"$T/err7" || st=$?
check "eice.max_tunnel_s above 3600: usage error (exit 2, got $st)" test "$st" = 2
check "it says the range" grep -q "from 1 to 3600" "$T/err7"
st=0
"$JC" url $A my-private-box -o eice.max_tunnel_s=3 >"$T/url8" 2>"$T/err8" || st=$?
check "eice.max_tunnel_s=3: url exits 0 (got $st)" test "$st" = 0
port=$(sed -E 's|^http://127\.0\.0\.1:([0-9]+)/.*|\1|' "$T/url8")
check "the endpoint ends the tunnel after maxTunnelDuration" wait_for 10 \
    grep -q '"max": "3", "status": "closed", "reason": "maxTunnelDuration"' "$TUN"
if wait_for 20 curl -fsS -m 2 -H "Authorization: token $JUPYTER_TOKEN" \
    "http://127.0.0.1:$port/api/status" -o /dev/null; then
	ok "a new tunnel serves the same port after the limit"
else
	not_ok "a new tunnel serves the same port after the limit"
fi
"$JC" stop my-private-box 2>/dev/null

# A host name is not an instance: a usage error before any call.
st=0
"$JC" url --via eice "$SSH_USER@127.0.0.1" 2>"$T/err9" || st=$?
check "--via eice with a host name: exit 2 (got $st)" test "$st" = 2
check "it says an instance is needed" grep -q "needs an instance id" "$T/err9"
