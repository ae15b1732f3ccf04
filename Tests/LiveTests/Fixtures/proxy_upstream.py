#!/usr/bin/env python3
"""Upstream servers for the proxy's live tests, each showing the proxy something specific.

    python3 proxy_upstream.py MODE NAME

MODE is one of:
  echo     answers every request with 200 and, as the body, the request head exactly as it arrived
           (so a test sees what the proxy forwarded); keeps connections alive; reads any body
  silent   accepts connections and reads, but never answers (the proxy's read timeout)
Every response carries `X-Upstream: NAME`. It listens on a free port and prints
`upstream NAME listening on http://127.0.0.1:PORT/`.
"""
import socket
import sys
import threading

MODE, NAME = sys.argv[1], sys.argv[2]


def read_head(conn, buffered):
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def read_body(conn, head, rest):
    """Reads (and drops) the request body; returns the bytes after it and the body's length."""
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if b"content-length" in fields:
        need = int(fields[b"content-length"])
        while len(rest) < need:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return rest[need:], need
    if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
        total = 0
        while True:
            while b"\r\n" not in rest:
                rest += conn.recv(65536)
            line, rest = rest.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += conn.recv(65536)
            total += size
            rest = rest[size + 2:] if size else rest
            if size == 0:
                while not rest.startswith(b"\r\n") and b"\r\n\r\n" not in rest:
                    rest += conn.recv(65536)
                rest = rest.split(b"\r\n", 1)[1] if rest.startswith(b"\r\n") else rest.split(b"\r\n\r\n", 1)[1]
                return rest, total
    return rest, 0


def serve(conn):
    buffered = b""
    try:
        while True:
            head, rest = read_head(conn, buffered)
            if head is None:
                return
            if MODE == "silent":
                while conn.recv(65536):
                    pass
                return
            buffered, length = read_body(conn, head, rest)
            body = head + b"\r\n\r\n" + (b"body %d\n" % length)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Upstream: " + NAME.encode()
                         + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    print(f"upstream {NAME} listening on http://127.0.0.1:{listener.getsockname()[1]}/", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
