import HTTPCore
import Sockets

/// The event loop's HTTP/2 part (the http2 stage). HTTP/2 is chosen before the first request: over TLS by
/// ALPN (`h2`), on plain TCP by the client starting with the 24-byte preface (prior knowledge). Then the
/// connection's slot holds an HTTP2Connection, whose requests go to the same handler as HTTP/1.1's.
extension EventLoop {
    /// Looks at a connection's first bytes: over TLS, ALPN `h2` chose HTTP/2 and anything else is HTTP/1.1; on
    /// plain TCP, `CleartextProtocolProbe` judges them (the preface is HTTP/2, a request line ending in its
    /// version HTTP/1.1, anything else a broken HTTP/2 preface) and waits while they could still be either.
    /// On an HTTP/2-only port there is nothing to choose: see `startHTTP2Only`.
    func probePreface(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        if options.http2Only {
            startHTTP2Only(connection, bytes)
            return
        }
        connection.prefaceProbe.append(contentsOf: bytes)
        let seen = connection.prefaceProbe
        let verdict: CleartextProtocolProbe.Verdict
        if let tls = connection.tls {
            verdict = tls.summary?.alpn == "h2" ? .http2 : .http1
        } else {
            verdict = CleartextProtocolProbe.judge(seen, maxLineBytes: options.limits.maxRequestLineBytes)
        }
        switch verdict {
        case .needMoreBytes:
            return // the preface or a request line, cut by TCP: wait for the rest
        case .http2:
            // The stage's body limit (--max-body) applies to HTTP/2 requests too.
            var configuration = options.http2Configuration
            configuration.sharesPortWithHTTP1 = connection.tls == nil // over TLS, ALPN h2 promised HTTP/2
            var machine = HTTP2Connection(configuration: configuration)
            machine.receive(seen)
            switchToHTTP2(connection, machine) // before any HTTP/1.1 request
        case .http1:
            connection.http1?.receive(seen)
        }
        connection.prefaceProbe = []
    }

    /// An HTTP/2-only port (`--http2-only`), like nghttpd's: every connection is HTTP/2, so its first bytes go
    /// to the HTTP/2 machine whatever they are. Anything but the preface, an HTTP/1.1 request line included,
    /// is a connection error PROTOCOL_ERROR (§3.4, §5.4.1): the machine answers with our SETTINGS, then GOAWAY
    /// saying what came instead, then `.close`. (A mixed port answers an HTTP/1.x request line as HTTP/1.1.)
    func startHTTP2Only(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        if let tls = connection.tls, tls.summary?.alpn != "h2" {
            // §3.2: HTTP/2 over TLS is chosen with ALPN. A client that offered other protocols was refused in
            // the handshake (no_application_protocol); this one offered none, so it expects HTTP/1.1.
            let alpn = tls.summary.map { $0.alpn.isEmpty ? "none" : $0.alpn } ?? "none"
            Console.error("tls: \(connection.remoteAddress ?? "?"): closed: ALPN \(alpn), not h2, and this port speaks only HTTP/2 (--http2-only; RFC 9113 §3.2)")
            close(connection)
            return
        }
        var machine = HTTP2Connection(configuration: options.http2Configuration)
        machine.receive(bytes)
        switchToHTTP2(connection, machine)
    }

    /// `Upgrade: h2c` (RFC 7540 §3.2): the 101 goes out through the HTTP/1.1 machine, then the slot holds an
    /// HTTP/2 machine whose stream 1 is the request that asked; its answer is the first thing on stream 1.
    func upgradeToHTTP2(_ connection: Connection, request: HTTPRequest, settings: [HTTP2Setting]) {
        guard connection.http1 != nil else { return }
        let ending = writer.queue(H2CUpgrade.switchingResponse(), to: request, on: &connection.http1!, into: &connection.output)
        guard case .switchProtocols(let leftover)? = ending else {
            if ending != nil { connection.ending = .close }
            return
        }
        var machine = HTTP2Connection(configuration: options.http2Configuration, upgrading: request, settings: settings)
        machine.receive(leftover) // the client's preface may have come with the request
        switchToHTTP2(connection, machine)
    }

