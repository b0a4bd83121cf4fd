#!/usr/bin/python3
"""make bench: jconnect against OpenSSH on this machine, side by side.

Two sets of rows, each its own table in tests/bench/RESULTS.md:

base  The machinery, with the rig's knobs off (a fast, near agent):
      throughput (1 GiB each way), 100 concurrent 1 MB downloads (p50/p99),
      time to URL, and jconnect's memory, for the SSH forward (vs `ssh -N
      -L`, same sshd, same cipher) and the SSM port session (vs the SSH
      forward; CPU seconds per GB of the jconnect process; also over wss://,
      TLS as MGS serves it).  Medians of BENCH_RUNS runs (5).
lab   What a user sees, with the real world's knobs on: AWS's agent pacing
      (BENCH_PACE_MS, 1) and AWS BENCH_RTT_MS away (100), against a Debian
      13 remote with JupyterLab 4 (tests/rig/trixie_root.sh builds it on
      first use, several minutes).  Cold and warm JupyterLab loads in
      headless Chromium through jconnect's SSH path, `jconnect --via ssm`
      and AWS's session-manager-plugin driven by the AWS CLI
      (tests/bench/build_smp.py builds it, BENCH_SMP_SRC names its source);
      time to URL far vs near with the round trips counted; one paced
      stream.  Medians of BENCH_LAB_RUNS runs (3).

BENCH_ONLY=base or BENCH_ONLY=lab runs one set (the other table in
RESULTS.md stays); BENCH_SSM_ARGS adds arguments to every `jconnect --via
ssm` (e.g. "-o ssm.sessions=4") so variants can be compared.
"""

import json
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JC = os.path.join(ROOT, "jconnect")
BLAST = os.path.join(ROOT, "build", "tests", "tools", "blast")
PY = "/usr/bin/python3"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
GIB = 1 << 30
CIPHER = os.environ.get("BENCH_CIPHER", "aes128-gcm@openssh.com")
ONLY = os.environ.get("BENCH_ONLY", "")
SSM_ARGS = shlex.split(os.environ.get("BENCH_SSM_ARGS", ""))
LAB_RUNS = int(os.environ.get("BENCH_LAB_RUNS", "3"))
RTT_MS = float(os.environ.get("BENCH_RTT_MS", "100"))
PACE_MS = float(os.environ.get("BENCH_PACE_MS", "1"))


def sh(*a, **kw):
    return subprocess.run(a, check=True, capture_output=True, text=True, **kw)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    import socket
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Rig:
    def __init__(self, comps):
        self.dir = tempfile.mkdtemp(prefix="jc-bench.")
        sh(PY, os.path.join(ROOT, "tests/rig/rig.py"), "start", "--dir",
           self.dir, *comps)
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                m = re.match(r"^(\w+)='(.*)'$", line.strip())
                if m:
                    self.env[m.group(1)] = m.group(2)
        self.procs = []
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home, exist_ok=True)

    def jc_env(self):
        e = dict(os.environ)
        e.update(self.env)
        e["HOME"] = self.home
        e["XDG_STATE_HOME"] = os.path.join(self.home, "state")
        if "AGENT_CA" in self.env:      # the wss:// agent's certificate
            e["AWS_CA_BUNDLE"] = self.env["AGENT_CA"]
        return e

    def start(self, argv, env=None):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env or self.jc_env(), text=True)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        sh(PY, os.path.join(ROOT, "tests/rig/rig.py"), "stop", "--dir",
           self.dir)
        subprocess.run(["rm", "-rf", self.dir])


def blast(*args):
    out = sh(BLAST, *[str(a) for a in args]).stdout.split()
    return [float(x) for x in out]


