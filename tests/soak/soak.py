#!/usr/bin/python3
"""soak.py - a notebook tab left open for hours, compressed into minutes.

  soak.py [--minutes M] [--fault-every S] [--outage S] [--pace MS]
          [--report FILE]

Starts its own sandbox on 127.0.0.1 (sshd, Jupyter, the fake SSM agent and
the fake AWS through tests/rig), puts a fault proxy in front of every
connection jconnect makes (the AWS API, the Session Manager WebSocket that
StartSession's StreamUrl names, and sshd), and starts two background
tunnels with `jconnect url`: one over SSM, one over SSH.  Then, until the
time is up:

- a client per tunnel behaves like a Jupyter tab: a REST call every 2 s
  (/api/status, /api/contents, alternating), a kernel WebSocket round trip
  (execute_request -> execute_reply) every 10 s, a 4 MiB download every
  45 s;
- a scheduler injects one fault every --fault-every seconds, in turn:
  Session Manager ends the session (idle timeout), the service closes the
  WebSocket, the path goes silent for --outage seconds and comes back as
  another network (every proxy stalls, then the connections made before
  stay silent for good: no FIN, no RST), the laptop sleeps (SIGSTOP for --outage
  seconds, then SIGCONT), Jupyter restarts (new pid, new token).  The AWS
  credentials come from a credential_process whose keys expire every
  4 minutes, so they lapse during the run too.

jconnect runs with its defaults, which notice a dead path within
seconds.  At the end it prints requests tried / failed, failures outside
the faults' windows, the longest outage after each fault cleared, and each
tunnel's resident memory at start and end, and exits 0 only when the
targets hold: no failure outside a fault's window, every outage <= 10 s
after the fault cleared, memory flat (+-1 MB between the first and last
reading after warm-up, each taken with the tab at rest for IDLE_S).
"""

