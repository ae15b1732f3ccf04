#!/usr/bin/env python3
"""A CodeCrafters "Build your own HTTP server" solution, as a learner writes it, for httpkit's
`check --course codecrafters` tests. Correct unless one classic bug is switched on:

    python3 codecrafters_server.py [--bug B] [--port P] --directory DIR

    --bug gzip-exact     gzips only when Accept-Encoding is exactly "gzip" (the list is not split)
    --bug close-always   closes the connection after every response, without Connection: close
    --bug length-chars   Content-Length of the text before gzip (the uncompressed length)
"""
import argparse
import gzip
import os
import socket
import threading

parser = argparse.ArgumentParser()
parser.add_argument("--bug", default="none")
parser.add_argument("--port", type=int, default=4221)
parser.add_argument("--directory", default=".")
options = parser.parse_args()


def read_request(conn, buffer):
    """(method, path, headers, body, rest) of the next request, or None when the client closed."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return method, path, headers, rest[:length], rest[length:]


def respond(method, path, headers):
    """(status line, headers, body) for one request."""
    if path == "/":
        return "200 OK", {}, b""
    if path.startswith("/echo/"):
        body = path[len("/echo/"):].encode()
        fields = {"Content-Type": "text/plain"}
        accepted = headers.get("accept-encoding", "")
        codings = [accepted] if options.bug == "gzip-exact" else [c.strip() for c in accepted.split(",")]
        if "gzip" in codings:
            fields["Content-Encoding"] = "gzip"
            plain = len(body)
            body = gzip.compress(body)
            if options.bug == "length-chars":
                fields["Content-Length"] = str(plain)
        return "200 OK", fields, body
    if path == "/user-agent":
        return "200 OK", {"Content-Type": "text/plain"}, headers.get("user-agent", "").encode()
    if path.startswith("/files/"):
        file = os.path.join(options.directory, path[len("/files/"):])
        if method == "POST":
            return None, file, None
        if os.path.isfile(file):
            with open(file, "rb") as f:
                return "200 OK", {"Content-Type": "application/octet-stream"}, f.read()
    return "404 Not Found", {}, b""


def serve(conn):
    buffer = b""
    with conn:
        while True:
            request = read_request(conn, buffer)
            if request is None:
                return
            method, path, headers, body, buffer = request
            status, fields, data = respond(method, path, headers)
            if status is None:  # POST /files/NAME
                with open(fields, "wb") as f:
                    f.write(body)
                status, fields, data = "201 Created", {}, b""
            closing = headers.get("connection", "").lower() == "close"
            if closing:
                fields["Connection"] = "close"
            fields.setdefault("Content-Length", str(len(data)))
            head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
            conn.sendall(head.encode() + data)
            if closing or options.bug == "close-always":
                return


listener = socket.create_server(("127.0.0.1", options.port), reuse_port=False)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
while True:
    client, _ = listener.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
