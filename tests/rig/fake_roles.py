"""fake_roles.py - more of STS AssumeRole and the ECS credentials
endpoint, for fake_aws.py.

AssumeRole's DurationSeconds is checked as STS checks it, with its
answers: below 900 or above 43200 is a ValidationError naming the
constraint; above the role's maximum session duration another.

Scenario "roles": {"ARN": {"max_session": 3600,   (default 43200)
                           "ttl": 310}}            credentials of this role
live ttl seconds (their Expiration says so) whatever was asked: short
lives for tests of renewal.

Scenario "container": {"listen": "169.254.170.2:80", "token": "..."}:
also serve the container credentials endpoint (fake_sso's, any path) on
that address, as the ECS agent serves it to a task; the answers are
credentials this fake AWS accepts.
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def check_duration(p, spec, api_error):
    d = p.get("DurationSeconds")
    if d is None:
        return
    if not re.match(r"^-?\d+$", d):
        raise api_error("ValidationError", "1 validation error detected: "
                        "Value '%s' at 'durationSeconds' failed to satisfy "
                        "constraint: Member must be an integer" % d)
    n = int(d)
    if n < 900:
        raise api_error("ValidationError", "1 validation error detected: "
                        "Value '%d' at 'durationSeconds' failed to satisfy "
                        "constraint: Member must have value greater than "
                        "or equal to 900" % n)
    if n > 43200:
        raise api_error("ValidationError", "1 validation error detected: "
                        "Value '%d' at 'durationSeconds' failed to satisfy "
                        "constraint: Member must have value less than or "
                        "equal to 43200" % n)
    if n > int(spec.get("max_session", 43200)):
        raise api_error("ValidationError", "The requested DurationSeconds "
                        "exceeds the MaxSessionDuration set for this role.")


def shorten(fake, answer, ttl):
    """Make the credentials of an AssumeRole answer live ttl seconds."""
    m = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", answer)
    exp = time.time() + ttl
    fake.creds[m.group(1)]["expires"] = exp
    iso = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(exp))
    return re.sub(r"<Expiration>[^<]*</Expiration>",
                  "<Expiration>%s</Expiration>" % iso, answer)


def serve_container(fake, sso, listen):
    host, _, port = listen.rpartition(":")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            with fake.lock:
                status, data, ctype = sso.container(self)
                if status == 200:
                    fake.log({"service": "container", "action": "Served",
                              "path": self.path, "status": status,
                              "akid": json.loads(data)["AccessKeyId"]})
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer((host, int(port)), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def install(fake_cls, fake, sso, api_error):
    """Hook into fake_aws after fake_sso.install."""
    inner = fake_cls.op_sts_AssumeRole

    def assume_role(self, p, cred, region):
        spec = (self.sc.get("roles") or {}).get(p.get("RoleArn"), {})
        check_duration(p, spec, api_error)
        ans = inner(self, p, cred, region)
        if spec.get("ttl"):
            ans = shorten(self, ans, int(spec["ttl"]))
        return ans
    fake_cls.op_sts_AssumeRole = assume_role
    listen = fake.sc.get("container", {}).get("listen")
    if listen:
        serve_container(fake, sso, listen)
