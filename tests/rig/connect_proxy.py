#!/usr/bin/python3
"""An HTTP CONNECT proxy on 127.0.0.1, as HTTPS_PROXY names in offices:
it tunnels bytes and never sees inside TLS.

  connect_proxy.py --log FILE

Prints its port on the first line of stdout, then appends the request
line of every CONNECT to FILE ("CONNECT host:port HTTP/1.1").  Anything
but CONNECT gets 405; a target that cannot be reached gets 502.
"""

import argparse
import socket
import threading


def pipe(src, dst):
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            dst.sendall(d)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(c, log, lock):
    with c:
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(4096)
            if not d or len(head) > 16384:
                return
            head += d
        head, early = head.split(b"\r\n\r\n", 1)
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        with lock, open(log, "a") as f:
            f.write(line + "\n")
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "CONNECT":
            c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), 10)
        except (OSError, ValueError):
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            return
        with up:
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if early:
                up.sendall(early)
            t = threading.Thread(target=pipe, args=(c, up), daemon=True)
            t.start()
            pipe(up, c)
            t.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print(ls.getsockname()[1], flush=True)
    lock = threading.Lock()
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, a.log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    main()
