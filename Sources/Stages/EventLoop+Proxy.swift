import HTTPCore
import Sockets

/// The event loop's proxy part (the proxy stage): a request is not handed to a handler but sent on to an
/// upstream server, over a second nonblocking connection that sits in the same poller as the client's.
///
/// Two hops, two connections, one loop:
///
///     client ──▶ [Connection: HTTP1Connection]   ──forward──▶ [UpstreamConnection: ProxyRequest head + body]
///     client ◀── [relayed head + body pieces]     ◀──relay─── [UpstreamResponseReader]           ◀── upstream
///
/// Backpressure both ways: the client is read only while the upstream's queued output is under the loop's
/// bound (an upload), and the upstream is read only while the client's is (a download). So a 1 GB body
/// passes through in pieces of at most 64 KB, at the pace of the slower side.
extension EventLoop {
    // MARK: - Client side: the request goes upstream

    /// Takes the HTTP/1.1 machine's action when it is the proxy's. False leaves it to the loop: a path the
    /// proxy answers itself (`/metrics`) goes to the stage's handler like any request.
    func forward(_ action: HTTP1Connection.Action, on client: Connection) -> Bool {
        guard let proxy else { return false }
        switch action {
        case .request(var request), .head(var request):
            guard !proxy.configuration.localPaths.contains(request.path) else { return false }
            request.remoteAddress = client.remoteAddress
            let forwarded = ProxyRequest(request, clientAddress: client.remoteAddress, scheme: client.tls == nil ? "http" : "https")
            let exchange = ProxyExchange(request: request, forwarded: forwarded, client: client)
            if proxy.cache != nil, CachePolicy.appliesTo(exchange.cacheRequest), answerFromCache(exchange) { return true }
            client.proxied = exchange
            send(exchange, now: metricsNow)
            return true
        case .body(let bytes):
            guard let exchange = client.proxied else { return false }
            guard let upstream = exchange.upstream, !upstream.closed else { return true }
            upstream.output.append(exchange.forwarded.frame(bytes))
            flushUpstream(upstream, now: metricsNow)
            // Upload backpressure: the upstream is slower than the client; stop reading the client.
            if upstream.output.bufferedBytes >= options.maxBufferedOutput && client.interest == .read { setInterest(client, []) }
            return true
        case .bodyEnd:
            guard let exchange = client.proxied else { return false }
            exchange.requestComplete = true
            if let upstream = exchange.upstream, !upstream.closed {
                upstream.output.append(exchange.forwarded.bodyEnd)
                flushUpstream(upstream, now: metricsNow)
            }
            return true
        case .rejected:
            // The body broke the framing rules halfway (a bad chunk): the upstream has a cut request on its
            // connection, which is closed so nothing can be read as a next request; the loop answers 400.
            if client.proxied != nil { abandonExchange(of: client) }
            return false
        default:
            return false
        }
    }

    /// Sends `exchange` to an upstream: a pooled connection for a first attempt, a fresh one for a retry.
    func send(_ exchange: ProxyExchange, now: Double, avoiding avoided: UpstreamServer? = nil) {
        guard let proxy else { return }
        let server = proxy.choose(now: now, avoiding: avoided)
        exchange.attempts += 1
        server.active += 1
        // The client waits on the upstream's timers now, not its own idle timeout.
        let configuration = proxy.configuration
        exchange.client.deadline = max(exchange.client.deadline, now + configuration.connectTimeout + configuration.readTimeout + 1)
        server.metrics?.requests.wrappingAdd(1, ordering: .relaxed)
        let upstream: UpstreamConnection
        if exchange.attempts == 1, let pooled = server.idle.popLast() {
            server.metrics?.idle.store(server.idle.count, ordering: .relaxed)
            pooled.state = .busy
            pooled.reused = true
            upstream = pooled
        } else {
            do {
                upstream = try connect(to: server, proxy: proxy, now: now)
            } catch {
                // Refused before connect() returned (rare: a nonblocking connect usually says EINPROGRESS and
                // the poller reports the refusal): the same failure, so the same retry on another upstream.
                server.active -= 1
                proxy.recordFailure(server, now: now)
                if exchange.mayRetry {
                    server.metrics?.retries.wrappingAdd(1, ordering: .relaxed)
                    send(exchange, now: now, avoiding: server)
                    return
                }
                respondWithError(exchange, .badGateway, "could not connect to the upstream \(server.address) (\(error))", now: now)
                return
            }
        }
        upstream.exchange = exchange
        upstream.reader.reset(requestMethod: exchange.request.method) // a pooled one keeps its buffer and Strings
        exchange.upstream = upstream
        upstream.output.append(exchange.forwarded.head(reusing: writer.takeSpare()))
        if upstream.state == .busy {
            upstream.deadline = now + proxy.configuration.readTimeout
            flushUpstream(upstream, now: now)
        }
    }

