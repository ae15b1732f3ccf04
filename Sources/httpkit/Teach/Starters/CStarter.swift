/// The C starter `httpkit new c DIR` writes: server.c (compiles with cc, no warnings with -Wall) with a
/// TODO for each step of `httpkit spec hello` and `httpkit spec static`, and run.sh, which compiles it and
/// runs it (`--exec 'sh DIR/run.sh {port}'`, so each check run builds the code as it is now). A child
/// process serves each connection, so an unwritten step ends one connection, not the server.
enum CStarter {
    static let server = #"""
/*
 * An HTTP/1.1 server on a bare socket, written by you one step at a time (made by httpkit new c).
 *
 *     sh run.sh PORT [ROOT]          compiles server.c with cc, then runs it
 *
 * Each TODO below is one step of `httpkit spec hello`, then of `httpkit spec static`. Replace the code
 * between a TODO and its END with yours, then check the steps done so far:
 *
 *     httpkit check --stage hello --step 1 --exec 'sh run.sh {port}'
 *
 * Until step 1 is written, the server answers every request with that TODO's message instead of HTTP,
 * so the first check shows you where to start. `httpkit hint hello --exec ...` explains the first check
 * that fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The folder the static stage serves: httpkit's www/ (the checks ask for its files). */
static const char *WWW = "@WWW@";

enum { HEAD_MAX = 16384, BODY_MAX = 1 << 20 };

/* A request's head, split in place. Header names and values point into `head`. */
struct request {
    char head[HEAD_MAX + 1];
    char *method, *target, *version;
    char *names[64], *values[64];
    int count;
};

/* A response being built: a status, up to 16 header fields, a body. */
struct response {
    int status;
    const char *reason;
    char fields[16][512];
    int count;
    char *body;
    size_t length;
    int with_body;
};

/* A step that is not written yet: its message goes to the client instead of a response. */
static void todo(int fd, const char *message) {
    fprintf(stderr, "TODO %s\n", message);
    dprintf(fd, "TODO %s\n", message);
    close(fd);
    exit(0); /* each connection is served by a child process: see main() */
}

static void add_field(struct response *r, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(r->fields[r->count++], sizeof r->fields[0], format, args);
    va_end(args);
}

/* The value of header `name` (any case), or NULL. */
const char *header(const struct request *q, const char *name) {
    for (int i = 0; i < q->count; i++)
        if (strcasecmp(q->names[i], name) == 0) return q->values[i];
    return NULL;
}

/* Reads the request's head into q->head; returns its length, 0 when the client left. */
static ssize_t read_head(int fd, struct request *q) {
    /* TODO(hello 3): one read() returns what has arrived so far, which can be part of a request
     * ("GET / HT"). Keep reading and appending until the bytes contain "\r\n\r\n" (strstr), read()
     * returns 0 (the client left), or HEAD_MAX bytes arrived. */
    ssize_t n = read(fd, q->head, HEAD_MAX);
    if (n < 0) n = 0;
    q->head[n] = 0;
    return n;
    /* END TODO(hello 3) */
}

/* Splits the head into method, target, version and header fields; returns an error for a 400, or NULL. */
static const char *parse(struct request *q) {
    char *line_end = strstr(q->head, "\r\n");
    if (line_end) *line_end = 0;
    q->method = q->head;
    q->target = strchr(q->method, ' ');
    if (q->target) *q->target++ = 0; else q->target = "/";
    q->version = strchr(q->target, ' ');
    if (q->version) *q->version++ = 0; else q->version = "";
    q->count = 0;
    char *line = line_end ? line_end + 2 : NULL;
    while (line && *line && q->count < 64) {
        char *end = strstr(line, "\r\n");
        if (!end) break;
        *end = 0;
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = 0;
            char *value = colon + 1;
            while (*value == ' ' || *value == '\t') value++;
            q->names[q->count] = line;
            q->values[q->count++] = value;
        }
        line = end + 2;
    }
    /* TODO(hello 4): refuse what is not HTTP/1.1: return a reason (the answer is 400) when the request
     * line is not three parts, METHOD SP TARGET SP HTTP/1.x (the method made of letters), and when an
     * HTTP/1.1 request has no Host header. */
    /* END TODO(hello 4) */
    return NULL;
}

