import Foundation
import Testing

/// `httpkit new python|c DIR`: the starter runs, fails the first step's check with its TODO's message, and
/// passes hello and static once the test writes each TODO's code.
@Suite("httpkit new: starters for your own server", .serialized)
struct StarterLiveTests {
    let folder = TemporaryDirectory()
    var environment: [String: String] { ["HTTPKIT_PROGRESS": folder.path + "/progress", "NO_COLOR": "1"] }

    func httpkit(_ arguments: [String], timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(HTTPKitBinary.path, arguments, timeout: timeout, environment: environment)
    }

    /// Replaces each `TODO(KEY)` … `END TODO(KEY)` region (whole lines) with the code written for it,
    /// indented like the TODO line.
    static func fill(_ text: String, _ solutions: [String: String]) throws -> String {
        var lines = text.components(separatedBy: "\n")
        for (key, code) in solutions {
            guard let start = lines.firstIndex(where: { $0.contains("TODO(\(key))") && !$0.contains("END TODO") }),
                  let end = lines.firstIndex(where: { $0.contains("END TODO(\(key))") }), end >= start else {
                throw TestFailure("no TODO(\(key)) … END TODO(\(key)) region")
            }
            let indent = String(lines[start].prefix { $0 == " " })
            lines.replaceSubrange(start...end, with: code.components(separatedBy: "\n").map { indent + $0 })
        }
        return lines.joined(separator: "\n")
    }

    func starter(_ language: String) throws -> String {
        let directory = folder.path + "/" + language
        let result = try httpkit(["new", language, directory])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let command = language == "python" ? "python3 \(directory)/server.py {port}" : "sh \(directory)/run.sh {port}"
        #expect(result.stdout.contains("httpkit check --stage hello --step 1 --exec '\(command)'"), "\(result.stdout)")
        // A second `new` keeps the learner's work.
        let again = try httpkit(["new", language, directory])
        #expect(again.status == 1 && again.stderr.contains("exists already"), "\(again.stderr)")
        return command
    }

    func checkFailsWithTodo(_ command: String, _ file: String) throws {
        let result = try httpkit(["check", "--stage", "hello", "--step", "1", "--exec", command])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✘ FAIL [hello]      answers GET / with a 2xx status"), "\(result.stdout)")
        #expect(result.stdout.contains("but:      the server sent its TODO instead of a response: hello step 1: write \(file)"), "\(result.stdout)")
    }

