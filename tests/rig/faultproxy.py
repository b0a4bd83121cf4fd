#!/usr/bin/python3
"""A loopback TCP proxy that can cut, stall or slow its connections on
command, for fault-injection tests.

  faultproxy.py --listen PORT --to PORT --control FILE

FILE holds one word, re-read every 50 ms:
  pass     relay normally (default)
  cut      close every current connection (new ones are relayed)
  refuse   close every connection, current and new
  stall    stop moving bytes (connections stay open)
  strand   the current connections go silent for good (no byte, no FIN,
           no RST: the laptop moved to another network); new ones are
           relayed
  slow     relay at most 64 KiB/s per direction
"""

import argparse
import os
import selectors
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--control", required=True)
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(64)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    peers = {}          # socket -> its peer
    mode, last = "pass", 0.0
    budget = {}         # socket -> bytes left this second (slow)
    stranded = []       # silent for good, kept open so no FIN is sent
    tick = time.time()

    def close(s):
        p = peers.pop(s, None)
        for x in (s, p):
            if x is None:
                continue
            peers.pop(x, None)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    while True:
        now = time.time()
        if now - last > 0.05:
            last = now
            try:
                with open(a.control) as f:
                    new = f.read().strip() or "pass"
            except OSError:
                new = "pass"
            if new != mode and new in ("cut", "refuse"):
                for s in list(peers):
                    close(s)
            if new != mode and new == "strand":
                for s in list(peers):
                    peers.pop(s, None)
                    sel.unregister(s)
                    stranded.append(s)
            mode = new
        if now - tick >= 1:
            tick, budget = now, {}
        for key, _ in sel.select(0.05):
            s = key.fileobj
            if s is ls:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                if mode == "refuse":
                    c.close()
                    continue
                try:
                    u = socket.create_connection(("127.0.0.1", a.to), 2)
                except OSError:
                    c.close()
                    continue
                peers[c], peers[u] = u, c
                sel.register(c, selectors.EVENT_READ, None)
                sel.register(u, selectors.EVENT_READ, None)
                continue
            if s not in peers or mode == "stall":
                if mode == "stall":
                    time.sleep(0.01)
                continue
            n = 65536
            if mode == "slow":
                n = budget.setdefault(s, 65536)
                if n <= 0:
                    continue
            try:
                d = s.recv(min(n, 65536))
            except OSError:
                d = b""
            if not d:
                close(s)
                continue
            if mode == "slow":
                budget[s] -= len(d)
            try:
                peers[s].sendall(d)
            except (OSError, KeyError):
                close(s)


if __name__ == "__main__":
    main()
