"""fake_sso.py - IAM Identity Center and the workload credential sources,
for fake_aws.py: SSO OIDC (RegisterClient, StartDeviceAuthorization,
CreateToken), the SSO portal (GetRoleCredentials), STS
AssumeRoleWithWebIdentity (unsigned) and MFA on AssumeRole, and a
container credentials endpoint.

SSO OIDC and the portal are REST-JSON and unsigned.  Errors are the real
shapes: HTTP status of the model, an x-amzn-ErrorType header, and the
body the service sends ({"error": "authorization_pending",
"error_description": ...} for OIDC, {"message": ...} for the portal).

Scenario key "sso" (every key optional):
  access_ttl     seconds an access token lives (default 3600)
  role_ttl       seconds role credentials live (default 3600)
  interval       polling interval asked of the client (default 1)
  device_ttl     seconds a device code lives (default 600)
  slow_down      how many SlowDownException answers polling gets first
  accounts       {"123456789012": ["Admin", ...]} roles a sign-in may use
                 (default: any)
Scenario key "web_identity": {"tokens": ["...", ...]} accepted tokens.
Scenario "roles": {"ARN": {"mfa_serial": "arn:...:mfa/x", "mfa_code":
"123456"}} makes AssumeRole of that role need the code.
Scenario key "container": {"token": "..."}: GET /container-credentials/*
needs "Authorization: <token>".

The headless browser stand-in: GET /device?user_code=CODE (the
verificationUriComplete) approves that sign-in; /device?...&deny=1
denies it.  Every call is logged to requests.jsonl with service "sso-oidc",
"sso", "sts" or "container"; secrets are never logged.
"""

import base64
import json
import secrets
import string
import time
from urllib.parse import parse_qsl, urlsplit

OIDC_STATUS = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRequestException": (400, "invalid_request"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Reply(Exception):
    def __init__(self, status, body, headers=None, ctype="application/json"):
        super().__init__(status)
        self.status, self.body, self.ctype = status, body, ctype
        self.headers = headers or {}


def oidc_error(code, desc=None):
    status, oauth = OIDC_STATUS[code]
    return Reply(status, json.dumps({"error": oauth,
                                     "error_description": desc}).encode(),
                 {"x-amzn-ErrorType": code})


def portal_error(code, status, msg):
    return Reply(status, json.dumps({"message": msg}).encode(),
                 {"x-amzn-ErrorType": code})


def rand(n):
    return "".join(secrets.choice(string.ascii_letters + string.digits)
                   for _ in range(n))


