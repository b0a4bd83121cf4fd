"""ttyrun.py CODE ARGV... : run ARGV on a pseudo-terminal, typing CODE at
each MFA prompt (a refused code may be asked for again); the terminal's
output on stdout, "prompts=N" on stderr, ARGV's exit status.  Killed after
90 s."""
import os
import pty
import select
import sys
import time

code, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, sent, t0 = b"", 0, time.time()
while time.time() - t0 < 90:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    if out.count(b"MFA code for") > sent:
        os.write(fd, code.encode() + b"\n")
        sent += 1
else:
    os.kill(pid, 9)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.stderr.write("prompts=%d\n" % sent)
sys.exit(os.waitstatus_to_exitcode(st))
