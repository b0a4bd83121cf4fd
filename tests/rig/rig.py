#!/usr/bin/python3
"""jconnect test rig: real sshd and Jupyter, the fake AWS and the fake SSM
agent, all on 127.0.0.1 with free ports, standing in for an EC2 instance.

  rig.py start --dir D [sshd] [jupyter] [aws] [agent] [trixie] [options]
  rig.py stop --dir D

`start` writes D/env (sh-sourceable: ports, keys, tokens, AWS settings) and
D/pids, waits until every component answers, and exits.  `stop` ends every
recorded process (TERM, then KILL) and waits for them.

The "remote" is this machine: sshd logs in the current user with HOME set to
D/rhome (sshd SetEnv), so nothing touches the real home directory.

`trixie` instead stands up a current remote box: a Debian 13 root
(trixie_root.sh builds it on first use, cached outside the repository) with
its own sshd and JupyterLab 4 on jupyter_server 2, run with chroot on free
loopback ports; the user is "rig" (uid 1500) inside.  It sets the same
variables as sshd + jupyter (SSHD_PORT, SSH_USER, SSH_KEY, JUPYTER_PORT,
JUPYTER_TOKEN, ...) plus TRIXIE_ROOT, and the agent then runs commands
inside the root and takes its sshd for port 22 (AWS-StartSSHSession).  Not with sshd or jupyter in the same directory.

--aws-rtt MS puts AWS far away: the fake AWS and the fake agent both charge
MS per round trip (new connections, API calls, WebSocket upgrades; data
frames MS/2 each way).  Both log what they charged to roundtrips.jsonl in
their state directories (AWS_STATE, AGENT_STATE).

--remote-of DIR starts agent/aws in front of the remote of the rig in DIR,
to compare a near and a far AWS against the same machine.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
TRIXIE = os.path.join(HERE, "trixie_root.sh")
TRIXIE_UID = 1500
TRIXIE_USER = "rig"
TRIXIE_HOME = "/home/rig"
# What --remote-of takes from another rig: how to reach its remote.
REMOTE_KEYS = ("SSH_USER", "RHOME", "TRIXIE_ROOT", "SSHD_PORT", "SSH_KEY",
               "KNOWN_HOSTS", "SSH_HOST_KEY_LINE", "JUPYTER_PORT",
               "JUPYTER_TOKEN", "JUPYTER_BASE_URL", "JUPYTER_RUNTIME_DIR")


def trixie_env(root=None):
    """trixie_root.sh's environment: once a root is known, the cache it is
    in, whatever HOME or XDG_CACHE_HOME are now."""
    e = dict(os.environ)
    if root:
        e["JCONNECT_RIG_CACHE"] = os.path.dirname(root)
    return e


def merge(into, add):
    """Objects of add merged into into key by key; other values replace."""
    for k, v in add.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            merge(into[k], v)
        else:
            into[k] = v

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout, proc=None, what="server"):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit("rig: %s exited early (status %d)" %
                             (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.03)
    raise SystemExit("rig: %s did not listen on %d within %ds" %
                     (what, port, timeout))


class Rig:
    def __init__(self, d):
        self.dir = os.path.abspath(d)
        self.rhome = os.path.join(self.dir, "rhome")
        self.env = {}
        self.pids = []

    def spawn(self, name, argv, env=None, log=None, cwd=None):
        logf = open(log or os.path.join(self.dir, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=subprocess.STDOUT, env=env, cwd=cwd,
                             start_new_session=True)
        logf.close()
        self.pids.append({"name": name, "pid": p.pid})
        self.save_pids()
        return p

    def save_pids(self):
        with open(os.path.join(self.dir, "pids"), "w") as f:
            json.dump(self.pids, f)

    def remote_env(self):
        """Environment of a process running 'on the remote' as the user."""
        env = {
            "HOME": self.rhome,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "USER": self.env["SSH_USER"],
            "LOGNAME": self.env["SSH_USER"],
            "SHELL": "/bin/sh",
        }
        return env

    # -- sshd ------------------------------------------------------------
    def start_sshd(self, a):
        d = os.path.join(self.dir, "sshd")
        os.makedirs(d, exist_ok=True)
        hk = os.path.join(d, "host_ed25519")
        uk = os.path.join(self.dir, "user_ed25519")
        for k in (hk, uk):
            if not os.path.exists(k):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                                "-C", "jconnect-rig", "-f", k], check=True)
        sshdir = os.path.join(self.rhome, ".ssh")
        os.makedirs(sshdir, mode=0o700, exist_ok=True)
        ak = os.path.join(sshdir, "authorized_keys")
        if not os.path.exists(ak):
            shutil.copy(uk + ".pub", ak)
            os.chmod(ak, 0o600)
        port = a.sshd_port or free_port()
        cfg = os.path.join(d, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "Port %d" % port,
                "ListenAddress 127.0.0.1",
                "HostKey %s" % hk,
                "PidFile %s" % os.path.join(d, "sshd.pid"),
                "AuthorizedKeysFile %s" % ak,
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding yes",
                "PermitRootLogin prohibit-password",
                "LogLevel VERBOSE",
                "MaxStartups 200",
                "MaxSessions 200",
                "Subsystem sftp internal-sftp",
                "SetEnv HOME=%s LANG=C.UTF-8" % self.rhome,
                "",
            ] + self.instance_connect(a, d)))
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        p = self.spawn("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", cfg])
        wait_port(port, 10, p, "sshd")
        with open(hk + ".pub") as f:
            hostkey = f.read().split()
        self.env.update({
            "SSHD_PORT": str(port),
            "SSHD_CONFIG": cfg,
            "SSHD_LOG": os.path.join(self.dir, "sshd.log"),
            "SSH_KEY": uk,
            "SSH_HOST_KEY": hk + ".pub",
            "SSH_HOST_KEY_LINE": "[127.0.0.1]:%d %s %s" % (port, hostkey[0],
                                                           hostkey[1]),
            "KNOWN_HOSTS": os.path.join(self.dir, "known_hosts"),
            "AUTHORIZED_KEYS": ak,
        })

    def instance_connect(self, a, d):
        """--instance-connect: sshd also accepts the keys pushed with
        SendSSHPublicKey to the fake AWS in the last 60 seconds, as EC2's
        eic_run_authorized_keys does."""
        if not a.instance_connect:
            return []
        cmd = os.path.join(d, "eic_keys.py")
        with open(cmd, "w") as f:
            f.write("""import glob, json, os, sys, time
