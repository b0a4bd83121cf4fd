#!/usr/bin/python3
"""fake_aws.py - the AWS APIs jconnect calls, on 127.0.0.1, for tests.

  fake_aws.py --scenario FILE (--port N | --port 0 --port-file F) [--state DIR]
              [--tls CERT KEY] [--rtt-ms MS [--conn-rtts N]]

One HTTP server speaks CloudFormation, EC2, Auto Scaling, STS (query/ec2
protocols, XML) and SSM and EC2 Instance Connect (JSON 1.1), routed by the
service name of the SigV4 credential scope.  Every request's signature is
checked with botocore's SigV4Auth over the credentials the scenario knows;
bad ones are refused the way AWS refuses them (SignatureDoesNotMatch,
InvalidClientTokenId, ... in the protocol's error shape).  The same port
serves an IMDSv2 endpoint (PUT /latest/api/token, GET /latest/meta-data/...)
for AWS_EC2_METADATA_SERVICE_ENDPOINT.

Scenario (JSON; every key optional):
  region        "us-east-1"; account "123456789012"
  xmlns         true: XML answers carry the real namespaces (false: none)
  credentials   [{"access_key", "secret_key", "token", "arn", "expired",
                  "deny": ["ec2:StartInstances", ...]}]
                (default: the rig's key AKIDEXAMPLERIG000001)
  deny          IAM actions refused to everybody ("ssm:StartSession")
  faults        [{"action": "DescribeInstances", "service": "ec2",
                  "code": "RequestLimitExceeded", "status": 503,
                  "message": "...", "count": 2}]   (count: times, default 1)
  slow          [{"action": "StartSession", "seconds": 0.8}]: the call is
                carried out at once, its answer held back that long (a
                congested path); "count" as for faults, default every call
  rate_limits   {"ssm:StartSession": {"rate": 3, "burst": 3}}: a token
                bucket per action, as AWS limits calls per account; a call
                over it is refused as AWS does (JSON: HTTP 400
                ThrottlingException "Rate exceeded"; query: 400 Throttling,
                ec2: 503 RequestLimitExceeded)
  stacks        {"NAME": {"status": "CREATE_COMPLETE", "resources": [
                  {"LogicalResourceId", "PhysicalResourceId", "ResourceType",
                   "ResourceStatus"}], "outputs": {"K": "V"}}}
                (a nested AWS::CloudFormation::Stack names another stack
                 of the scenario in PhysicalResourceId; answers give its ARN)
  asgs          {"NAME": {"instances": [{"InstanceId", "LifecycleState"}]}}
  instances     {"i-...": {"state", "tags": {}, "public_dns", "public_ip",
                  "private_ip", "launch_time", "platform", "instance_type",
                  "region", "ssm_managed", "ssm_online", "agent_version",
                  "pending_seconds", "stopping_seconds", "ssm_online_delay",
                  "image_id", "platform_details"}}
                (mi-... ids are hybrid nodes: SSM only; image_id defaults
                 to DEFAULT_IMAGE, an Ubuntu 22.04 AMI)
  images        {"ami-...": {"name", "description", "location", "owner",
                  "owner_alias", "platform_details"}}  (DescribeImages;
                 ids of no entry are InvalidAMIID.NotFound)
  ec2_page_size paginate DescribeInstances even without MaxResults
  roles         {"arn:aws:iam::...:role/R": {"external_id": "x"}}
                (absent: any well-formed role ARN may be assumed)
  imds          {"role": "R", "region": "...", "instance_id": "i-..."}
  ssm           {"stream_url": "ws://127.0.0.1:N/v1/data-channel/",
                 "state_dir": "DIR"}
  eice          EC2 Instance Connect Endpoints and where their tunnels
                lead: see fake_eice.py (instances gain "vpc_id",
                "subnet_id")

A distant region (--rtt-ms): a new connection costs --conn-rtts round trips
(default 2: TCP, then TLS 1.3, which every AWS endpoint requires even where
the rig speaks plain HTTP), each API call one more; the answer is held back
by that much.  IMDS requests are local and never delayed.

State written for tests:
  STATE/roundtrips.jsonl     one line per API call: {"t", "what": "connect"
                             or "request", "rtts", "detail": action}, the
                             connect line before a connection's first call
  STATE/requests.jsonl       one line per request: service, action,
                             access key, token?, signed headers, status, code
  SSMDIR/sessions/<id>.json  StartSession/ResumeSession/TerminateSession, as
                             the fake agent expects (SSMDIR = ssm.state_dir,
                             else STATE)
  STATE/instance-connect/<instance>.json
                             {"InstanceId", "Keys": [{"InstanceOSUser",
                              "SSHPublicKey", "AvailabilityZone", "Time"}]}
"""

import argparse
import base64
import binascii
import datetime
import fnmatch
import hmac
import json
import os
import re
import secrets
import string
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import fake_eice
import fake_lifecycle  # an instance stopped and started again
import fake_roles  # DurationSeconds, short-lived roles, ECS endpoint
import fake_sso  # SSO OIDC, SSO portal, web identity, containers

RIG_KEY = "AKIDEXAMPLERIG000001"
RIG_SECRET = "rigsecretrigsecretrigsecretrigsecret0001"

PROTOCOL = {
    "cloudformation": "query",
    "sts": "query",
    "autoscaling": "query",
    "ec2": "ec2",
    "ssm": "json",
    "ec2-instance-connect": "json",
}
VERSION = {
    "cloudformation": "2010-05-15",
    "sts": "2011-06-15",
    "autoscaling": "2011-01-01",
    "ec2": "2016-11-15",
}
XMLNS = {
    "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "autoscaling": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
    "ec2": "http://ec2.amazonaws.com/doc/2016-11-15/",
}
JSON_PREFIX = {
    "ssm": "AmazonSSM.",
    "ec2-instance-connect": "AWSEC2InstanceConnectService.",
}
STATE_CODE = {"pending": 0, "running": 16, "shutting-down": 32,
              "terminated": 48, "stopping": 64, "stopped": 80}
SSM_DOCS = {
    "AWS-StartPortForwardingSession",
    "AWS-StartPortForwardingSessionToRemoteHost",
    "AWS-StartSSHSession",
    "AWS-StartNonInteractiveCommand",
    "AWS-StartInteractiveCommand",
    "SSM-SessionManagerRunShell",
}
DEFAULT_IMAGE = "ami-0123456789abcdef0"
DEFAULT_IMAGES = {
    DEFAULT_IMAGE: {
        "name": "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-"
                "20240301",
        "description": "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image "
                       "build on 2024-03-01",
        "owner": "099720109477"},
}
IMAGE_RE = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")
INSTANCE_RE = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$")
MANAGED_RE = re.compile(r"^mi-[0-9a-f]{17}$")
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/"
    r"([^/,\s]+)/aws4_request,\s*SignedHeaders=([a-z0-9;\-]+),\s*"
    r"Signature=([0-9a-f]{64})$")