/* Writes the response: the status line, the header fields, an empty line, the body. */
static void send_response(int fd, struct response *r) {
    /* TODO(hello 2): frame the body: add_field(r, "Content-Length: %zu", r->length), and a Date field
     * with the time now in GMT, as strftime(..., "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now)) writes it. */
    /* END TODO(hello 2) */
    /* TODO(hello 1): write "HTTP/1.1 %d %s\r\n" with the status and reason, then each field followed by
     * "\r\n", then "\r\n", then the body (only when r->with_body). dprintf and write do it. */
    (void)r;
    todo(fd, "hello step 1: write send_response() in server.c: the status line 'HTTP/1.1 200 OK\\r\\n', "
             "a line per header, an empty line, then the body");
    /* END TODO(hello 1) */
}

/* The type of a file from its extension. */
const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    static const char *types[][2] = {{".html", "text/html; charset=utf-8"}, {".css", "text/css"},
        {".js", "text/javascript"}, {".txt", "text/plain; charset=utf-8"}, {".json", "application/json"},
        {".png", "image/png"}, {".svg", "image/svg+xml"}, {".ico", "image/x-icon"}};
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

/* The path on disk that a request target names into `out`; 0 when it is not under root. */
static int file_path(const char *root, const char *target, char out[PATH_MAX]) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", target);
    char *query = strchr(path, '?');
    if (query) *query = 0;
    /* TODO(static 4): stay inside root. Decode %XX first, then resolve the path with realpath() and
     * return 0 unless it is root or starts with root followed by '/'. */
    snprintf(out, PATH_MAX, "%s%s", root, path);
    return 1;
    /* END TODO(static 4) */
}

/* Fills r with the answer to a GET of target. */
static void answer(const char *root, const char *target, struct response *r) {
    char path[PATH_MAX];
    int found = file_path(root, target, path);
    (void)found;
    /* TODO(static 2): answer 404 Not Found when found is 0 or stat() fails; and when path is a directory
     * but target does not end in '/', answer 301 Moved Permanently with a Location: target + "/" field. */
    /* END TODO(static 2) */
    /* TODO(static 1): serve the file: a directory means its index.html; read the file's bytes into a
     * malloc'd r->body, r->length, and answer 200 with the Content-Type its extension says. */
    r->status = 200;
    r->reason = "OK";
    add_field(r, "Content-Type: text/plain");
    r->body = strdup("Hello, world!\n");
    r->length = strlen(r->body);
    /* END TODO(static 1) */
}

/* Reads one request on fd and answers it. */
static void handle(int fd, const char *root) {
    static struct request q;
    struct response r = {.with_body = 1};
    if (read_head(fd, &q) == 0) return;
    const char *error = parse(&q);
    if (error) {
        r.status = 400;
        r.reason = "Bad Request";
        add_field(&r, "Content-Type: text/plain");
        r.body = strdup(error);
        r.length = strlen(error);
    } else {
        int answered = 0;
        /* TODO(static 3): a static server only reads. Answer HEAD like GET but without the body
         * (r.with_body = 0: Content-Length stays); answer any method but GET and HEAD with 405 Method
         * Not Allowed and an Allow: GET, HEAD field (and answered = 1). */
        /* END TODO(static 3) */
        if (!answered) answer(root, q.target, &r);
    }
    add_field(&r, "Connection: close");
    send_response(fd, &r);
    free(r.body);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 9000;
    char root[PATH_MAX];
    if (!realpath(argc > 2 ? argv[2] : WWW, root)) { perror("root"); return 1; }
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 128) < 0) { perror("bind/listen"); return 1; }
    printf("listening on http://127.0.0.1:%d/ (root %s)\n", port, root);
    fflush(stdout);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        /* A child per connection, so that a TODO or a crash ends one connection, not the server
         * (the fork stage explains it). */
        if (fork() == 0) {
            close(listener);
            struct timeval timeout = {5, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
            handle(fd, root);
            close(fd);
            _exit(0);
        }
        close(fd);
    }
}
"""#

    static let run = #"""
#!/bin/sh
# Compiles server.c and runs it (made by httpkit new c):  sh run.sh PORT [ROOT]
here=$(dirname "$0")
cc -Wall -o "$here/server" "$here/server.c" || exit 1
exec "$here/server" "$@"

"""#
}
