#!/usr/bin/python3
"""labload.py - how long JupyterLab takes to load in headless Chromium.

  labload.py URL PROFILE_DIR [--timeout S] [--quiet-ms MS]

Starts Chromium headless with PROFILE_DIR as its --user-data-dir (a fresh
directory: a cold load; the same directory again, same origin: a warm one),
opens about:blank, then drives it over the DevTools protocol: navigates to
URL and waits until the Lab shell (the element of class jp-LabShell) is in
the page and the network has been idle for --quiet-ms.  Prints one JSON
line: {"seconds": time from navigation to the later of the shell appearing
and the last response finishing, "requests", "bytes" (as transferred),
"cached" (answered from the browser cache), "shell": true/false}.

Chromium's own start is not counted.  The browser is closed through the
protocol, so its disk cache is complete for the next (warm) load.
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import websockets

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions", "--mute-audio",
         "--disable-features=Translate,MediaRouter,OptimizationHints",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def chromium():
    for c in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(c)
        if p:
            return p
    raise SystemExit("labload: no Chromium found (apt-get install chromium)")


def start_browser(profile):
    port_file = os.path.join(profile, "DevToolsActivePort")
    try:
        os.unlink(port_file)
    except OSError:
        pass
    log = open(os.path.join(profile, "..", os.path.basename(profile) +
                            ".chromium.log"), "ab")
    p = subprocess.Popen([chromium()] + FLAGS + ["--user-data-dir=" + profile,
                                                 "about:blank"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    log.close()
    end = time.time() + 30
    while time.time() < end:
        try:
            with open(port_file) as f:
                port = int(f.readline())
            break
        except (OSError, ValueError):
            if p.poll() is not None:
                raise SystemExit("labload: Chromium exited (status %d)" %
                                 p.returncode)
            time.sleep(0.05)
    else:
        p.kill()
        raise SystemExit("labload: Chromium gave no DevTools port")
    return p, port


def page_ws(port):
    end = time.time() + 10
    while time.time() < end:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                    timeout=5) as r:
            for t in json.load(r):
                if t.get("type") == "page":
                    return t["webSocketDebuggerUrl"]
        time.sleep(0.05)
    raise SystemExit("labload: Chromium shows no page")


class Cdp:
    def __init__(self, ws):
        self.ws = ws
        self.n = 0
        self.waiting = {}
        self.events = asyncio.Queue()

    async def reader(self):
        async for raw in self.ws:
            m = json.loads(raw)
            if "id" in m:
                f = self.waiting.pop(m["id"], None)
                if f is not None and not f.done():
                    f.set_result(m)
            else:
                self.events.put_nowait(m)

    async def call(self, method, check=True, **params):
        self.n += 1
        f = asyncio.get_running_loop().create_future()
        self.waiting[self.n] = f
        await self.ws.send(json.dumps({"id": self.n, "method": method,
                                       "params": params}))
        m = await asyncio.wait_for(f, 30)
        if "error" in m and check:
            raise SystemExit("labload: %s: %s" % (method, m["error"]))
        return m.get("result", {})


async def measure(url, port, timeout, quiet):
    async with websockets.connect(page_ws(port), max_size=256 << 20,
                                  ping_interval=None) as ws:
        c = Cdp(ws)
        rd = asyncio.ensure_future(c.reader())
        await c.call("Network.enable")
        await c.call("Page.enable")
        inflight = set()
        seen = set()
        nbytes = 0
        cached = 0
        last_net = 0.0
        shell_at = None
        t0 = time.monotonic()
        await c.call("Page.navigate", url=url)
        next_poll = t0
        end = t0 + timeout
        while True:
            now = time.monotonic()
            if now > end:
                break
            if now >= next_poll:
                next_poll = now + 0.05
                if shell_at is None:
                    r = await c.call(
                        "Runtime.evaluate", check=False, returnByValue=True,
                        expression="!!document.querySelector('.jp-LabShell')")
                    if r.get("result", {}).get("value") is True:
                        shell_at = time.monotonic()
                if shell_at is not None and not inflight and \
                        now - max(last_net, shell_at) >= quiet:
                    break
            try:
                m = await asyncio.wait_for(c.events.get(), 0.05)
            except asyncio.TimeoutError:
                continue
            meth, p = m.get("method"), m.get("params", {})
            rid = p.get("requestId")
            if meth == "Network.requestWillBeSent":
                inflight.add(rid)
                seen.add(rid)
                last_net = time.monotonic()
            elif meth == "Network.requestServedFromCache":
                cached += 1
            elif meth == "Network.responseReceived" and \
                    p.get("response", {}).get("fromDiskCache"):
                cached += 1
            elif meth in ("Network.loadingFinished", "Network.loadingFailed"):
                if rid in inflight:
                    inflight.discard(rid)
                    last_net = time.monotonic()
                nbytes += int(p.get("encodedDataLength", 0) or 0)
        done = max(last_net, shell_at or 0.0)
        res = {"seconds": round(done - t0, 3), "requests": len(seen),
               "bytes": nbytes, "cached": cached,
               "shell": shell_at is not None}
        try:
            await c.call("Browser.close")
        except (SystemExit, websockets.ConnectionClosed,
                asyncio.TimeoutError):
            pass
        rd.cancel()
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("profile")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--quiet-ms", type=float, default=500)
    a = ap.parse_args()
    os.makedirs(a.profile, exist_ok=True)
    p, port = start_browser(os.path.abspath(a.profile))
    try:
        res = asyncio.run(measure(a.url, port, a.timeout, a.quiet_ms / 1000))
    finally:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    print(json.dumps(res))
    return 0 if res["shell"] else 1


if __name__ == "__main__":
    sys.exit(main())
