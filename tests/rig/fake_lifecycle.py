#!/usr/bin/python3
"""fake_lifecycle.py - an EC2 instance stopped and started again, as the
rig's remote shows it: its SSM agent offline while it is down, a new
public IP after each start.

Hooks of fake_aws.py (StopInstances, StartInstances):
  stopped(fake, inst, now)   the agent goes offline at once (the OS shuts
                             down; its sessions end)
  started(fake, inst, now)   the next address of the instance's
                             "public_ips" becomes its public_ip, as EC2
                             gives a new one at each start; the agent is
                             back pending_seconds + ssm_online_delay later
Both write SSMDIR/lifecycle/<instance>.json:
  {"down_since": T, "up_at": T or null, "agent_at": T or null,
   "public_ip": "127.0.0.x"}   (T: seconds since the epoch)

For fake_agent.py:
  agent_offline(state_dir, instance, now)   True while the agent is down

As a program, the instance's public address in front of the rig's sshd:
  fake_lifecycle.py front --ssm-state DIR --instance ID --ip FIRST
                          --port P --to SSHD_PORT
listens on <public_ip>:P while the instance runs and relays each
connection to 127.0.0.1:SSHD_PORT; when the instance stops it closes the
listener and every connection (its sshd shutting down), and once it runs
again it listens at the new address.  The old one refuses connections.
"""

import argparse
import asyncio
import json
import os
import time


def _path(state_dir, iid):
    return os.path.join(state_dir, "lifecycle", iid + ".json")


def _write(state_dir, iid, rec):
    p = _path(state_dir, iid)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    tmp = p + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f)
    os.replace(tmp, p)


def read(state_dir, iid):
    try:
        with open(_path(state_dir, iid)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def stopped(fake, inst, now):
    _write(fake.ssm_dir, inst.id, {
        "down_since": now, "up_at": None, "agent_at": None,
        "public_ip": inst.d.get("public_ip")})


def started(fake, inst, now):
    ips = inst.d.get("public_ips") or []
    cur = inst.d.get("public_ip")
    if ips:
        nxt = ips[(ips.index(cur) + 1) % len(ips)] if cur in ips else ips[0]
        inst.d["public_ip"] = nxt
    up = inst.next_at if inst.next_state == "running" else now
    _write(fake.ssm_dir, inst.id, {
        "down_since": now, "up_at": up,
        "agent_at": up + inst.online_delay,
        "public_ip": inst.d.get("public_ip")})


def agent_offline(state_dir, iid, now):
    rec = read(state_dir, iid)
    if rec is None or now < rec["down_since"]:
        return False
    return rec["agent_at"] is None or now < rec["agent_at"]


def _address(a, now):
    """The address to listen on now, or None while the instance is down."""
    rec = read(a.ssm_state, a.instance)
    if rec is None:
        return a.ip
    if rec["up_at"] is None or now < rec["up_at"]:
        return None
    return rec["public_ip"]


async def _relay(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def _front(a):
    conns = set()
    server, addr = None, None

    async def accept(cr, cw):
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", a.to)
        except OSError:
            cw.close()
            return
        pair = (cw, sw)
        conns.add(pair)
        try:
            await asyncio.gather(_relay(cr, sw), _relay(sr, cw))
        finally:
            conns.discard(pair)

    while True:
        want = _address(a, time.time())
        if want != addr:
            if server is not None:
                server.close()
                for cw, sw in list(conns):
                    cw.close()
                    sw.close()
                conns.clear()
                server = None
                print("front: down (was %s)" % addr, flush=True)
            if want is not None:
                server = await asyncio.start_server(accept, want, a.port,
                                                    reuse_address=True)
                print("front: listening on %s:%d" % (want, a.port),
                      flush=True)
            addr = want
        await asyncio.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("front")
    f.add_argument("--ssm-state", required=True)
    f.add_argument("--instance", required=True)
    f.add_argument("--ip", required=True, help="public IP before any stop")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--to", type=int, required=True, help="sshd's port")
    a = ap.parse_args()
    asyncio.run(_front(a))


if __name__ == "__main__":
    main()
