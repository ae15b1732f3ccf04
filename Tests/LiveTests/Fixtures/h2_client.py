#!/usr/bin/env python3
"""HTTP/2 clients built on Python's h2 library (PyPI: h2, with its hpack and hyperframe), for the http2
stage's live tests (Tests/LiveTests/HTTP2PythonLiveTests.swift). A second implementation of the protocol,
written by other people, checks that httpkit's is the same protocol and not only self-consistent.

    python3 h2_client.py MODE PORT ROOT

ROOT is the folder the server serves (the test writes big.bin, a.txt and b.txt there). MODE is one of:
  interleave  seven streams on one connection in one write: a 1.5 MB file, small files, an echo, and a POST
              whose body goes in two DATA frames between other streams' HEADERS. Every body must arrive
              whole and byte-identical; the big file, asked first, must finish last.
  flow        a client with a 1024-octet initial window asks for the big file: the server must stop at the
              window, send exactly what each WINDOW_UPDATE allows, and deliver the file byte-identical.
  errors      frames a server must refuse, each on a fresh connection, with the code RFC 9113 names:
              DATA on a closed stream (STREAM_CLOSED), an upper-case field name and a connection-specific
              field (PROTOCOL_ERROR on the stream, the connection goes on), a frame over the size limit
              (FRAME_SIZE_ERROR), a WINDOW_UPDATE overflowing the window (FLOW_CONTROL_ERROR).
Prints "ok MODE ..." and exits 0, or prints what went wrong and exits 1.
"""
import hashlib
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
import hyperframe.frame as hf

MODE, PORT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def fail(message):
    print("FAIL " + MODE + ": " + message)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def file_bytes(name):
    with open(os.path.join(ROOT, name), "rb") as f:
        return f.read()


