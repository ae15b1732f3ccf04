#!/usr/bin/env python3
"""Small HTTP servers that are wrong on purpose, one mistake each, for testing `httpkit check`.

    python3 broken_server.py MODE PORT ROOT

MODE is one of:
  no-content-length   answers 200 with a body but no Content-Length, then closes
  no-keepalive        serves ROOT correctly but closes after every response, without saying so
  one-at-a-time       serves ROOT correctly, one connection at a time (blocks behind a slow client)
  always-200          answers every path with 200, even files that do not exist
"""
import os
import socket
import sys
import threading
from email.utils import formatdate

MODE, PORT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".txt": "text/plain", ".js": "text/javascript"}


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def respond(status, body, content_type="text/plain", extra=""):
    date = formatdate(usegmt=True)
    return (f"HTTP/1.1 {status}\r\nDate: {date}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def file_response(method, path):
    path = path.split("?")[0]
    if ".." in path:
        return respond("400 Bad Request", b"bad path\n")
    if method not in ("GET", "HEAD"):
        return respond("405 Method Not Allowed", b"no\n", extra="Allow: GET, HEAD\r\n")
    full = os.path.join(ROOT, path.lstrip("/"))
    if os.path.isdir(full):
        if not path.endswith("/"):
            return respond("301 Moved Permanently", b"", extra=f"Location: {path}/\r\n")
        full = os.path.join(full, "index.html")
    if not os.path.isfile(full):
        if MODE == "always-200":
            return respond("200 OK", b"<p>everything is fine</p>", "text/html")
        return respond("404 Not Found", b"not found\n")
    with open(full, "rb") as f:
        body = f.read()
    ext = os.path.splitext(full)[1]
    response = respond("200 OK", body, TYPES.get(ext, "application/octet-stream"))
    if method == "HEAD":
        response = response[: response.index(b"\r\n\r\n") + 4]
    return response


def handle(conn):
    with conn:
        head, _ = read_head(conn)
        if head is None:
            return
        method, path = (head.split("\r\n")[0].split(" ") + ["", ""])[:2]
        if "Host:" not in head and "host:" not in head:
            conn.sendall(respond("400 Bad Request", b"no host\n"))
            return
        if MODE == "no-content-length":
            date = formatdate(usegmt=True).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nDate: " + date + b"\r\nContent-Type: text/plain\r\n\r\nHello without a length\n")
            return
        conn.sendall(file_response(method, path))


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", PORT))
server.listen(128)
while True:
    conn, _ = server.accept()
    if MODE == "one-at-a-time":
        handle(conn)
    else:
        threading.Thread(target=handle, args=(conn,), daemon=True).start()
