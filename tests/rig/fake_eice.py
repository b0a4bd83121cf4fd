"""fake_eice.py - EC2 Instance Connect Endpoint for fake_aws.py.

Two parts, hooked into fake_aws.py:

  EiceOps.op_ec2_DescribeInstanceConnectEndpoints
        the EC2 query action (signed like every call; filters
        instance-connect-endpoint-id, vpc-id, subnet-id, state; ids of no
        endpoint are InvalidInstanceConnectEndpointId.NotFound, badly
        formed ones .Malformed)
  open_tunnel(fake, handler)
        GET /openTunnel?instanceConnectEndpointId=..&remotePort=..&
        privateIpAddress=..[&maxTunnelDuration=..]&X-Amz-...: the SigV4
        query signature checked with botocore (service
        ec2-instance-connect, the URL valid X-Amz-Expires seconds), then a
        WebSocket whose binary messages carry the raw TCP bytes of one
        connection to the instance's port.  maxTunnelDuration (1..3600,
        default 3600) ends the tunnel with a close frame, as AWS does.

Scenario:
  instances     {"i-...": {..., "vpc_id", "subnet_id", "private_ip"}}
  eice          {"endpoints": [{"id": "eice-...", "vpc_id", "subnet_id",
                  "state": "create-complete", "dns_name"}],
                 "targets": {"10.0.1.5:22": "127.0.0.1:2222"}}
                (where each private address:port really is, here)

State: STATE/eice-tunnels.jsonl, one line per tunnel: {"t", "endpoint",
"ip", "port", "max", "status": "open"/"refused"/"closed", "reason",
"bytes_in", "bytes_out"}.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

EICE_RE = re.compile(r"^eice-[0-9a-f]{17}$")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_TUNNEL_S = 3600
CRED_RE = re.compile(r"^([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request$")


class EiceOps:
    """Mixed into fake_aws.Fake."""

    def aws_mod(self):
        """fake_aws as it runs (__main__): its ApiError is the one caught."""
        return sys.modules[type(self).__module__]

    def eice_endpoints(self):
        return self.sc.get("eice", {}).get("endpoints", [])

    def op_ec2_DescribeInstanceConnectEndpoints(self, p, cred, region):
        ApiError, x = self.aws_mod().ApiError, self.aws_mod().x
        ids = [v for k, v in sorted(p.items())
               if re.match(r"^InstanceConnectEndpointId\.\d+$", k)]
        for i in ids:
            if not EICE_RE.match(i):
                raise ApiError("InvalidInstanceConnectEndpointId.Malformed",
                               "Invalid id: \"%s\"" % i)
        known = {e["id"] for e in self.eice_endpoints()}
        for i in ids:
            if i not in known:
                raise ApiError("InvalidInstanceConnectEndpointId.NotFound",
                               "The instanceConnectEndpointId '%s' does "
                               "not exist" % i)
        filters = self.ec2_filters_eice(p)
        items = []
        for e in self.eice_endpoints():
            if ids and e["id"] not in ids:
                continue
            if e.get("region", self.region) != region:
                continue
            vals = {"instance-connect-endpoint-id": e["id"],
                    "vpc-id": e.get("vpc_id"),
                    "subnet-id": e.get("subnet_id"),
                    "state": e.get("state", "create-complete")}
            if any(vals.get(n) not in v for n, v in filters):
                continue
            items.append(
                "<item>%s%s%s%s%s%s%s%s%s%s<preserveClientIp>false"
                "</preserveClientIp><tagSet/></item>" % (
                    x("ownerId", self.account),
                    x("instanceConnectEndpointId", e["id"]),
                    x("instanceConnectEndpointArn",
                      "arn:aws:ec2:%s:%s:instance-connect-endpoint/%s" %
                      (region, self.account, e["id"])),
                    x("state", vals["state"]),
                    x("dnsName", e.get("dns_name")),
                    x("fipsDnsName", (e.get("dns_name") or "").replace(
                        "ec2-instance-connect-endpoint",
                        "fips.ec2-instance-connect-endpoint")),
                    x("vpcId", e.get("vpc_id")),
                    x("availabilityZone", region + "a"),
                    x("createdAt", "2026-01-01T00:00:00.000Z"),
                    x("subnetId", e.get("subnet_id"))))
        return "<instanceConnectEndpointSet>%s</instanceConnectEndpointSet>" \
            % "".join(items)

    def ec2_filters_eice(self, p):
        ApiError = self.aws_mod().ApiError
        filters = {}
        for k, v in p.items():
            m = re.match(r"^Filter\.(\d+)\.Name$", k)
            if m:
                filters.setdefault(m.group(1), [None, []])[0] = v
            m = re.match(r"^Filter\.(\d+)\.Value\.(\d+)$", k)
            if m:
                filters.setdefault(m.group(1), [None, []])[1].append(v)
        out = []
        for n, (name, values) in sorted(filters.items()):
            if name not in ("instance-connect-endpoint-id", "vpc-id",
                            "subnet-id", "state"):
                raise ApiError("InvalidParameterValue",
                               "The filter '%s' is invalid" % name)
            out.append((name, values))
        return out


# -- openTunnel ----------------------------------------------------------------

def _record(fake, rec):
    rec["t"] = round(time.time(), 3)
    with fake.lock:
        with open(os.path.join(fake.state_dir, "eice-tunnels.jsonl"),
                  "a") as f:
            f.write(json.dumps(rec) + "\n")


def _refuse(h, fake, status, code, message, rec):
    body = json.dumps({"__type": code, "message": message}).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(body)
    h.close_connection = True
    rec.update(status="refused", code=code, reason=message)
    _record(fake, rec)


def _verify(fake, h, q):
    """The presigned URL's signature, as AWS checks it; the caller's
    credentials, or (status, code, message)."""
    need = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
            "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature")
    if any(k not in q for k in need) or \
            q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        return 403, "MissingAuthenticationTokenException", \
            "Request is missing Authentication Token"
    m = CRED_RE.match(q["X-Amz-Credential"])
    if not m:
        return 403, "IncompleteSignatureException", \
            "Credential is malformed"
    akid, date, region, service = m.groups()
    cred = fake.creds.get(akid)
    if cred is None:
        return 403, "UnrecognizedClientException", \
            "The security token included in the request is invalid."
    if service != "ec2-instance-connect" or region != fake.region:
        return 403, "InvalidSignatureException", \
            "Credential should be scoped to ec2-instance-connect in %s" % \
            fake.region
    try:
        t = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ") \
            .replace(tzinfo=datetime.timezone.utc).timestamp()
        exp = int(q["X-Amz-Expires"])
    except ValueError:
        return 403, "IncompleteSignatureException", \
            "X-Amz-Date or X-Amz-Expires is malformed"
    if q["X-Amz-Date"][:8] != date:
        return 403, "InvalidSignatureException", \
            "Credential should be scoped to a valid date"
    if time.time() > t + exp or t > time.time() + 15 * 60:
        return 403, "InvalidSignatureException", \
            "Signature expired: %s is now earlier than the allowed window" \
            % q["X-Amz-Date"]
    token = q.get("X-Amz-Security-Token")
    if (cred.get("token") or None) != token:
        return 403, "UnrecognizedClientException", \
            "The security token included in the request is invalid."
    if q["X-Amz-SignedHeaders"] != "host":
        return 403, "InvalidSignatureException", "only host may be signed"
    # Rebuild the request without the signature and sign it again.
    raw = urlsplit(h.path).query
    rest = "&".join(kv for kv in raw.split("&")
                    if not kv.startswith("X-Amz-Signature="))
    host = h.headers.get("Host", "")
    req = AWSRequest(method="GET", url="http://%s%s?%s" % (
        host, urlsplit(h.path).path, rest), headers={"host": host},
        data=b"")
    req.context["timestamp"] = q["X-Amz-Date"]
    signer = SigV4Auth(Credentials(akid, cred["secret_key"], token),
                       service, region)
    cr = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, cr), req)
    if not hmac.compare_digest(want, q["X-Amz-Signature"]):
        return 403, "InvalidSignatureException", \
            "The request signature we calculated does not match the " \
            "signature you provided. Check your AWS Secret Access Key and " \
            "signing method."
    return cred


def _frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _read_exact(f, n):
    b = b""
    while len(b) < n:
        c = f.read(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def _read_frame(f):
    b0, b1 = _read_exact(f, 2)
    op, masked, n = b0 & 0x0F, b1 & 0x80, b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _read_exact(f, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _read_exact(f, 8))[0]
    if not masked:
        raise ValueError("client frames must be masked")
    mask = _read_exact(f, 4)
    data = bytearray(_read_exact(f, n))
    for i in range(n):
        data[i] ^= mask[i & 3]
    return op, bytes(data)


def open_tunnel(fake, h):
    """Serve one openTunnel request on handler h (fake_aws's Handler)."""
    q = dict(parse_qsl(urlsplit(h.path).query, keep_blank_values=True))
    rec = {"endpoint": q.get("instanceConnectEndpointId"),
           "ip": q.get("privateIpAddress"), "port": q.get("remotePort"),
           "max": q.get("maxTunnelDuration")}
    with fake.lock:
        got = _verify(fake, h, q)
    if isinstance(got, tuple):
        _refuse(h, fake, got[0], got[1], got[2], rec)
        return
    eps = {e["id"]: e for e in fake.eice_endpoints()}
    ep = eps.get(q.get("instanceConnectEndpointId", ""))
    if ep is None:
        _refuse(h, fake, 404, "ResourceNotFoundException",
                "Instance Connect Endpoint not found", rec)
        return
    if ep.get("state", "create-complete") != "create-complete":
        _refuse(h, fake, 409, "ConflictException",
                "Instance Connect Endpoint is not available", rec)
        return
    try:
        port = int(q.get("remotePort", ""))
        mx = int(q.get("maxTunnelDuration", MAX_TUNNEL_S))
    except ValueError:
        _refuse(h, fake, 400, "ValidationException",
                "remotePort and maxTunnelDuration must be integers", rec)
        return
    if not 1 <= mx <= MAX_TUNNEL_S:
        _refuse(h, fake, 400, "ValidationException",
                "maxTunnelDuration must be between 1 and 3600 seconds", rec)
        return
    ip = q.get("privateIpAddress", "")
    inst = [i for i in fake.instances.values()
            if i.d.get("private_ip") == ip and
            i.d.get("vpc_id") == ep.get("vpc_id")]
    dest = fake.sc.get("eice", {}).get("targets", {}).get(
        "%s:%d" % (ip, port))
    if not inst or dest is None:
        _refuse(h, fake, 404, "ResourceNotFoundException",
                "No instance with private IP %s in %s" %
                (ip, ep.get("vpc_id")), rec)
        return
    key = h.headers.get("Sec-WebSocket-Key")
    if h.headers.get("Upgrade", "").lower() != "websocket" or not key:
        _refuse(h, fake, 400, "ValidationException",
                "expected a WebSocket upgrade", rec)
        return
    dh, dp = dest.rsplit(":", 1)
    try:
        tcp = socket.create_connection((dh, int(dp)), timeout=5)
    except OSError as e:
        _refuse(h, fake, 502, "InternalServerException",
                "cannot connect to %s:%d: %s" % (ip, port, e), rec)
        return
    tcp.settimeout(None)
    accept = base64.b64encode(hashlib.sha1(
        (key + WS_GUID).encode()).digest()).decode()
    h.send_response(101, "Switching Protocols")
    h.send_header("Upgrade", "websocket")
    h.send_header("Connection", "Upgrade")
    h.send_header("Sec-WebSocket-Accept", accept)
    h.end_headers()
    h.wfile.flush()
    h.close_connection = True
    rec["status"] = "open"
    _record(fake, dict(rec))
    _pump(fake, h, tcp, mx, rec)


def _pump(fake, h, tcp, mx, rec):
    sock = h.connection
    wlock = threading.Lock()
    done = threading.Event()
    counts = {"in": 0, "out": 0}
    why = {"reason": "client closed"}

    def send(op, payload):
        with wlock:
            sock.sendall(_frame(op, payload))

    def stop(reason):
        """End the tunnel: the reader below sees EOF and says goodbye."""
        if not done.is_set():
            why["reason"] = reason
            done.set()
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass

    def from_instance():
        try:
            while not done.is_set():
                b = tcp.recv(65536)
                if not b:
                    break
                counts["out"] += len(b)
                send(0x2, b)
        except OSError:
            pass
        stop("instance closed")

    threading.Thread(target=from_instance, daemon=True).start()

    def limit():
        if not done.wait(mx):
            stop("maxTunnelDuration")
    threading.Thread(target=limit, daemon=True).start()
    try:
        while not done.is_set():
            op, data = _read_frame(h.rfile)
            if op in (0x0, 0x2):
                counts["in"] += len(data)
                tcp.sendall(data)
            elif op == 0x9:
                send(0xA, data)
            elif op == 0x8:
                break
            elif op == 0x1:
                why["reason"] = "text frame"
                break
    except (EOFError, OSError, ValueError):
        pass
    done.set()
    try:
        send(0x8, struct.pack("!H", 1000) + why["reason"].encode()[:100])
    except OSError:
        pass
    try:
        tcp.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    tcp.close()
    rec.update(status="closed", reason=why["reason"],
               bytes_in=counts["in"], bytes_out=counts["out"])
    _record(fake, rec)
