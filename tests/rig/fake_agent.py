#!/usr/bin/python3
"""fake_agent.py - the SSM agent and Message Gateway side of a Session
Manager data channel, on 127.0.0.1, for jconnect's tests.

  fake_agent.py --port N --state DIR [--agent-version V] [--faults FILE]
                [--lenient]
  fake_agent.py --state DIR --report sessions DOC | terminated |
                violations | stat NAME | mode MODE

Serves ws://127.0.0.1:N/v1/data-channel/<SessionId>?role=publish_subscribe.
Sessions are created by the fake AWS (StartSession writes
DIR/sessions/<SessionId>.json with the Tokens, the document and its
Parameters); this process reads that record when a WebSocket arrives.

Written from ssm-protocol.md and strict about it: the OpenDataChannel token
must be current and unused, every frame's digest must match (--lenient
accepts the npm client's bogus digests), the first input must be the
HandshakeResponse, acks must name the right message.  Every breach is
appended to DIR/violations.log; tests expect that file to stay empty.
Per-session counters go to DIR/agent-stats.json; every WebSocket upgrade
and handshake step is appended to DIR/roundtrips.jsonl ({"t", "what":
"upgrade" or "handshake", "rtts"}: an upgrade costs its new connection plus
one, OpenDataChannel -> HandshakeRequest and HandshakeResponse ->
HandshakeComplete one each) so a bench can count the round trips on a
path; an upgrade also says how long its connection waited for the
request (waited_ms: long when the client connected ahead).

An instance stopped with StopInstances takes its agent down: its sessions
end (fake_lifecycle.py) until the agent is back after a start.

With --port-map 22=N, a session to port 22 (AWS-StartSSHSession's default)
dials N: where the rig's remote runs its sshd.

With --exec-root ROOT, commands run inside that root (chroot, as root, like
the agent's own commands; `sudo -u` inside picks the user), while port
sessions still dial 127.0.0.1: chroot shares the network.

Documents: AWS-StartPortForwardingSession[ToRemoteHost] (smux v1 server or
basic mode, chosen from the agent and client versions exactly as the real
agent does), AWS-StartSSHSession (raw stream; destination EOF ends the
session) and AWS-StartNonInteractiveCommand (the command split into words like the
agent's shlex and exec'd without a shell, stdin /dev/null; with
separateOutputStream=true stdout as Output, stderr as StdErr 11 and the exit
status as ExitCode 12, else stdout and stderr mixed as Output and no exit
code; input messages only deliver ^C, ^\\ and ^Z as signals).

Faults, re-read from the JSON file whenever it changes, so a test can flip
them while a session runs:
  drop_pct, drop_in_pct, drop_out_pct   lose frames (both, in, out)
  dup_pct                               send output frames twice
  reorder_pct                           swap an output frame with the next
  corrupt_pct                           flip a payload byte, keep the digest
  delay_ms                              one-way latency on output frames
  delay_in_ms                           one-way latency on input frames
  rtt_ms                                a distant region: each WebSocket
                                        waits conn_rtts + 1 round trips
                                        before its upgrade is answered (TCP,
                                        TLS 1.3, the upgrade itself; the
                                        first conn_rtts from when the
                                        connection came, as a client may
                                        open it ahead), frames
                                        take rtt_ms/2 each way (on top of
                                        delay_ms / delay_in_ms)
  idle_close_ms                         close a connection that sent no
                                        request within this (0: never)
  idle_drop_ms                          drop, unanswered, a request that
                                        came this long after its connection
  idle_stall_ms                         never answer such a request
  conn_rtts                             round trips of a new connection
                                        (default 2: TCP + TLS 1.3, as MGS
                                        is wss:// only, even when the rig
                                        serves plain ws://)
  withhold_acks                         send no acks while true
  pause                                 pause_publication while true
  close_ws                              a counter: each increase closes the
                                        WebSockets ("1000 Bye")
  close_every_bytes                     close after this many output bytes
                                        on one connection
  refuse_resume                         answer 403 to a second connection
  kms, unknown_action                   extra actions in the handshake
  chunk_size                            output payload size (default 1024)
  pace_ms                               sleep after each output data message
                                        of a port session (mux, basic and
                                        AWS-StartSSHSession alike: port_mux.go
                                        and port_basic.go sleep 1 ms after
                                        each read of at most 1024 bytes) and
                                        of a command without
                                        separateOutputStream (shell.go
                                        writePump); 0 = off
  agent_version                         AgentVersion of new sessions
  smux_keepalive_ms                     NOP interval when keepalive is on
  end_session                           a counter: each increase sends
                                        channel_closed with end_output
  max_session_s                         Session Manager's maximum session
                                        duration: a session this old (from
                                        its first WebSocket) is ended with
                                        channel_closed, then its WebSocket
                                        is closed; 0 = none
"""

import argparse
import asyncio
import hashlib
import ipaddress
import json
import os
import random
import shlex
import signal
import socket
import ssl
import struct
import sys
import time
import uuid
from http import HTTPStatus

import websockets
# handler(ws, path) and process_request(path, headers) are the legacy API,
# which websockets 14 and later (Debian 13) no longer serve by default.
import websockets.legacy.server

import fake_lifecycle

HDR_FMT = ">I32sIQqQ16s32sII"
HDR_LEN = 120
PT_OUTPUT, PT_SIZE, PT_HS_REQ, PT_HS_RESP, PT_HS_DONE = 1, 3, 5, 6, 7
PT_FLAG, PT_STDERR, PT_EXIT = 10, 11, 12
FLAG_DISCONNECT, FLAG_TERMINATE, FLAG_CONNECT_ERROR = 1, 2, 3
SMUX_SYN, SMUX_FIN, SMUX_PSH, SMUX_NOP = 0, 1, 2, 3
RTO_INIT, RTO_MAX = 0.2, 1.0
OUT_WINDOW = 4096            # unacked output messages
OUT_WINDOW_BYTES = 2 << 20       # bounds queueing, so RTT stays honest
MUX_OUT_MAX = 1 << 20        # smux bytes waiting for the data channel
DEST_MAX = 4 << 20           # bytes waiting for a destination (smux's
                             # session receive buffer)
IN_BUFFER = 10000            # messages held ahead of `expected`
PAUSE_GRACE = 0.3

STATE = None
PORT_MAP = {}
# The agent's appconfig default: IMDS, the Amazon DNS and time servers
# (DefaultDeniedPortForwardingRemoteIPs); the VPC's own DNS is added to
# it on EC2, which has no counterpart here.
DENIED_REMOTE_IPS = ["169.254.169.254", "fd00:ec2::254", "169.254.169.253",
                     "fd00:ec2::253", "169.254.169.123", "fd00:ec2::123",
                     "169.254.169.250", "169.254.169.251", "fd00:ec2::240"]
