#!/usr/bin/env python3
"""A server such as a learner writes, correct unless one classic bug is switched on, for testing `httpkit check`.

    python3 learner_server.py [--bug BUG] [--model MODEL] [--timeout SECONDS] PORT ROOT [MARKER]

Without --bug it passes the hello, static, fork/threads (by its model) and keepalive checks: files from ROOT
with MIME types, 301/404/405, HEAD, safe paths, Date and Content-Length, 400 for a bad request, keep-alive,
pipelining, chunked request bodies, ETag/Last-Modified, 304, ranges. (MARKER is ignored: a test finds
the process by it.)

MODEL is how connections are served:
  threads     a thread per connection (the default)
  fork        a process per connection
  iterative   one connection at a time; with --timeout, a socket timeout per read (it still blocks on a
              client that trickles a byte at a time)

BUG is one classic mistake:
  bare-lf             ends lines with \\n instead of \\r\\n
  char-length         Content-Length counts characters, not bytes
  no-content-length   no Content-Length: the body ends when the connection closes
  no-date             no Date header
  one-recv            handles what one recv() returned: 400 if the head is not all there
  no-400              answers a bad request (garbage, no Host) with 200
  naive-join          joins the path to ROOT as it came: /../../etc/passwd climbs out
  dotdot-before-decode  refuses '..' before %-decoding: /%2e%2e/ climbs out
  no-keepalive        closes after every response without saying Connection: close
  pipeline-drop       keeps the connection, but drops bytes read beyond the first request
  always-200          answers a missing file with 200
"""
import argparse
import hashlib
import os
import socket
import sys
import threading
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import unquote

parser = argparse.ArgumentParser()
parser.add_argument("--bug", default="none")
parser.add_argument("--model", default="threads", choices=["threads", "fork", "iterative"])
parser.add_argument("--timeout", type=float, default=None)
parser.add_argument("port", type=int)
parser.add_argument("root")
parser.add_argument("marker", nargs="?")
ARGS = parser.parse_args()
BUG, ROOT = ARGS.bug, os.path.realpath(ARGS.root)
EOL = "\n" if BUG == "bare-lf" else "\r\n"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".txt": "text/plain; charset=utf-8",
         ".js": "text/javascript", ".png": "image/png", ".svg": "image/svg+xml"}


class BadRequest(Exception):
    pass


def response(status, body=b"", headers=None, head_only=False, close=False):
    """The bytes of a response; with char-length the length is counted on the decoded text."""
    headers = dict(headers or {})
    if BUG != "no-date":
        headers["Date"] = formatdate(usegmt=True)
    if BUG != "no-content-length":
        length = len(body)
        if BUG == "char-length":
            length = len(body.decode("utf-8", "replace"))
        headers.setdefault("Content-Length", str(length))
    if close:
        headers["Connection"] = "close"
    head = f"HTTP/1.1 {status}{EOL}" + "".join(f"{k}: {v}{EOL}" for k, v in headers.items()) + EOL
    return head.encode("latin-1") + (b"" if head_only else body)


class Connection:
    """One client's bytes: what was read and not used yet stays for the next request."""

    def __init__(self, conn):
        self.conn = conn
        self.buffer = b""

    def fill(self):
        chunk = self.conn.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def read_head(self):
        if BUG == "one-recv":
            self.fill()
            if b"\r\n\r\n" not in self.buffer:
                raise BadRequest("incomplete head")
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > 65536:
                raise BadRequest("head too large")
            self.fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        return head.decode("latin-1")

    def read_exactly(self, count):
        while len(self.buffer) < count:
            self.fill()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_line(self):
        while b"\r\n" not in self.buffer:
            self.fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read_chunked(self):
        body = b""
        while True:
            size = int(self.read_line().split(b";")[0], 16)
            if size == 0:
                while self.read_line():
                    pass
                return body
            body += self.read_exactly(size)
            self.read_line()


def parse(head):
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/") or not parts[0].isalpha():
        raise BadRequest("malformed request line")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or name != name.strip():
            raise BadRequest("malformed header")
        headers[name.lower()] = value.strip()
    if parts[2] == "HTTP/1.1" and "host" not in headers:
        raise BadRequest("no Host")
    return parts[0], parts[1], parts[2], headers