import argparse
import asyncio
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RIG = os.path.join(ROOT, "tests", "rig")
PY = "/usr/bin/python3"
JC = os.path.join(ROOT, "jconnect")
INSTANCE = "i-0123456789abcdef0"
CRED_PERIOD = 240               # credential_process keys live this long
MAX_OUTAGE = 10.0               # target: usable within 10 s of a fault clearing
# The defaults already notice a dead path within seconds (ssh.keepalive 5,
# ssm.dead_s 8, a ping at once when data waits); only the check for a
# restarted Jupyter is made a little more eager.
JC_OPTS = ["-o", "jupyter.check_s=2"]
IDLE_S = 65                     # jconnect's ssm.session_idle_s, and some


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, secs):
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Soak:
    def __init__(self, a):
        self.a = a
        self.t = tempfile.mkdtemp(prefix="jcsoak.")
        self.rig = os.path.join(self.t, "rig")
        self.procs = []
        self.env = dict(os.environ)
        home = os.path.join(self.t, "home")
        os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
        self.env.update({
            "HOME": home, "XDG_STATE_HOME": os.path.join(home, ".state"),
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "BROWSER": "true"})
        for k in ("SSH_AUTH_SOCK", "AWS_PROFILE", "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            self.env.pop(k, None)
        self.lock = threading.Lock()
        self.log = []           # (time, tunnel, kind, ok, detail)
        self.faults = []        # dicts: kind, start, clear
        self.stop = threading.Event()
        self.quiet = threading.Event()  # the tab pauses (memory readings)
        self.urls = {}
        self.mem = {}

    # -- the sandbox -----------------------------------------------------
    def spawn(self, name, argv, env=None):
        f = open(os.path.join(self.t, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, env=env or self.env,
                             start_new_session=True)
        f.close()
        self.procs.append(p)
        return p

    def rig_start(self, *what):
        argv = [PY, os.path.join(RIG, "rig.py"), "start", "--dir", self.rig]
        argv += list(what)
        subprocess.run(argv, check=True, env=self.env,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(self.rig, "env.json")) as f:
            self.renv = json.load(f)

    def proxy(self, name, to):
        port = free_port()
        ctl = os.path.join(self.t, name + ".ctl")
        with open(ctl, "w") as f:
            f.write("pass\n")
        self.spawn("proxy-" + name, [PY, os.path.join(RIG, "faultproxy.py"),
                                     "--listen", str(port), "--to", str(to),
                                     "--control", ctl])
        if not wait_port(port, 10):
            raise SystemExit("soak: the %s fault proxy did not start" % name)
        return port, ctl

    def credentials(self):
        """Keys that expire every CRED_PERIOD s, a credential_process that
        hands out the current one, and the scenario entries for all."""
        creds, now = [], time.time()
        n = int(self.a.minutes * 60 / CRED_PERIOD) + 3
        for i in range(n):
            exp = now + (i + 1) * CRED_PERIOD
            creds.append({
                "access_key": "ASIASOAK%012d" % i,
                "secret_key": "soaksecret%030d" % i,
                "token": "soak-token-%d" % i, "expires": exp,
                "expiration": datetime.datetime.fromtimestamp(
                    exp, datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ")})
        path = os.path.join(self.t, "creds.json")
        with open(path, "w") as f:
            json.dump({"start": now, "period": CRED_PERIOD, "creds": creds},
                      f)
        script = os.path.join(self.t, "credproc.py")
        with open(script, "w") as f:
            f.write(
                "import json, sys, time\n"
                "d = json.load(open(%r))\n"
                "i = int((time.time() - d['start']) // d['period'])\n"
                "c = d['creds'][i]\n"
                "json.dump({'Version': 1, 'AccessKeyId': c['access_key'],\n"
                "  'SecretAccessKey': c['secret_key'],\n"
                "  'SessionToken': c['token'], 'Expiration': c['expiration']},\n"
                "  sys.stdout)\n" % path)
        cfg = os.path.join(self.t, "aws-config")
        with open(cfg, "w") as f:
            f.write("[profile soak]\nregion = us-east-1\n"
                    "credential_process = %s %s\n" % (PY, script))
        return creds, cfg

    def setup(self):
        self.rig_start("sshd", "jupyter", "agent",
                       "--agent-pace", str(self.a.pace))
        r = self.renv
        big = os.path.join(r["RHOME"], "notebooks", "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(4 << 20))
        self.p_agent, self.c_agent = self.proxy("agent", r["AGENT_PORT"])
        self.p_ssh, self.c_ssh = self.proxy("ssh", r["SSHD_PORT"])
        creds, cfg = self.credentials()
        sc = {"region": "us-east-1", "credentials": creds,
              "stacks": {"demo-stack": {"resources": [{
                  "LogicalResourceId": "Notebook",
                  "PhysicalResourceId": INSTANCE,
                  "ResourceType": "AWS::EC2::Instance"}]}},
              "instances": {INSTANCE: {
                  "state": "running", "tags": {"Name": "demo-notebook"},
                  "public_dns": "localhost", "public_ip": "127.0.0.1",
                  "private_ip": "127.0.0.1", "ssm_online": True,
                  "agent_version": "3.3.40.0"}},
              # The WebSocket goes through the fault proxy too.
              "ssm": {"stream_url": "ws://127.0.0.1:%d/v1/data-channel/" %
                      self.p_agent, "state_dir": r["AGENT_STATE"]}}
        scf = os.path.join(self.t, "scenario.json")
        with open(scf, "w") as f:
            json.dump(sc, f)
        aws_port = free_port()
        self.spawn("aws", [PY, os.path.join(RIG, "fake_aws.py"),
                           "--scenario", scf, "--port", str(aws_port),
                           "--state", os.path.join(self.t, "aws")])
        if not wait_port(aws_port, 15):
            raise SystemExit("soak: the fake AWS did not start")
        self.p_aws, self.c_aws = self.proxy("aws", aws_port)
        self.env.update({
            "AWS_ENDPOINT_URL": "http://127.0.0.1:%d" % self.p_aws,
            "AWS_CONFIG_FILE": cfg, "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PROFILE": "soak", "AWS_EC2_METADATA_DISABLED": "true"})
        self.targets = {
            "ssm": ["--via", "ssm", "-l", r["SSH_USER"], "demo-stack"],
            "ssh": ["-i", r["SSH_KEY"], "-p", str(self.p_ssh),
                    "--known-hosts", r["KNOWN_HOSTS"],
                    "%s@127.0.0.1" % r["SSH_USER"]],
        }
        for name in self.targets:
            self.urls[name] = self.jc_url(name)
            if self.urls[name] is None:
                raise SystemExit("soak: jconnect url over %s failed (see %s)"
                                 % (name, self.t))

    def jc_url(self, name):
        p = subprocess.run([JC, "url"] + JC_OPTS + self.targets[name],
                           env=self.env, capture_output=True, text=True,
                           timeout=120)
        with open(os.path.join(self.t, "url-%s.log" % name), "a") as f:
            f.write(p.stderr)
        return p.stdout.strip() if p.returncode == 0 else None

    def tunnel_pids(self):
        p = subprocess.run([JC, "ls", "--json"], env=self.env,
                           capture_output=True, text=True)
        pids = {}
        for line in p.stdout.splitlines():     # one JSON object per tunnel
            try:
                e = json.loads(line)
                pids["ssm" if e.get("via") == "ssm" else "ssh"] = e["pid"]
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
        return pids

    def teardown(self):
        subprocess.run([JC, "stop", "--all"], env=self.env,
                       capture_output=True)
        subprocess.run([PY, os.path.join(RIG, "rig.py"), "stop", "--dir",
                        self.rig], env=self.env)
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    # -- the tab -----------------------------------------------------------
    def record(self, tunnel, kind, ok, detail="", at=None):
        """at: when the tunnel served (a response began), else now."""
        with self.lock:
            self.log.append((at or time.time(), tunnel, kind, ok, detail))

    def base(self, tunnel):
        b, _, q = self.urls[tunnel].partition("?")
        b = b.rstrip("/")
        for page in ("/tree", "/lab"):
            if b.endswith(page):
                b = b[:-len(page)]
        return b, q.split("token=", 1)[-1]

    def rest(self, tunnel, path, limit=10):
        """(when the response began, its body): a 4 MB download served
        at the agent's pace takes seconds, none of them an outage."""
        b, tok = self.base(tunnel)
        req = urllib.request.Request(b + path,
                                     headers={"Authorization": "token " + tok})
        with urllib.request.urlopen(req, timeout=limit) as r:
            return time.time(), r.read()

    async def kernel_roundtrip(self, tunnel):
        import websockets
        b, tok = self.base(tunnel)
        kid = self.kernels.get(tunnel)
        if kid is None:
            body = json.loads(await asyncio.get_event_loop().run_in_executor(
                None, lambda: self.post(tunnel, "/api/kernels")))
            kid = self.kernels[tunnel] = body["id"]
        ws_url = b.replace("http://", "ws://") + \
            "/api/kernels/%s/channels?token=%s" % (kid, tok)
        msg_id = uuid.uuid4().hex
        msg = {"header": {"msg_id": msg_id, "username": "soak",
                          "session": uuid.uuid4().hex,
                          "msg_type": "execute_request", "version": "5.3",
                          "date": ""},
               "parent_header": {}, "metadata": {}, "channel": "shell",
               "content": {"code": "1+1", "silent": False,
                           "store_history": False, "user_expressions": {},
                           "allow_stdin": False}}
        async with websockets.connect(ws_url, open_timeout=10,
                                      close_timeout=2) as ws:
            await ws.send(json.dumps(msg))
            end = time.time() + 10
            while time.time() < end:
                m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if (m.get("parent_header", {}).get("msg_id") == msg_id and
                        m.get("msg_type") == "execute_reply"):
                    return m["content"]["status"] == "ok"
        return False

    def post(self, tunnel, path):
        b, tok = self.base(tunnel)
        req = urllib.request.Request(b + path, data=b"{}", method="POST",
                                     headers={"Authorization": "token " + tok})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def tab(self, tunnel):
        n = 0
        while not self.stop.is_set():
            if self.quiet.is_set():
                self.stop.wait(1)
                continue
            n += 1
            kind = "download" if n % 22 == 0 else \
                "kernel" if n % 5 == 0 else "rest"
            at = None
            try:
                if kind == "download":
                    at, body = self.rest(tunnel, "/files/big.bin", 60)
                    ok = len(body) == 4 << 20
                elif kind == "kernel":
                    ok = asyncio.run(asyncio.wait_for(
                        self.kernel_roundtrip(tunnel), 15))
                else:
                    at, _ = self.rest(tunnel, "/api/status" if n % 2 else
                                      "/api/contents")
                    ok = True
                self.record(tunnel, kind, ok, at=at if ok else None)
            except Exception as e:      # any failure is a failed request
                self.record(tunnel, kind, False, "%s" % e)
                if "403" in str(e) or "Forbidden" in str(e):
                    # A restarted Jupyter has a new token: ask again, as a
                    # user would reload the page from `jconnect url`.
                    self.kernels.pop(tunnel, None)
                    u = self.jc_url(tunnel)
                    if u:
                        self.urls[tunnel] = u
                elif "404" in str(e):
                    self.kernels.pop(tunnel, None)
            self.stop.wait(2)

    # -- the faults ----------------------------------------------------------
    def agent_fault(self, key):
        path = self.renv["AGENT_FAULTS"]
        try:
            with open(path) as f:
                cur = json.load(f)
        except (OSError, ValueError):
            cur = {}
        cur[key] = cur.get(key, 0) + 1
        with open(path + ".tmp", "w") as f:
            json.dump(cur, f)
        os.rename(path + ".tmp", path)

    def proxies(self, word):
        for c in (self.c_agent, self.c_ssh, self.c_aws):
            with open(c + ".tmp", "w") as f:
                f.write(word + "\n")
            os.rename(c + ".tmp", c)

    def fault(self, kind):
        f = {"kind": kind, "start": time.time()}
        if kind == "idle-kill":
            self.agent_fault("end_session")
        elif kind == "ws-close":
            self.agent_fault("close_ws")
        elif kind == "silent-path":
            # The network goes away, then comes back as another network:
            # every connection made before is silent for good.
            self.proxies("stall")
            self.stop.wait(self.a.outage)
            self.proxies("strand")
        elif kind == "sleep":
            pids = self.tunnel_pids().values()
            for p in pids:
                os.kill(p, signal.SIGSTOP)
            self.stop.wait(self.a.outage)
            for p in pids:
                os.kill(p, signal.SIGCONT)
        elif kind == "jupyter-restart":
            subprocess.run([PY, os.path.join(RIG, "rig.py"), "stop", "--dir",
                            self.rig, "jupyter"], env=self.env)
            self.rig_start("jupyter", "--jupyter-port",
                           str(self.renv["JUPYTER_PORT"]))
        f["clear"] = time.time()
        with self.lock:
            self.faults.append(f)

    def scheduler(self):
        kinds = ["idle-kill", "ws-close", "silent-path", "sleep",
                 "jupyter-restart"]
        i = 0
        # The last minute has no new fault: each one gets time to heal.
        last = time.time() + self.a.minutes * 60 - 60
        while not self.stop.wait(self.a.fault_every) and time.time() < last:
            self.fault(kinds[i % len(kinds)])
            i += 1

    def memory(self, when):
        for name, pid in self.tunnel_pids().items():
            self.mem.setdefault(name, {})[when] = rss_kb(pid)

    # -- the report ----------------------------------------------------------
    def analyse(self):
        """A failure belongs to a fault when it falls between the fault's
        start and the first success on that tunnel after it cleared."""
        out, windows = [], []
        starts = sorted(f["start"] for f in self.faults) + [float("inf")]
        for f in self.faults:
            nxt = min(t for t in starts if t > f["start"])
            for tunnel in self.targets:
                # Recovered before the next fault began, or not at all.
                after = [t for t, tn, _, ok, _ in self.log
                         if tn == tunnel and ok and f["clear"] <= t < nxt]
                first_ok = min(after) if after else None
                outage = (first_ok - f["clear"]) if first_ok else None
                # Requests already in flight when the fault cleared count.
                windows.append((tunnel, f["start"] - 0.5,
                                first_ok or float("inf")))
                out.append((f["kind"], tunnel, outage))
        stray = [e for e in self.log if not e[3] and not any(
            e[1] == w[0] and w[1] <= e[0] <= w[2] for w in windows)]
        return out, stray

    def report(self):
        outages, stray = self.analyse()
        tried = len(self.log)
        failed = sum(1 for e in self.log if not e[3])
        lines = ["soak: %.0f min, %d faults, %d requests tried, %d failed, "
                 "%d failed outside a fault's window" %
                 (self.a.minutes, len(self.faults), tried, failed,
                  len(stray))]
        worst = {}
        for kind, tunnel, o in outages:
            k = (kind, tunnel)
            v = float("inf") if o is None else o
            worst[k] = max(worst.get(k, 0.0), v)
        for (kind, tunnel), v in sorted(worst.items()):
            lines.append("  longest outage after %-16s %s: %s" % (
                kind, tunnel, "not before the next fault"
                if v == float("inf")
                else "%.1f s" % v))
        for name, m in sorted(self.mem.items()):
            lines.append("  %s tunnel RSS start / end: %s / %s kB" % (
                name, m.get("start"), m.get("end")))
        for e in stray[:20]:
            lines.append("  stray failure %s %s %s: %s" % (
                time.strftime("%H:%M:%S", time.localtime(e[0])), e[1], e[2],
                e[4][:120]))
        ok = not stray and all(v <= MAX_OUTAGE for v in worst.values())
        for name, m in self.mem.items():
            if m.get("start") is None or m.get("end") is None or \
                    abs(m["end"] - m["start"]) > 1024:
                ok = False
        lines.append("soak: %s (targets: no stray failure, outage <= %.0f s,"
                     " memory +-1 MB)" % ("PASS" if ok else "FAIL",
                                          MAX_OUTAGE))
        with open(os.path.join(self.t, "requests.log"), "w") as f:
            for e in sorted(self.log + [(x["start"], "-", "fault " + x["kind"],
                                         True, "clears %.1f" % x["clear"])
                                        for x in self.faults]):
                f.write("%.1f %s %s %s %s\n" % (e[0], e[1], e[2],
                                                "ok" if e[3] else "FAIL",
                                                e[4][:200]))
        text = "\n".join(lines)
        print(text)
        if self.a.report:
            with open(self.a.report, "w") as f:
                f.write(text + "\n")
        return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--fault-every", type=float, default=40,
                    help="seconds between faults (default 40)")
    ap.add_argument("--outage", type=float, default=15,
                    help="seconds a silent path or a sleep lasts")
    ap.add_argument("--pace", type=float, default=1,
                    help="the fake agent's pacing in ms (1 = like AWS)")
    ap.add_argument("--report", help="also write the summary here")
    a = ap.parse_args()
    s = Soak(a)
    s.kernels = {}
    ok = False
    try:
        s.setup()
        tabs = [threading.Thread(target=s.tab, args=(n,), daemon=True)
                for n in s.targets]
        for t in tabs:
            t.start()
        time.sleep(20)          # warm-up: first kernel, caches
        # Memory is read with the tab at rest both times, once extra port
        # sessions idled out (ssm.session_idle_s, 60 s): a busy moment's
        # working set is not growth.
        s.quiet.set()
        time.sleep(IDLE_S)
        s.memory("start")
        s.quiet.clear()
        sched = threading.Thread(target=s.scheduler, daemon=True)
        sched.start()
        s.stop.wait(a.minutes * 60)
        s.stop.set()
        sched.join(a.outage + 30)
        for t in tabs:
            t.join(70)
        time.sleep(IDLE_S)
        s.memory("end")
        ok = s.report()
    finally:
        s.teardown()
        print("soak: logs in %s" % s.t, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