FAULTS = {}
SESSIONS = {}
USED_TOKENS = set()
STATS_DIRTY = [False]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def violation(sid, text):
    line = "%s %s: %s\n" % (time.strftime("%H:%M:%S"), sid, text)
    with open(os.path.join(STATE, "violations.log"), "a") as f:
        f.write(line)
    log("VIOLATION", sid, text)


def fault(name, default=0):
    v = FAULTS.get(name, default)
    return default if v is None else v


def rtt():
    return float(fault("rtt_ms", 0) or 0) / 1000.0


def note_roundtrips(what, n, detail="", **more):
    rec = {"t": time.time(), "what": what, "rtts": n}
    if detail:
        rec["detail"] = detail
    rec.update(more)
    with open(os.path.join(STATE, "roundtrips.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\n")


async def paced():
    """The real agent sleeps after every output message of a port session
    (StreamDataPayloadSize bytes at most): about 1 MB/s per session."""
    ms = float(fault("pace_ms", 0) or 0)
    await asyncio.sleep(ms / 1000.0)


def pct(name):
    v = fault(name, None)
    if v is None and name in ("drop_in_pct", "drop_out_pct"):
        v = fault("drop_pct", 0)
    return random.random() * 100 < float(v or 0)


def vtuple(v):
    try:
        return tuple(int(x) for x in v.split("."))
    except (AttributeError, ValueError):
        return None


def vcmp(a, b):
    """Numeric compare, shorter padded with zeros; None when malformed."""
    ta, tb = vtuple(a), vtuple(b)
    if ta is None or tb is None:
        return None
    n = max(len(ta), len(tb))
    ta += (0,) * (n - len(ta))
    tb += (0,) * (n - len(tb))
    return (ta > tb) - (ta < tb)


# ---- frames ---------------------------------------------------------------

def encode(mtype, seq, flags, ptype, payload):
    """A frame and its MessageId (a uuid.UUID)."""
    mid = uuid.uuid4()
    b = mid.bytes
    created = int(time.time() * 1000)
    hdr = struct.pack(HDR_FMT, 116, mtype.encode().ljust(32, b" "), 1,
                      created, seq, flags, b[8:] + b[:8],
                      hashlib.sha256(payload).digest(), ptype, len(payload))
    return hdr + payload, mid


class Bad(Exception):
    pass


def decode(buf, strict):
    if len(buf) < HDR_LEN:
        raise Bad("frame of %d bytes is shorter than 120" % len(buf))
    (hl, mt, schema, created, seq, flags, wid, digest, ptype,
     plen) = struct.unpack(HDR_FMT, buf[:HDR_LEN])
    if hl != 116:
        raise Bad("HeaderLength %d" % hl)
    mtype = mt.strip(b"\x00 \t\r\n").decode("ascii", "replace")
    payload = bytes(buf[HDR_LEN:])
    if plen != len(payload):
        raise Bad("PayloadLength %d but %d bytes follow" % (plen,
                                                            len(payload)))
    m = {"type": mtype, "schema": schema, "created": created, "seq": seq,
         "flags": flags, "id": uuid.UUID(bytes=wid[8:] + wid[:8]),
         "ptype": ptype, "payload": payload}
    if mtype in ("start_publication", "pause_publication"):
        return m
    if not mtype:
        raise Bad("empty MessageType")
    if created == 0:
        raise Bad("CreatedDate 0")
    if strict and schema != 1:
        raise Bad("SchemaVersion %d" % schema)
    if strict and plen and hashlib.sha256(payload).digest() != digest:
        raise Bad("PayloadDigest does not match the payload")
    if strict and mt[:len(mtype)] != mtype.encode() and \
            mt.rstrip(b"\x00").lstrip(b"\x00") != mtype.encode():
        raise Bad("MessageType not padded with spaces or NULs")
    return m


# ---- a session (lives across WebSocket connections) -------------------------

class Session:
    def __init__(self, sid, rec, agent_version, strict):
        self.sid = sid
        self.rec = rec
        self.doc = rec.get("DocumentName", "")
        self.params = {k: (v[0] if isinstance(v, list) and v else v)
                       for k, v in (rec.get("Parameters") or {}).items()}
        self.agent_version = agent_version
        self.strict = strict
        self.ws = None
        self.queue = None
        self.writer_task = None
        self.out_seq = 0
        self.unacked = {}        # seq -> [frame, last, first, attempts, id]
        self.unacked_bytes = 0
        self.sent_ids = {}       # seq -> message id (ack checks)
        self.expected = 0
        self.inbuf = {}
        self.rtt, self.rttvar, self.rto = 0.1, 0.0, RTO_INIT
        self.hs_state = "new"    # new -> requested -> done
        self.hs_actions = []
        self.client_version = None
        self.plugin = None
        self.addrs = None       # a remote host's addresses (ToRemoteHost)
        self.ended = False
        self.paused = False
        self.paused_at = 0.0
        self.space = asyncio.Event()
        self.space.set()
        self.tasks = []
        self.conn_bytes = 0
        self.close_gen = fault("close_ws", 0)
        self.end_gen = fault("end_session", 0)
        self.opened = time.monotonic()
        self.stats = {"document": self.doc, "connections": 0,
                      "in_msgs": 0, "in_dups": 0, "in_bytes": 0,
                      "out_msgs": 0, "out_bytes": 0, "out_resent": 0,
                      "acks_in": 0, "acks_out": 0, "reacks": 0,
                      "bad_frames": 0, "nops_in": 0, "nops_out": 0,
                      "streams": 0, "mode": None, "client_version": None,
                      "not_ready": 0,
                      "ended": False, "exit_code": None,
                      "max_psh": 0, "max_payload_in": 0}

    def stat(self, k, n=1):
        self.stats[k] += n
        STATS_DIRTY[0] = True

    # -- the WebSocket ----------------------------------------------------
    def attach(self, ws):
        if self.ws is not None:
            asyncio.ensure_future(self.ws.close(1000, "replaced"))
        self.ws = ws
        self.conn_bytes = 0
        self.queue = asyncio.Queue()
        self.writer_task = asyncio.ensure_future(self.writer(ws, self.queue))
        self.stat("connections")
        # Everything unacked goes out again on the new connection.
        for e in sorted(self.unacked.items()):
            e[1][1] = 0.0
        # A pause already in force applies to a new connection too.
        self.faults_changed()
        self.update_space()

    def detach(self, ws):
        if self.ws is ws:
            self.ws = None
            if self.writer_task:
                self.writer_task.cancel()
            self.update_space()

    def written(self, seq):
        """The send time of a sequenced frame is when it left, not when it
        was queued, or a long queue looks like loss."""
        e = self.unacked.get(seq) if seq is not None else None
        if e is not None:
            e[1] = time.monotonic()

    async def writer(self, ws, q):
        held = None
        try:
            while True:
                frame, t, seq = await q.get()
                d = fault("delay_ms", 0) / 1000.0 + rtt() / 2
                if d > 0:
                    wait = t + d - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                if held is None and pct("reorder_pct") and q.empty() is False:
                    held = (frame, seq)
                    continue
                await ws.send(frame)
                self.written(seq)
                if held is not None:
                    await ws.send(held[0])
                    self.written(held[1])
                    held = None
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            pass

    def wire(self, frame, counted=True, seq=None):
        """Send one frame on the current connection, with output faults."""
        if self.ws is None:
            return
        if seq is not None and seq in self.unacked:
            self.unacked[seq][1] = -1.0     # queued: not yet on the wire
        if pct("drop_out_pct"):
            self.written(seq)
            return
        if pct("corrupt_pct") and len(frame) > HDR_LEN:
            b = bytearray(frame)
            b[HDR_LEN] ^= 0x55
            frame = bytes(b)
        now = time.monotonic()
        self.queue.put_nowait((frame, now, seq))
        if pct("dup_pct"):
            self.queue.put_nowait((frame, now, None))
        if counted:
            self.conn_bytes += len(frame) - HDR_LEN
            n = fault("close_every_bytes", 0)
            if n and self.conn_bytes >= n:
                self.conn_bytes = 0
                ws = self.ws
                log(self.sid, "closing the WebSocket (close_every_bytes)")
                asyncio.ensure_future(self.close_later(ws))

    async def close_later(self, ws):
        await asyncio.sleep(0)
        try:
            await ws.close(1000, "Bye")
        except Exception:
            pass

    # -- output (agent -> client) -------------------------------------------
    def update_space(self):
        ok = (self.ws is not None and not self.paused and not self.ended and
              len(self.unacked) < OUT_WINDOW and
              self.unacked_bytes < OUT_WINDOW_BYTES)
        if ok:
            self.space.set()
        else:
            self.space.clear()

    async def room(self):
        while not self.space.is_set():
            await self.space.wait()
            self.update_space()

    def send_data(self, ptype, payload, flags=0):
        seq = self.out_seq
        self.out_seq += 1
        frame, mid = encode("output_stream_data", seq, flags, ptype,
                            payload)
        now = time.monotonic()
        self.unacked[seq] = [frame, now, now, 0]
        self.unacked_bytes += len(frame)
        self.sent_ids[seq] = mid
        if len(self.sent_ids) > 300000:
            for k in sorted(self.sent_ids)[:100000]:
                del self.sent_ids[k]
        self.stat("out_msgs")
        self.stat("out_bytes", len(payload))
        if self.ws is not None and not self.paused:
            self.wire(frame, seq=seq)
        else:
            self.unacked[seq][1] = 0.0
        self.update_space()

    def send_control(self, mtype, payload=b""):
        frame, _ = encode(mtype, 0, 0, 0, payload)
        self.wire(frame, counted=False)

    async def resender(self):
        while not self.ended or self.unacked:
            await asyncio.sleep(min(0.05, max(0.01, self.rto / 2)))
            if self.ws is None or self.paused:
                continue
            now = time.monotonic()
            n = 0
            for seq in sorted(self.unacked):
                e = self.unacked[seq]
                if e[1] < 0:
                    continue            # still in the write queue
                backoff = min(self.rto * (1 << min(e[3], 3)), 2.0)
                if e[1] and now - e[1] <= backoff:
                    continue
                if e[1]:
                    e[3] += 1
                    self.stat("out_resent")
                self.wire(e[0], counted=False, seq=seq)
                n += 1
                if n >= 64:
                    break

    def on_ack(self, m):
        try:
            a = json.loads(m["payload"])
        except ValueError:
            violation(self.sid, "ack payload is not JSON")
            return
        if self.strict:
            want = {"AcknowledgedMessageType", "AcknowledgedMessageId",
                    "AcknowledgedMessageSequenceNumber",
                    "IsSequentialMessage"}
            if set(a) != want:
                violation(self.sid, "ack fields %s" % sorted(a))
            if a.get("IsSequentialMessage") is not True:
                violation(self.sid, "ack IsSequentialMessage not true")
            if m["flags"] != 3 or m["seq"] != 0 or m["ptype"] != 0:
                violation(self.sid, "ack header flags %d seq %d ptype %d" %
                          (m["flags"], m["seq"], m["ptype"]))
            if a.get("AcknowledgedMessageType") != "output_stream_data":
                violation(self.sid, "ack names type %r" %
                          a.get("AcknowledgedMessageType"))
        seq = a.get("AcknowledgedMessageSequenceNumber")
        if not isinstance(seq, int):
            violation(self.sid, "ack without an integer sequence number")
            return
        mid = self.sent_ids.get(seq)
        if mid is not None and a.get("AcknowledgedMessageId") != str(mid):
            violation(self.sid, "ack for seq %d names id %s, sent %s" %
                      (seq, a.get("AcknowledgedMessageId"), mid))
        if seq >= self.out_seq:
            violation(self.sid, "ack for seq %d never sent" % seq)
        self.stat("acks_in")
        e = self.unacked.pop(seq, None)
        if e is None:
            return
        self.unacked_bytes -= len(e[0])
        r = time.monotonic() - e[1] if e[1] > 0 else 0.0
        self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.rtt - r)
        self.rtt = 0.875 * self.rtt + 0.125 * r
        self.rto = min(RTO_MAX, self.rtt + max(0.01, 4 * self.rttvar))
        self.update_space()

    def send_ack(self, m):
        if fault("withhold_acks", False):
            return
        body = json.dumps({
            "AcknowledgedMessageType": m["type"],
            "AcknowledgedMessageId": str(m["id"]),
            "AcknowledgedMessageSequenceNumber": m["seq"],
            "IsSequentialMessage": True}, separators=(",", ":")).encode()
        frame, _ = encode("acknowledge", 0, 3, 0, body)
        self.stat("acks_out")
        self.wire(frame, counted=False)

    # -- input (client -> agent) ---------------------------------------------
    def on_frame(self, raw):
        if pct("drop_in_pct"):
            return
        try:
            m = decode(raw, self.strict)
        except Bad as e:
            self.stat("bad_frames")
            violation(self.sid, "bad frame: %s" % e)
            return
        t = m["type"]
        if t == "acknowledge":
            self.on_ack(m)
        elif t == "input_stream_data":
            self.on_input(m)
        else:
            violation(self.sid, "unexpected message type %r" % t)

    def on_input(self, m):
        seq = m["seq"]
        if self.strict and m["flags"] != 0:
            violation(self.sid, "input seq %d has Flags %d" % (seq,
                                                              m["flags"]))
        if self.paused and time.monotonic() - self.paused_at > PAUSE_GRACE \
                and m["ptype"] == PT_OUTPUT:
            violation(self.sid, "data seq %d sent during "
                      "pause_publication" % seq)
        if seq < self.expected:
            self.stat("in_dups")
            self.stat("reacks")
            self.send_ack(m)
            return
        if seq > self.expected:
            if seq in self.inbuf:
                self.stat("in_dups")
            elif len(self.inbuf) >= IN_BUFFER:
                return                  # full: no ack, it comes again
            else:
                self.inbuf[seq] = m
            self.send_ack(m)
            return
        if self.plugin is not None and self.plugin.congested():
            # The destination is not reading: the handler is not ready,
            # so no ack and no progress (the client resends later).
            self.stat("not_ready")
            return
        self.send_ack(m)
        self.process(m)
        self.expected += 1
        while self.expected in self.inbuf:
            self.process(self.inbuf.pop(self.expected))
            self.expected += 1

    def process(self, m):
        self.stat("in_msgs")
        self.stats["max_payload_in"] = max(self.stats["max_payload_in"],
                                           len(m["payload"]))
        pt = m["ptype"]
        if self.hs_state != "done":
            if pt == PT_HS_RESP and self.hs_state == "requested":
                self.on_hs_response(m["payload"])
            else:
                violation(self.sid, "input seq %d (payload type %d) before "
                          "the handshake completed" % (m["seq"], pt))
            return
        if self.ended:
            return
        if pt == PT_OUTPUT:
            self.stat("in_bytes", len(m["payload"]))
            self.plugin.input(m["payload"])
        elif pt == PT_FLAG:
            if len(m["payload"]) != 4:
                violation(self.sid, "flag payload of %d bytes" %
                          len(m["payload"]))
                return
            code = struct.unpack(">I", m["payload"])[0]
            if code == FLAG_DISCONNECT:
                self.plugin.disconnect()
            elif code == FLAG_TERMINATE:
                log(self.sid, "TerminateSession flag")
                asyncio.ensure_future(self.end(""))
            else:
                violation(self.sid, "unknown flag %d" % code)
        elif pt == PT_SIZE:
            pass
        else:
            violation(self.sid, "input payload type %d" % pt)

    # -- handshake ----------------------------------------------------------------
    def properties(self):
        p = self.params
        if self.doc == "AWS-StartNonInteractiveCommand":
            return "NonInteractiveCommands", {"linux": {
                "commands": p.get("command", ""), "runAsElevated": False,
                "separateOutputStream": p.get("separateOutputStream",
                                              "false"),
                "stdoutSeparatorPrefix": p.get("stdoutSeparatorPrefix", ""),
                "stderrSeparatorPrefix": p.get("stderrSeparatorPrefix", "")}}
        props = {"portNumber": p.get("portNumber", "22" if self.doc ==
                                     "AWS-StartSSHSession" else "80")}
        if self.doc in ("AWS-StartPortForwardingSession",
                        "AWS-StartPortForwardingSessionToRemoteHost"):
            props["type"] = "LocalPortForwarding"
            props["localPortNumber"] = p.get("localPortNumber", "0")
            if "host" in p:
                props["host"] = p["host"]
        return "Port", props

    def start_handshake(self):
        stype, props = self.properties()
        acts = [{"ActionType": "SessionType", "ActionParameters": {
            "SessionType": stype, "Properties": props}}]
        if fault("kms", False):
            acts.append({"ActionType": "KMSEncryption", "ActionParameters": {
                "KMSKeyId": "arn:aws:kms:us-east-1:111122223333:key/fake",
                "Challenge": "Y2hhbGxlbmdl"}})
        if fault("unknown_action", False):
            acts.append({"ActionType": "FancyNewFeature",
                         "ActionParameters": {"Level": 3}})
        self.hs_actions = [a["ActionType"] for a in acts]
        req = {"AgentVersion": self.agent_version,
               "RequestedClientActions": acts}
        self.hs_state = "requested"
        self.hs_sent = time.monotonic()
        # OpenDataChannel in, HandshakeRequest back: one round trip.
        note_roundtrips("handshake", 1, self.sid)
        self.send_data(PT_HS_REQ, json.dumps(req).encode(), flags=1)
        self.tasks.append(asyncio.ensure_future(self.handshake_timer()))

    async def handshake_timer(self):
        await asyncio.sleep(15)
        if self.hs_state != "done" and not self.ended:
            await self.end("Handshake timed out. Please ensure that you "
                           "have the latest version of the session "
                           "manager plugin.")

    def on_hs_response(self, payload):
        try:
            r = json.loads(payload)
        except ValueError:
            violation(self.sid, "HandshakeResponse is not JSON")
            asyncio.ensure_future(self.end("bad handshake response"))
            return
        cv = r.get("ClientVersion")
        self.client_version = cv
        self.stats["client_version"] = cv
        if not isinstance(cv, str) or vtuple(cv) is None:
            violation(self.sid, "HandshakeResponse ClientVersion %r" % cv)
        acts = r.get("ProcessedClientActions")
        if not isinstance(acts, list) or \
                [a.get("ActionType") for a in acts] != self.hs_actions:
            violation(self.sid, "ProcessedClientActions %r do not answer %r"
                      % (acts, self.hs_actions))
            asyncio.ensure_future(self.end("bad handshake response"))
            return
        failed = []
        for a in acts:
            st = a.get("ActionStatus")
            t = a.get("ActionType")
            if st not in (1, 2, 3):
                violation(self.sid, "ActionStatus %r for %s" % (st, t))
            if t == "SessionType" and st != 1:
                violation(self.sid, "SessionType answered %r" % st)
            if t == "KMSEncryption" and st == 1:
                violation(self.sid, "KMSEncryption claimed without a key")
            if t == "FancyNewFeature" and st != 3:
                violation(self.sid, "unknown action answered %r, not 3" % st)
            if st != 1:
                if not a.get("Error"):
                    violation(self.sid, "failed action %s without Error" % t)
                failed.append("%s: %s" % (t, a.get("Error")))
        if failed:
            log(self.sid, "client refused:", "; ".join(failed))
            asyncio.ensure_future(self.end("Session cancelled: " +
                                           "; ".join(failed)))
            return
        # HandshakeResponse in, HandshakeComplete (and the session's
        # first output) back: one more.
        note_roundtrips("handshake", 1, self.sid)
        took = int((time.monotonic() - self.hs_sent) * 1e9)
        self.send_data(PT_HS_DONE, json.dumps({
            "HandshakeTimeToComplete": took,
            "CustomerMessage": ""}).encode())
        self.hs_state = "done"
        self.start_plugin()

    # -- session handlers ---------------------------------------------------------
    def start_plugin(self):
        stype, props = self.properties()
        if stype == "NonInteractiveCommands":
            self.plugin = Exec(self, props["linux"])
            self.stats["mode"] = "exec"
            return
        port = int(props["portNumber"])
        host = props.get("host", "")
        self.addrs = None
        if host:
            # As the agent's port plugin: resolve the host, refuse a
            # denied address (the session ends), later dial each
            # address in turn.
            self.addrs = resolve(host)
            for a in self.addrs:
                if any(ipaddress.ip_address(a) == ipaddress.ip_address(d)
                       for d in DENIED_REMOTE_IPS):
                    log(self.sid, "denied remote host", host)
                    asyncio.ensure_future(self.end(
                        "Forwarding to IP address %s is forbidden." % host))
                    return
        else:
            host = "127.0.0.1"
            # The remote's well-known ports live elsewhere on this machine.
            port = PORT_MAP.get(port, port)
        lpf = props.get("type") == "LocalPortForwarding"
        cv = self.client_version or "0.0.0.0"
        mux = (lpf and vcmp(self.agent_version, "3.0.196.0") == 1 and
               vcmp(cv, "1.1.70") in (0, 1))
        if mux:
            ka = (vcmp(self.agent_version, "3.1.1511.0") != 1 or
                  vcmp(cv, "1.2.331.0") != 1)
            self.plugin = Mux(self, host, port, ka)
            self.stats["mode"] = "mux-keepalive" if ka else "mux"
        else:
            self.plugin = Basic(self, host, port, raw=not lpf)
            self.stats["mode"] = "basic" if lpf else "raw"
        log(self.sid, "mode", self.stats["mode"], "->", host, port)

    async def end(self, output):
        if self.ended:
            return
        self.ended = True
        self.stats["ended"] = True
        STATS_DIRTY[0] = True
        if self.plugin is not None:
            self.plugin.stop()
        body = json.dumps({
            "MessageId": str(uuid.uuid4()),
            "CreatedDate": time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                         time.gmtime()),
            "DestinationId": self.sid, "SessionId": self.sid,
            "MessageType": "channel_closed", "SchemaVersion": 1,
            "Output": output}).encode()
        self.send_control("channel_closed", body)
        for t in self.tasks:
            t.cancel()
        await asyncio.sleep(0.2)
        if self.ws is not None:
            try:
                await self.ws.close(1000, "Bye")
            except Exception:
                pass

    async def wait_acked(self, limit):
        end = time.monotonic() + limit
        while self.unacked and time.monotonic() < end:
            await asyncio.sleep(0.02)

    async def finish(self, output=""):
        """End after everything sent so far was acknowledged."""
        await self.wait_acked(10)
        await self.end(output)

    # -- faults that act on their own ---------------------------------------------
    def faults_changed(self):
        if fault("pause", False) and not self.paused:
            self.paused = True
            self.paused_at = time.monotonic()
            self.send_control("pause_publication")
            log(self.sid, "pause_publication")
        elif not fault("pause", False) and self.paused:
            self.paused = False
            self.send_control("start_publication")
            log(self.sid, "start_publication")
        self.update_space()
        g = fault("close_ws", 0)
        if g != self.close_gen:
            self.close_gen = g
            if self.ws is not None:
                log(self.sid, "closing the WebSocket (close_ws)")
                asyncio.ensure_future(self.close_later(self.ws))
        g = fault("end_session", 0)
        if g != self.end_gen:
            self.end_gen = g
            asyncio.ensure_future(self.end(fault("end_output", "")))