def resolve(target):
    """The file for a request target, or None when it must not be served."""
    path = target.split("?")[0]
    if BUG == "naive-join":
        return os.path.join(ROOT, path.lstrip("/"))
    if BUG == "dotdot-before-decode":
        if ".." in path:
            return None
        return os.path.join(ROOT, unquote(path).lstrip("/"))
    full = os.path.realpath(os.path.join(ROOT, unquote(path).lstrip("/")))
    if full != ROOT and not full.startswith(ROOT + os.sep):
        return None
    return full


def etag_of(stat):
    return '"' + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:16] + '"'


def file_response(method, target, headers, close):
    if method not in ("GET", "HEAD"):
        return response("405 Method Not Allowed", b"only GET and HEAD\n", {"Allow": "GET, HEAD"}, close=close)
    full = resolve(target)
    if full is None:
        return response("403 Forbidden", b"outside the root\n", close=close)
    if os.path.isdir(full):
        if not target.split("?")[0].endswith("/"):
            return response("301 Moved Permanently", b"", {"Location": target.split("?")[0] + "/"}, close=close)
        full = os.path.join(full, "index.html")
    if not os.path.isfile(full):
        if BUG == "always-200":
            return response("200 OK", b"<p>everything is fine</p>", {"Content-Type": "text/html"}, close=close)
        return response("404 Not Found", b"not found\n", {"Content-Type": "text/plain"}, close=close)
    stat = os.stat(full)
    with open(full, "rb") as f:
        body = f.read()
    etag, modified = etag_of(stat), formatdate(stat.st_mtime, usegmt=True)
    fields = {"Content-Type": TYPES.get(os.path.splitext(full)[1], "application/octet-stream"),
              "ETag": etag, "Last-Modified": modified, "Accept-Ranges": "bytes"}
    head_only = method == "HEAD"
    if headers.get("if-none-match") == etag or ("if-none-match" not in headers and not_modified_since(headers, stat)):
        fields.pop("Content-Type")
        return response("304 Not Modified", b"", {"ETag": etag, "Content-Length": "0"}, head_only=True, close=close)
    ranges = headers.get("range", "")
    if ranges.startswith("bytes=") and headers.get("if-range", etag) in (etag, modified):
        first, _, last = ranges[6:].partition("-")
        if first.isdigit():
            start = int(first)
            end = min(int(last), len(body) - 1) if last.isdigit() else len(body) - 1
            if start >= len(body):
                return response("416 Range Not Satisfiable", b"", {"Content-Range": f"bytes */{len(body)}"}, close=close)
            fields["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
            return response("206 Partial Content", body[start:end + 1], fields, head_only, close)
    return response("200 OK", body, fields, head_only, close)


def not_modified_since(headers, stat):
    try:
        return int(stat.st_mtime) <= parsedate_to_datetime(headers["if-modified-since"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return False


def handle(conn):
    if ARGS.timeout:
        conn.settimeout(ARGS.timeout)
    connection = Connection(conn)
    with conn:
        try:
            while True:
                try:
                    method, target, version, headers = parse(connection.read_head())
                except BadRequest:
                    if BUG == "no-400":
                        conn.sendall(response("200 OK", b"hello\n", {"Content-Type": "text/plain"}, close=True))
                    else:
                        conn.sendall(response("400 Bad Request", b"bad request\n", {"Content-Type": "text/plain"}, close=True))
                    return
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    connection.read_chunked()
                elif headers.get("content-length", "0").isdigit():
                    connection.read_exactly(int(headers.get("content-length", "0")))
                if BUG == "pipeline-drop":
                    connection.buffer = b""
                close = "close" in headers.get("connection", "").lower() or version == "HTTP/1.0" or BUG == "no-content-length"
                answer = file_response(method, target, headers, close)
                if BUG == "no-keepalive":
                    answer = answer.replace(b"Connection: close\r\n", b"")
                conn.sendall(answer)
                if close or BUG == "no-keepalive":
                    return
        except (EOFError, ConnectionError, socket.timeout, ValueError):
            return


def reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", ARGS.port))
server.listen(1024)
if ARGS.model == "fork":
    import signal
    signal.signal(signal.SIGCHLD, reap)
while True:
    try:
        conn, _ = server.accept()
    except InterruptedError:
        continue
    if ARGS.model == "iterative":
        handle(conn)
    elif ARGS.model == "fork":
        if os.fork() == 0:
            server.close()
            handle(conn)
            os._exit(0)
        conn.close()
    else:
        threading.Thread(target=handle, args=(conn,), daemon=True).start()