    /// A nonblocking connect (Sockets): the connection is writable once established, or failed.
    private func connect(to server: UpstreamServer, proxy: ProxyState, now: Double) throws(SystemError) -> UpstreamConnection {
        let socket = try Socket.connectNonBlocking(host: server.address.host, port: server.address.port)
        try? socket.setNoDelay() // a head and a body written apart must not wait for an ACK (Nagle)
        do {
            try poller.add(socket.fd, .write)
        } catch {
            socket.close()
            throw error
        }
        let upstream = UpstreamConnection(socket: socket, server: server, deadline: now + proxy.configuration.connectTimeout)
        proxy.upstreams[socket.fd] = upstream
        return upstream
    }

    // MARK: - Upstream side: readiness

    func handleUpstream(_ upstream: UpstreamConnection, _ event: ReadinessEvent, now: Double) {
        guard let proxy else { return }
        if upstream.state == .connecting {
            guard event.writable || event.hangup else { return }
            let error = upstream.socket.pendingError
            if error != 0 {
                upstreamFailed(upstream, .badGateway, "could not connect to the upstream \(upstream.server.address) (\(SystemError("connect", errno: error)))", now: now)
                return
            }
            upstream.state = .busy
            upstream.deadline = now + proxy.configuration.readTimeout
            flushUpstream(upstream, now: now)
            return
        }
        if event.writable && !upstream.output.isEmpty { flushUpstream(upstream, now: now) }
        if !upstream.closed && (event.readable || event.hangup) { readUpstream(upstream, now: now) }
    }

    /// Writes what the upstream's socket takes; when all is sent, lets the client go on with its body.
    func flushUpstream(_ upstream: UpstreamConnection, now: Double) {
        guard upstream.state != .connecting, !upstream.closed else { return }
        let done: Bool
        do {
            done = try upstream.output.flush(to: upstream.transport)
            if let spent = upstream.output.takeSpent() { writer.recycle(spent) } // not held by a pooled upstream
        } catch {
            upstreamFailed(upstream, .badGateway, "the upstream \(upstream.server.address) stopped taking the request (\(error))", now: now)
            return
        }
        updateInterest(upstream)
        if let exchange = upstream.exchange, !exchange.holdsClientReads, exchange.client.interest == [],
           upstream.output.bufferedBytes < options.maxBufferedOutput / 2, !exchange.client.closed {
            setInterest(exchange.client, .read) // upload backpressure released: read the client's body again
        }
        if done, let proxy { upstream.deadline = max(upstream.deadline, now + proxy.configuration.readTimeout) }
    }

    private func updateInterest(_ upstream: UpstreamConnection) {
        var interest: Interest = upstream.readPaused ? [] : .read
        if !upstream.output.isEmpty { interest.insert(.write) }
        guard interest != upstream.interest, !upstream.closed else { return }
        do {
            try poller.modify(upstream.fd, interest)
            upstream.interest = interest
        } catch {
            closeUpstream(upstream)
        }
    }

