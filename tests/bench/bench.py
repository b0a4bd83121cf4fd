#!/usr/bin/python3
"""make bench: jconnect against OpenSSH on this machine, side by side.

Throughput (1 GiB each way), 100 concurrent 1 MB downloads (p50/p99), time
to URL, and jconnect's memory, for the SSH forward (vs `ssh -N -L`, same
sshd, same cipher) and the SSM port session (vs the SSH forward; CPU seconds
per GB of the jconnect process; also over wss://, TLS as MGS serves it).
Medians of RUNS runs.  Prints a table and
writes tests/bench/RESULTS.md.
"""

import os
import platform
import re
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
                 "-l", e["SSH_USER"], "demo-stack"]
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
            argv += ["--via", "ssm", "-l", e["SSH_USER"], "demo-stack"]
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


def main():
    for f in (JC, BLAST):
        if not os.path.exists(f):
            raise SystemExit("bench: build first (make all %s)" % f)
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
    fmt = lambda v: ("%.3f" % v) if isinstance(v, float) else str(v)
    lines = ["| measure | jconnect | reference | ratio | target |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s |" % " | ".join(fmt(x) for x in r))
    table = "\n".join(lines)
    print(table)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f
                       if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    ver = sh("ssh", "-V").stderr.strip()
    # The hand-written "## Notes" section (what the figures mean) stays.
    out = os.path.join(ROOT, "tests/bench/RESULTS.md")
    notes = ""
    try:
        with open(out) as f:
            old = f.read()
        if "\n## Notes" in old:
            notes = old[old.index("\n## Notes"):]
    except OSError:
        pass
    with open(out, "w") as f:
        f.write("# Benchmark results\n\nProduced by `make bench` "
                "(tests/bench/bench.py), %s.\n\n" % time.strftime("%Y-%m-%d"))
        f.write("Machine: %s, %d cores, %s; %s; cipher %s; median of %d "
                "runs.\nReference: OpenSSH `ssh -N -L` against the same "
                "sshd for SSH rows; jconnect's SSH forward for SSM rows; "
                "`ssh -N -f -L` plus `jupyter notebook list` over ssh for "
                "time to URL.\n\n" % (cpu, os.cpu_count(), platform.platform(),
                                     ver, CIPHER, RUNS))
        f.write(table + "\n")
        f.write(notes)


if __name__ == "__main__":
    main()