    /// The slot changes hands. A connection that becomes HTTP/2 during a shutdown (its first bytes were still
    /// arriving at the stop) hears GOAWAY once the frames that came are handled (§6.8): the request it came with
    /// is answered and the GOAWAY names it as the last, as the connections open at the stop were told.
    private func switchToHTTP2(_ connection: Connection, _ machine: consuming HTTP2Connection) {
        if drainingUntil != nil { machine.stopAcceptingAfterWhatArrived() }
        connection.http2 = machine
        connection.http1 = nil
    }

    func perform(_ action: consuming HTTP2Connection.Action, on connection: Connection) {
        switch consume action { // its payload moved into the bindings, not copied: `request` changes below
        case .request(let streamID, let request):
            respond(to: request, on: streamID, of: connection)
        case .write(let bytes):
            connection.output.append(bytes)
        case .writeShared(let piece):
            connection.output.append(shared: piece) // a slice of the cached body: written beside its header
        case .sendFile(let streamID, let path, let offset, let length):
            // The DATA frame's header is queued; its payload leaves with sendfile (or pread under TLS).
            guard let file = connection.http2Files[streamID]?[path] else {
                close(connection) // cannot happen: the machine names only files its stream's body named
                return
            }
            connection.output.append(file: file, offset: offset, length: length)
        case .streamEnded(let streamID):
            connection.http2Files[streamID] = nil // queued segments keep their file open until sent
        case .close:
            // After the GOAWAY, half-close and throw away what the client still sends, as for HTTP/1.1's error
            // answers: closing with its frames unread makes the kernel reset the connection, and a reset can
            // destroy the GOAWAY before the client reads it (h2spec 6.9.1/2 saw "connection closed" without
            // the FLOW_CONTROL_ERROR, now and then, when its WINDOW_UPDATEs were still arriving).
            connection.ending = .linger
        }
    }

    /// Calls the handler for the request on `streamID` and queues its answer in the connection's machine.
    /// The request is moved into the handler, not copied: the method is all that is needed of it afterwards.
    private func respond(to request: consuming HTTPRequest, on streamID: UInt32, of connection: Connection) {
        request.remoteAddress = connection.remoteAddress
        request.tls = connection.tlsDescription
        let method = request.method
        var response = handler(consume request)
        Self.readStream(of: &response)
        // Opened now, so a file that cannot be opened is a 403 before the HEADERS go.
        let files = writer.openFiles(of: &response, answering: method)
        if let metrics {
            metrics.add(LoopMetrics.Slot.http2Streams)
            metrics.record(method, status: response.status.code, seconds: Processes.monotonicSeconds() - metricsNow)
        }
        guard connection.http2 != nil else { return }
        // The HEADERS come out of `nextAction` next, then the DATA.
        connection.http2!.queueResponse(response, to: streamID, date: writer.currentDate()) { self.writer.takeSpare() }
        if !files.isEmpty { connection.http2Files[streamID] = files }
    }

    /// A streamed body (a large file being gzipped, a generated body) is read into memory here, up to 64 MiB:
    /// its length is unknown and the HTTP/2 machine sends only what it can size (bytes and file ranges, which
    /// stay on disk). Larger ones get a 500 that says why.
    static func readStream(of response: inout HTTPResponse) {
        // In place: most responses have no stream, and returning one copied it (its strings and arrays retained).
        guard case .stream(let streamed) = response.body else { return }
        let limit = 64 << 20
        let failed = HTTPResponse.text(.internalServerError,
            "500 Internal Server Error: the body could not be produced, or is over 64 MiB (HTTP/2 reads streamed bodies into memory)\n")
        guard let stream = try? streamed.open() else {
            response = failed
            return
        }
        defer { stream.close() }
        var bytes: [UInt8] = []
        do {
            while bytes.count <= limit, let piece = try stream.next() { bytes += piece }
        } catch {
            response = failed // a stream that fails is a 500, never a truncated 200
            return
        }
        if bytes.count <= limit {
            response.body = .bytes(bytes)
        } else {
            response = failed
        }
    }
}

extension EventLoop.Options {
    /// The HTTP/2 limits from the stage's options: --max-body and --max-requests apply to streams too. Both
    /// loops (EventLoop, CompletionLoop) make their HTTP2Connections with it.
    var http2Configuration: HTTP2Connection.Configuration {
        HTTP2Connection.Configuration(maxBodyBytes: limits.maxBodyBytes, maxRequests: maxRequestsPerConnection)
    }
}
