import HTTPCore
import Sockets

/// The completion loop's HTTP/2 part (`httpkit http2 --poller io_uring`): what EventLoop+HTTP2.swift does on the
/// readiness loop, on plain TCP (this loop has no TLS, so no ALPN). The HTTP2Connection is the same machine; only
/// where its bytes come from (a receive completion) and how its output leaves (a send on the ring) differ, and
/// those are the loop's, shared with HTTP/1.1.
extension CompletionLoop {
    /// A connection's first bytes on the http2 stage: `CleartextProtocolProbe` judges them (the preface is HTTP/2,
    /// a request line ending in its version HTTP/1.1, anything else a broken HTTP/2 preface) and waits while they
    /// could still be either. On an HTTP/2-only port every connection is HTTP/2, preface or not.
    func probePreface(_ client: Client, _ bytes: UnsafeRawBufferPointer) {
        if options.http2Only {
            var machine = newHTTP2Connection(sharingThePort: false)
            machine.receive(bytes)
            switchToHTTP2(client, machine)
            return
        }
        client.prefaceProbe.append(contentsOf: bytes)
        switch CleartextProtocolProbe.judge(client.prefaceProbe, maxLineBytes: options.limits.maxRequestLineBytes) {
        case .needMoreBytes:
            return // the preface or a request line, cut by TCP: wait for the rest
        case .http2:
            var machine = newHTTP2Connection(sharingThePort: true)
            client.prefaceProbe.withUnsafeBytes { machine.receive($0) }
            switchToHTTP2(client, machine) // before any HTTP/1.1 request
        case .http1:
            client.http1.receive(client.prefaceProbe)
        }
        client.prefaceProbe = []
    }

    /// A machine with the stage's limits (--max-body and --max-requests apply to streams too).
    private func newHTTP2Connection(sharingThePort: Bool) -> HTTP2Connection {
        var configuration = options.http2Configuration
        configuration.sharesPortWithHTTP1 = sharingThePort
        return HTTP2Connection(configuration: configuration)
    }

    /// A first line still unfinished when the client stops (a timeout, or end of input) while the probe waits for
    /// it: the bytes go to HTTP/1.1's parser, so the connection ends as on the router stage (a 408 at the header
    /// timeout; closed unanswered at the end of input).
    func handOverUnfinishedFirstLine(_ client: Client) {
        guard !client.prefaceProbe.isEmpty else { return }
        client.http1.receive(client.prefaceProbe)
        client.prefaceProbe = []
    }

    /// `Upgrade: h2c` (RFC 7540 §3.2): the 101 goes out through the HTTP/1.1 machine, then the slot holds an HTTP/2
    /// machine whose stream 1 is the request that asked; its answer is the first thing on stream 1.
    func upgradeToHTTP2(_ client: Client, request: HTTPRequest, settings: [HTTP2Setting]) {
        let ending = writer.queue(H2CUpgrade.switchingResponse(), to: request, on: &client.http1, into: &client.output)
        guard case .switchProtocols(let leftover)? = ending else {
            if ending != nil { client.ending = .close }
            return
        }
        var machine = HTTP2Connection(configuration: options.http2Configuration, upgrading: request, settings: settings)
        machine.receive(leftover) // the client's preface may have come with the request
        switchToHTTP2(client, machine)
    }

    /// The slot changes hands. A connection that becomes HTTP/2 during a shutdown hears GOAWAY once the frames
    /// that came are handled (§6.8), as on EventLoop: the request it came with is answered, nothing after it.
    private func switchToHTTP2(_ client: Client, _ machine: consuming HTTP2Connection) {
        if drainingUntil != nil { machine.stopAcceptingAfterWhatArrived() }
        client.switchToHTTP2(machine)
    }

    /// The same switch as EventLoop+HTTP2.swift's `perform`, over a `Client`. Shared (one function queueing the
    /// bytes for both loops, called from a catch-all case), the action was copied on its way: 12,720 instructions
    /// a request over HTTP/2 against 11,842 (callgrind, `h2load -c1 -m1`).
    func perform(_ action: consuming HTTP2Connection.Action, on client: Client) {
        switch consume action { // its payload moved into the bindings, not copied
        case .request(let streamID, let request):
            respond(to: request, on: streamID, of: client)
        case .write(let bytes):
            client.output.append(bytes)
        case .writeShared(let piece):
            client.output.append(shared: piece) // a slice of the cached body, copied into the send buffer
        case .sendFile(let streamID, let path, let offset, let length):
            // The DATA frame's header is queued; its payload leaves with sendfile (`writeDirectly`), or is read
            // into the send buffer when the file queued is small.
            guard let file = client.http2Files[streamID]?[path] else {
                close(client) // cannot happen: the machine names only files its stream's body named
                return
            }
            client.output.append(file: file, offset: offset, length: length)
        case .streamEnded(let streamID):
            client.http2Files[streamID] = nil // queued segments keep their file open until sent
        case .close:
            // After the GOAWAY: half-close and throw away what the client still sends, so that its frames still
            // arriving do not make the kernel reset the connection and destroy the GOAWAY (as on EventLoop).
            client.ending = .linger
        }
    }

    /// Calls the handler for the request on `streamID` and queues its answer in the connection's machine.
    private func respond(to request: consuming HTTPRequest, on streamID: UInt32, of client: Client) {
        request.remoteAddress = client.remoteAddress
        let method = request.method
        var response = handler(consume request)
        EventLoop.readStream(of: &response) // HTTP/2 sends only what it can size
        // Opened now, so a file that cannot be opened is a 403 before the HEADERS go.
        let files = writer.openFiles(of: &response, answering: method)
        if let metrics {
            metrics.add(LoopMetrics.Slot.http2Streams)
            metrics.record(method, status: response.status.code, seconds: Processes.monotonicSeconds() - now)
        }
        guard client.speaksHTTP2 else { return }
        // The HEADERS come out of `nextAction` next, then the DATA.
        client.http2!.queueResponse(response, to: streamID, date: writer.currentDate()) { self.writer.takeSpare() }
        if !files.isEmpty { client.http2Files[streamID] = files }
    }
}