class SSO:
    def __init__(self, fake):
        self.fake = fake
        sc = fake.sc.get("sso", {})
        self.access_ttl = int(sc.get("access_ttl", 3600))
        self.role_ttl = int(sc.get("role_ttl", 3600))
        self.interval = int(sc.get("interval", 1))
        self.device_ttl = int(sc.get("device_ttl", 600))
        self.slow_down = int(sc.get("slow_down", 0))
        self.accounts = sc.get("accounts")
        self.clients = {}     # clientId -> {secret, expires}
        self.devices = {}     # deviceCode -> {...}
        self.access = {}      # accessToken -> expiry
        self.refresh = {}     # refreshToken -> clientId
        self.counts = {}

    def log(self, service, action, status, code=None, **extra):
        rec = {"service": service, "action": action, "status": status}
        if code:
            rec["code"] = code
        rec.update(extra)
        self.fake.log(rec)

    # -- SSO OIDC -------------------------------------------------------------
    def client(self, p):
        c = self.clients.get(p.get("clientId"))
        if c is None or c["secret"] != p.get("clientSecret"):
            raise oidc_error("InvalidClientException",
                             "Client authentication failed")
        if c["expires"] < time.time():
            raise oidc_error("InvalidClientException",
                             "Client registration has expired")
        return c

    def op_RegisterClient(self, p):
        if not p.get("clientName") or p.get("clientType") != "public":
            raise oidc_error("InvalidRequestException",
                             "clientName and clientType public are needed")
        cid, now = rand(22), int(time.time())
        self.clients[cid] = {"secret": "eyJ" + rand(300),
                             "expires": now + 90 * 86400,
                             "scopes": p.get("scopes")}
        return {"clientId": cid,
                "clientSecret": self.clients[cid]["secret"],
                "clientIdIssuedAt": now,
                "clientSecretExpiresAt": now + 90 * 86400}

    def op_StartDeviceAuthorization(self, p, base):
        c = self.client(p)
        if not p.get("startUrl"):
            raise oidc_error("InvalidRequestException", "startUrl")
        dc = rand(40)
        uc = "%s-%s" % (rand(4).upper(), rand(4).upper())
        self.devices[dc] = {"user_code": uc, "client": p["clientId"],
                            "state": "pending",
                            "expires": time.time() + self.device_ttl,
                            "start_url": p["startUrl"],
                            "slow_down": self.slow_down}
        c["start_url"] = p["startUrl"]
        return {"deviceCode": dc, "userCode": uc,
                "verificationUri": base + "/device",
                "verificationUriComplete": base + "/device?user_code=" + uc,
                "expiresIn": self.device_ttl, "interval": self.interval}

    def issue(self, cid):
        at, rt = "aoa" + rand(200), "aor" + rand(200)
        self.access[at] = time.time() + self.access_ttl
        self.refresh[rt] = cid
        return {"accessToken": at, "tokenType": "Bearer",
                "expiresIn": self.access_ttl, "refreshToken": rt}

    def op_CreateToken(self, p):
        self.client(p)
        g = p.get("grantType")
        if g == DEVICE_GRANT:
            d = self.devices.get(p.get("deviceCode"))
            if d is None or d["client"] != p["clientId"]:
                raise oidc_error("InvalidGrantException",
                                 "Invalid device code provided")
            if d["expires"] < time.time():
                raise oidc_error("ExpiredTokenException",
                                 "Device code has expired")
            if d["slow_down"] > 0:
                d["slow_down"] -= 1
                raise oidc_error("SlowDownException")
            if d["state"] == "denied":
                raise oidc_error("AccessDeniedException")
            if d["state"] != "approved":
                raise oidc_error("AuthorizationPendingException")
            del self.devices[p["deviceCode"]]
            return self.issue(p["clientId"])
        if g == "refresh_token":
            if self.refresh.get(p.get("refreshToken")) != p["clientId"]:
                raise oidc_error("InvalidGrantException",
                                 "Invalid refresh token provided")
            # A refresh token is used once: the answer brings a new one.
            del self.refresh[p["refreshToken"]]
            return self.issue(p["clientId"])
        raise oidc_error("UnsupportedGrantTypeException",
                         "Unsupported grant type: %s" % g)

    # -- the portal ---------------------------------------------------------
    def op_GetRoleCredentials(self, q, h):
        tok = h.headers.get("x-amz-sso_bearer_token")
        if not tok or self.access.get(tok, 0) < time.time():
            raise portal_error("UnauthorizedException", 401,
                               "Session token not found or invalid")
        acct, role = q.get("account_id"), q.get("role_name")
        if not acct or not role:
            raise portal_error("InvalidRequestException", 400,
                               "role_name and account_id are required")
        if self.accounts is not None and \
                role not in self.accounts.get(acct, []):
            raise portal_error("ForbiddenException", 403,
                               "No access")
        akid = "ASIA" + rand(16).upper()
        exp = time.time() + self.role_ttl
        self.fake.creds[akid] = {
            "access_key": akid, "secret_key": rand(40),
            "token": base64.b64encode(secrets.token_bytes(180)).decode(),
            "arn": "arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_%s/user"
                   % (acct, role, rand(16).lower()),
            "expires": exp}
        c = self.fake.creds[akid]
        return {"roleCredentials": {
            "accessKeyId": akid, "secretAccessKey": c["secret_key"],
            "sessionToken": c["token"], "expiration": int(exp * 1000)}}

    # -- the browser stand-in -----------------------------------------------
    def approve(self, q):
        for d in self.devices.values():
            if d["user_code"] == q.get("user_code"):
                d["state"] = "denied" if q.get("deny") else "approved"
                return Reply(200, b"<html><body>Request approved</body>"
                             b"</html>", ctype="text/html")
        return Reply(404, b"no such code", ctype="text/plain")

    # -- STS ------------------------------------------------------------------
    def web_identity(self, p):
        role, tok = p.get("RoleArn", ""), p.get("WebIdentityToken", "")
        name = p.get("RoleSessionName", "")
        ok = self.fake.sc.get("web_identity", {}).get("tokens", [])
        if tok not in ok:
            return self.sts_error("InvalidIdentityToken",
                                  "Couldn't retrieve verification key from "
                                  "your identity provider", 400)
        if not role.startswith("arn:aws:iam::") or not name:
            return self.sts_error("ValidationError", "RoleArn and "
                                  "RoleSessionName are required", 400)
        akid = "ASIA" + rand(16).upper()
        c = {"access_key": akid, "secret_key": rand(40),
             "token": base64.b64encode(secrets.token_bytes(180)).decode(),
             "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (
                 role.split(":")[4], role.rsplit("/", 1)[1], name),
             "expires": time.time() + 3600}
        self.fake.creds[akid] = c
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c["expires"]))
        body = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts."
                "amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentity"
                "Result><Credentials><AccessKeyId>%s</AccessKeyId>"
                "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s"
                "</SessionToken><Expiration>%s</Expiration></Credentials>"
                "<AssumedRoleUser><Arn>%s</Arn></AssumedRoleUser>"
                "<SubjectFromWebIdentityToken>system:serviceaccount"
                "</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentity"
                "Result><ResponseMetadata><RequestId>%s</RequestId>"
                "</ResponseMetadata></AssumeRoleWithWebIdentityResponse>" % (
                    akid, c["secret_key"], c["token"], exp, c["arn"],
                    rand(8)))
        self.log("sts", "AssumeRoleWithWebIdentity", 200, role=role)
        return 200, body.encode(), "text/xml"

    def sts_error(self, code, msg, status):
        self.log("sts", "AssumeRoleWithWebIdentity", status, code)
        body = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
                "2011-06-15/\"><Error><Type>Sender</Type><Code>%s</Code>"
                "<Message>%s</Message></Error><RequestId>%s</RequestId>"
                "</ErrorResponse>" % (code, msg, rand(8)))
        return status, body.encode(), "text/xml"

    def check_mfa(self, p, cred):
        """AssumeRole of a role with mfa_serial needs its code."""
        spec = (self.fake.sc.get("roles") or {}).get(p.get("RoleArn"), {})
        if not spec.get("mfa_serial"):
            return
        if p.get("SerialNumber") != spec["mfa_serial"] or \
                p.get("TokenCode") != spec.get("mfa_code"):
            raise self.api_error("AccessDenied", "MultiFactorAuthentication "
                           "failed with invalid MFA one time pass code.",
                           403)

    # -- container credentials ------------------------------------------------
    def container(self, h):
        want = self.fake.sc.get("container", {}).get("token")
        got = h.headers.get("Authorization")
        if want is not None and got != want:
            self.log("container", "GetCredentials", 401)
            return 401, b'{"message":"unauthorized"}', "application/json"
        akid = "ASIA" + rand(16).upper()
        c = {"access_key": akid, "secret_key": rand(40),
             "token": base64.b64encode(secrets.token_bytes(120)).decode(),
             "arn": "arn:aws:sts::%s:assumed-role/task/x" % self.fake.account,
             "expires": time.time() + 3600}
        self.fake.creds[akid] = c
        self.log("container", "GetCredentials", 200,
                 authorized=got is not None)
        return 200, json.dumps({
            "AccessKeyId": akid, "SecretAccessKey": c["secret_key"],
            "Token": c["token"], "RoleArn": c["arn"],
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                        time.gmtime(c["expires"]))
        }).encode(), "application/json"

    # -- routing ----------------------------------------------------------------
    def route(self, h, body):
        """The answer (status, data, ctype, headers) for a request that is
        ours, else None."""
        u = urlsplit(h.path)
        q = dict(parse_qsl(u.query))
        if h.command == "GET" and u.path.startswith("/container-credentials"):
            with self.fake.lock:
                return self.container(h) + ({},)
        if h.command == "POST" and "Authorization" not in h.headers and \
                body and b"Action=AssumeRoleWithWebIdentity" in body:
            p = dict(parse_qsl(body.decode()))
            with self.fake.lock:
                return self.web_identity(p) + ({},)
        ops = {("POST", "/client/register"): ("sso-oidc", "RegisterClient"),
               ("POST", "/device_authorization"):
                   ("sso-oidc", "StartDeviceAuthorization"),
               ("POST", "/token"): ("sso-oidc", "CreateToken"),
               ("GET", "/federation/credentials"):
                   ("sso", "GetRoleCredentials"),
               ("GET", "/device"): ("browser", "Approve")}
        op = ops.get((h.command, u.path))
        if op is None:
            return None
        service, action = op
        host = h.headers.get("Host", "127.0.0.1")
        base = "%s://%s" % ("https" if getattr(h.server, "tls", False)
                            else "http", host)
        try:
            with self.fake.lock:
                if action == "Approve":
                    raise self.approve(q)
                if service == "sso":
                    ans = self.op_GetRoleCredentials(q, h)
                else:
                    try:
                        p = json.loads(body or b"{}")
                    except ValueError:
                        raise oidc_error("InvalidRequestException",
                                         "not JSON")
                    if action == "StartDeviceAuthorization":
                        ans = self.op_StartDeviceAuthorization(p, base)
                    else:
                        ans = getattr(self, "op_" + action)(p)
                extra = {}
                if action == "CreateToken":
                    extra["grant"] = p.get("grantType")
                self.log(service, action, 200, **extra)
            return 200, json.dumps(ans).encode(), "application/json", {}
        except Reply as r:
            if action != "Approve":
                with self.fake.lock:
                    self.log(service, action, r.status,
                             r.headers.get("x-amzn-ErrorType"))
            return r.status, r.body, r.ctype, r.headers


def install(fake_cls, fake, api_error):
    """Hook into fake_aws: MFA checks on AssumeRole; returns the router."""
    sso = SSO(fake)
    sso.api_error = api_error
    plain = fake_cls.op_sts_AssumeRole

    def assume_role(self, p, cred, region):
        sso.check_mfa(p, cred)
        return plain(self, p, cred, region)
    fake_cls.op_sts_AssumeRole = assume_role
    return sso