    func checkPassesHelloAndStatic(_ command: String) throws {
        let result = try httpkit(["check", "--stage", "static", "--all", "--exec", command])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("14 of 14 checks passed"), "\(result.stdout)")
    }

    @Test(.timeLimit(.minutes(2))) func python() throws {
        let command = try starter("python")
        try checkFailsWithTodo(command, "response() in server.py")
        let path = folder.path + "/python/server.py"
        let filled = try Self.fill(try String(contentsOfFile: path, encoding: .utf8), Self.python)
        try filled.write(toFile: path, atomically: true, encoding: .utf8)
        try checkPassesHelloAndStatic(command)
    }

    @Test(.timeLimit(.minutes(2)), .enabled(if: which("cc") != nil, "needs cc")) func c() throws {
        let command = try starter("c")
        let path = folder.path + "/c/server.c"
        // It compiles without a warning as written.
        let compiled = try run("/bin/sh", ["-c", "cc -Wall -Werror -o \(folder.path)/c/server \(path) 2>&1"], timeout: 60)
        #expect(compiled.status == 0, "\(compiled.stdout)")
        try checkFailsWithTodo(command, "send_response() in server.c")
        let filled = try Self.fill(try String(contentsOfFile: path, encoding: .utf8), Self.c)
        try filled.write(toFile: path, atomically: true, encoding: .utf8)
        try checkPassesHelloAndStatic(command)
    }

    /// `check --watch`: a run at the start, another when the server's file changes, another on Enter.
    @Test(.timeLimit(.minutes(1))) func watchRunsAgainOnAChangeAndOnEnter() throws {
        let directory = folder.path + "/watched"
        #expect(try httpkit(["new", "python", directory]).status == 0)
        let output = folder.path + "/watch.out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HTTPKitBinary.path)
        process.arguments = ["check", "--stage", "hello", "--step", "1", "--watch", "--exec", "python3 \(directory)/server.py {port}"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let keys = Pipe()
        process.standardInput = keys
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle(forWritingAtPath: output)
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        func waitFor(_ text: String) throws -> String {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let now = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                if now.contains(text) { return now }
                usleep(50_000)
            }
            throw TestFailure("no '\(text)' in:\n\((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        }
        var text = try waitFor("[watch] run 1 done. Watching \(directory) (1 file)")
        #expect(text.contains("0 of 1 checks passed"))
        let path = directory + "/server.py"
        let filled = try Self.fill(try String(contentsOfFile: path, encoding: .utf8), ["hello 1": Self.python["hello 1"]!])
        try filled.write(toFile: path, atomically: true, encoding: .utf8)
        text = try waitFor("[watch] run 2 done")
        #expect(text.contains("[watch] run 2: server.py changed\nhttpkit check: hello step 1 of 4"), "\(text)")
        #expect(text.contains("1 of 1 checks passed\nStep 1 of 4 passes."), "\(text)")
        keys.fileHandleForWriting.write(Data("\n".utf8))
        text = try waitFor("[watch] run 3 done")
        #expect(text.contains("[watch] run 3: Enter pressed"))
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!process.isRunning, "Ctrl-C stops the watch")
        #expect(process.isRunning || process.terminationStatus == 0)
    }

    static let python = [
        "hello 1": """
            head = f"HTTP/1.1 {status} {reason}\\r\\n" + "".join(f"{n}: {v}\\r\\n" for n, v in fields.items()) + "\\r\\n"
            return head.encode("latin-1") + (body if with_body else b"")
            """,
        "hello 2": """
            fields["Content-Length"] = str(len(body))
            fields["Date"] = email.utils.formatdate(usegmt=True)
            """,
        "hello 3": """
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data
            """,
        "hello 4": """
            if len(parts) != 3 or not parts[0].isalpha() or not parts[2].startswith("HTTP/1."):
                raise BadRequest("the request line is not METHOD SP TARGET SP HTTP/1.x")
            if parts[2] == "HTTP/1.1" and "host" not in headers:
                raise BadRequest("HTTP/1.1 without Host")
            """,
        "static 1": """
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            with open(path, "rb") as file:
                body = file.read()
            return 200, "OK", {"Content-Type": TYPES.get(os.path.splitext(path)[1], "application/octet-stream")}, body
            """,
        "static 2": """
            if path is None or not os.path.exists(path):
                return 404, "Not Found", {"Content-Type": "text/plain"}, b"not found\\n"
            if os.path.isdir(path) and not target.split("?")[0].endswith("/"):
                return 301, "Moved Permanently", {"Location": target + "/"}, b""
            """,
        "static 3": """
            if method == "HEAD":
                with_body = False
            elif method != "GET":
                conn.sendall(response(405, "Method Not Allowed", {"Allow": "GET, HEAD", "Connection": "close"}, b""))
                return
            """,
        "static 4": """
            real = os.path.realpath(root + urllib.parse.unquote(path))
            return real if real == root or real.startswith(root + "/") else None
            """,
    ]

    static let c = [
        "hello 1": """
            dprintf(fd, "HTTP/1.1 %d %s\\r\\n", r->status, r->reason);
            for (int i = 0; i < r->count; i++) dprintf(fd, "%s\\r\\n", r->fields[i]);
            dprintf(fd, "\\r\\n");
            if (r->with_body && r->length && write(fd, r->body, r->length) < 0) perror("write");
            """,
        "hello 2": """
            add_field(r, "Content-Length: %zu", r->length);
            char date[64];
            time_t now = time(NULL);
            strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime(&now));
            add_field(r, "Date: %s", date);
            """,
        "hello 3": """
            size_t total = 0;
            for (;;) {
                ssize_t n = read(fd, q->head + total, HEAD_MAX - total);
                if (n <= 0) break;
                total += n;
                q->head[total] = 0;
                if (strstr(q->head, "\\r\\n\\r\\n") || total == HEAD_MAX) break;
            }
            q->head[total] = 0;
            return total;
            """,
        "hello 4": """
            if (!*q->method || strncmp(q->version, "HTTP/1.", 7) != 0) return "the request line is not METHOD SP TARGET SP HTTP/1.x\\n";
            for (const char *c = q->method; *c; c++)
                if (!isalpha((unsigned char)*c)) return "the method is not letters\\n";
            if (strcmp(q->version, "HTTP/1.1") == 0 && !header(q, "Host")) return "HTTP/1.1 without Host\\n";
            """,
        "static 1": """
            if (S_ISDIR(st.st_mode)) strncat(path, "/index.html", PATH_MAX - strlen(path) - 1);
            int file = open(path, O_RDONLY);
            if (file < 0 || fstat(file, &st) < 0) { r->status = 404; r->reason = "Not Found"; return; }
            r->body = malloc(st.st_size + 1);
            r->length = read(file, r->body, st.st_size);
            close(file);
            r->status = 200;
            r->reason = "OK";
            add_field(r, "Content-Type: %s", content_type(path));
            """,
        "static 2": """
            struct stat st;
            if (!found || stat(path, &st) < 0) {
                r->status = 404;
                r->reason = "Not Found";
                r->body = strdup("not found\\n");
                r->length = strlen(r->body);
                return;
            }
            size_t length = strlen(target);
            if (S_ISDIR(st.st_mode) && (length == 0 || target[length - 1] != '/')) {
                r->status = 301;
                r->reason = "Moved Permanently";
                add_field(r, "Location: %s/", target);
                return;
            }
            """,
        "static 3": """
            if (strcmp(q.method, "HEAD") == 0) r.with_body = 0;
            else if (strcmp(q.method, "GET") != 0) {
                r.status = 405;
                r.reason = "Method Not Allowed";
                add_field(&r, "Allow: GET, HEAD");
                answered = 1;
            }
            """,
        "static 4": """
            char decoded[PATH_MAX], joined[2 * PATH_MAX];
            size_t j = 0;
            for (size_t i = 0; path[i] && j < sizeof decoded - 1; i++) {
                if (path[i] == '%' && isxdigit((unsigned char)path[i + 1]) && isxdigit((unsigned char)path[i + 2])) {
                    char hex[3] = {path[i + 1], path[i + 2], 0};
                    decoded[j++] = (char)strtol(hex, NULL, 16);
                    i += 2;
                } else {
                    decoded[j++] = path[i];
                }
            }
            decoded[j] = 0;
            snprintf(joined, sizeof joined, "%s%s", root, decoded);
            if (!realpath(joined, out)) return 0;
            size_t n = strlen(root);
            return strncmp(out, root, n) == 0 && (out[n] == 0 || out[n] == '/');
            """,
    ]
}