    private func readUpstream(_ upstream: UpstreamConnection, now: Double) {
        guard let proxy else { return }
        let result: IOResult<Int>
        do {
            result = try proxy.readBuffer.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in try upstream.socket.read(into: buffer) }
            }.get()
        } catch {
            upstreamFailed(upstream, .badGateway, "the upstream \(upstream.server.address) reset the connection (\(error))", now: now)
            return
        }
        switch result {
        case .wouldBlock:
            return
        case .done(let count):
            if upstream.state == .idle {
                closeUpstream(upstream) // a pooled connection the upstream closed (or spoke on unasked): drop it
                return
            }
            if let exchange = upstream.exchange, exchange.tunnelling {
                proxy.readBuffer.withUnsafeBytes { tunnel(Array($0[0..<count]), to: exchange, now: now) }
                return
            }
            if count == 0 {
                upstream.reader.receiveEnd()
            } else {
                proxy.readBuffer.withUnsafeBytes { upstream.reader.receive(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                upstream.deadline = now + proxy.configuration.readTimeout
            }
        }
        relay(upstream, now: now)
    }

    // MARK: - The response goes to the client

    /// Passes on what the upstream's response reader made of the bytes: the head, body pieces, the end.
    private func relay(_ upstream: UpstreamConnection, now: Double) {
        guard let proxy, let exchange = upstream.exchange else { return }
        let client = exchange.client
        while !upstream.closed, upstream.exchange === exchange {
            let event: UpstreamResponseReader.Event?
            do {
                event = try upstream.reader.next()
            } catch {
                upstreamFailed(upstream, .badGateway, "the upstream \(upstream.server.address) sent a broken response: \(error.reason)", now: now)
                return
            }
            guard let event else { break }
            switch event {
            case .head(let status, let version, let headers):
                proxy.recordSuccess(upstream.server)
                if status.code == 101, HopByHop.asksForWebSocket(exchange.request), headers.contains("Upgrade", token: "websocket") {
                    startTunnel(exchange, upstream: upstream, version: version, headers: headers, now: now)
                    return
                }
                if let stale = exchange.revalidating, status.code == 304 {
                    // The 304's fields update the shared copy (RFC 9111 §4.3.4) as a client would see them: without
                    // this hop's fields, and never one user's cookie. If the copy was evicted meanwhile, the stale
                    // copy still answers this client (it sent no condition of its own).
                    var update = ProxyResponse.clientHeaders(headers, version: version)
                    update.remove("Set-Cookie")
                    update.remove("Via")
                    exchange.revalidating = proxy.cache?.refresh(exchange.cacheRequest, with: update, now: Double(HTTPDate.currentSeconds())) ?? stale
                    metrics?.add(LoopMetrics.Slot.cacheRevalidated)
                    continue // the client gets the stored copy when this response ends
                }
                if exchange.revalidating != nil { metrics?.add(LoopMetrics.Slot.cacheMisses) } // changed upstream
                exchange.revalidating = nil
                relayHead(exchange, status: status, version: version, headers: headers, framing: upstream.reader.framing)
            case .body(let piece):
                record(piece, for: exchange)
                guard exchange.relaying else { continue } // a 304 that revalidated the cache's copy has no body
                client.output.append(exchange.clientChunked ? ChunkedEncoder.chunk(piece) : piece)
            case .end(let reusable):
                finish(exchange, upstream: upstream, reusable: reusable, now: now)
                return
            }
        }
        // Download backpressure: the client is slower than the upstream; stop reading the upstream.
        if !upstream.closed && client.output.bufferedBytes >= options.maxBufferedOutput {
            upstream.readPaused = true
            updateInterest(upstream)
        }
        if !client.closed { flush(client, now: now) }
    }

    /// The upstream's head, rewritten for the client: hop-by-hop fields out, Via in, the framing re-chosen
    /// for the client's connection (the upstream's Content-Length kept; otherwise chunked for HTTP/1.1 and
    /// until-close for HTTP/1.0, which has no chunked), and the client's connection fate decided by its
    /// HTTP/1.1 machine, as for any response.
    private func relayHead(_ exchange: ProxyExchange, status: HTTPStatus, version: HTTPVersion, headers: HTTPHeaders,
                           framing upstreamFraming: BodyFraming) {
        let client = exchange.client
        guard client.http1 != nil else { return }
        let method = exchange.request.method
        let framing: BodyFraming
        if method == .head || !status.allowsBody {
            framing = headers["Content-Length"].flatMap { Int($0) }.map { .contentLength($0) } ?? .none
        } else if case .contentLength(let length) = upstreamFraming {
            framing = .contentLength(length)
        } else {
            framing = exchange.request.version == .http1_1 ? .chunked : .untilClose
        }
        let response = HTTPResponse(status: status, headers: ProxyResponse.clientHeaders(headers, version: version))
        if let cache = proxy?.cache, CachePolicy.appliesTo(exchange.cacheRequest),
           CachePolicy.freshnessLifetime(status: status.code, headers: response.headers) != nil,
           !upstreamFraming.isLonger(than: cache.maxEntryBytes) {
            exchange.recording = (status, response.headers, [])
        }
        let (head, ending) = client.http1!.respondRelayed(response, framing: framing, to: exchange.request, date: writer.currentDate(),
                                                          reusing: writer.takeSpare())
        client.output.append(head)
        exchange.relaying = true
        exchange.clientChunked = framing == .chunked
        exchange.clientEnding = ending
        exchange.status = status.code
    }

    /// The response ended: close the client's body, give the upstream connection back to its pool (or
    /// close it), and let the client's next request in.
    private func finish(_ exchange: ProxyExchange, upstream: UpstreamConnection, reusable: Bool, now: Double) {
        let client = exchange.client
        if let stored = exchange.revalidating {
            // 304 Not Modified: the stored copy, fresh again, is the answer (RFC 9111 §4.3.4).
            client.proxied = nil
            release(upstream, reusable: reusable, now: now)
            answer(stored.response(at: Double(HTTPDate.currentSeconds())), to: exchange.request, on: client)
            if !client.closed { flush(client, now: now) }
            return
        }
        if let recording = exchange.recording {
            proxy?.cache?.store(exchange.cacheRequest, status: recording.status, headers: recording.headers, body: recording.body,
                                now: Double(HTTPDate.currentSeconds()))
        }
        if exchange.clientChunked { client.output.append(ChunkedEncoder.lastChunk) }
        if let metrics {
            metrics.record(exchange.request.method, status: exchange.status,
                           seconds: Processes.monotonicSeconds() - (client.requestStartedAt ?? metricsNow))
            client.requestStartedAt = nil
        }
        client.proxied = nil
        client.http1?.relayedBodyEnded()
        switch exchange.clientEnding {
        case .close?: client.ending = .close
        case .lingeringClose?: client.ending = .linger
        default: break
        }
        release(upstream, reusable: reusable && exchange.requestComplete, now: now)
        if !client.closed { flush(client, now: now) }
    }

    /// Back to the pool when the connection can carry another request and the pool has room; else closed.
    private func release(_ upstream: UpstreamConnection, reusable: Bool, now: Double) {
        guard let proxy else { return }
        let server = upstream.server
        upstream.exchange = nil
        server.active -= 1
        guard reusable, server.idle.count < proxy.configuration.poolSize, upstream.output.isEmpty else {
            closeUpstream(upstream)
            return
        }
        upstream.state = .idle
        upstream.readPaused = false
        upstream.deadline = now + proxy.configuration.poolIdleTimeout
        updateInterest(upstream) // read: an idle connection that turns readable was closed by the upstream
        server.idle.append(upstream)
        server.metrics?.idle.store(server.idle.count, ordering: .relaxed)
    }

    /// The client's output went out: if the upstream was held back for it, read the upstream again.
    func clientDrained(_ client: Connection, now: Double) {
        guard let upstream = client.proxied?.upstream, upstream.readPaused,
              client.output.bufferedBytes < options.maxBufferedOutput / 2 else { return }
        upstream.readPaused = false
        updateInterest(upstream)
    }

    // MARK: - WebSocket: after a 101, a byte tunnel

    /// The upstream agreed to switch to WebSocket: the 101 goes to the client through its HTTP/1.1 machine
    /// (which hands over the bytes the client sent after its request), and from now on each side's bytes
    /// are the other's output, with the same backpressure as a body. Frames are the two ends' business.
    private func startTunnel(_ exchange: ProxyExchange, upstream: UpstreamConnection, version: HTTPVersion,
                             headers: HTTPHeaders, now: Double) {
        let client = exchange.client
        guard client.http1 != nil else { return }
        let response = HTTPResponse(status: HTTPStatus(code: 101),
                                    headers: ProxyResponse.clientHeaders(headers, version: version, switchingToWebSocket: true))
        exchange.relaying = true
        exchange.tunnelling = true
        exchange.status = 101
        for action in client.http1!.respond(response, to: exchange.request, date: writer.currentDate()) {
            switch action {
            case .write(let bytes): client.output.append(bytes)
            case .switchProtocols(let leftover): upstream.output.append(leftover)
            default: break
            }
        }
        client.http1 = nil // the slot is empty: the proxy moves the bytes, it speaks no WebSocket itself
        if let metrics {
            metrics.record(exchange.request.method, status: 101, seconds: Processes.monotonicSeconds() - (client.requestStartedAt ?? metricsNow))
        }
        client.output.append(upstream.reader.takeLeftover())
        flushUpstream(upstream, now: now)
        setInterest(client, .read)
        flush(client, now: now)
    }

    /// Bytes a client sent while its exchange is in flight. Through a tunnel, they are the upstream's. Otherwise
    /// they are a pipelined request, already in the HTTP/1.1 machine: the client is not read again until its
    /// answer is out (paused only now, when it happens, so the usual request costs no epoll_ctl).
    func received(_ bytes: UnsafeRawBufferPointer, from exchange: ProxyExchange) {
        if exchange.holdsClientReads {
            setInterest(exchange.client, [])
        } else if exchange.client.http1 == nil {
            tunnel(bytes, from: exchange)
        }
    }

    /// Bytes from the tunnel's client: the upstream's output (the client waits while that is over the bound).
    private func tunnel(_ bytes: UnsafeRawBufferPointer, from exchange: ProxyExchange) {
        guard exchange.tunnelling, let upstream = exchange.upstream, !upstream.closed else { return }
        upstream.output.append(Array(bytes))
        flushUpstream(upstream, now: metricsNow)
        if upstream.output.bufferedBytes >= options.maxBufferedOutput { setInterest(exchange.client, []) }
    }

    /// Bytes from the tunnel's upstream (empty: it closed, and so does the client once it has everything).
    private func tunnel(_ bytes: [UInt8], to exchange: ProxyExchange, now: Double) {
        let client = exchange.client
        guard let upstream = exchange.upstream else { return }
        if bytes.isEmpty {
            client.ending = .close
            exchange.upstream = nil
            upstream.exchange = nil
            upstream.server.active -= 1
            closeUpstream(upstream)
        } else {
            client.output.append(bytes)
            upstream.deadline = now + (proxy?.configuration.readTimeout ?? 30)
            if client.output.bufferedBytes >= options.maxBufferedOutput {
                upstream.readPaused = true
                updateInterest(upstream)
            }
        }
        if !client.closed { flush(client, now: now) }
    }

    // MARK: - The cache

    /// A GET the cache may answer: a fresh copy goes out at once (no upstream at all); a stale one is
    /// revalidated upstream with its validators, unless the client sent conditionals of its own (then its
    /// question is the upstream's to answer, 304 included). Returns true when the client was answered.
    private func answerFromCache(_ exchange: ProxyExchange) -> Bool {
        guard let proxy, proxy.cache != nil else { return false }
        let now = Double(HTTPDate.currentSeconds())
        switch proxy.cache!.lookup(exchange.cacheRequest, now: now) {
        case .fresh(let stored):
            metrics?.add(LoopMetrics.Slot.cacheHits)
            answer(stored.response(at: now), to: exchange.request, on: exchange.client)
            return true
        case .stale(let stored):
            let conditional = exchange.request.headers.contains("If-None-Match") || exchange.request.headers.contains("If-Modified-Since")
            if !conditional {
                exchange.revalidating = stored
                for field in CachePolicy.validators(for: stored.headers) { exchange.forwarded.headers.set(field.name, field.value) }
            }
        case .miss:
            metrics?.add(LoopMetrics.Slot.cacheMisses)
        }
        return false
    }

    /// Keeps a copy of a storable response's body as it streams by, while it fits in one cache entry.
    private func record(_ piece: [UInt8], for exchange: ProxyExchange) {
        guard exchange.recording != nil, let limit = proxy?.cache?.maxEntryBytes else { return }
        if exchange.recording!.body.count + piece.count > limit {
            exchange.recording = nil
        } else {
            exchange.recording!.body += piece
        }
    }

    // MARK: - Failures, retries, timeouts

    /// An attempt failed. Idempotent requests with no body, nothing of whose response arrived, go once
    /// more on a fresh connection (another upstream when there is one); otherwise the client gets 502/504
    /// with the reason, or, when the response head already went out, a closed connection.
    private func upstreamFailed(_ upstream: UpstreamConnection, _ status: HTTPStatus, _ reason: String, now: Double) {
        guard let proxy else { return }
        let exchange = upstream.exchange
        let server = upstream.server
        // A pooled connection that the upstream had closed meanwhile is no sign of ill health; a timeout is.
        let stale = status != .gatewayTimeout && upstream.reused && !upstream.reader.receivedAnything
        closeUpstream(upstream)
        guard let exchange, exchange.upstream === upstream else { return }
        upstream.exchange = nil
        exchange.upstream = nil
        server.active -= 1
        if !stale { proxy.recordFailure(server, now: now) }
        // Only idempotent requests are sent twice (RFC 9110 §9.2.2): a POST may have been acted on already.
        if exchange.mayRetry {
            server.metrics?.retries.wrappingAdd(1, ordering: .relaxed)
            send(exchange, now: now, avoiding: stale ? nil : server)
            return
        }
        if exchange.relaying {
            close(exchange.client) // the head went out: a cut connection is the only way left to say it failed
            return
        }
        respondWithError(exchange, status, reason, now: now)
    }

    /// 502 or 504 to the client, with the reason in the body (a proxy's error should say which hop failed).
    private func respondWithError(_ exchange: ProxyExchange, _ status: HTTPStatus, _ reason: String, now: Double) {
        let client = exchange.client
        guard !client.closed else { return }
        client.proxied = nil
        exchange.upstream = nil
        answer(.text(status, "\(status.code) \(status.reason): \(reason)\n"), to: exchange.request, on: client)
        if !client.closed { flush(client, now: now) }
    }

    /// The one timer rule of upstream connections, checked with the clients' every 100 ms.
    func expireUpstreams(now: Double) {
        guard let proxy else { return }
        for upstream in proxy.upstreams.values where !upstream.closed && now >= upstream.deadline {
            let configuration = proxy.configuration
            switch upstream.state {
            case .idle:
                closeUpstream(upstream)
            case .connecting:
                upstreamFailed(upstream, .gatewayTimeout, "the upstream \(upstream.server.address) did not accept a connection within \(Seconds.text(configuration.connectTimeout))", now: now)
            case .busy:
                // Quiet because the client is slow (reading our output, or sending its body) is not the upstream's fault.
                if upstream.readPaused || upstream.exchange.map({ !$0.requestComplete || $0.tunnelling }) == true {
                    upstream.deadline = now + configuration.readTimeout
                    continue
                }
                upstreamFailed(upstream, .gatewayTimeout, "the upstream \(upstream.server.address) sent nothing for \(Seconds.text(configuration.readTimeout))", now: now)
            }
        }
    }

    /// The client's connection closed while its exchange was in flight: the upstream's half-read response
    /// makes its connection useless, so it closes too.
    func abandonExchange(of client: Connection) {
        guard let exchange = client.proxied else { return }
        client.proxied = nil
        guard let upstream = exchange.upstream, upstream.exchange === exchange else { return }
        upstream.exchange = nil
        upstream.server.active -= 1
        closeUpstream(upstream)
    }

    func closeUpstream(_ upstream: UpstreamConnection) {
        guard !upstream.closed, let proxy else { return }
        upstream.closed = true
        let server = upstream.server
        if upstream.state == .idle, let index = server.idle.firstIndex(where: { $0 === upstream }) {
            server.idle.remove(at: index)
            server.metrics?.idle.store(server.idle.count, ordering: .relaxed)
        }
        upstream.output.discard()
        poller.forgetBeforeClose(upstream.fd)
        proxy.upstreams[upstream.fd] = nil
        upstream.socket.close()
    }
}

extension BodyFraming {
    /// True when the framing announces more than `limit` bytes (a body too large to cache, known from its head).
    func isLonger(than limit: Int) -> Bool {
        if case .contentLength(let length) = self { return length > limit }
        return false
    }
}

extension HTTPStatus {
    static let badGateway = HTTPStatus(code: 502)
    static let gatewayTimeout = HTTPStatus(code: 504)
}
