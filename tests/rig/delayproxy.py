#!/usr/bin/python3
"""delayproxy.py - a loopback TCP proxy that puts its server far away.

  delayproxy.py --listen PORT --to PORT --rtt-ms MS

Every byte reaches the other side MS/2 after it was read, in both
directions and in order, with no bandwidth limit of its own: the path to
an instance in a distant region, for comparing SSH with SSM at the same
distance (the fake AWS and the fake agent take the same MS with rig.py
--aws-rtt).  A new connection pays one round trip before the server is
dialled (TCP's handshake).
"""

import argparse
import asyncio
import time


async def carry(reader, writer, delay):
    q = asyncio.Queue()

    async def take():
        while True:
            try:
                data = await reader.read(65536)
            except OSError:
                data = b""
            q.put_nowait((time.monotonic() + delay, data))
            if not data:
                return

    async def give():
        while True:
            t, data = await q.get()
            wait = t - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
            except OSError:
                return

    await asyncio.gather(take(), give())


async def serve(a):
    delay = a.rtt_ms / 2000.0

    async def conn(cr, cw):
        await asyncio.sleep(2 * delay)
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", a.to)
        except OSError:
            cw.close()
            return
        await asyncio.gather(carry(cr, sw, delay), carry(sr, cw, delay))
        sw.close()
        cw.close()

    srv = await asyncio.start_server(conn, "127.0.0.1", a.listen)
    async with srv:
        await srv.serve_forever()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--rtt-ms", type=float, required=True)
    a = ap.parse_args()
    try:
        asyncio.run(serve(a))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