MAX_SKEW = 15 * 60


class ApiError(Exception):
    def __init__(self, code, message, status=400, sender=True):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%S.000Z")


def rand(n, alphabet=string.ascii_uppercase + string.digits):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def atomic_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def x(tag, value):
    """<tag>value</tag>, value escaped; None -> nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return "<%s>%s</%s>" % (tag, escape(str(value)), tag)


class Instance:
    def __init__(self, iid, d, region, t0):
        self.id = iid
        self.d = d
        self.region = d.get("region", region)
        self.state = d.get("state", "running")
        self.next_state = None
        self.next_at = 0.0
        self.running_since = t0 - 3600 if self.state == "running" else None
        self.online_delay = float(d.get("ssm_online_delay", 0))
        self.launch = d.get("launch_time") or iso(t0 - 3600 - (
            int(binascii.crc32(iid.encode())) % 86400))
        if self.state == "pending":
            self.go("running", float(d.get("pending_seconds", 1.0)), t0)
        elif self.state == "stopping":
            self.go("stopped", float(d.get("stopping_seconds", 1.0)), t0)

    def go(self, state, after, now):
        self.next_state = state
        self.next_at = now + after

    def tick(self, now):
        if self.next_state is not None and now >= self.next_at:
            self.state = self.next_state
            self.next_state = None
            if self.state == "running":
                self.running_since = self.next_at
            else:
                self.running_since = None

    @property
    def hybrid(self):
        return self.id.startswith("mi-")

    def managed(self):
        return bool(self.d.get("ssm_managed", self.d.get("ssm_online",
                                                         False)))

    def ping(self, now):
        if (self.state == "running" and self.d.get("ssm_online", False) and
                self.running_since is not None and
                now >= self.running_since + self.online_delay):
            return "Online"
        return "ConnectionLost"

    def tags(self):
        return self.d.get("tags", {})


class Fake(fake_eice.EiceOps):
    def __init__(self, scenario, state_dir):
        self.sc = scenario
        self.state_dir = state_dir
        self.lock = threading.Lock()
        self.t0 = time.time()
        self.region = scenario.get("region", "us-east-1")
        self.account = scenario.get("account", "123456789012")
        self.xmlns = scenario.get("xmlns", True)
        self.creds = {}
        for c in scenario.get("credentials") or [
                {"access_key": RIG_KEY, "secret_key": RIG_SECRET,
                 "arn": "arn:aws:iam::%s:user/rig" % self.account}]:
            c = dict(c)
            c.setdefault("arn", "arn:aws:iam::%s:user/%s" % (
                self.account, c["access_key"].lower()))
            self.creds[c["access_key"]] = c
        self.faults = [dict(f) for f in scenario.get("faults", [])]
        self.slow = [dict(f) for f in scenario.get("slow", [])]
        self.buckets = {
            k: {"rate": float(v.get("rate", 1)),
                "burst": float(v.get("burst", 1)),
                "tokens": float(v.get("burst", 1)), "t": time.monotonic()}
            for k, v in scenario.get("rate_limits", {}).items()}
        self.instances = {
            iid: Instance(iid, d, self.region, self.t0)
            for iid, d in scenario.get("instances", {}).items()}
        self.sessions = {}
        self.imds_tokens = {}
        self.imds_creds = None
        ssm = scenario.get("ssm", {})
        self.ssm_dir = ssm.get("state_dir") or state_dir
        self.stream_url = ssm.get(
            "stream_url",
            "wss://ssmmessages.%s.amazonaws.com/v1/data-channel/" %
            self.region)

    # -- bookkeeping --------------------------------------------------------
    def log(self, rec):
        rec["t"] = round(time.time(), 3)
        with open(os.path.join(self.state_dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")

    def now(self):
        now = time.time()
        for i in self.instances.values():
            i.tick(now)
        return now

    def stack_arn(self, name):
        u = uuid.uuid5(uuid.NAMESPACE_URL, "stack/" + name)
        return "arn:aws:cloudformation:%s:%s:stack/%s/%s" % (
            self.region, self.account, name, u)

    def stack(self, name_or_arn, region):
        name = name_or_arn
        m = re.match(r"^arn:aws:cloudformation:[^:]+:\d+:stack/([^/]+)/",
                     name_or_arn)
        if m:
            name = m.group(1)
        st = self.sc.get("stacks", {}).get(name)
        if (st is None or st.get("region", self.region) != region or
                (not m and st.get("status") == "DELETE_COMPLETE") or
                (m and name_or_arn != self.stack_arn(name))):
            raise ApiError("ValidationError",
                           "Stack with id %s does not exist" % name_or_arn)
        return name, st

    # -- XML answers --------------------------------------------------------
    def ns(self, service):
        return ' xmlns="%s"' % XMLNS[service] if self.xmlns else ""

    def query_answer(self, service, action, inner):
        rid = str(uuid.uuid4())
        if service == "ec2":
            return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<%sResponse%s><requestId>%s</requestId>%s'
                    '</%sResponse>' % (action, self.ns(service), rid,
                                       inner, action))
        return ('<%sResponse%s><%sResult>%s</%sResult><ResponseMetadata>'
                '<RequestId>%s</RequestId></ResponseMetadata></%sResponse>' %
                (action, self.ns(service), action, inner, action, rid,
                 action))

    def error_answer(self, proto, service, e):
        rid = str(uuid.uuid4())
        if proto == "ec2":
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response>'
                    '<Errors><Error>%s%s</Error></Errors>'
                    '<RequestID>%s</RequestID></Response>' %
                    (x("Code", e.code), x("Message", e.message), rid))
            return body.encode(), "text/xml;charset=UTF-8"
        if proto == "query":
            body = ('<ErrorResponse%s><Error>%s%s%s</Error>'
                    '<RequestId>%s</RequestId></ErrorResponse>' %
                    (self.ns(service) if service in XMLNS else "",
                     x("Type", "Sender" if e.sender else "Receiver"),
                     x("Code", e.code), x("Message", e.message), rid))
            return body.encode(), "text/xml"
        typ = e.code
        if e.code in ("UnrecognizedClientException",
                      "InvalidSignatureException", "AccessDeniedException",
                      "ExpiredTokenException",
                      "MissingAuthenticationTokenException"):
            typ = "com.amazon.coral.service#" + e.code
        body = json.dumps({"__type": typ, "message": e.message})
        return body.encode(), "application/x-amz-json-1.1"

    # -- authentication ---------------------------------------------------------
    def auth_codes(self, proto):
        if proto == "ec2":
            return {"unknown": ("AuthFailure", 401),
                    "sig": ("SignatureDoesNotMatch", 403),
                    "expired": ("ExpiredToken", 400),
                    "missing": ("MissingAuthenticationToken", 401),
                    "clock": ("RequestExpired", 400)}
        if proto == "query":
            return {"unknown": ("InvalidClientTokenId", 403),
                    "sig": ("SignatureDoesNotMatch", 403),
                    "expired": ("ExpiredToken", 403),
                    "missing": ("MissingAuthenticationToken", 403),
                    "clock": ("SignatureDoesNotMatch", 403)}
        return {"unknown": ("UnrecognizedClientException", 400),
                "sig": ("InvalidSignatureException", 400),
                "expired": ("ExpiredTokenException", 400),
                "missing": ("MissingAuthenticationTokenException", 400),
                "clock": ("InvalidSignatureException", 400)}

    def verify(self, h, body, proto, rec):
        """Check the SigV4 signature; returns the caller's credentials."""
        codes = self.auth_codes(proto)
        auth = h.headers.get("Authorization", "")
        m = AUTH_RE.match(auth)
        if not m:
            c, s = codes["missing"]
            raise ApiError(c, "Request is missing Authentication Token"
                           if auth == "" else
                           "Authorization header is malformed", s)
        akid, date, region, service, signed, sig = m.groups()
        rec.update(akid=akid, region=region, signed_headers=signed)
        cred = self.creds.get(akid)
        if cred is None:
            c, s = codes["unknown"]
            raise ApiError(c, "The security token included in the request "
                           "is invalid." if proto != "ec2" else
                           "AWS was not able to validate the provided "
                           "access credentials", s)
        names = signed.split(";")
        if "host" not in names or "x-amz-date" not in names:
            c, s = codes["sig"]
            raise ApiError(c, "host and x-amz-date must be signed", s)
        amzdate = h.headers.get("X-Amz-Date", "")
        try:
            t = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ") \
                .replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            c, s = codes["sig"]
            raise ApiError(c, "X-Amz-Date is missing or malformed", s)
        if abs(time.time() - t) > MAX_SKEW:
            c, s = codes["clock"]
            raise ApiError(c, "Signature expired: %s is now earlier than "
                           "the allowed window" % amzdate, s)
        if amzdate[:8] != date:
            c, s = codes["sig"]
            raise ApiError(c, "Credential should be scoped to a valid date",
                           s)
        token = h.headers.get("X-Amz-Security-Token")
        rec["token"] = token is not None
        if (cred.get("token") or None) != token:
            c, s = codes["unknown"]
            raise ApiError(c, "The security token included in the request "
                           "is invalid.", s)
        # Rebuild the request from exactly the headers that were signed.
        hdrs = {}
        for n in names:
            v = h.headers.get_all(n)
            if v is None:
                c, s = codes["sig"]
                raise ApiError(c, "signed header %s is missing" % n, s)
            hdrs[n] = ",".join(v)
        req = AWSRequest(method=h.command,
                         url="http://%s%s" % (hdrs["host"], h.path),
                         headers=hdrs, data=body)
        req.context["timestamp"] = amzdate
        signer = SigV4Auth(Credentials(akid, cred["secret_key"], token),
                           service, region)
        cr = signer.canonical_request(req)
        want = signer.signature(signer.string_to_sign(req, cr), req)
        if not hmac.compare_digest(want, sig):
            c, s = codes["sig"]
            raise ApiError(c, "The request signature we calculated does not "
                           "match the signature you provided. Check your AWS "
                           "Secret Access Key and signing method.", s)
        if cred.get("expired") or (cred.get("expires") and
                                   time.time() > cred["expires"]):
            c, s = codes["expired"]
            raise ApiError(c, "The security token included in the request "
                           "is expired", s)
        return cred, service, region

    # -- dispatch -----------------------------------------------------------
    def handle_api(self, h, body):
        rec = {"method": h.command, "path": h.path}
        proto, service = "query", None
        m = AUTH_RE.match(h.headers.get("Authorization", ""))
        if m:
            service = m.group(4)
            proto = PROTOCOL.get(service, "query")
        elif h.headers.get("X-Amz-Target"):
            proto = "json"
        rec["service"] = service
        try:
            if service is not None and service not in PROTOCOL:
                raise ApiError("UnknownService",
                               "no such service %s here" % service)
            with self.lock:
                cred, service, region = self.verify(h, body, proto, rec)
                if proto == "json":
                    action, params = self.json_params(h, body, service)
                else:
                    action, params = self.form_params(h, body, service)
                rec["action"] = action
                rec["params"] = {k: v for k, v in params.items()
                                 if k not in ("SSHPublicKey",)} \
                    if isinstance(params, dict) else None
                self.authorize(cred, service, action, params)
                self.fault(service, action)
                out = getattr(self, "op_%s_%s" % (
                    service.replace("-", "_"), action), None)
                if out is None:
                    raise ApiError("InvalidAction", "The action %s is not "
                                   "valid for this web service." % action)
                ans = out(params, cred, region)
                hold = self.held_back(service, action)
            if proto == "json":
                data = json.dumps(ans).encode()
                ctype = "application/x-amz-json-1.1"
            else:
                data = self.query_answer(service, action, ans).encode()
                ctype = "text/xml;charset=UTF-8"
            status = 200
            time.sleep(hold)
        except ApiError as e:
            status = e.status
            data, ctype = self.error_answer(proto, service, e)
            rec["code"] = e.code
        rec["status"] = status
        with self.lock:
            self.log(rec)
        return status, data, ctype

    def form_params(self, h, body, service):
        ct = h.headers.get("Content-Type", "")
        if not ct.startswith("application/x-www-form-urlencoded"):
            raise ApiError("UnsupportedProtocol" if service != "ec2" else
                           "InvalidParameterValue",
                           "Content-Type %r is not a form" % ct)
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                              strict_parsing=bool(body))
        except (ValueError, UnicodeDecodeError):
            raise ApiError("MalformedQueryString", "the body is not a form")
        params = {}
        for k, v in pairs:
            params[k] = v
        if "Action" not in params:
            raise ApiError("MissingAction", "Could not find operation to "
                           "perform")
        if params.get("Version") != VERSION[service]:
            raise ApiError("InvalidParameterValue" if service == "ec2" else
                           "InvalidAction",
                           "Version %r is not %s" %
                           (params.get("Version"), VERSION[service]))
        return params.pop("Action"), params

    def json_params(self, h, body, service):
        if h.headers.get("Content-Type", "") != "application/x-amz-json-1.1":
            raise ApiError("SerializationException",
                           "Content-Type must be application/x-amz-json-1.1")
        target = h.headers.get("X-Amz-Target", "")
        prefix = JSON_PREFIX[service]
        if not target.startswith(prefix):
            raise ApiError("UnknownOperationException",
                           "unknown target %r" % target)
        try:
            params = json.loads(body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            raise ApiError("SerializationException", "body is not JSON")
        if not isinstance(params, dict):
            raise ApiError("SerializationException", "body is not an object")
        return target[len(prefix):], params

    def authorize(self, cred, service, action, params):
        iam = "%s:%s" % (service, action)
        denied = set(self.sc.get("deny", [])) | set(cred.get("deny", []))
        if iam not in denied:
            return
        who = cred["arn"]
        if service == "ec2":
            raise ApiError("UnauthorizedOperation",
                           "You are not authorized to perform this "
                           "operation. User: %s is not authorized to "
                           "perform: %s on resource: arn:aws:ec2:%s:%s:"
                           "instance/* because no identity-based policy "
                           "allows the %s action. Encoded authorization "
                           "failure message: %s" %
                           (who, iam, self.region, self.account, iam,
                            rand(40)), 403)
        msg = ("User: %s is not authorized to perform: %s on resource: * "
               "because no identity-based policy allows the %s action" %
               (who, iam, iam))
        if PROTOCOL[service] == "json":
            raise ApiError("AccessDeniedException", msg, 400)
        raise ApiError("AccessDenied", msg, 403)

    def rate_limit(self, service, action):
        b = self.buckets.get("%s:%s" % (service, action))
        if b is None:
            return
        now = time.monotonic()
        b["tokens"] = min(b["burst"], b["tokens"] +
                          (now - b["t"]) * b["rate"])
        b["t"] = now
        if b["tokens"] >= 1:
            b["tokens"] -= 1
            return
        if PROTOCOL[service] == "json":
            raise ApiError("ThrottlingException", "Rate exceeded", 400)
        if service == "ec2":
            raise ApiError("RequestLimitExceeded", "Request limit "
                           "exceeded.", 503, sender=False)
        raise ApiError("Throttling", "Rate exceeded", 400)

    @staticmethod
    def take(entries, service, action, count=1):
        """The first scenario entry for this call with times left (its
        "count", else count; None: every time), one time taken."""
        for f in entries:
            if f.get("action", action) != action or \
                    f.get("service", service) != service:
                continue
            left = f.get("count", count)
            if left is None:
                return f
            if left <= 0:
                continue
            f["count"] = left - 1
            return f
        return None

    def held_back(self, service, action):
        """Seconds the answer to this call waits (scenario "slow")."""
        f = self.take(self.slow, service, action, None)
        return float(f.get("seconds", 1)) if f is not None else 0

    def fault(self, service, action):
        self.rate_limit(service, action)
        f = self.take(self.faults, service, action)
        if f is None:
            return
        code = f.get("code", "Throttling")
        status = f.get("status", 503 if code in (
            "RequestLimitExceeded", "ServiceUnavailable",
            "InternalError", "InternalFailure") else 400)
        raise ApiError(code, f.get("message", "Rate exceeded"), status,
                       sender=status < 500)

    # -- CloudFormation -------------------------------------------------------
    def op_cloudformation_DescribeStackResources(self, p, cred, region):
        if "StackName" not in p and "PhysicalResourceId" not in p:
            raise ApiError("ValidationError", "Either StackName or "
                           "PhysicalResourceId must be specified")
        name, st = self.stack(p["StackName"], region)
        out = []
        for r in st.get("resources", []):
            phys = r.get("PhysicalResourceId", "")
            if r.get("ResourceType") == "AWS::CloudFormation::Stack" and \
                    phys in self.sc.get("stacks", {}):
                phys = self.stack_arn(phys)
            if "LogicalResourceId" in p and \
                    p["LogicalResourceId"] != r.get("LogicalResourceId"):
                continue
            out.append("<member>%s%s%s%s%s%s%s</member>" % (
                x("StackName", name), x("StackId", self.stack_arn(name)),
                x("LogicalResourceId", r.get("LogicalResourceId", "R")),
                x("PhysicalResourceId", phys),
                x("ResourceType", r.get("ResourceType")),
                x("Timestamp", iso(self.t0)),
                x("ResourceStatus", r.get("ResourceStatus",
                                          "CREATE_COMPLETE"))))
        return "<StackResources>%s</StackResources>" % "".join(out)

    def op_cloudformation_DescribeStacks(self, p, cred, region):
        if "StackName" in p:
            names = [self.stack(p["StackName"], region)[0]]
        else:
            names = [n for n, s in self.sc.get("stacks", {}).items()
                     if s.get("region", self.region) == region and
                     s.get("status") != "DELETE_COMPLETE"]
        out = []
        for n in names:
            st = self.sc["stacks"][n]
            outputs = "".join(
                "<member>%s%s</member>" % (x("OutputKey", k),
                                           x("OutputValue", v))
                for k, v in st.get("outputs", {}).items())
            out.append("<member>%s%s%s%s<Outputs>%s</Outputs></member>" % (
                x("StackId", self.stack_arn(n)), x("StackName", n),
                x("CreationTime", iso(self.t0 - 7200)),
                x("StackStatus", st.get("status", "CREATE_COMPLETE")),
                outputs))
        return "<Stacks>%s</Stacks>" % "".join(out)

    # -- Auto Scaling -------------------------------------------------------
    def op_autoscaling_DescribeAutoScalingGroups(self, p, cred, region):
        want = [v for k, v in sorted(p.items())
                if k.startswith("AutoScalingGroupNames.member.")]
        out = []
        for n, g in self.sc.get("asgs", {}).items():
            if want and n not in want:
                continue
            members = []
            for m in g.get("instances", []):
                if isinstance(m, str):
                    m = {"InstanceId": m}
                members.append("<member>%s%s%s%s%s%s</member>" % (
                    x("InstanceId", m["InstanceId"]),
                    x("InstanceType", "g5.xlarge"),
                    x("AvailabilityZone", region + "a"),
                    x("LifecycleState", m.get("LifecycleState", "InService")),
                    x("HealthStatus", m.get("HealthStatus", "Healthy")),
                    x("ProtectedFromScaleIn", False)))
            arn = ("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:"
                   "autoScalingGroupName/%s" % (
                       region, self.account,
                       uuid.uuid5(uuid.NAMESPACE_URL, "asg/" + n), n))
            out.append(
                "<member>%s%s%s%s%s%s<AvailabilityZones><member>%s</member>"
                "</AvailabilityZones>%s%s<Instances>%s</Instances></member>" %
                (x("AutoScalingGroupName", n), x("AutoScalingGroupARN", arn),
                 x("MinSize", 0), x("MaxSize", 4),
                 x("DesiredCapacity", len(members)), x("DefaultCooldown", 300),
                 escape(region + "a"), x("HealthCheckType", "EC2"),
                 x("CreatedTime", iso(self.t0 - 7200)), "".join(members)))
        return "<AutoScalingGroups>%s</AutoScalingGroups>" % "".join(out)

    # -- EC2 ------------------------------------------------------------------
    def ec2_ids(self, p):
        ids = [v for k, v in sorted(
            p.items(), key=lambda kv: kv[0]) if re.match(
                r"^InstanceId\.\d+$", k)]
        for i in ids:
            if not INSTANCE_RE.match(i):
                raise ApiError("InvalidInstanceID.Malformed",
                               'Invalid id: "%s"' % i)
        return ids

    def ec2_filters(self, p):
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
            if name is None:
                raise ApiError("InvalidParameterValue",
                               "Filter %s has no Name" % n)
            if not (name in ("instance-id", "instance-state-name", "tag-key",
                             "tag-value", "private-ip-address", "ip-address",
                             "dns-name") or name.startswith("tag:")):
                raise ApiError("InvalidParameterValue",
                               "The filter '%s' is invalid" % name)
            out.append((name, values))
        return out

    @staticmethod
    def match(value, patterns):
        return value is not None and any(
            fnmatch.fnmatchcase(value, pat) for pat in patterns)

    def ec2_visible(self, inst, region):
        return not inst.hybrid and inst.region == region

    def ec2_public(self, inst):
        if inst.state in ("pending", "running"):
            return inst.d.get("public_dns", ""), inst.d.get("public_ip")
        return "", None

    def filtered(self, inst, filters):
        dns, ip = self.ec2_public(inst)
        tags = inst.tags()
        for name, values in filters:
            if name == "instance-id":
                ok = self.match(inst.id, values)
            elif name == "instance-state-name":
                ok = self.match(inst.state, values)
            elif name == "tag-key":
                ok = any(self.match(k, values) for k in tags)
            elif name == "tag-value":
                ok = any(self.match(v, values) for v in tags.values())
            elif name.startswith("tag:"):
                ok = self.match(tags.get(name[4:]), values)
            elif name == "private-ip-address":
                ok = self.match(inst.d.get("private_ip"), values)
            elif name == "ip-address":
                ok = self.match(ip, values)
            else:
                ok = self.match(dns, values)
            if not ok:
                return False
        return True

    def instance_xml(self, inst):
        dns, ip = self.ec2_public(inst)
        tags = "".join("<item>%s%s</item>" % (x("key", k), x("value", v))
                       for k, v in inst.tags().items())
        plat = inst.d.get("platform")
        return ("<item>%s%s<instanceState>%s%s</instanceState>%s%s%s%s%s"
                "<placement>%s</placement>%s%s%s%s"
                "<tagSet>%s</tagSet></item>" % (
                    x("instanceId", inst.id),
                    x("imageId", inst.d.get("image_id", DEFAULT_IMAGE)),
                    x("code", STATE_CODE.get(inst.state, 0)),
                    x("name", inst.state),
                    x("privateDnsName", "ip-%s.ec2.internal" % inst.d.get(
                        "private_ip", "10.0.0.1").replace(".", "-")),
                    x("dnsName", dns),
                    x("instanceType", inst.d.get("instance_type",
                                                 "g5.xlarge")),
                    x("launchTime", inst.launch),
                    x("platform", plat) if plat == "windows" else "",
                    x("availabilityZone", inst.region + "a"),
                    x("subnetId", inst.d.get("subnet_id")) +
                    x("vpcId", inst.d.get("vpc_id")) +
                    x("privateIpAddress", inst.d.get("private_ip")),
                    x("ipAddress", ip),
                    x("architecture", "x86_64"),
                    x("platformDetails", inst.d.get(
                        "platform_details", "Windows" if plat == "windows"
                        else "Linux/UNIX")),
                    tags))

    def op_ec2_DescribeInstances(self, p, cred, region):
        self.now()
        ids = self.ec2_ids(p)
        filters = self.ec2_filters(p)
        if ids and "MaxResults" in p:
            raise ApiError("InvalidParameterCombination",
                           "The parameter instancesSet cannot be used with "
                           "the parameter maxResults")
        if ids:
            missing = [i for i in ids if i not in self.instances or
                       not self.ec2_visible(self.instances[i], region)]
            if missing:
                raise ApiError("InvalidInstanceID.NotFound",
                               "The instance ID%s '%s' do%s not exist" % (
                                   "s" if len(missing) > 1 else "",
                                   ", ".join(missing),
                                   "" if len(missing) > 1 else "es"))
            found = [self.instances[i] for i in dict.fromkeys(ids)]
        else:
            found = [i for i in self.instances.values()
                     if self.ec2_visible(i, region)]
        found = [i for i in found if self.filtered(i, filters)]
        page = p.get("MaxResults") or self.sc.get("ec2_page_size")
        start = 0
        if p.get("NextToken"):
            try:
                start = int(base64.b64decode(p["NextToken"]).decode())
            except (ValueError, binascii.Error):
                raise ApiError("InvalidParameterValue", "bad NextToken")
        nxt = None
        if page:
            page = int(page)
            if "MaxResults" in p and not 5 <= page <= 1000:
                raise ApiError("InvalidParameterValue",
                               "MaxResults must be between 5 and 1000")
            if start + page < len(found):
                nxt = base64.b64encode(str(start + page).encode()).decode()
            found = found[start:start + page]
        res = "".join(
            "<item>%s%s<groupSet/><instancesSet>%s</instancesSet></item>" % (
                x("reservationId", "r-%017x" % (binascii.crc32(
                    i.id.encode()))), x("ownerId", self.account),
                self.instance_xml(i)) for i in found)
        return "<reservationSet>%s</reservationSet>%s" % (
            res, x("nextToken", nxt))

    def image_xml(self, iid, img):
        owner = img.get("owner", "123456789012")
        alias = img.get("owner_alias", "amazon" if owner == "137112412989"
                        else None)
        name = img.get("name", "")
        return ("<item>%s%s%s%s%s%s%s%s%s%s%s%s%s<blockDeviceMapping><item>"
                "%s<ebs>%s%s%s%s%s</ebs></item></blockDeviceMapping>%s%s%s"
                "%s%s%s</item>" % (
                    x("imageId", iid),
                    x("imageLocation", img.get("location", "%s/%s" % (
                        alias or owner, name))),
                    x("imageState", "available"),
                    x("imageOwnerId", owner),
                    x("creationDate", iso(self.t0 - 86400 * 30)),
                    x("isPublic", img.get("public", True)),
                    x("architecture", "x86_64"),
                    x("imageType", "machine"),
                    x("sriovNetSupport", "simple"),
                    x("imageOwnerAlias", alias),
                    x("name", name),
                    x("description", img.get("description")),
                    x("rootDeviceType", "ebs"),
                    x("deviceName", "/dev/sda1"),
                    x("snapshotId", "snap-%017x" % binascii.crc32(
                        iid.encode())),
                    x("volumeSize", 8),
                    x("deleteOnTermination", True),
                    x("volumeType", "gp3"),
                    x("encrypted", False),
                    x("virtualizationType", "hvm"),
                    x("hypervisor", "xen"),
                    x("enaSupport", True),
                    x("platformDetails", img.get("platform_details",
                                                 "Linux/UNIX")),
                    x("usageOperation", "RunInstances"),
                    x("rootDeviceName", "/dev/sda1")))

    def op_ec2_DescribeImages(self, p, cred, region):
        ids = [v for k, v in sorted(p.items()) if re.match(
            r"^ImageId\.\d+$", k)]
        images = dict(DEFAULT_IMAGES)
        images.update(self.sc.get("images", {}))
        for i in ids:
            if not IMAGE_RE.match(i):
                raise ApiError("InvalidAMIID.Malformed",
                               'Invalid id: "%s" (expecting "ami-...")' % i)
        missing = [i for i in ids if i not in images]
        if missing:
            raise ApiError("InvalidAMIID.NotFound",
                           "The image id '[%s]' does not exist" %
                           ", ".join(missing))
        found = ids or sorted(images)
        return "<imagesSet>%s</imagesSet>" % "".join(
            self.image_xml(i, images[i]) for i in dict.fromkeys(found))

    def change_states(self, p, region, fn):
        ids = self.ec2_ids(p)
        if not ids:
            raise ApiError("MissingParameter", "The request must contain "
                           "the parameter InstanceId")
        for i in ids:
            if i not in self.instances or \
                    not self.ec2_visible(self.instances[i], region):
                raise ApiError("InvalidInstanceID.NotFound",
                               "The instance ID '%s' does not exist" % i)
        out = []
        now = self.now()
        for i in ids:
            inst = self.instances[i]
            prev = inst.state
            fn(inst, now)
            out.append("<item>%s<currentState>%s%s</currentState>"
                       "<previousState>%s%s</previousState></item>" % (
                           x("instanceId", i),
                           x("code", STATE_CODE[inst.state]),
                           x("name", inst.state),
                           x("code", STATE_CODE[prev]), x("name", prev)))
        return "<instancesSet>%s</instancesSet>" % "".join(out)

    def op_ec2_StartInstances(self, p, cred, region):
        def start(inst, now):
            if inst.state in ("running", "pending"):
                return
            if inst.state != "stopped":
                raise ApiError("IncorrectInstanceState",
                               "The instance '%s' is not in a state from "
                               "which it can be started." % inst.id)
            inst.state = "pending"
            inst.launch = iso(now)
            inst.online_delay = float(inst.d.get("ssm_online_delay", 1.0))
            inst.go("running", float(inst.d.get("pending_seconds", 1.0)),
                    now)
            fake_lifecycle.started(self, inst, now)
        return self.change_states(p, region, start)

    def op_ec2_StopInstances(self, p, cred, region):
        def stop(inst, now):
            if inst.state in ("stopped", "stopping"):
                return
            if inst.state not in ("running", "pending"):
                raise ApiError("IncorrectInstanceState",
                               "The instance '%s' is not in a state from "
                               "which it can be stopped." % inst.id)
            inst.state = "stopping"
            inst.running_since = None
            inst.go("stopped", float(inst.d.get("stopping_seconds", 1.0)),
                    now)
            fake_lifecycle.stopped(self, inst, now)
        return self.change_states(p, region, stop)

    # -- STS ------------------------------------------------------------------
    def op_sts_GetCallerIdentity(self, p, cred, region):
        arn = cred["arn"]
        if ":assumed-role/" in arn:
            uid = "AROA%s:%s" % (rand(17), arn.rsplit("/", 1)[1])
        else:
            uid = "AIDA" + rand(17)
        return "%s%s%s" % (x("Arn", arn), x("UserId", uid),
                           x("Account", self.account))

    def op_sts_AssumeRole(self, p, cred, region):
        role = p.get("RoleArn")
        name = p.get("RoleSessionName")
        if not role or not name:
            raise ApiError("ValidationError", "1 validation error detected: "
                           "Value null at '%s' failed to satisfy constraint: "
                           "Member must not be null" % (
                               "roleArn" if not role else "roleSessionName"))
        if not re.match(r"^[\w+=,.@-]{2,64}$", name):
            raise ApiError("ValidationError", "1 validation error detected: "
                           "Value '%s' at 'roleSessionName' failed to "
                           "satisfy constraint" % name)
        m = re.match(r"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?"
                     r"([\w+=,.@-]+)$", role)
        if not m:
            raise ApiError("ValidationError", "%s is not a role ARN" % role)
        roles = self.sc.get("roles")
        denied = "User: %s is not authorized to perform: sts:AssumeRole " \
            "on resource: %s" % (cred["arn"], role)
        if roles is not None and role not in roles:
            raise ApiError("AccessDenied", denied, 403)
        spec = (roles or {}).get(role, {})
        if spec.get("external_id") not in (None, p.get("ExternalId")):
            raise ApiError("AccessDenied", denied, 403)
        dur = int(p.get("DurationSeconds", 3600))
        if not 900 <= dur <= 43200:
            raise ApiError("ValidationError", "DurationSeconds must be "
                           "between 900 and 43200")
        akid = "ASIA" + rand(16)
        new = {"access_key": akid, "secret_key": rand(40, string.ascii_letters
                                                      + string.digits + "+/"),
               "token": base64.b64encode(secrets.token_bytes(180)).decode(),
               "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (
                   m.group(1), m.group(2), name),
               "expires": time.time() + dur,
               "deny": spec.get("deny", [])}
        self.creds[akid] = new
        return ("<Credentials>%s%s%s%s</Credentials><AssumedRoleUser>%s%s"
                "</AssumedRoleUser>" % (
                    x("AccessKeyId", akid), x("SecretAccessKey",
                                              new["secret_key"]),
                    x("SessionToken", new["token"]),
                    x("Expiration", iso(new["expires"])),
                    x("AssumedRoleId", "AROA%s:%s" % (rand(17), name)),
                    x("Arn", new["arn"])))

    # -- SSM ------------------------------------------------------------------
    def ssm_target(self, target, region):
        inst = self.instances.get(target)
        if inst is None or inst.region != region:
            return None
        return inst

    def op_ssm_DescribeInstanceInformation(self, p, cred, region):
        now = self.now()
        ids = None
        pings = None
        tags = []       # (key, values); "tag-key": (None, keys)
        for f in p.get("Filters", []) or []:
            key, vals = f.get("Key"), f.get("Values")
            if not isinstance(vals, list) or not vals:
                raise ApiError("ValidationException",
                               "Filter %s needs Values" % key)
            if key == "InstanceIds":
                ids = vals
            elif key == "PingStatus":
                pings = vals
            elif key.startswith("tag:") and len(key) > 4:
                tags.append((key[4:], vals))
            elif key == "tag-key":
                tags.append((None, vals))
            elif key not in ("PlatformTypes", "ResourceType",
                             "AgentVersion", "AssociationStatus"):
                raise ApiError("InvalidFilterKey",
                               "The filter key %s is not valid" % key)
        for f in p.get("InstanceInformationFilterList", []) or []:
            if f.get("key") == "InstanceIds":
                ids = f.get("valueSet")
            elif f.get("key") == "PingStatus":
                pings = f.get("valueSet")
        if "Filters" in p and "InstanceInformationFilterList" in p:
            raise ApiError("InvalidFilter", "use Filters or "
                           "InstanceInformationFilterList, not both")
        out = []
        for inst in self.instances.values():
            if inst.region != region or not inst.managed():
                continue
            if ids is not None and inst.id not in ids:
                continue
            it = inst.tags()
            if any(it.get(k) not in v if k is not None else
                   not any(x in it for x in v) for k, v in tags):
                continue
            ping = inst.ping(now)
            if pings is not None and ping not in pings:
                continue
            win = inst.d.get("platform") == "windows"
            out.append({
                "InstanceId": inst.id,
                "PingStatus": ping,
                "LastPingDateTime": now - (5 if ping == "Online" else 3600),
                "AgentVersion": inst.d.get("agent_version", "3.3.40.0"),
                "IsLatestVersion": False,
                "PlatformType": "Windows" if win else "Linux",
                "PlatformName": "Microsoft Windows Server 2022" if win
                else "Ubuntu",
                "PlatformVersion": "10.0" if win else "22.04",
                "ResourceType": "ManagedInstance" if inst.hybrid
                else "EC2Instance",
                "IPAddress": inst.d.get("private_ip", "10.0.0.1"),
                "ComputerName": inst.tags().get("Name", inst.id),
                "AssociationStatus": "Success",
            })
        size = int(p.get("MaxResults", 50))
        start = int(p.get("NextToken", "0") or 0)
        ans = {"InstanceInformationList": out[start:start + size]}
        if start + size < len(out):
            ans["NextToken"] = str(start + size)
        return ans

    def session_user(self, cred):
        arn = cred["arn"]
        name = arn.rsplit("/", 1)[-1] if "/" in arn else ""
        name = re.sub(r"[^A-Za-z0-9._@+=,-]", "", name)
        return name or "jconnect"

    def save_session(self, s):
        atomic_json(os.path.join(self.ssm_dir, "sessions",
                                 s["SessionId"] + ".json"), s)

    def op_ssm_StartSession(self, p, cred, region):
        target = p.get("Target")
        if not isinstance(target, str) or not target:
            raise ApiError("ValidationException", "1 validation error "
                           "detected: Value null at 'target' failed to "
                           "satisfy constraint: Member must not be null")
        doc = p.get("DocumentName")
        if doc is not None and doc not in SSM_DOCS:
            raise ApiError("InvalidDocument",
                           "Document %s does not exist in your account" %
                           doc)
        params = p.get("Parameters", {})
        if not isinstance(params, dict) or not all(
                isinstance(v, list) and all(isinstance(s, str) for s in v)
                for v in params.values()):
            raise ApiError("SerializationException", "Parameters must map "
                           "names to lists of strings")
        inst = self.ssm_target(target, region)
        now = self.now()
        if inst is None or not inst.managed() or inst.ping(now) != "Online":
            raise ApiError("TargetNotConnected",
                           "%s is not connected." % target)
        sid = "%s-%s" % (self.session_user(cred), secrets.token_hex(9)[:17])
        tok = base64.b64encode(secrets.token_bytes(150)).decode()
        s = {"SessionId": sid, "Target": target,
             "DocumentName": doc or "SSM-SessionManagerRunShell",
             "Parameters": params, "Reason": p.get("Reason"),
             "Tokens": [tok], "Status": "Active"}
        self.sessions[sid] = s
        self.save_session(s)
        return {"SessionId": sid, "TokenValue": tok,
                "StreamUrl": self.stream_url + sid + "?role=publish_subscribe"}

    def op_ssm_ResumeSession(self, p, cred, region):
        sid = p.get("SessionId")
        s = self.sessions.get(sid)
        if s is None or s["Status"] != "Active":
            raise ApiError("DoesNotExistException",
                           "Session %s does not exist or is not active" %
                           sid)
        tok = base64.b64encode(secrets.token_bytes(150)).decode()
        s["Tokens"].append(tok)
        self.save_session(s)
        return {"SessionId": sid, "TokenValue": tok,
                "StreamUrl": self.stream_url + sid + "?role=publish_subscribe"}

    def op_ssm_TerminateSession(self, p, cred, region):
        sid = p.get("SessionId")
        if not isinstance(sid, str) or not sid:
            raise ApiError("ValidationException", "SessionId is required")
        s = self.sessions.get(sid)
        if s is not None:
            s["Status"] = "Terminated"
            self.save_session(s)
        return {"SessionId": sid}

    # -- EC2 Instance Connect -------------------------------------------------
    def op_ec2_instance_connect_SendSSHPublicKey(self, p, cred, region):
        iid = p.get("InstanceId", "")
        user = p.get("InstanceOSUser", "")
        key = p.get("SSHPublicKey", "")
        if not isinstance(iid, str) or not INSTANCE_RE.match(iid):
            raise ApiError("InvalidArgsException", "Invalid InstanceId")
        if not isinstance(user, str) or not re.match(
                r"^[A-Za-z_][A-Za-z0-9@._-]{0,30}[A-Za-z0-9$_-]?$", user):
            raise ApiError("InvalidArgsException", "Invalid InstanceOSUser")
        parts = key.split() if isinstance(key, str) else []
        ok = len(parts) >= 2 and parts[0] in ("ssh-rsa", "ssh-ed25519") \
            and 80 <= len(key) <= 4096
        if ok:
            try:
                blob = base64.b64decode(parts[1], validate=True)
                n = int.from_bytes(blob[:4], "big")
                ok = blob[4:4 + n].decode() == parts[0]
            except (ValueError, binascii.Error, UnicodeDecodeError):
                ok = False
        if not ok:
            raise ApiError("InvalidArgsException", "The public key is not a "
                           "valid ssh-rsa or ssh-ed25519 key")
        inst = self.instances.get(iid)
        if inst is None or inst.hybrid or inst.region != region:
            raise ApiError("EC2InstanceNotFoundException",
                           "Instance not found")
        self.now()
        if inst.state != "running":
            raise ApiError("EC2InstanceStateInvalidException",
                           "Instance is not in a valid state")
        az = p.get("AvailabilityZone")
        if az is not None and az != inst.region + "a":
            raise ApiError("InvalidArgsException", "AvailabilityZone does "
                           "not match the instance")
        path = os.path.join(self.state_dir, "instance-connect",
                            iid + ".json")
        try:
            with open(path) as f:
                rec = json.load(f)
        except (OSError, ValueError):
            rec = {"InstanceId": iid, "Keys": []}
        rec["Keys"].append({"InstanceOSUser": user, "SSHPublicKey": key,
                            "AvailabilityZone": inst.region + "a",
                            "Time": round(time.time(), 3)})
        atomic_json(path, rec)
        return {"RequestId": str(uuid.uuid4()), "Success": True}

    # -- IMDSv2 ---------------------------------------------------------------
    def handle_imds(self, h):
        imds = self.sc.get("imds")
        with self.lock:
            self.log({"service": "imds", "method": h.command,
                      "path": h.path})
            if h.headers.get("X-Forwarded-For"):
                return 403, b"Forbidden", "text/plain"
            if h.command == "PUT" and h.path == "/latest/api/token":
                ttl = h.headers.get("X-aws-ec2-metadata-token-ttl-seconds",
                                    "")
                if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return 400, b"Bad Request", "text/plain"
                tok = base64.b64encode(secrets.token_bytes(40)).decode()
                self.imds_tokens[tok] = time.time() + int(ttl)
                return 200, tok.encode(), "text/plain"
            if h.command != "GET":
                return 405, b"Method Not Allowed", "text/plain"
            tok = h.headers.get("X-aws-ec2-metadata-token", "")
            if self.imds_tokens.get(tok, 0) < time.time():
                return 401, b"Unauthorized", "text/plain"
            if imds is None:
                return 404, b"Not Found", "text/plain"
            base = "/latest/meta-data/"
            path = h.path[len(base):] if h.path.startswith(base) else None
            role = imds.get("role")
            if path == "placement/region":
                return 200, imds.get("region", self.region).encode(), \
                    "text/plain"
            if path == "instance-id":
                return 200, imds.get("instance_id",
                                     "i-0123456789abcdef0").encode(), \
                    "text/plain"
            if path == "iam/security-credentials/" and role:
                return 200, role.encode(), "text/plain"
            if path == "iam/security-credentials/%s" % role and role:
                c = self.imds_creds
                if c is None or c["expires"] - time.time() < 600:
                    akid = "ASIA" + rand(16)
                    c = {"access_key": akid, "secret_key": rand(40),
                         "token": base64.b64encode(
                             secrets.token_bytes(180)).decode(),
                         "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (
                             self.account, role, imds.get(
                                 "instance_id", "i-0123456789abcdef0")),
                         "expires": time.time() + 6 * 3600,
                         "expired": bool(imds.get("expired"))}
                    self.creds[akid] = c
                    self.imds_creds = c
                return 200, json.dumps({
                    "Code": "Success", "LastUpdated": iso(time.time()),
                    "Type": "AWS-HMAC", "AccessKeyId": c["access_key"],
                    "SecretAccessKey": c["secret_key"], "Token": c["token"],
                    "Expiration": iso(c["expires"])}).encode(), \
                    "text/plain"
            return 404, b"Not Found", "text/plain"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-aws"
    fake = None

    def log_message(self, fmt, *args):
        sys.stderr.write("fake_aws: %s\n" % (fmt % args))

    def reply(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit() or int(n) > (1 << 20):
            return None
        return self.rfile.read(int(n))

    rtt = 0.0
    conn_rtts = 2

    def setup(self):
        super().setup()
        self.calls = 0

    def distance(self, body):
        """Round trips a distant client pays for this call, logged, then
        waited out before the answer goes back."""
        n = 1
        m = re.search(rb"Action=(\w+)", body or b"")
        action = m.group(1).decode() if m else \
            self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        recs = []
        if self.calls == 0:
            n += self.conn_rtts
            recs.append({"what": "connect", "rtts": self.conn_rtts})
        self.calls += 1
        recs.append({"what": "request", "rtts": 1, "detail": action})
        t = time.time()
        with open(os.path.join(self.fake.state_dir, "roundtrips.jsonl"),
                  "a") as f:
            for r in recs:
                r["t"] = t
                f.write(json.dumps(r) + "\n")
        if self.rtt > 0:
            time.sleep(n * self.rtt)

    def sso_reply(self, body):
        r = self.sso.route(self, body)
        if r is None:
            return False
        self.send_response(r[0])
        for k, v in dict(r[3], **{"Content-Type": r[2]}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(r[1])))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(r[1])
        return True

    def do_POST(self):
        body = self.body()
        if body is None:
            self.reply(411, b"Length Required", "text/plain")
            return
        if self.sso_reply(body):
            return
        self.distance(body)
        self.reply(*self.fake.handle_api(self, body))

    def do_PUT(self):
        body = self.body() or b""
        del body
        self.reply(*self.fake.handle_imds(self))

    def do_GET(self):
        if self.path.startswith("/openTunnel?"):
            fake_eice.open_tunnel(self.fake, self)
            return
        if not self.sso_reply(None):
            self.reply(*self.fake.handle_imds(self))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--state")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="serve HTTPS with this certificate")
    ap.add_argument("--rtt-ms", type=float, default=0,
                    help="round-trip time to a distant region")
    ap.add_argument("--conn-rtts", type=int, default=2,
                    help="round trips of a new connection (TCP + TLS 1.3)")
    a = ap.parse_args()
    Handler.rtt = a.rtt_ms / 1000.0
    Handler.conn_rtts = a.conn_rtts
    with open(a.scenario) as f:
        sc = json.load(f)
    state = a.state or os.path.join(
        os.path.dirname(os.path.abspath(a.scenario)), "aws-state")
    os.makedirs(state, exist_ok=True)
    Handler.fake = Fake(sc, state)
    Handler.sso = fake_sso.install(Fake, Handler.fake, ApiError)
    fake_roles.install(Fake, Handler.fake, Handler.sso, ApiError)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    if a.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, a.port_file)
    sys.stderr.write("fake_aws: listening on 127.0.0.1:%d\n" %
                     srv.server_address[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
