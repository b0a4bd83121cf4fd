"""ttyrun.py [--later S] [--max S] CODE ARGV... : run ARGV on a
pseudo-terminal, typing CODE at each MFA prompt (a refused code may be
asked for again); from the second prompt on, only after S seconds
(--later, default 0).  The terminal's output goes to stdout as it comes;
at the end "prompts=N" and "echo=on|off" (the terminal's echo as ARGV
left it) on stderr, and ARGV's exit status.  Killed after --max seconds
(default 90)."""
import os
import pty
import select
import sys
import termios
import time

later, most, args = 0.0, 90.0, sys.argv[1:]
while args and args[0].startswith("--"):
    if args[0] == "--later":
        later = float(args[1])
    elif args[0] == "--max":
        most = float(args[1])
    else:
        sys.exit("ttyrun.py: unknown option " + args[0])
    args = args[2:]
code, argv = args[0], args[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, sent, t0, due = b"", 0, time.time(), None
echo = "?"
while time.time() - t0 < most:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
        sys.stdout.buffer.write(d)
        sys.stdout.flush()
    if out.count(b"MFA code for") > sent:
        if due is None:
            due = time.time() + (later if sent > 0 else 0)
        if time.time() >= due:
            os.write(fd, code.encode() + b"\n")
            sent += 1
            due = None
    try:
        echo = "on" if termios.tcgetattr(fd)[3] & termios.ECHO else "off"
    except termios.error:
        pass
else:
    os.kill(pid, 9)
_, st = os.waitpid(pid, 0)
sys.stderr.write("prompts=%d\necho=%s\n" % (sent, echo))
sys.exit(os.waitstatus_to_exitcode(st))