def jc_forward(rig, via, lport, rport):
    e = rig.env
    argv = [JC, "--no-browser", "-q", "--local-port", str(lport),
            "--remote-port", str(rport)]
    if via == "ssh":
        argv += ["--via", "ssh", "-o", "ssh.ciphers=" + CIPHER, "-i",
                 e["SSH_KEY"], "-p", e["SSHD_PORT"], "--known-hosts",
                 e["KNOWN_HOSTS"], "%s@127.0.0.1" % e["SSH_USER"]]
    else:
        argv += ["--via", "ssm", "-o", "ssm.chunk_size=65536",
                 "-l", e["SSH_USER"]] + SSM_ARGS + ["demo-stack"]
    p = rig.start(argv)
    if not wait_port(lport):
        raise SystemExit("bench: jconnect %s did not listen: %s" %
                         (via, p.stderr.read() if p.poll() is not None
                          else "(still running)"))
    return p


def ssh_forward(rig, lport, rport):
    e = rig.env
    p = rig.start(["ssh", "-N", "-c", CIPHER, "-o", "BatchMode=yes",
                   "-o", "UserKnownHostsFile=" + e["KNOWN_HOSTS"],
                   "-o", "StrictHostKeyChecking=accept-new",
                   "-o", "ExitOnForwardFailure=yes",
                   "-L", "%d:127.0.0.1:%d" % (lport, rport),
                   "-i", e["SSH_KEY"], "-p", e["SSHD_PORT"],
                   "%s@127.0.0.1" % e["SSH_USER"]])
    if not wait_port(lport):
        raise SystemExit("bench: ssh -L did not listen")
    return p


def throughput(port, pid=None):
    res = {"down": [], "up": [], "cpu_down": [], "cpu_up": []}
    for _ in range(RUNS):
        for d in ("down", "up"):
            c0 = cpu_seconds(pid) if pid else 0
            _, secs, mbs = blast(d, port, GIB)
            if pid:
                res["cpu_" + d].append(cpu_seconds(pid) - c0)
            res[d].append(mbs)
    return {k: statistics.median(v) if v else None for k, v in res.items()}


def many(port):
    tot, p50, p99 = [], [], []
    for _ in range(RUNS):
        t, a, b, bad = blast("many", port, 100, 1 << 20)
        if bad:
            raise SystemExit("bench: %d of 100 downloads failed" % bad)
        tot.append(t)
        p50.append(a)
        p99.append(b)
    return (statistics.median(tot), statistics.median(p50),
            statistics.median(p99))


def time_to_url(rig, via):
    e = rig.env
    times = []
    for _ in range(RUNS):
        argv = [JC, "url", "-q"]
        if via == "ssh":
            argv += ["--via", "ssh", "-i", e["SSH_KEY"], "-p", e["SSHD_PORT"],
                     "--known-hosts", e["KNOWN_HOSTS"],
                     "%s@127.0.0.1" % e["SSH_USER"]]
            target = "%s@127.0.0.1" % e["SSH_USER"]
        else:
            argv += ["--via", "ssm", "-l", e["SSH_USER"]] + SSM_ARGS + \
                ["demo-stack"]
            target = "demo-stack"
        t = time.time()
        r = subprocess.run(argv, env=rig.jc_env(), capture_output=True,
                           text=True)
        times.append(time.time() - t)
        if r.returncode != 0 or not r.stdout.startswith("http"):
            raise SystemExit("bench: jconnect url failed: " + r.stderr)
        subprocess.run([JC, "stop", "-q", target], env=rig.jc_env())
    return statistics.median(times)


def time_manual(rig):
    """ssh -N -f -L plus `jupyter server list` by hand."""
    e = rig.env
    times = []
    for _ in range(RUNS):
        lport = free_port()
        t = time.time()
        subprocess.run(["ssh", "-N", "-f", "-o", "BatchMode=yes",
                        "-o", "UserKnownHostsFile=" + e["KNOWN_HOSTS"],
                        "-o", "StrictHostKeyChecking=accept-new",
                        "-o", "ExitOnForwardFailure=yes",
                        "-L", "%d:127.0.0.1:%s" % (lport, e["JUPYTER_PORT"]),
                        "-i", e["SSH_KEY"], "-p", e["SSHD_PORT"],
                        "%s@127.0.0.1" % e["SSH_USER"]], check=True)
        subprocess.run(["ssh", "-o", "BatchMode=yes",
                        "-o", "UserKnownHostsFile=" + e["KNOWN_HOSTS"],
                        "-i", e["SSH_KEY"], "-p", e["SSHD_PORT"],
                        "%s@127.0.0.1" % e["SSH_USER"],
                        "jupyter notebook list --json"], check=True,
                       capture_output=True)
        times.append(time.time() - t)
        subprocess.run(["pkill", "-f", "--", "-L %d:" % lport])
    return statistics.median(times)


