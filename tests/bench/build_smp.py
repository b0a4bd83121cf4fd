#!/usr/bin/python3
"""build_smp.py - build AWS's session-manager-plugin for the side-by-side
benchmark rows, in a scratch folder outside the repository.

  build_smp.py [SOURCE]      print the plugin's path (building it if needed)

SOURCE is a checkout or a git directory of github.com/aws/session-manager-
plugin (default: $BENCH_SMP_SRC, else a shallow clone from GitHub).  The
repository has no go.mod: its dependencies are vendored in a GOPATH layout,
so it builds offline with Debian's golang-go as its makefile does
(GO111MODULE=off, GOPATH = the source copied under build/private plus
vendor).  The version is set to a real release, $BENCH_SMP_VERSION
(1.2.677.0 by default), because the agent and the plugin pick features
(smux, keepalive) from each other's versions.  jconnect never ships it.

The result is cached in ${XDG_CACHE_HOME:-~/.cache}/jconnect-rig/smp/; on
failure one line says why (exit 1).
"""

import os
import re
import shutil
import subprocess
import sys

VERSION = os.environ.get("BENCH_SMP_VERSION", "1.2.677.0")
CACHE = os.path.join(os.environ.get("JCONNECT_RIG_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
    "jconnect-rig"), "smp")
PKG = "github.com/aws/session-manager-plugin"


def die(msg):
    print("build_smp: " + msg, file=sys.stderr)
    sys.exit(1)


def export_git(gitdir, dest):
    """Write HEAD's tree to dest; blobs a partial mirror lacks are skipped
    (the plugin needs none of the huge generated AWS SDK files)."""
    ls = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "-z",
                         "HEAD"], capture_output=True, check=True).stdout
    entries = []
    for rec in ls.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob":
            entries.append((mode, sha, path.decode()))
    p = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    missing = 0
    for mode, sha, path in entries:
        p.stdin.write(sha + b"\n")
        p.stdin.flush()
        head = p.stdout.readline().split()
        if len(head) < 2 or head[1] == b"missing":
            missing += 1
            continue
        data = p.stdout.read(int(head[2]))
        p.stdout.read(1)
        out = os.path.join(dest, path)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        if mode == b"120000":
            os.symlink(data.decode(), out)
            continue
        with open(out, "wb") as f:
            f.write(data)
        if mode == b"100755":
            os.chmod(out, 0o755)
    p.stdin.close()
    p.wait()
    return missing


def main():
    out = os.path.join(CACHE, VERSION, "session-manager-plugin")
    if os.path.exists(out):
        print(out)
        return
    if shutil.which("go") is None:
        die("no Go compiler: apt-get install golang-go")
    src = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get("BENCH_SMP_SRC")
    work = os.path.join(CACHE, "work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tree = os.path.join(work, "src-tree")
    if not src:
        src = os.path.join(work, "clone")
        r = subprocess.run(["git", "clone", "-q", "--depth", "1",
                            "https://github.com/aws/session-manager-plugin",
                            src], capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            die("no source: set BENCH_SMP_SRC to a checkout of "
                "aws/session-manager-plugin (git clone failed: %s)" %
                r.stderr.strip().splitlines()[-1:])
    if os.path.isdir(os.path.join(src, "src", "sessionmanagerplugin-main")):
        shutil.copytree(src, tree, symlinks=True,
                        ignore=shutil.ignore_patterns(".git"))
    elif os.path.exists(os.path.join(src, "HEAD")) or \
            os.path.isdir(os.path.join(src, ".git")):
        gd = src if os.path.exists(os.path.join(src, "HEAD")) else \
            os.path.join(src, ".git")
        missing = export_git(gd, tree)
        if missing:
            print("build_smp: %d files absent from the git copy (skipped)"
                  % missing, file=sys.stderr)
    else:
        die("%s is not a session-manager-plugin checkout" % src)
    # As the makefile's copy-src: the sources under a private GOPATH.
    gp = os.path.join(tree, "build", "private")
    pkg = os.path.join(gp, "src", PKG)
    os.makedirs(pkg)
    shutil.copytree(os.path.join(tree, "src"), os.path.join(pkg, "src"))
    vf = os.path.join(pkg, "src", "version", "version.go")
    with open(vf) as f:
        v = f.read()
    v, n = re.subn(r'const Version = "[^"]*"', 'const Version = "%s"' %
                   VERSION, v)
    if n != 1:
        die("no Version constant in src/version/version.go")
    with open(vf, "w") as f:
        f.write(v)
    env = dict(os.environ, GO111MODULE="off", GOPROXY="off",
               GOFLAGS="", GOPATH=gp + ":" + os.path.join(tree, "vendor"),
               GOCACHE=os.path.join(work, "gocache"), CGO_ENABLED="0")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run(["go", "build", "-ldflags", "-s -w", "-o", out + ".tmp",
                        os.path.join(pkg, "src", "sessionmanagerplugin-main",
                                     "main.go")],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0:
        die("go build failed: " + " | ".join(r.stderr.strip().splitlines()[-3:]))
    os.rename(out + ".tmp", out)
    shutil.rmtree(work, ignore_errors=True)
    print(out)


if __name__ == "__main__":
    main()
