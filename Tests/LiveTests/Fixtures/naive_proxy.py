#!/usr/bin/env python3
"""A learner's reverse proxy, for the live tests of `httpkit check --stage proxy`: naive, or with --correct.

    python3 naive_proxy.py [--correct] PORT UPSTREAMS        UPSTREAMS: HOST:PORT[,HOST:PORT...]

Naive, it does what a first attempt does: for each request of a client (kept alive), it opens a connection
to the first upstream (the others are ignored), sends the request's head with Via and X-Forwarded-For
added and every other field as it came, hop-by-hop ones included, then the body (by Content-Length), and
relays the answer with Via added. No hop-by-hop field is removed, there is no cache, no retry, no second
upstream. The checks must pass its forwarding and fail it first on the hop-by-hop fields, naming one.

With --correct it is the small proxy the checks ask for, in a page of Python: hop-by-hop fields removed
both ways, Content-Length with Transfer-Encoding refused, the upstreams in turn, a GET whose upstream
refuses sent to the next one, 502 with the reason when none answers, and a cache of the GET answers
whose Cache-Control says max-age (not no-store or private, never for a request with Authorization),
served with Age. It shows that the checks ask nothing httpkit-specific.
"""
import socket
import sys
import threading
import time

CORRECT = "--correct" in sys.argv
ARGS = [a for a in sys.argv[1:] if a != "--correct"]
PORT = int(ARGS[0])
UPSTREAMS = [(h, int(p)) for h, p in (u.rsplit(":", 1) for u in ARGS[1].split(","))]
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"upgrade",
              b"proxy-authenticate", b"proxy-authorization"}
turn = [0]
cache = {}
lock = threading.Lock()


def read_head(conn, buffered):
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def fields_of(head):
    return [line.partition(b":") for line in head.split(b"\r\n")[1:]]


def field(head, name):
    for key, _, value in fields_of(head):
        if key.strip().lower() == name:
            return value.strip()
    return None


def read_exactly(conn, rest, length):
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest[:length], rest[length:]


def read_answer_body(conn, head, rest):
    """The answer's body bytes as they came (chunked framing kept), by its framing."""
    length = field(head, b"content-length")
    if length is not None:
        body, _ = read_exactly(conn, rest, int(length))
        return body
    if (field(head, b"transfer-encoding") or b"").lower() == b"chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return rest
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return rest
        rest += chunk


def with_field(head, line):
    first, _, others = head.partition(b"\r\n")
    return first + b"\r\n" + (others + b"\r\n" if others else b"") + line


def without_hop_by_hop(head, keep=()):
    """The head without Connection, the fields it names, and the other hop-by-hop fields."""
    named = set(HOP_BY_HOP)
    for key, _, value in fields_of(head):
        if key.strip().lower() in (b"connection", b"proxy-connection"):
            named |= {token.strip().lower() for token in value.split(b",")}
    lines = [head.split(b"\r\n")[0]]
    lines += [key + b":" + value for key, _, value in fields_of(head) if key.strip().lower() not in named - set(keep)]
    return b"\r\n".join(lines)


def answer(status, text):
    body = text.encode()
    return b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, len(body), body)


def exchange(head, body, upstream):
    """Sends one request on a new connection to `upstream`; the answer's head and body."""
    conn = socket.create_connection(upstream, timeout=5)
    try:
        conn.sendall(head + b"\r\n\r\n" + body)
        answer_head, rest = read_head(conn, b"")
        if answer_head is None:
            raise ConnectionError("the upstream closed without an answer")
        return answer_head, read_answer_body(conn, answer_head, rest)
    finally:
        conn.close()


def forward_correct(head, body, address):
    method, target = head.split(b" ")[0], head.split(b" ")[1]
    if field(head, b"content-length") is not None and field(head, b"transfer-encoding") is not None:
        return answer(b"400 Bad Request", "400 Bad Request: Content-Length with Transfer-Encoding\n"), True
    key = (field(head, b"host"), target)
    cacheable = method == b"GET" and field(head, b"authorization") is None
    with lock:
        stored = cache.get(key) if cacheable else None
    if stored and time.time() - stored[0] < stored[1]:
        age = int(time.time() - stored[0])
        return with_field(stored[2], b"Age: %d" % age) + b"\r\n\r\n" + stored[3], False
    forwarded = with_field(with_field(with_field(without_hop_by_hop(head), b"Via: 1.1 learner"),
                                      b"X-Forwarded-For: " + address.encode()), b"Connection: close")
    with lock:
        start = turn[0]
        turn[0] += 1
    tries = len(UPSTREAMS) if method in (b"GET", b"HEAD", b"PUT", b"DELETE") else 1
    failures = []
    for attempt in range(tries):
        upstream = UPSTREAMS[(start + attempt) % len(UPSTREAMS)]
        try:
            answer_head, answer_body = exchange(forwarded, body, upstream)
            break
        except OSError as error:
            failures.append("%s:%d (%s)" % (upstream[0], upstream[1], error))
    else:
        return answer(b"502 Bad Gateway", "502 Bad Gateway: no upstream answered: " + ", ".join(failures) + "\n"), True
    relayed = with_field(without_hop_by_hop(answer_head, keep=(b"transfer-encoding",)), b"Via: 1.1 learner")
    control = (field(answer_head, b"cache-control") or b"").lower()
    if cacheable and b" 200 " in answer_head.split(b"\r\n")[0] + b" " and b"max-age=" in control \
            and b"no-store" not in control and b"private" not in control:
        max_age = int(control.split(b"max-age=")[1].split(b",")[0])
        with lock:
            cache[key] = (time.time(), max_age, relayed, answer_body)
    return relayed + b"\r\n\r\n" + answer_body, False


def forward_naive(head, body, address):
    forwarded = with_field(head, b"Via: 1.1 naive") + b"\r\nX-Forwarded-For: " + address.encode()
    try:
        answer_head, answer_body = exchange(forwarded, body, UPSTREAMS[0])
    except ConnectionError:
        return b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", True
    return with_field(answer_head, b"Via: 1.1 naive") + b"\r\n\r\n" + answer_body, False


def serve(client, address):
    buffered = b""
    try:
        while True:
            head, rest = read_head(client, buffered)
            if head is None:
                return
            body, buffered = read_exactly(client, rest, int(field(head, b"content-length") or 0))
            closing = b"close" in (field(head, b"connection") or b"").lower()
            out, close = (forward_correct if CORRECT else forward_naive)(head, body, address)
            if CORRECT and closing and not close:
                head_part, _, body_part = out.partition(b"\r\n\r\n")
                out = head_part + b"\r\nConnection: close\r\n\r\n" + body_part
            client.sendall(out)
            if closing or close:
                return
    except OSError:
        pass
    finally:
        client.close()


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", PORT))
    listener.listen(128)
    while True:
        conn, address = listener.accept()
        threading.Thread(target=serve, args=(conn, address[0]), daemon=True).start()


main()