def request_headers(path, method="GET", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1:%d" % PORT), (":path", path)] + list(extra)


class Client:
    """An h2 client connection that records what each stream received, in arrival order."""

    def __init__(self, initial_window=None, auto_ack=True):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        if initial_window is not None:
            self.conn.local_settings = h2.settings.Settings(client=True, initial_values={
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: initial_window})
        self.conn.initiate_connection()
        self.auto_ack = auto_ack
        self.headers, self.bodies, self.ended, self.resets = {}, {}, [], {}
        self.data_order = []  # the stream of each DATA frame, in arrival order
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, until, timeout=10.0):
        """Reads and handles events until until() is true; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not until():
            remaining = deadline - time.monotonic()
            expect(remaining > 0, "timed out; streams ended so far: %s, bytes: %s" % (self.ended, {k: len(v) for k, v in self.bodies.items()}))
            self.sock.settimeout(remaining)
            data = self.sock.recv(65536)
            expect(data, "the server closed the connection; streams ended so far: %s" % self.ended)
            self.handle(self.conn.receive_data(data))
            self.flush()

    def quiet(self, seconds=0.3):
        """Reads until nothing arrives for `seconds`."""
        while True:
            self.sock.settimeout(seconds)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return
            expect(data, "the server closed the connection")
            self.handle(self.conn.receive_data(data))
            self.flush()

    def handle(self, events):
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                self.headers[event.stream_id] = dict(event.headers)
            elif isinstance(event, h2.events.DataReceived):
                self.bodies.setdefault(event.stream_id, bytearray()).extend(event.data)
                self.data_order.append(event.stream_id)
                if self.auto_ack:
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self.ended.append(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self.resets[event.stream_id] = event.error_code
            elif isinstance(event, h2.events.ConnectionTerminated):
                fail("GOAWAY %s: %s" % (event.error_code, event.additional_data))

    def body(self, stream_id):
        return bytes(self.bodies.get(stream_id, b""))

    def close(self):
        self.conn.close_connection()
        self.flush()
        self.sock.close()


def interleave():
    big, a, b = file_bytes("big.bin"), file_bytes("a.txt"), file_bytes("b.txt")
    posted = b'{"interleaved": [1, 2, 3], "by": "python h2"}'
    client = Client()
    conn = client.conn
    # One write: HEADERS 1, 3 (a POST left open), 5, DATA 3, HEADERS 7, DATA 3 END_STREAM, HEADERS 9, 11, 13.
    conn.send_headers(1, request_headers("/big.bin"), end_stream=True)
    conn.send_headers(3, request_headers("/api/echo", "POST", [("content-type", "application/json")]), end_stream=False)
    conn.send_headers(5, request_headers("/a.txt"), end_stream=True)
    conn.send_data(3, posted[:20], end_stream=False)
    conn.send_headers(7, request_headers("/b.txt"), end_stream=True)
    conn.send_data(3, posted[20:], end_stream=True)
    conn.send_headers(9, request_headers("/echo/nine"), end_stream=True)
    conn.send_headers(11, request_headers("/no/such/file"), end_stream=True)
    conn.send_headers(13, request_headers("/a.txt", extra=[("range", "bytes=0-4")]), end_stream=True)
    client.flush()
    streams = [1, 3, 5, 7, 9, 11, 13]
    client.pump(lambda: all(s in client.ended or s in client.resets for s in streams), timeout=20)
    expect(not client.resets, "streams reset: %s" % client.resets)
    expected = {1: (b"200", big), 3: (b"200", posted), 5: (b"200", a), 7: (b"200", b), 9: (b"200", b"nine"), 13: (b"206", a[:5])}
    for stream_id, (status, body) in expected.items():
        got = client.headers.get(stream_id, {})
        expect(got.get(":status") == status.decode(), "stream %d: :status %s, expected %s" % (stream_id, got.get(":status"), status.decode()))
        expect(client.body(stream_id) == body, "stream %d: %d bytes (sha256 %s), expected %d" % (
            stream_id, len(client.body(stream_id)), hashlib.sha256(client.body(stream_id)).hexdigest()[:12], len(body)))
        if "content-length" in got:
            expect(int(got["content-length"]) == len(body), "stream %d: content-length %s for %d bytes" % (stream_id, got["content-length"], len(body)))
    expect(client.headers.get(11, {}).get(":status") == "404", "stream 11: %s, expected 404" % client.headers.get(11))
    # The big file was asked first; it needs many windows, so it must not hold back the small ones.
    expect(client.ended[-1] == 1, "streams ended in the order %s: the 1.5 MB stream 1 should finish last" % client.ended)
    expect(client.ended != sorted(client.ended), "streams ended in request order %s: no interleaving seen" % client.ended)
    switches = sum(1 for x, y in zip(client.data_order, client.data_order[1:]) if x != y)
    print("ok interleave: ended in the order %s; %d DATA frames, %d switches between streams" % (
        client.ended, len(client.data_order), switches))
    client.close()


def flow():
    big = file_bytes("big.bin")
    window = 1024
    client = Client(initial_window=window, auto_ack=False)
    client.conn.send_headers(1, request_headers("/big.bin"), end_stream=True)
    client.flush()
    client.pump(lambda: 1 in client.headers)
    # The server may send only what the window allows, and then it must wait.
    client.quiet(0.4)
    first = len(client.body(1))
    expect(first == window, "after the headers: %d octets of DATA with a stream window of %d (expected exactly the window)" % (first, window))
    expect(1 not in client.ended, "the stream ended early")
    # Each WINDOW_UPDATE allows exactly that much more.
    allowed = window
    for increment in (1, 4000, 65535):
        client.conn.increment_flow_control_window(increment, stream_id=1)
        client.conn.increment_flow_control_window(increment)
        client.flush()
        allowed += increment
        client.quiet(0.3)
        got = len(client.body(1))
        expect(got == allowed, "after WINDOW_UPDATE +%d: %d octets received, the window allowed %d" % (increment, got, allowed))
    # Then room for everything: the rest arrives, byte-identical.
    rest = len(big) - allowed
    client.conn.increment_flow_control_window(rest, stream_id=1)
    client.conn.increment_flow_control_window(rest)
    client.flush()
    client.pump(lambda: 1 in client.ended, timeout=20)
    body = client.body(1)
    expect(body == big, "%d bytes (sha256 %s), expected %d (sha256 %s)" % (
        len(body), hashlib.sha256(body).hexdigest()[:12], len(big), hashlib.sha256(big).hexdigest()[:12]))
    print("ok flow: stopped at %d, then at each WINDOW_UPDATE; %d bytes byte-identical" % (window, len(body)))
    client.close()


class RawClient:
    """Frames sent as bytes (hyperframe) so that a test can send what h2 itself refuses to; the server's
    frames parsed back one by one."""

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=3)
        self.encoder = hpack.Encoder()
        self.buffer = b""
        self.send(PREFACE + hf.SettingsFrame(0).serialize())
        first = self.next()
        expect(isinstance(first, hf.SettingsFrame) and "ACK" not in first.flags, "the server's first frame is %r, not SETTINGS" % first)
        self.send(hf.SettingsFrame(0, flags=["ACK"]).serialize())

    def send(self, data):
        self.sock.sendall(data)

    def headers(self, stream_id, fields, end_stream=True):
        frame = hf.HeadersFrame(stream_id, self.encoder.encode(fields), flags=["END_HEADERS"] + (["END_STREAM"] if end_stream else []))
        self.send(frame.serialize())

    def next(self):
        """The next frame, or None when the server closed (a timeout fails)."""
        while True:
            if len(self.buffer) >= 9:
                frame, length = hf.Frame.parse_frame_header(memoryview(self.buffer[:9]))
                if len(self.buffer) >= 9 + length:
                    frame.parse_body(memoryview(self.buffer[9:9 + length]))
                    self.buffer = self.buffer[9 + length:]
                    return frame
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                fail("no frame from the server within 3 s")
            if not data:
                return None
            self.buffer += data

    def until(self, wanted):
        """Frames until one for which wanted(frame) is true; that frame, or None if the server closed."""
        while True:
            frame = self.next()
            if frame is None or wanted(frame):
                return frame

    def error_for(self, stream_id):
        """The first RST_STREAM on `stream_id`, or GOAWAY: ("RST_STREAM"|"GOAWAY", code)."""
        frame = self.until(lambda f: isinstance(f, hf.GoAwayFrame) or (isinstance(f, hf.RstStreamFrame) and f.stream_id == stream_id))
        expect(frame is not None, "the connection closed without RST_STREAM or GOAWAY")
        return ("GOAWAY", frame.error_code) if isinstance(frame, hf.GoAwayFrame) else ("RST_STREAM", frame.error_code)

    def get_works(self, stream_id):
        """A GET on `stream_id` is answered with 200: the connection survived the error before it."""
        self.headers(stream_id, request_headers("/a.txt"))
        frame = self.until(lambda f: isinstance(f, (hf.HeadersFrame, hf.GoAwayFrame, hf.RstStreamFrame)) and f.stream_id in (0, stream_id))
        expect(isinstance(frame, hf.HeadersFrame), "the GET on stream %d after the error got %r" % (stream_id, frame))
        status = dict(hpack.Decoder().decode(frame.data)).get(b":status", dict(hpack.Decoder().decode(frame.data)).get(":status"))
        expect(status in (b"200", "200"), "the GET on stream %d after the error got :status %r" % (stream_id, status))

    def close(self):
        self.sock.close()


PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR = 0x1, 0x3, 0x5, 0x6


def errors():
    seen = []

    # DATA on a stream that both sides have closed: STREAM_CLOSED (§6.1: "MUST respond with a stream error").
    raw = RawClient()
    raw.headers(1, request_headers("/a.txt"))
    raw.until(lambda f: isinstance(f, hf.DataFrame) and "END_STREAM" in f.flags)
    raw.send(hf.DataFrame(1, data=b"late", flags=["END_STREAM"]).serialize())
    kind, code = raw.error_for(1)
    expect(code == STREAM_CLOSED, "DATA on closed stream 1 got %s %d, expected STREAM_CLOSED (5)" % (kind, code))
    seen.append("closed stream → %s STREAM_CLOSED" % kind)
    raw.close()

    # Upper-case field names are malformed in HTTP/2 (§8.2.1): a stream error PROTOCOL_ERROR, the connection goes on.
    raw = RawClient()
    raw.headers(1, request_headers("/a.txt", extra=[("X-Upper", "1")]))
    kind, code = raw.error_for(1)
    expect((kind, code) == ("RST_STREAM", PROTOCOL_ERROR), "an upper-case field name got %s %d, expected RST_STREAM PROTOCOL_ERROR (1)" % (kind, code))
    raw.get_works(3)
    seen.append("upper-case name → RST_STREAM PROTOCOL_ERROR, connection kept")
    raw.close()

    # A connection-specific field (§8.2.2): malformed as well.
    raw = RawClient()
    raw.headers(1, request_headers("/a.txt", extra=[("connection", "keep-alive")]))
    kind, code = raw.error_for(1)
    expect((kind, code) == ("RST_STREAM", PROTOCOL_ERROR), "connection: keep-alive got %s %d, expected RST_STREAM PROTOCOL_ERROR (1)" % (kind, code))
    raw.get_works(3)
    seen.append("connection-specific field → RST_STREAM PROTOCOL_ERROR")
    raw.close()

    # A frame over SETTINGS_MAX_FRAME_SIZE (16,384 by default): FRAME_SIZE_ERROR (§4.2).
    raw = RawClient()
    raw.headers(1, request_headers("/api/echo", "POST"), end_stream=False)
    raw.send(hf.DataFrame(1, data=b"x" * 16385, flags=["END_STREAM"]).serialize())
    kind, code = raw.error_for(1)
    expect(code == FRAME_SIZE_ERROR, "a 16,385-octet DATA frame got %s %d, expected FRAME_SIZE_ERROR (6)" % (kind, code))
    seen.append("oversized frame → %s FRAME_SIZE_ERROR" % kind)
    raw.close()

    # A WINDOW_UPDATE that takes the connection's window past 2^31-1: FLOW_CONTROL_ERROR (§6.9.1).
    raw = RawClient()
    raw.send(hf.WindowUpdateFrame(0, window_increment=2**31 - 1).serialize())
    kind, code = raw.error_for(0)
    expect((kind, code) == ("GOAWAY", FLOW_CONTROL_ERROR), "an overflowing WINDOW_UPDATE got %s %d, expected GOAWAY FLOW_CONTROL_ERROR (3)" % (kind, code))
    expect(raw.next() is None, "the connection stayed open after GOAWAY")
    seen.append("window overflow → GOAWAY FLOW_CONTROL_ERROR, closed")
    raw.close()

    print("ok errors: " + "; ".join(seen))


{"interleave": interleave, "flow": flow, "errors": errors}[MODE]()