state, user = sys.argv[1], sys.argv[2]
for p in glob.glob(os.path.join(state, "instance-connect", "*.json")):
    try:
        rec = json.load(open(p))
    except (OSError, ValueError):
        continue
    for k in rec.get("Keys", []):
        if k.get("InstanceOSUser") == user and \\
                time.time() - k.get("Time", 0) <= 60:
            print(k["SSHPublicKey"])
""")
        os.chmod(cmd, 0o644)
        import pwd
        return ["AuthorizedKeysCommand %s %s %s %%u" % (
                    PY, cmd, os.path.join(self.dir, "aws")),
                "AuthorizedKeysCommandUser %s" %
                pwd.getpwuid(os.getuid()).pw_name, ""]

    # -- Jupyter ----------------------------------------------------------
    def start_jupyter(self, a):
        port = a.jupyter_port or free_port()
        root = os.path.join(self.rhome, "notebooks")
        os.makedirs(root, exist_ok=True)
        if a.jupyter_file:
            with open(os.path.join(root, "hello.txt"), "w") as f:
                f.write("hello from the sandbox\n")
        env = self.remote_env()
        kind = a.jupyter_kind
        app = "NotebookApp" if kind == "notebook" else "ServerApp"
        argv = ["/usr/bin/jupyter", kind, "--no-browser", "--ip=127.0.0.1",
                "--port=%d" % port, "--port-retries=0"]
        argv.append(("--notebook-dir=%s" if kind == "notebook"
                     else "--ServerApp.root_dir=%s") % root)
        if os.geteuid() == 0:
            argv.append("--allow-root")
        if a.base_url:
            argv.append("--%s.base_url=%s" % (app, a.base_url))
        if a.jupyter_password:
            h = subprocess.run(
                [PY, "-c", "import sys\nfrom notebook.auth import passwd\n"
                 "print(passwd(sys.argv[1]))", a.jupyter_password],
                check=True, capture_output=True, text=True).stdout.strip()
            argv += ["--%s.token=" % app, "--%s.password=%s" % (app, h)]
        if a.jupyter_token:
            env["JUPYTER_TOKEN"] = a.jupyter_token
        argv += a.jupyter_arg or []
        # The runtime file carries the real token (the log may mask it).
        rt = os.path.join(self.rhome, ".local/share/jupyter/runtime")
        prefix = "nbserver-" if kind == "notebook" else "jpserver-"
        # A free port may be taken by another program before Jupyter binds
        # it (--port-retries=0: it exits); then try another, unless fixed.
        def other_port(argv):
            n = free_port()
            return n, [x if not x.startswith("--port=") else
                       "--port=%d" % n for x in argv]

        for attempt in range(3):
            log = os.path.join(self.dir, "jupyter-%d.log" % port)
            p = self.spawn("jupyter-%d" % port, argv, env=env, log=log,
                           cwd=root)
            info = None
            try:
                wait_port(port, 60, p, "jupyter")
            except SystemExit:
                if a.jupyter_port or attempt == 2:
                    raise
            if p.poll() is not None and not a.jupyter_port:
                port, argv = other_port(argv)
                continue
            end = time.time() + 60
            while info is None and time.time() < end and p.poll() is None:
                fn = os.path.join(rt, "%s%d.json" % (prefix, p.pid))
                try:
                    with open(fn) as f:
                        info = json.load(f)
                except (OSError, ValueError):
                    time.sleep(0.05)
            if info is not None or a.jupyter_port or p.poll() is None:
                break
            port, argv = other_port(argv)
        if info is None:
            raise SystemExit("rig: jupyter wrote no runtime file (%s)" %
                             ("it exited: status %d, see %s" %
                              (p.returncode, log) if p.poll() is not None
                              else "after 60 s"))
        sfx = "" if self.env.get("JUPYTER_PORT") is None else "_2"
        self.env.update({
            "JUPYTER_PORT" + sfx: str(port),
            "JUPYTER_TOKEN" + sfx: info.get("token", ""),
            "JUPYTER_PID" + sfx: str(p.pid),
            "JUPYTER_LOG" + sfx: log,
            "JUPYTER_BASE_URL" + sfx: info.get("base_url", "/"),
            "JUPYTER_RUNTIME_DIR": rt,
        })

    # -- a Debian 13 root with its own sshd and JupyterLab 4 -----------------
    def start_trixie(self, a):
        r = subprocess.run(["sh", TRIXIE, "build"], stdout=subprocess.PIPE,
                           text=True, env=trixie_env())
        if r.returncode != 0:
            raise SystemExit("rig: the Debian 13 root could not be built "
                             "(see above)")
        root = r.stdout.strip().splitlines()[-1]
        subprocess.run(["sh", TRIXIE, "mount", self.dir], check=True,
                       env=trixie_env(root))
        self.env["TRIXIE_ROOT"] = root
        # Per-rig files live inside the root (sshd reads them there).
        name = "jconnect-rig-" + os.path.basename(self.dir)
        inside = "/run/" + name
        mine = root + inside
        os.makedirs(mine, exist_ok=True)
        self.env["TRIXIE_RUN"] = mine
        uk = os.path.join(self.dir, "user_ed25519")
        if not os.path.exists(uk):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-C", "jconnect-rig", "-f", uk], check=True)
        ak = os.path.join(mine, "authorized_keys")
        shutil.copy(uk + ".pub", ak)
        os.chmod(ak, 0o644)
        port = a.sshd_port or free_port()
        with open(os.path.join(mine, "sshd_config"), "w") as f:
            f.write("\n".join([
                "Port %d" % port,
                "ListenAddress 127.0.0.1",
                "HostKey /etc/ssh/ssh_host_ed25519_key",
                "PidFile %s/sshd.pid" % inside,
                # The user's own file, as on EC2, and the rig's key.
                "AuthorizedKeysFile .ssh/authorized_keys %s/authorized_keys"
                % inside,
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding yes",
                "LogLevel VERBOSE",
                "MaxStartups 200",
                "MaxSessions 200",
                "Subsystem sftp internal-sftp",
                "",
            ]))
        p = self.spawn("trixie-sshd", ["chroot", root, "/usr/sbin/sshd",
                                       "-D", "-e", "-f",
                                       inside + "/sshd_config"])
        wait_port(port, 10, p, "sshd in the Debian 13 root")
        with open(root + "/etc/ssh/ssh_host_ed25519_key.pub") as f:
            hostkey = f.read().split()
        home = root + TRIXIE_HOME
        self.env.update({
            "SSH_USER": TRIXIE_USER,
            "RHOME": home,
            "SSHD_PORT": str(port),
            "SSHD_LOG": os.path.join(self.dir, "trixie-sshd.log"),
            "SSH_KEY": uk,
            "SSH_HOST_KEY_LINE": "[127.0.0.1]:%d %s %s" % (port, hostkey[0],
                                                           hostkey[1]),
            "KNOWN_HOSTS": os.path.join(self.dir, "known_hosts"),
            "AUTHORIZED_KEYS": ak,
        })
        # JupyterLab 4 as the user, like a server the user left running.
        jport = a.jupyter_port or free_port()
        nb = TRIXIE_HOME + "/notebooks"
        os.makedirs(root + nb, exist_ok=True)
        os.chown(root + nb, TRIXIE_UID, TRIXIE_UID)
        env = ["HOME=" + TRIXIE_HOME, "USER=" + TRIXIE_USER,
               "LOGNAME=" + TRIXIE_USER, "SHELL=/bin/bash",
               "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]
        if a.jupyter_token:
            env.append("JUPYTER_TOKEN=" + a.jupyter_token)
        argv = ["chroot", "--userspec=%d:%d" % (TRIXIE_UID, TRIXIE_UID),
                root, "/usr/bin/env", "-i"] + env + [
                "/usr/bin/jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                "--port=%d" % jport, "--port-retries=0",
                "--ServerApp.root_dir=" + nb] + (a.jupyter_arg or [])
        log = os.path.join(self.dir, "jupyter-%d.log" % jport)
        p = self.spawn("trixie-jupyter-%d" % jport, argv, log=log)
        wait_port(jport, 90, p, "JupyterLab in the Debian 13 root")
        rt = home + "/.local/share/jupyter/runtime"
        info = None
        end = time.time() + 20
        while info is None and time.time() < end:
            try:
                with open(os.path.join(rt, "jpserver-%d.json" % p.pid)) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                time.sleep(0.05)
        if info is None:
            raise SystemExit("rig: JupyterLab wrote no runtime file")
        self.env.update({
            "JUPYTER_PORT": str(jport),
            "JUPYTER_TOKEN": info.get("token", ""),
            "JUPYTER_PID": str(p.pid),
            "JUPYTER_LOG": log,
            "JUPYTER_BASE_URL": info.get("base_url", "/"),
            "JUPYTER_RUNTIME_DIR": rt,
        })

    # -- fake SSM agent and fake AWS ---------------------------------------
    def start_agent(self, a):
        state = os.path.join(self.dir, "ssm")
        os.makedirs(os.path.join(state, "sessions"), exist_ok=True)
        port = free_port()
        faults = os.path.join(self.dir, "agent-faults.json")
        if not os.path.exists(faults):
            with open(faults, "w") as f:
                init = {"pace_ms": a.agent_pace} if a.agent_pace else {}
                if a.aws_rtt:
                    init["rtt_ms"] = a.aws_rtt
                f.write(json.dumps(init) + "\n")
        argv = [PY, os.path.join(HERE, "fake_agent.py"), "--port", str(port),
                "--state", state, "--faults", faults]
        if "TRIXIE_ROOT" in self.env:
            # The Debian 13 box: commands inside it, its sshd as port 22.
            argv += ["--exec-root", self.env["TRIXIE_ROOT"],
                     "--port-map", "22=" + self.env["SSHD_PORT"]]
        if a.agent_version:
            argv += ["--agent-version", a.agent_version]
        scheme = "ws"
        if a.agent_tls:
            cert = os.path.join(self.dir, "agent-cert.pem")
            key = os.path.join(self.dir, "agent-key.pem")
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                 "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out",
                 cert], check=True, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            argv += ["--tls", cert, key]
            scheme = "wss"
            self.env["AGENT_CA"] = cert
        env = dict(self.remote_env())
        p = self.spawn("agent", argv, env=env)
        wait_port(port, 15, p, "fake SSM agent")
        self.env.update({"AGENT_PORT": str(port), "AGENT_STATE": state,
                         "AGENT_FAULTS": faults, "AGENT_SCHEME": scheme})

    def default_scenario(self):
        online = "AGENT_PORT" in self.env
        return {
            "region": "us-east-1",
            "stacks": {
                "demo-stack": {"resources": [{
                    "LogicalResourceId": "Notebook",
                    "PhysicalResourceId": "i-0123456789abcdef0",
                    "ResourceType": "AWS::EC2::Instance"}]},
            },
            "instances": {
                "i-0123456789abcdef0": {
                    "state": "running",
                    "tags": {"Name": "demo-notebook",
                             "aws:cloudformation:stack-name": "demo-stack"},
                    "public_dns": "localhost",
                    "public_ip": "127.0.0.1",
                    "private_ip": "127.0.0.1",
                    "ssm_online": online,
                    "agent_version": self.env.get("AGENT_VERSION",
                                                  "3.3.40.0"),
                },
            },
        }

    def start_aws(self, a):
        state = os.path.join(self.dir, "aws")
        os.makedirs(state, exist_ok=True)
        if a.scenario:
            with open(a.scenario) as f:
                sc = json.load(f)
        else:
            sc = self.default_scenario()
        if a.scenario_add:
            merge(sc, json.loads(a.scenario_add))
        if "AGENT_PORT" in self.env:
            # A scenario may name its own StreamUrl (a proxy in front).
            ssm = sc.setdefault("ssm", {})
            if a.stream_url:
                ssm["stream_url"] = a.stream_url
            ssm.setdefault("stream_url", "%s://127.0.0.1:%s/v1/data-channel/"
                           % (self.env["AGENT_SCHEME"],
                              self.env["AGENT_PORT"]))
            ssm["state_dir"] = self.env["AGENT_STATE"]
        scf = os.path.join(self.dir, "scenario.json")
        with open(scf, "w") as f:
            json.dump(sc, f, indent=1)
        port = free_port()
        argv = [PY, os.path.join(HERE, "fake_aws.py"), "--scenario", scf,
                "--port", str(port), "--state", state]
        if a.aws_rtt:
            argv += ["--rtt-ms", str(a.aws_rtt)]
        p = self.spawn("aws", argv)
        wait_port(port, 15, p, "fake AWS")
        url = "http://127.0.0.1:%d" % port
        self.env.update({
            "AWS_PORT": str(port),
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLERIG000001",
            "AWS_SECRET_ACCESS_KEY": "rigsecretrigsecretrigsecretrigsecret0001",
            "AWS_REGION": sc.get("region", "us-east-1"),
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SCENARIO": scf,
            "AWS_STATE": state,
        })

    def write_env(self):
        with open(os.path.join(self.dir, "env"), "w") as f:
            for k, v in sorted(self.env.items()):
                f.write("%s='%s'\nexport %s\n" %
                        (k, v.replace("'", "'\\''"), k))


def cmd_start(a):
    r = Rig(a.dir)
    os.makedirs(r.rhome, exist_ok=True)
    try:
        with open(os.path.join(r.dir, "pids")) as f:
            r.pids = json.load(f)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(r.dir, "env.json")) as f:
            r.env = json.load(f)
    except (OSError, ValueError):
        pass
    import pwd
    if a.remote_of:
        # Another AWS world (say, a near one) in front of the same remote.
        with open(os.path.join(a.remote_of, "env.json")) as f:
            other = json.load(f)
        for k in REMOTE_KEYS:
            if k in other:
                r.env[k] = other[k]
    if "TRIXIE_ROOT" not in r.env:
        r.env["SSH_USER"] = pwd.getpwuid(os.getuid()).pw_name
        r.env["RHOME"] = r.rhome
    r.env["RIG_DIR"] = r.dir
    if a.agent_version:
        r.env["AGENT_VERSION"] = a.agent_version
    what = set(a.components or ["sshd", "jupyter"])
    if "trixie" in what and what & {"sshd", "jupyter"}:
        raise SystemExit("rig: trixie brings its own sshd and Jupyter; "
                         "use another --dir for sshd/jupyter")
    try:
        if "trixie" in what:
            r.start_trixie(a)
        if "sshd" in what:
            r.start_sshd(a)
        if "jupyter" in what:
            r.start_jupyter(a)
        if "agent" in what:
            r.start_agent(a)
        if "aws" in what:
            r.start_aws(a)
    finally:
        with open(os.path.join(r.dir, "env.json"), "w") as f:
            json.dump(r.env, f)
        r.write_env()


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def cmd_stop(a):
    d = os.path.abspath(a.dir)
    try:
        with open(os.path.join(d, "pids")) as f:
            pids = json.load(f)
    except (OSError, ValueError):
        return
    names = set(a.only or [])
    keep = []
    todo = []
    for e in pids:
        if names and not any(e["name"].startswith(n) for n in names):
            keep.append(e)
        else:
            todo.append(e)
    for e in todo:
        try:
            os.killpg(e["pid"], signal.SIGTERM)
        except OSError:
            pass
    end = time.time() + 5
    for e in todo:
        while alive(e["pid"]) and time.time() < end:
            try:
                if os.waitpid(e["pid"], os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                pass
            time.sleep(0.02)
        if alive(e["pid"]):
            try:
                os.killpg(e["pid"], signal.SIGKILL)
            except OSError:
                pass
    with open(os.path.join(d, "pids"), "w") as f:
        json.dump(keep, f)
    if not any(e["name"].startswith("trixie") for e in keep):
        trixie_done(d)


def trixie_done(d):
    """Unmount the Debian 13 root when the last rig using it stops, and
    remove this rig's files inside it."""
    try:
        with open(os.path.join(d, "env.json")) as f:
            env = json.load(f)
    except (OSError, ValueError):
        return
    run = env.get("TRIXIE_RUN")
    if run and os.path.basename(run).startswith("jconnect-rig-"):
        shutil.rmtree(run, ignore_errors=True)
    if env.get("TRIXIE_ROOT"):
        # The cache the root was found in, whatever HOME is now.
        subprocess.run(["sh", TRIXIE, "umount", d],
                       env=trixie_env(env["TRIXIE_ROOT"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--dir", required=True)
    s.add_argument("components", nargs="*",
                   choices=["sshd", "jupyter", "aws", "agent", "trixie",
                            []])
    s.add_argument("--sshd-port", type=int, default=0)
    s.add_argument("--instance-connect", action="store_true",
                   help="sshd also accepts keys pushed with "
                   "SendSSHPublicKey to the fake AWS (60 s)")
    s.add_argument("--jupyter-port", type=int, default=0)
    s.add_argument("--jupyter-kind", default="notebook",
                   choices=["notebook", "server"])
    s.add_argument("--jupyter-token", help="token via JUPYTER_TOKEN")
    s.add_argument("--jupyter-password", help="password-only server")
    s.add_argument("--jupyter-file", action="store_true",
                   help="put hello.txt in the notebook root")
    s.add_argument("--jupyter-arg", action="append")
    s.add_argument("--base-url")
    s.add_argument("--agent-version")
    s.add_argument("--agent-pace", type=float, default=0, metavar="MS",
                   help="pace port sessions like AWS's agent (1 = 1 KiB "
                        "then 1 ms, about 1 MB/s per session)")
    s.add_argument("--agent-tls", action="store_true",
                   help="the agent serves wss:// with a fresh certificate "
                   "for 127.0.0.1 (AGENT_CA in env)")
    s.add_argument("--aws-rtt", type=float, default=0, metavar="MS",
                   help="AWS is MS away: round trips for connections, API "
                   "calls, WebSocket upgrades; MS/2 per data frame")
    s.add_argument("--remote-of", metavar="DIR",
                   help="agent and aws serve the remote of the rig in DIR "
                   "(its sshd, Jupyter, Debian 13 root)")
    s.add_argument("--scenario")
    s.add_argument("--scenario-add", metavar="JSON",
                   help="merged into the scenario (objects key by key, "
                   "the rest replaced): '{\"slow\": [...]}'")
    s.add_argument("--stream-url", help="the StreamUrl StartSession hands "
                   "out (e.g. a fault proxy in front of the agent)")
    t = sub.add_parser("stop")
    t.add_argument("--dir", required=True)
    t.add_argument("only", nargs="*", help="component name prefixes")
    a = ap.parse_args()
    if a.cmd == "start":
        cmd_start(a)
    else:
        cmd_stop(a)


if __name__ == "__main__":
    main()
