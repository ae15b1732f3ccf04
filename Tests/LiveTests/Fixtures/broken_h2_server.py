#!/usr/bin/env python3
"""A small HTTP/2 server (h2c with prior knowledge, Python's h2 library) that is wrong on purpose, one
mistake per mode, for testing `httpkit check --stage http2`.

    python3 broken_h2_server.py MODE PORT ROOT

It serves files from ROOT and /echo/TEXT, and h2 does the rest right (SETTINGS and their ACK, PING ACK,
unknown frame types, GOAWAY on a protocol error). MODE is one of:
  ignores-flow-control   writes each response body in one DATA frame, whatever the client's window
                         (the bytes go straight to the socket, past h2's own flow-control bookkeeping)
  no-settings-ack        never acknowledges the client's SETTINGS
  http1-for-any-line     answers any first bytes but the preface with an HTTP/1.1 400, as a mixed port
                         that gives HTTP/1.1 every line would (h2spec 3.5/2 fails on it)
"""
import os
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import hyperframe.frame as hf

MODE, PORT, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def body_for(path):
    if path.startswith("/echo/"):
        return 200, path[len("/echo/"):].encode()
    name = os.path.normpath(path.lstrip("/")) or "index.html"
    full = os.path.join(ROOT, name)
    if name.startswith("..") or not os.path.isfile(full):
        return 404, b"not found\n"
    with open(full, "rb") as f:
        return 200, f.read()


def serve(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    if MODE == "http1-for-any-line":
        first = sock.recv(14, socket.MSG_PEEK)  # looked at, left for h2 to read
        if first != b"PRI * HTTP/2.0"[:len(first)]:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            sock.close()
            return
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    paths = {}
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                conn.close_connection(error_code=h2.errors.ErrorCodes.PROTOCOL_ERROR)
                sock.sendall(conn.data_to_send())
                return
            out = conn.data_to_send()
            if MODE == "no-settings-ack":
                # Drop the SETTINGS ACK h2 queued: a 9-octet frame of type 4 with the ACK flag.
                out = out.replace(hf.SettingsFrame(0, flags=["ACK"]).serialize(), b"")
            if out:
                sock.sendall(out)
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    paths[event.stream_id] = dict(event.headers).get(":path", "/")
                if isinstance(event, h2.events.StreamEnded):
                    status, body = body_for(paths.get(event.stream_id, "/"))
                    conn.send_headers(event.stream_id, [(":status", str(status)), ("content-length", str(len(body)))])
                    if MODE == "ignores-flow-control":
                        sock.sendall(conn.data_to_send() + hf.DataFrame(event.stream_id, data=body, flags=["END_STREAM"]).serialize())
                    else:
                        conn.send_data(event.stream_id, body, end_stream=True)
                        sock.sendall(conn.data_to_send())
                if isinstance(event, h2.events.ConnectionTerminated):
                    return
    except OSError:
        return
    finally:
        sock.close()


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", PORT))
listener.listen(64)
while True:
    client, _ = listener.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
