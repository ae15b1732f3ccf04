/// The Python starter `httpkit new python DIR` writes: a server that runs with Debian's python3 and has a
/// TODO for each step of `httpkit spec hello` and `httpkit spec static`. Until step 1 is written, it sends
/// that TODO's message to every client, so the first check names where to start. `@WWW@` becomes the
/// bundled site's path. StarterLiveTests runs it, fills its TODOs and checks it.
enum PythonStarter {
    static let server = #"""
#!/usr/bin/env python3
"""An HTTP/1.1 server on a bare socket, written by you one step at a time (made by httpkit new python).

    python3 server.py PORT [ROOT]

Each TODO below is one step of `httpkit spec hello`, then of `httpkit spec static`. Replace the code
between a TODO and its END with yours, then check the steps done so far:

    httpkit check --stage hello --step 1 --exec 'python3 server.py {port}'

Until step 1 is written, the server answers every request with that TODO's message instead of HTTP, so
the first check shows you where to start. `httpkit hint hello --exec ...` explains the first check that fails.
"""
import email.utils
import os
import socket
import sys
import urllib.parse

# The folder the static stage serves: httpkit's www/ (the checks ask for its files).
WWW = "@WWW@"


class Todo(Exception):
    """A step that is not written yet: its message goes to the client instead of a response."""


class BadRequest(Exception):
    """The request is not HTTP/1.1 as RFC 9112 says: the answer is 400 Bad Request."""


def read_head(conn):
    """The request's head: its bytes up to and including the empty line, b"\r\n\r\n"."""
    # TODO(hello 3): one recv() returns what has arrived so far, which can be part of a request
    # ("GET / HT"). Keep receiving and appending until the bytes contain b"\r\n\r\n", or recv()
    # returns b"" (the client left).
    return conn.recv(65536)
    # END TODO(hello 3)


def parse(head):
    """(method, target, headers) of a request head; header names in lower case."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    # TODO(hello 4): refuse what is not HTTP/1.1: raise BadRequest("why") when the request line is not
    # three parts, METHOD SP TARGET SP HTTP/1.x (the method made of letters), and when an HTTP/1.1
    # request has no Host header.
    # END TODO(hello 4)
    method = parts[0]
    target = parts[1] if len(parts) > 1 else "/"
    return method, target, headers


def response(status, reason, fields, body, with_body=True):
    """The bytes of a response: the status line, the header fields, an empty line, the body."""
    # TODO(hello 2): frame the body: add to fields Content-Length (the body's length in bytes, as
    # str(len(body))) and Date (the time now in GMT: email.utils.formatdate(usegmt=True)).
    # END TODO(hello 2)
    # TODO(hello 1): return the response's bytes: the status line f"HTTP/1.1 {status} {reason}\r\n",
    # then a line f"{name}: {value}\r\n" for each field, then "\r\n", then the body (only when
    # with_body), all encoded as bytes.
    raise Todo("hello step 1: write response() in server.py: the status line 'HTTP/1.1 200 OK\\r\\n', "
               "a line per header, an empty line, then the body")
    # END TODO(hello 1)


# Content types by extension, for the static stage.
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript",
         ".txt": "text/plain; charset=utf-8", ".json": "application/json", ".png": "image/png",
         ".svg": "image/svg+xml", ".ico": "image/x-icon"}


def file_path(root, target):
    """The path on disk that a request target names, or None when it is not under root."""
    path = target.split("?", 1)[0]
    # TODO(static 4): stay inside root. Decode %XX first (urllib.parse.unquote), then resolve the path
    # (os.path.realpath) and return None unless it is root or starts with root + "/".
    return root + path
    # END TODO(static 4)


def answer(target, root):
    """(status, reason, fields, body) for a GET of target."""
    path = file_path(root, target)
    # TODO(static 2): answer 404 Not Found when path is None or names nothing; and when it names a
    # directory but target does not end in "/", answer 301 Moved Permanently with Location: target + "/".
    # END TODO(static 2)
    # TODO(static 1): serve the file: a path that is a directory means its index.html; read the file's
    # bytes and answer 200 with the Content-Type its extension says (TYPES).
    return 200, "OK", {"Content-Type": "text/plain"}, b"Hello, world!\n"
    # END TODO(static 1)


def handle(conn, root):
    """Reads one request and answers it."""
    with_body = True
    try:
        head = read_head(conn)
        if not head:
            return
        method, target, headers = parse(head)
        # TODO(static 3): a static server only reads. Answer HEAD like GET but without the body (set
        # with_body = False: Content-Length stays); answer any method but GET and HEAD with 405 Method
        # Not Allowed and Allow: GET, HEAD.
        # END TODO(static 3)
        status, reason, fields, body = answer(target, root)
    except BadRequest as error:
        status, reason, fields, body = 400, "Bad Request", {"Content-Type": "text/plain"}, f"{error}\n".encode()
    fields["Connection"] = "close"
    conn.sendall(response(status, reason, fields, body, with_body))


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    root = os.path.realpath(sys.argv[2] if len(sys.argv) > 2 else WWW)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    print(f"listening on http://127.0.0.1:{port}/ (root {root})", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            try:
                handle(conn, root)
            except Todo as todo:
                print(f"TODO {todo}", file=sys.stderr, flush=True)
                conn.sendall(f"TODO {todo}\n".encode())
            except Exception as error:  # one bad connection must not stop the server
                print(f"error: {error!r}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
"""#
}