# ---- destinations ----------------------------------------------------------------

def resolve(host):
    """The addresses of host in the resolver's order, [] when none."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        a = info[4][0]
        if a not in out:
            out.append(a)
    return out


async def dial(host, port, addrs):
    """The agent's DialCall: no remote host dials the instance itself;
    else each resolved address in turn, the first error kept."""
    if addrs is None:
        return await asyncio.open_connection(host, port)
    first = None
    for a in addrs:
        try:
            return await asyncio.open_connection(a, port)
        except OSError as e:
            first = first or e
    raise first or OSError("missing address")


# ---- smux v1 server ------------------------------------------------------------

class Mux:
    def __init__(self, sess, host, port, keepalive):
        self.sess, self.host, self.port = sess, host, port
        self.keepalive = keepalive
        self.inbuf = bytearray()
        self.streams = {}
        self.last_syn = 1
        self.out = bytearray()
        self.off = 0
        self.ready = asyncio.Event()
        self.drained = asyncio.Event()
        self.drained.set()
        self.dead = False
        self.last_rx = time.monotonic()
        sess.tasks.append(asyncio.ensure_future(self.pump()))
        if keepalive:
            sess.tasks.append(asyncio.ensure_future(self.keepalive_loop()))

    def kill(self, why):
        if not self.dead:
            self.dead = True
            violation(self.sess.sid, why)
            asyncio.ensure_future(self.sess.end("smux session closed"))

    def input(self, data):
        self.inbuf += data
        b = self.inbuf
        while len(b) >= 8 and not self.dead:
            ver, cmd, ln, sid = struct.unpack("<BBHI", b[:8])
            if ver != 1:
                return self.kill("smux version %d" % ver)
            if cmd not in (SMUX_SYN, SMUX_FIN, SMUX_PSH, SMUX_NOP):
                return self.kill("smux command %d" % cmd)
            if cmd != SMUX_PSH and ln != 0:
                return self.kill("smux cmd %d with length %d" % (cmd, ln))
            if len(b) < 8 + ln:
                break
            data = bytes(b[8:8 + ln])
            del b[:8 + ln]
            self.last_rx = time.monotonic()
            self.frame(cmd, sid, data)

    def frame(self, cmd, sid, data):
        s = self.sess
        if cmd == SMUX_NOP:
            s.stat("nops_in")
            if not self.keepalive:
                violation(s.sid, "smux NOP with keepalive off (it keeps "
                          "idle sessions alive)")
            return
        if cmd == SMUX_SYN:
            if sid % 2 != 1 or sid < 3 or sid <= self.last_syn:
                violation(s.sid, "SYN for stream id %d (want odd, from 3, "
                          "increasing)" % sid)
            self.last_syn = max(self.last_syn, sid)
            if sid in self.streams:
                return
            st = MuxStream(self, sid)
            self.streams[sid] = st
            s.stat("streams")
            st.task = asyncio.ensure_future(st.run())
            return
        st = self.streams.get(sid)
        if cmd == SMUX_PSH:
            s.stats["max_psh"] = max(s.stats["max_psh"], len(data))
            if len(data) > 32768:
                violation(s.sid, "PSH of %d bytes (max 32768)" % len(data))
            if st is None:
                if sid > self.last_syn:
                    violation(s.sid, "PSH for stream %d never opened" % sid)
                return
            st.write(data)
        elif cmd == SMUX_FIN:
            if st is not None:
                st.remote_fin()

    def send_frame(self, cmd, sid, data=b""):
        self.out += struct.pack("<BBHI", 1, cmd, len(data), sid) + data
        self.ready.set()
        if len(self.out) - self.off > MUX_OUT_MAX:
            self.drained.clear()

    async def room(self):
        while not self.drained.is_set():
            await self.drained.wait()

    async def pump(self):
        """Cut the smux byte stream into data messages (any boundary)."""
        while True:
            await self.ready.wait()
            self.ready.clear()
            while len(self.out) > self.off:
                await self.sess.room()
                if self.dead and self.sess.ended:
                    return
                n = int(fault("chunk_size", 1024) or 1024)
                piece = bytes(self.out[self.off:self.off + n])
                self.off += len(piece)
                if self.off > 65536 and self.off * 2 > len(self.out):
                    del self.out[:self.off]
                    self.off = 0
                self.sess.send_data(PT_OUTPUT, piece)
                if len(self.out) - self.off <= MUX_OUT_MAX // 2:
                    self.drained.set()
                await paced()

    async def keepalive_loop(self):
        while not self.sess.ended:
            ms = fault("smux_keepalive_ms", 10000) or 10000
            await asyncio.sleep(ms / 1000.0)
            if self.sess.hs_state == "done" and self.sess.ws is not None:
                self.sess.stat("nops_out")
                self.send_frame(SMUX_NOP, 0)
            if time.monotonic() - self.last_rx > 3 * ms / 1000.0 and \
                    self.sess.ws is not None:
                log(self.sess.sid, "smux keepalive timeout")
                await self.sess.end("smux keepalive timeout")
                return

    def disconnect(self):
        violation(self.sess.sid, "DisconnectToPort in mux mode")

    def congested(self):
        return any(st.buffered() > DEST_MAX for st in self.streams.values())

    def stop(self):
        self.dead = True
        for st in list(self.streams.values()):
            st.close()


class MuxStream:
    def __init__(self, mux, sid):
        self.mux, self.sid = mux, sid
        self.writer = None
        self.pending = []
        self.fin_sent = False
        self.closed = False
        self.task = None

    async def run(self):
        m = self.mux
        try:
            reader, self.writer = await dial(m.host, m.port,
                                             m.sess.addrs)
        except OSError as e:
            log(m.sess.sid, "stream", self.sid, "dial failed:", e)
            m.sess.send_data(PT_FLAG, struct.pack(">I", FLAG_CONNECT_ERROR))
            self.send_fin()
            m.streams.pop(self.sid, None)
            return
        for d in self.pending:
            self.writer.write(d)
        self.pending = []
        if self.closed:
            self.close()
            return
        try:
            while True:
                await m.room()
                data = await reader.read(32768)
                if not data:
                    break
                m.send_frame(SMUX_PSH, self.sid, data)
        except (OSError, asyncio.CancelledError):
            pass
        self.send_fin()
        self.close()

    def write(self, data):
        if self.closed:
            return
        if self.writer is None:
            self.pending.append(data)
        else:
            self.writer.write(data)

    def buffered(self):
        if self.writer is None:
            return sum(len(d) for d in self.pending)
        return self.writer.transport.get_write_buffer_size()

    def send_fin(self):
        if not self.fin_sent:
            self.fin_sent = True
            self.mux.send_frame(SMUX_FIN, self.sid)

    def remote_fin(self):
        # The real agent closes the destination and the stream.
        self.closed = True
        if self.writer is not None:
            asyncio.ensure_future(self.drain_close())

    async def drain_close(self):
        try:
            await self.writer.drain()
        except OSError:
            pass
        self.close()
        self.send_fin()

    def close(self):
        self.closed = True
        if self.writer is not None:
            self.writer.close()
        self.mux.streams.pop(self.sid, None)


# ---- basic and raw (one destination connection) ----------------------------------

class Basic:
    def __init__(self, sess, host, port, raw):
        self.sess, self.host, self.port, self.raw = sess, host, port, raw
        self.writer = None
        self.connecting = None
        self.pending = []
        self.reader_task = None
        self.gen = 0
        self.connecting = asyncio.ensure_future(self.dial())

    async def dial(self):
        s = self.sess
        try:
            reader, writer = await dial(self.host, self.port,
                                        self.sess.addrs)
        except OSError as e:
            log(s.sid, "dial failed:", e)
            self.connecting = None
            if self.raw:
                await s.end("Connection to destination port failed")
            else:
                s.send_data(PT_FLAG, struct.pack(">I", FLAG_CONNECT_ERROR))
                self.pending = []
            return
        self.writer = writer
        self.gen += 1
        for d in self.pending:
            writer.write(d)
        self.pending = []
        self.connecting = None
        self.reader_task = asyncio.ensure_future(self.pump(reader, writer,
                                                           self.gen))

    async def pump(self, reader, writer, gen):
        s = self.sess
        try:
            while True:
                await s.room()
                data = await reader.read(int(fault("chunk_size", 1024) or
                                             1024))
                if not data:
                    break
                if gen != self.gen:
                    return
                s.send_data(PT_OUTPUT, data)
                await paced()
        except (OSError, asyncio.CancelledError):
            return
        if gen != self.gen:
            return
        writer.close()
        self.writer = None
        if self.raw:
            # No type: destination EOF ends the session.
            await s.finish("")
        # LocalPortForwarding: the client is not told; redial on data.

    def input(self, data):
        if self.writer is not None:
            self.writer.write(data)
            return
        self.pending.append(data)
        if self.connecting is None:
            self.connecting = asyncio.ensure_future(self.dial())

    def congested(self):
        if self.writer is None:
            return sum(len(d) for d in self.pending) > DEST_MAX
        return self.writer.transport.get_write_buffer_size() > DEST_MAX

    def disconnect(self):
        if self.raw:
            violation(self.sess.sid, "DisconnectToPort in a raw session")
        self.gen += 1
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.reader_task is not None:
            self.reader_task.cancel()

    def stop(self):
        self.gen += 1
        if self.writer is not None:
            self.writer.close()


# ---- NonInteractiveCommand -----------------------------------------------------------

class Exec:
    # Control bytes the agent turns into signals (ByteControlSignalsLinux).
    SIGNALS = {0x03: signal.SIGINT, 0x1C: signal.SIGQUIT, 0x1A: signal.SIGTSTP}

    def __init__(self, sess, props):
        self.sess = sess
        self.proc = None
        sep = str(props.get("separateOutputStream", "false")).lower()
        if sep not in ("true", "false"):
            violation(sess.sid, "separateOutputStream %r is neither true "
                      "nor false" % sep)
        self.separate = sep == "true"
        sess.tasks.append(asyncio.ensure_future(self.run(props["commands"])))

    async def copy(self, stream, ptype):
        s = self.sess
        while True:
            await s.room()
            data = await stream.read(int(fault("chunk_size", 1024) or 1024))
            if not data:
                return
            s.send_data(ptype, data)

    async def run(self, command):
        s = self.sess
        # Like the agent: words split as by a shell, no shell run.
        try:
            lex = shlex.shlex(command, posix=True)
            lex.whitespace_split = True
            argv = list(lex)
        except ValueError as e:
            argv = None
            why = "Failed to parse commands input: %s\n" % e
        if argv == []:
            argv = None
            why = "Failed to parse commands input: empty command\n"
        if argv is not None:
            err = asyncio.subprocess.PIPE if self.separate else \
                asyncio.subprocess.STDOUT
            env = None
            if ARGS.exec_root:
                argv = ["chroot", ARGS.exec_root] + argv
                env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                       "/usr/bin:/sbin:/bin", "HOME": "/root",
                       "LANG": "C.UTF-8", "USER": "root", "LOGNAME": "root"}
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE, stderr=err,
                    start_new_session=True, env=env)
            except OSError as e:
                why = "Error occurred starting the command: %s\n" % e
                argv = None
        if argv is None:
            log(s.sid, why.strip())
            if self.separate:
                s.send_data(PT_EXIT, b"EXIT_CODE: 1")
            s.send_data(PT_OUTPUT, ("Unable to start command: %s" %
                                    why).encode())
            await s.finish("")
            return
        if self.separate:
            await asyncio.gather(self.copy(self.proc.stdout, PT_OUTPUT),
                                 self.copy(self.proc.stderr, PT_STDERR))
            rc = await self.proc.wait()
        else:
            # The agent sends a command's mixed output from its output
            # file once the command has exited (shell.go, writePump), at
            # most 1024 bytes a message, sleeping 1 ms after each.
            out = await self.proc.stdout.read()
            rc = await self.proc.wait()
            n = int(fault("chunk_size", 1024) or 1024)
            for i in range(0, len(out), n):
                await s.room()
                s.send_data(PT_OUTPUT, out[i:i + n])
                await paced()
        s.stats["exit_code"] = rc
        if self.separate:
            # Go's ExitCode() is -1 for a process killed by a signal.
            s.send_data(PT_EXIT, b"EXIT_CODE: %d" % (rc if rc >= 0 else -1))
        await s.finish("")

    def input(self, data):
        # The command's stdin is /dev/null: the agent only looks for a
        # control byte to signal the command with, and drops the rest.
        for b in data:
            sig = self.SIGNALS.get(b)
            if sig is not None and self.proc is not None and \
                    self.proc.returncode is None:
                log(self.sess.sid, "signal %d to the command" % sig)
                self.proc.send_signal(sig)
                return

    def congested(self):
        return False

    def disconnect(self):
        violation(self.sess.sid, "DisconnectToPort to a command session")

    def stop(self):
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, 15)
            except OSError:
                pass


# ---- WebSocket server -------------------------------------------------------------------

def session_file(sid):
    return os.path.join(STATE, "sessions", sid + ".json")


def read_record(sid):
    try:
        with open(session_file(sid)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def sid_from_path(path):
    p, _, q = path.partition("?")
    pre = "/v1/data-channel/"
    if not p.startswith(pre) or "/" in p[len(pre):] or len(p) == len(pre):
        return None, q
    return p[len(pre):], q


async def process_request(path, headers, made_at):
    sid, q = sid_from_path(path)
    if sid is None:
        return (HTTPStatus.NOT_FOUND, [], b"no such data channel\n")
    if "role=publish_subscribe" not in q.split("&"):
        return (HTTPStatus.BAD_REQUEST, [], b"role=publish_subscribe missing\n")
    # A new TCP + TLS connection, paid from when it came (a client may
    # open it ahead of its request), then the upgrade's own round trip.
    n = int(fault("conn_rtts", 2))
    note_roundtrips("upgrade", n + 1, sid,
                    waited_ms=int((time.monotonic() - made_at) * 1000))
    if rtt() > 0:
        ready = made_at + n * rtt()
        await asyncio.sleep(max(ready - time.monotonic(), 0) + rtt())
    if sid in SESSIONS and fault("refuse_resume", False):
        log(sid, "refusing a second connection (refuse_resume)")
        return (HTTPStatus.FORBIDDEN, [], b"resume refused\n")
    return None


def in_delay():
    return float(fault("delay_in_ms", 0) or 0) / 1000.0 + rtt() / 2


async def deliver(sess, q):
    """Input frames reach the agent a one-way delay after they were sent,
    in order."""
    while True:
        t, msg = await q.get()
        try:
            wait = t + in_delay() - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            sess.on_frame(msg)
        finally:
            q.task_done()


async def handler(ws, path):
    sid, _ = sid_from_path(path)
    try:
        first = await asyncio.wait_for(ws.recv(), 10)
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        return
    if in_delay() > 0:
        await asyncio.sleep(in_delay())
    if not isinstance(first, str):
        violation(sid, "first message is binary, not the OpenDataChannel "
                  "text frame")
        await ws.close(1008, "expected OpenDataChannel")
        return
    try:
        od = json.loads(first)
    except ValueError:
        violation(sid, "OpenDataChannel is not JSON")
        await ws.close(1008, "bad OpenDataChannel")
        return
    rec = None
    for _ in range(40):
        rec = read_record(sid)
        if rec is not None:
            break
        await asyncio.sleep(0.05)
    tok = od.get("TokenValue")
    if rec is None or tok not in (rec.get("Tokens") or []):
        log(sid, "unknown session or token")
        await ws.close(1008, "invalid token")
        return
    if rec.get("Status", "Active") != "Active":
        await ws.close(1008, "session terminated")
        return
    if tok in USED_TOKENS:
        violation(sid, "token used twice (ResumeSession gives a new one)")
        await ws.close(1008, "token already used")
        return
    USED_TOKENS.add(tok)
    if od.get("MessageSchemaVersion") != "1.0":
        violation(sid, "MessageSchemaVersion %r" %
                  od.get("MessageSchemaVersion"))
    try:
        uuid.UUID(od.get("RequestId", ""))
    except (ValueError, TypeError, AttributeError):
        violation(sid, "RequestId %r is not a UUID" % od.get("RequestId"))
    sess = SESSIONS.get(sid)
    if sess is not None and sess.ended:
        await ws.close(1008, "session ended")
        return
    if sess is None:
        sess = Session(sid, rec, fault("agent_version", "") or
                       ARGS.agent_version, not ARGS.lenient)
        sess.client_id = od.get("ClientId")
        SESSIONS[sid] = sess
        sess.tasks.append(asyncio.ensure_future(sess.resender()))
        log(sid, "open", sess.doc, json.dumps(sess.params)[:200])
    elif sess.client_id != od.get("ClientId"):
        violation(sid, "ClientId changed on resume")
    else:
        log(sid, "resumed")
    sess.attach(ws)
    if sess.hs_state == "new":
        sess.start_handshake()
    inq = asyncio.Queue()
    feeder = asyncio.ensure_future(deliver(sess, inq))
    try:
        async for msg in ws:
            if isinstance(msg, str):
                violation(sid, "text frame after OpenDataChannel")
                continue
            # Through the queue while any frame is on its way: in order.
            if in_delay() > 0 or inq._unfinished_tasks:
                inq.put_nowait((time.monotonic(), msg))
            else:
                sess.on_frame(msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        # Frames already on their way still arrive.
        try:
            await asyncio.wait_for(inq.join(), 5)
        except asyncio.TimeoutError:
            pass
        feeder.cancel()
        sess.detach(ws)


async def watcher():
    """Re-read the faults file, watch for TerminateSession, save stats."""
    global FAULTS
    mtime = None
    last_stats = 0.0
    while True:
        await asyncio.sleep(0.1)
        if ARGS.faults:
            try:
                m = os.stat(ARGS.faults).st_mtime_ns
                if m != mtime:
                    mtime = m
                    with open(ARGS.faults) as f:
                        FAULTS = json.load(f) or {}
                    log("faults", json.dumps(FAULTS))
                    for s in SESSIONS.values():
                        s.faults_changed()
            except (OSError, ValueError):
                pass
        now = time.monotonic()
        if now - last_stats >= 0.5:
            last_stats = now
            for s in list(SESSIONS.values()):
                if s.ended:
                    continue
                if fake_lifecycle.agent_offline(STATE, s.rec.get("Target",
                                                                 ""),
                                                time.time()):
                    # The instance shuts down: so does its agent.
                    log(s.sid, "instance stopped: the agent is offline")
                    asyncio.ensure_future(s.end(""))
                    continue
                limit = float(fault("max_session_s", 0) or 0)
                if limit > 0 and now - s.opened >= limit:
                    log(s.sid, "maximum session duration (max_session_s)")
                    s.stats["max_duration"] = True
                    asyncio.ensure_future(s.end(
                        "Your session has reached its maximum duration "
                        "and has been terminated."))
                    continue
                rec = read_record(s.sid)
                if rec is not None and rec.get("Status") == "Terminated":
                    log(s.sid, "TerminateSession")
                    s.stats["terminated"] = True
                    await s.end("")
            if STATS_DIRTY[0]:
                STATS_DIRTY[0] = False
                tmp = os.path.join(STATE, "agent-stats.json.tmp")
                with open(tmp, "w") as f:
                    json.dump({k: s.stats for k, s in SESSIONS.items()}, f,
                              indent=1)
                os.rename(tmp, os.path.join(STATE, "agent-stats.json"))


class Protocol(websockets.legacy.server.WebSocketServerProtocol):
    """A connection that knows when it came: the StreamUrl's host is known
    before StartSession answers, so a client may connect ahead, and its
    TCP and TLS handshakes are then paid before its request arrives."""

    def connection_made(self, transport):
        self.made_at = time.monotonic()
        self.asked = False
        super().connection_made(transport)
        # A front end closes a connection that asks nothing for a while.
        ms = float(fault("idle_close_ms", 0) or 0)
        if ms > 0:
            asyncio.get_event_loop().call_later(ms / 1000.0, self.idle)

    def idle(self):
        if not self.asked:
            self.transport.close()

    def waited(self, name):
        """Did the request come fault `name` ms or more after the
        connection (the fault set and not 0)?"""
        ms = float(fault(name, 0) or 0)
        return ms > 0 and time.monotonic() - self.made_at >= ms / 1000.0

    async def process_request(self, path, headers):
        self.asked = True
        # The same front end racing the request: it had given up already.
        if self.waited("idle_drop_ms"):
            self.transport.abort()
            return (HTTPStatus.SERVICE_UNAVAILABLE, [], b"")
        # A connection made before a network change: silent for good.
        if self.waited("idle_stall_ms"):
            await asyncio.sleep(3600)
        return await process_request(path, headers, self.made_at)


async def main():
    tls = None
    if ARGS.tls:
        # wss:// as MGS serves it; the client must verify this certificate.
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
    async with websockets.legacy.server.serve(
            handler, "127.0.0.1", ARGS.port, ssl=tls,
            create_protocol=Protocol, compression=None,
            max_size=64 << 20, max_queue=256, ping_interval=20,
            ping_timeout=60, read_limit=1 << 20, write_limit=1 << 20):
        log("fake SSM agent %s on %s://127.0.0.1:%d" % (
            ARGS.agent_version, "wss" if tls else "ws", ARGS.port))
        await watcher()


def report(what):
    """Answer a test's question about DIR; the exit status is the answer
    for checks, numbers are printed."""
    def stats():
        try:
            with open(os.path.join(STATE, "agent-stats.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def records():
        out = []
        for fn in sorted(os.listdir(os.path.join(STATE, "sessions"))):
            if fn.endswith(".json"):
                with open(os.path.join(STATE, "sessions", fn)) as f:
                    out.append(json.load(f))
        return out

    cmd, arg = what[0], (what[1] if len(what) > 1 else None)
    if cmd == "sessions":          # sessions started for document ARG
        print(sum(r.get("DocumentName") == arg for r in records()))
    elif cmd == "terminated":      # every session was terminated
        left = [r["SessionId"] for r in records()
                if r.get("Status") != "Terminated"]
        for sid in left:
            print("# not terminated:", sid)
        return 1 if left else 0
    elif cmd == "violations":      # none recorded
        try:
            with open(os.path.join(STATE, "violations.log")) as f:
                v = f.read()
        except OSError:
            v = ""
        for line in v.splitlines():
            print("#", line)
        return 1 if v.strip() else 0
    elif cmd == "stat":            # counter ARG summed over sessions
        print(sum(v.get(arg) or 0 for v in stats().values()
                  if isinstance(v.get(arg), (int, float))))
    elif cmd == "mode":            # some session ran in mode ARG
        return 0 if any(v.get("mode") == arg
                        for v in stats().values()) else 1
    else:
        print("fake_agent: unknown report %r" % cmd, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--port", type=int)
    ap.add_argument("--state", required=True)
    ap.add_argument("--report", nargs="+", metavar="WHAT",
                    help="sessions DOC | terminated | violations | "
                    "stat NAME | mode MODE (for tests; no server)")
    ap.add_argument("--agent-version", default="3.3.40.0")
    ap.add_argument("--faults")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="serve wss:// with this certificate and key")
    ap.add_argument("--exec-root", metavar="ROOT",
                    help="run commands inside this root (chroot)")
    ap.add_argument("--port-map", action="append", default=[],
                    metavar="FROM=TO",
                    help="a session to port FROM dials TO (e.g. 22=2222: "
                    "the remote's sshd)")
    ap.add_argument("--lenient", action="store_true",
                    help="accept bogus digests (the npm ssm-session client)")
    ARGS = ap.parse_args()
    STATE = os.path.abspath(ARGS.state)
    for m in ARGS.port_map:
        a, _, b = m.partition("=")
        PORT_MAP[int(a)] = int(b)
    os.makedirs(os.path.join(STATE, "sessions"), exist_ok=True)
    if ARGS.report:
        sys.exit(report(ARGS.report))
    if ARGS.port is None:
        ap.error("--port is required to serve")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