def memory(rig, via, rport):
    lport = free_port()
    p = jc_forward(rig, via, lport, rport)
    time.sleep(0.3)
    idle = rss_kb(p.pid)
    own = [rss_kb(p.pid, "RssAnon")]
    h = subprocess.Popen([BLAST, "hold", str(lport), "100"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    h.stdout.readline()
    time.sleep(1.0)
    with100 = rss_kb(p.pid)
    own.append(rss_kb(p.pid, "RssAnon"))
    h.stdin.close()
    h.wait()
    # Both ways: an upload holds unacked data, a download does not.
    blast("down", lport, GIB)
    blast("up", lport, GIB)
    after = rss_kb(p.pid)
    own.append(rss_kb(p.pid, "RssAnon"))
    peak = rss_kb(p.pid, "VmHWM")
    p.send_signal(signal.SIGINT)
    p.wait(10)
    return idle, with100, after, peak, own


def sha256_cpu():
    """CPU seconds per GB for SHA-256 alone, over 64 KiB messages.

    The protocol digests every message (both directions), so no SSM client
    can spend less on this machine; it also shows how fast the machine is
    during this run (shared cores vary a lot).
    """
    import hashlib
    buf = b"j" * 65536
    n = GIB // len(buf)
    t0 = time.process_time()
    for _ in range(n):
        hashlib.sha256(buf).digest()
    return (time.process_time() - t0) * 1e9 / (n * len(buf))


def relay_cpu(srv_port):
    """CPU seconds per GB of `blast relay` moving 1 GiB each way.

    A relay that only copies bytes from one loopback socket to another,
    256 KiB at a time: what the kernel's TCP work alone costs a process
    in jconnect's place.  With SHA-256 it is the floor of an SSM client.
    """
    port = free_port()
    p = subprocess.Popen([BLAST, "relay", str(port), str(srv_port)],
                         stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        t = throughput(port, p.pid)
    finally:
        p.terminate()
        p.wait(5)
    return (t["cpu_down"] * 1e9 / GIB, t["cpu_up"] * 1e9 / GIB)


def base_rows():
    have_ssm = os.path.exists(os.path.join(ROOT, "plugins/ssm/jc-ssm.so")) \
        and os.path.exists(os.path.join(ROOT, "tests/rig/fake_agent.py"))
    comps = ["sshd", "jupyter"] + (["agent", "aws"] if have_ssm else [])
    rig = Rig(comps)
    srv_port = free_port()
    srv = subprocess.Popen([BLAST, "serve", str(srv_port)],
                           stdout=subprocess.PIPE)
    srv.stdout.readline()
    rows = []
    try:
        lj, lo = free_port(), free_port()
        pj = jc_forward(rig, "ssh", lj, srv_port)
        po = ssh_forward(rig, lo, srv_port)
        tj = throughput(lj, pj.pid)
        to = throughput(lo, po.pid)
        mj = many(lj)
        mo = many(lo)
        pj.send_signal(signal.SIGINT)
        po.terminate()
        pj.wait(10)
        rows.append(("SSH forward, 1 GiB down (MB/s)", tj["down"], to["down"],
                     tj["down"] / to["down"], ">= 0.9"))
        rows.append(("SSH forward, 1 GiB up (MB/s)", tj["up"], to["up"],
                     tj["up"] / to["up"], ">= 0.9"))
        rows.append(("SSH forward CPU s/GB down / up (ssh client's "
                     "for reference)",
                     "%.2f / %.2f" % (tj["cpu_down"] * 1e9 / GIB,
                                      tj["cpu_up"] * 1e9 / GIB),
                     "%.2f / %.2f" % (to["cpu_down"] * 1e9 / GIB,
                                      to["cpu_up"] * 1e9 / GIB), "", ""))
        rows.append(("100 x 1 MB concurrent, total (s)", mj[0], mo[0],
                     mj[0] / mo[0], ""))
        rows.append(("100 x 1 MB concurrent, p50 (s)", mj[1], mo[1],
                     mj[1] / mo[1], ""))
        rows.append(("100 x 1 MB concurrent, p99 (s)", mj[2], mo[2],
                     mj[2] / mo[2], "<= 1.2"))
        ts = time_to_url(rig, "ssh")
        tm = time_manual(rig)
        rows.append(("time to URL, SSH vs ssh -f -L + list (s)", ts, tm,
                     ts / tm, "<= 1.0"))
        mem = memory(rig, "ssh", srv_port)
        rows.append(("RSS idle / 100 conns / after 1 GiB each way (MB)",
                     "%.1f / %.1f / %.1f" % tuple(x / 1024 for x in mem[:3]),
                     "", "peak %.1f" % (mem[3] / 1024), "< 10"))
        rows.append(("  of which anonymous (MB)",
                     "%.1f / %.1f / %.1f" % tuple(x / 1024 for x in mem[4]),
                     "", "", ""))
        if have_ssm:
            # The fake agent sends 1 KiB messages like the real agent by
            # default; measure the client with 64 KiB ones.
            with open(rig.env["AGENT_FAULTS"], "w") as f:
                f.write('{"chunk_size": 65536}\n')
            ls = free_port()
            ps = jc_forward(rig, "ssm", ls, srv_port)
            tss = throughput(ls, ps.pid)
            ms = many(ls)
            # 50 endless transfers at once: each one's bytes in the same
            # 5 s window, as a fraction of the fair share.
            fd = blast("fair", ls, 50, 5, "down")
            fu = blast("fair", ls, 50, 5, "up")
            ps.send_signal(signal.SIGINT)
            ps.wait(10)
            rows.append(("SSM port session, 1 GiB down (MB/s)", tss["down"],
                         tj["down"], tss["down"] / tj["down"], "vs SSH fwd"))
            rows.append(("SSM port session, 1 GiB up (MB/s)", tss["up"],
                         tj["up"], tss["up"] / tj["up"], "vs SSH fwd"))
            rows.append(("SSM client CPU s/GB down / up",
                         "%.2f / %.2f" % (tss["cpu_down"] * 1e9 / GIB,
                                          tss["cpu_up"] * 1e9 / GIB),
                         "", "", "< 1"))
            sha = sha256_cpu()
            rel = relay_cpu(srv_port)
            rows.append(("  SHA-256 alone, CPU s/GB (the protocol needs it)",
                         "%.2f" % sha, "", "", ""))
            rows.append(("  plain TCP relay, CPU s/GB down / up",
                         "%.2f / %.2f" % rel, "", "", ""))
            rows.append(("  floor: SHA-256 + relay, CPU s/GB down / up",
                         "%.2f / %.2f" % (sha + rel[0], sha + rel[1]), "",
                         "", ""))
            rows.append(("SSM 100 x 1 MB concurrent, p99 (s)", ms[2], mj[2],
                         ms[2] / mj[2], "vs SSH fwd"))
            rows.append(("SSM 50 streams, slowest / fastest share, down",
                         "%.2f / %.2f" % (fd[1], fd[2]), "", "",
                         "slowest >= 0.5"))
            rows.append(("SSM 50 streams, slowest / fastest share, up",
                         "%.2f / %.2f" % (fu[1], fu[2]), "", "",
                         "slowest >= 0.5"))
            # The same session over wss://, as MGS serves it: TLS on top.
            rig_tls = Rig(["agent", "aws", "--agent-tls"])
            try:
                with open(rig_tls.env["AGENT_FAULTS"], "w") as f:
                    f.write('{"chunk_size": 65536}\n')
                lt = free_port()
                pt = jc_forward(rig_tls, "ssm", lt, srv_port)
                tt = throughput(lt, pt.pid)
                pt.send_signal(signal.SIGINT)
                pt.wait(10)
            finally:
                rig_tls.stop()
            rows.append(("SSM over wss:// (TLS), 1 GiB down / up (MB/s)",
                         "%.1f / %.1f" % (tt["down"], tt["up"]), "", "", ""))
            rows.append(("SSM over wss:// client CPU s/GB down / up",
                         "%.2f / %.2f" % (tt["cpu_down"] * 1e9 / GIB,
                                          tt["cpu_up"] * 1e9 / GIB),
                         "", "", ""))
            tsu = time_to_url(rig, "ssm")
            rows.append(("time to URL, SSM vs manual SSH (s)", tsu, tm,
                         tsu / tm, "<= 1.0"))
            mem = memory(rig, "ssm", srv_port)
            rows.append(("SSM RSS idle / 100 conns / after 1 GiB each way "
                         "(MB)",
                         "%.1f / %.1f / %.1f" % tuple(x / 1024
                                                      for x in mem[:3]),
                         "", "peak %.1f" % (mem[3] / 1024), "< 10"))
            rows.append(("  of which anonymous (MB)",
                         "%.1f / %.1f / %.1f" % tuple(x / 1024
                                                      for x in mem[4]),
                         "", "", ""))
    finally:
        srv.terminate()
        rig.stop()
    return rows


# ---- the realistic world: JupyterLab 4, a paced agent, a distant AWS -------

LABLOAD = os.path.join(ROOT, "tests/bench/labload.py")


def lab_load(url, profile, what):
    """One JupyterLab load in headless Chromium (labload.py)."""
    r = subprocess.run([PY, LABLOAD, "--timeout", "90", url, profile],
                       capture_output=True, text=True)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("bench: labload failed: " + r.stderr.strip())
    print("bench: %s: %s" % (what, json.dumps(res)), file=sys.stderr)
    if not res.get("shell"):
        raise SystemExit("bench: %s: JupyterLab did not render at %s "
                         "within 90 s" % (what, url))
    return res


def read_url(p, timeout=60):
    """jconnect prints the URL as its first line on stdout."""
    import select
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            line = p.stdout.readline()
            if line.startswith("http"):
                return line.strip()
            if not line:
                break
        if p.poll() is not None:
            break
    raise SystemExit("bench: no URL from jconnect: " +
                     (p.stderr.read() if p.poll() is not None else
                      "(still running)"))


def jc_lab(rig, via, lport, rport=None, sshd_port=None):
    """jconnect as a user runs it: discovery, forward, the URL."""
    e = rig.env
    argv = [JC, "--no-browser", "-q", "--local-port", str(lport)]
    if rport:
        argv += ["--remote-port", str(rport)]
    if via == "ssh":
        argv += ["--via", "ssh", "-i", e["SSH_KEY"], "-p",
                 str(sshd_port or e["SSHD_PORT"]),
                 "--known-hosts", e["KNOWN_HOSTS"],
                 "%s@127.0.0.1" % e["SSH_USER"]]
    else:
        argv += ["--via", "ssm", "-l", e["SSH_USER"]] + SSM_ARGS + \
            ["demo-stack"]
    p = rig.start(argv)
    url = read_url(p)
    return p, url


def smp_path():
    """AWS's session-manager-plugin, built once; (path, None) or (None,
    why not)."""
    r = subprocess.run([PY, os.path.join(ROOT, "tests/bench/build_smp.py")],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return r.stdout.strip().splitlines()[-1], None
    return None, (r.stderr.strip().splitlines() or ["build failed"])[-1]


def aws_cli():
    for c in ("/usr/bin/aws", "/usr/local/bin/aws"):
        if os.path.exists(c):
            return c
    return None


def smp_forward(rig, smp, lport, rport):
    """`aws ssm start-session` with AWS's plugin, as users forward a port."""
    e = rig.env
    env = rig.jc_env()
    env["PATH"] = os.path.dirname(smp) + ":" + env.get("PATH", "/usr/bin")
    env["AWS_DEFAULT_REGION"] = e["AWS_REGION"]
    argv = [aws_cli(), "--endpoint-url", e["AWS_ENDPOINT_URL"], "ssm",
            "start-session", "--target", "i-0123456789abcdef0",
            "--document-name", "AWS-StartPortForwardingSession",
            "--parameters", "portNumber=%s,localPortNumber=%d" % (rport,
                                                                   lport)]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env, start_new_session=True)
    if not wait_port(lport, 60):
        stop_group(p)
        raise SystemExit("bench: session-manager-plugin did not listen: " +
                         p.stderr.read().decode(errors="replace"))
    return p


def stop_group(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except OSError:
        pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def loads(rig, url, tag):
    """LAB_RUNS cold loads (fresh profile), each followed by a warm one
    (the same profile, so the same origin); medians, and the last cold
    load's size."""
    cold, warm, last = [], [], None
    for i in range(LAB_RUNS):
        prof = os.path.join(rig.dir, "chrome-%s-%d" % (tag, i))
        last = lab_load(url, prof, "%s cold %d" % (tag, i + 1))
        cold.append(last["seconds"])
        w = lab_load(url, prof, "%s warm %d" % (tag, i + 1))
        warm.append(w["seconds"])
    last["warm_cached"] = w["cached"]
    last["warm_requests"] = w["requests"]
    return statistics.median(cold), statistics.median(warm), last


def roundtrips(dirs, t0, t1):
    """Round trips the fakes charged between t0 and t1."""
    n = 0
    for d in dirs:
        try:
            with open(os.path.join(d, "roundtrips.jsonl")) as f:
                for line in f:
                    r = json.loads(line)
                    if t0 <= r["t"] <= t1:
                        n += r["rtts"]
        except OSError:
            pass
    return n


def url_times(rig):
    """Median time to URL over SSM, and the round trips counted then."""
    times, counts = [], []
    for _ in range(LAB_RUNS + 2):
        argv = [JC, "url", "-q", "--via", "ssm", "-l",
                rig.env["SSH_USER"]] + SSM_ARGS + ["demo-stack"]
        t0 = time.time()
        r = subprocess.run(argv, env=rig.jc_env(), capture_output=True,
                           text=True)
        t1 = time.time()
        if r.returncode != 0 or not r.stdout.startswith("http"):
            raise SystemExit("bench: jconnect url failed: " + r.stderr)
        times.append(t1 - t0)
        counts.append(roundtrips([rig.env["AWS_STATE"],
                                  rig.env["AGENT_STATE"]], t0, t1))
        subprocess.run([JC, "stop", "-q", "demo-stack"], env=rig.jc_env())
    return statistics.median(times), statistics.median(counts)


def lab_rows():
    print("bench: lab rows: starting the Debian 13 remote (built on first "
          "use: several minutes, about 1 GB)", file=sys.stderr)
    far = Rig(["trixie", "agent", "aws", "--agent-pace", "%g" % PACE_MS,
               "--aws-rtt", "%g" % RTT_MS])
    near = None
    rows = []
    jport = far.env["JUPYTER_PORT"]
    smp, smp_why = smp_path()
    if smp and not aws_cli():
        smp, smp_why = None, "no AWS CLI (apt-get install awscli)"
    srv_port = free_port()
    srv = subprocess.Popen([BLAST, "serve", str(srv_port)],
                           stdout=subprocess.PIPE)
    srv.stdout.readline()
    try:
        res = {}
        # The SSH path at the same distance: a delaying proxy before sshd.
        dport = free_port()
        dp = subprocess.Popen([PY, os.path.join(ROOT, "tests/rig/"
                                                "delayproxy.py"),
                               "--listen", str(dport), "--to",
                               far.env["SSHD_PORT"], "--rtt-ms",
                               "%g" % RTT_MS])
        far.procs.append(dp)
        wait_port(dport)
        # The same remote with AWS near: what the distance costs, apart
        # from the pacing (both rigs pace like AWS's agent).
        near = Rig(["agent", "aws", "--remote-of", far.dir,
                    "--agent-pace", "%g" % PACE_MS])
        for via in ("ssh", "sshfar", "ssm", "ssmnear", "smp"):
            if via == "smp" and not smp:
                continue
            lport = free_port()
            if via == "ssmnear":
                p, url = jc_lab(near, "ssm", lport)
            elif via == "sshfar":
                p, url = jc_lab(far, "ssh", lport, sshd_port=dport)
            elif via == "smp":
                p = smp_forward(far, smp, lport, jport)
                url = "http://127.0.0.1:%d/lab?token=%s" % (
                    lport, far.env["JUPYTER_TOKEN"])
            else:
                p, url = jc_lab(far, via, lport)
            try:
                res[via] = loads(near if via == "ssmnear" else far, url,
                                 via)
            finally:
                if via == "smp":
                    stop_group(p)
                else:
                    p.send_signal(signal.SIGINT)
                    p.wait(15)
        sc, sw, sl = res["ssh"]
        fc, fw, _ = res["sshfar"]
        mc, mw, ml = res["ssm"]
        rows.append(("JupyterLab 4 cold load, jconnect SSH path (s)", sc,
                     "", "", "(%d requests, %.1f MB)" % (
                         sl["requests"], sl["bytes"] / 1e6)))
        rows.append(("JupyterLab 4 cold load, jconnect --via ssm vs SSH (s)",
                     mc, sc, mc / sc, "<= 1.3"))
        rows.append(("  the same vs SSH with sshd %g ms away (s)" % RTT_MS,
                     mc, fc, mc / fc, ""))
        nc, nw, _ = res["ssmnear"]
        rows.append(("  --via ssm with AWS near (pacing only) vs SSH (s)",
                     nc, sc, nc / sc, ""))
        if smp:
            pc, pw, _ = res["smp"]
            rows.append(("JupyterLab 4 cold load, jconnect --via ssm vs "
                         "AWS's plugin (s)", mc, pc, mc / pc, "< 1.0"))
        else:
            rows.append(("JupyterLab 4 cold load, AWS's plugin",
                         "not run: " + smp_why, "", "", ""))
        rows.append(("warm reload, jconnect SSH path (s)", sw, "", "",
                     "(%d of %d from cache)" % (sl["warm_cached"],
                                                sl["warm_requests"])))
        rows.append(("warm reload, jconnect --via ssm vs SSH (s)", mw, sw,
                     mw / sw, "<= 1.2"))
        rows.append(("  the same vs SSH with sshd %g ms away (s)" % RTT_MS,
                     mw, fw, mw / fw, ""))
        rows.append(("  --via ssm with AWS near (pacing only) vs SSH (s)",
                     nw, sw, nw / sw, ""))
        if smp:
            rows.append(("warm reload, jconnect --via ssm vs AWS's plugin "
                         "(s)", mw, pw, mw / pw, ""))
        # One paced stream: 5 MB down through one session.
        lport = free_port()
        p = jc_forward_paced(far, lport, srv_port)
        try:
            jmbs = 5.0 / blast("down", lport, 5000000)[1]
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(15)
        pmbs = ""
        if smp:
            lport = free_port()
            p = smp_forward(far, smp, lport, srv_port)
            try:
                pmbs = 5.0 / blast("down", lport, 5000000)[1]
            finally:
                stop_group(p)
        rows.append(("one paced stream, 5 MB down, jconnect vs AWS's "
                     "plugin (MB/s)", jmbs, pmbs,
                     jmbs / pmbs if pmbs else "", ">= 0.65"))
        # Time to URL: AWS far away vs on loopback, same remote.
        tf, nf = url_times(far)
        tn, nn = url_times(near)
        rows.append(("time to URL over SSM, AWS %g ms away vs near (s); "
                     "ratio: the difference in round trips" % RTT_MS, tf, tn,
                     "+%.1f RTT" % ((tf - tn) * 1000 / RTT_MS),
                     "<= +10 RTT"))
        rows.append(("  round trips the fakes charged on the way, far "
                     "(connections, API calls, upgrades, handshakes) / near",
                     "%d" % nf, "%d" % nn, "", ""))
    finally:
        srv.terminate()
        if near is not None:
            near.stop()
        far.stop()
    return rows


def jc_forward_paced(rig, lport, rport):
    """A plain `jconnect --via ssm` forward to rport (no discovery)."""
    p, _ = jc_lab(rig, "ssm", lport, rport)
    return p


def table(rows):
    fmt = lambda v: ("%.3f" % v) if isinstance(v, float) else str(v)
    lines = ["| measure | jconnect | reference | ratio | target |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s |" % " | ".join(fmt(x) for x in r))
    return "\n".join(lines)


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f
                       if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count(), platform.platform())


def section(name, text, old, heading=""):
    """Replace the table between this section's markers, or add it (under
    heading) before the Notes."""
    a, b = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
    block = a + "\n" + text.rstrip() + "\n" + b
    if a in old and b in old:
        return old[:old.index(a)] + block + old[old.index(b) + len(b):]
    if heading:
        block = heading + "\n\n" + block
    if "\n## Notes" in old:
        k = old.index("\n## Notes")
        return old[:k].rstrip() + "\n\n" + block + "\n" + old[k:]
    return old.rstrip() + "\n\n" + block + "\n"


def main():
    for f in (JC, BLAST):
        if not os.path.exists(f):
            raise SystemExit("bench: build first (make all %s)" % f)
    if ONLY not in ("", "base", "lab"):
        raise SystemExit("bench: BENCH_ONLY is base or lab")
    out = os.path.join(ROOT, "tests/bench/RESULTS.md")
    try:
        with open(out) as f:
            old = f.read()
    except OSError:
        old = "# Benchmark results\n"
    extra = (" `BENCH_SSM_ARGS=%s`." % shlex.join(SSM_ARGS)) if SSM_ARGS \
        else ""
    if ONLY in ("", "base"):
        t = table(base_rows())
        print(t)
        ver = sh("ssh", "-V").stderr.strip()
        old = section("base", (
            "Produced by `make bench` (tests/bench/bench.py), %s.\n\n"
            "Machine: %s; %s; cipher %s; median of %d runs; the rig's "
            "real-world knobs off.%s\nReference: OpenSSH `ssh -N -L` "
            "against the same sshd for SSH rows; jconnect's SSH forward for "
            "SSM rows; `ssh -N -f -L` plus `jupyter notebook list` over ssh "
            "for time to URL.\n\n" % (time.strftime("%Y-%m-%d"), machine(),
                                      ver, CIPHER, RUNS, extra)) + t, old)
    if ONLY in ("", "lab"):
        t = table(lab_rows())
        print(t)
        old = section("lab", (
            "Produced by `make bench` (or `BENCH_ONLY=lab make bench`), %s, "
            "%s.\n\nThe fake agent paces like AWS's (%g ms after each "
            "message of at most 1 KiB), AWS is %g ms away (fake AWS and "
            "fake agent), the remote is a Debian 13 root with JupyterLab "
            "4.0 on jupyter_server 2.15; the SSH rows reach its sshd on "
            "loopback, the \"sshd %g ms away\" rows through "
            "tests/rig/delayproxy.py.  Loads: headless Chromium, "
            "until the Lab shell is rendered and the network idle; cold "
            "is a fresh profile, warm the same profile again (same local "
            "port); median of %d.%s\n\n" % (
                time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                machine(), PACE_MS, RTT_MS, RTT_MS, LAB_RUNS, extra)) + t,
            old,
            "## The real world: JupyterLab 4, AWS's pacing, AWS far away")
    with open(out, "w") as f:
        f.write(old)


if __name__ == "__main__":
    main()
