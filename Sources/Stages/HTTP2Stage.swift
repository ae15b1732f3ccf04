// ┌────────────────────────────────────────────────────────────────────────────────────────────┐
// │ Stage 10 · http2 — one connection, many streams: HTTP/2 (RFC 9113) next to HTTP/1.1        │
// │                                                                                            │
// │ Changed since websocket: the same routes and middleware, and a second way to carry them.   │
// │ A client that starts with the 24-byte preface (curl --http2-prior-knowledge, h2load), or   │
// │ that picks `h2` with ALPN over TLS (browsers, curl --http2 https://), gets an              │
// │ HTTP2Connection in its protocol slot (EventLoop+HTTP2.swift): frames, HPACK, streams,      │
// │ flow control, all in HTTPCore/HTTP2 without a socket. Each stream's request goes to the    │
// │ same handler as an HTTP/1.1 request; the handler cannot tell which protocol carried it.    │
// │ A request line (ending in HTTP/1.x) is HTTP/1.1, as in the router stage; a first line that │
// │ is neither is a broken preface (CleartextProtocolProbe). With --http2-only, nothing else   │
// │ is served: every connection's first bytes go to HTTP2Connection, preface or not.           │
// └────────────────────────────────────────────────────────────────────────────────────────────┘
import HTTPCore
import Sockets

/// The router stage, also speaking HTTP/2 (prior knowledge on plain TCP, ALPN h2 over TLS).
public struct HTTP2Stage: Sendable {
    public let configuration: ServerConfiguration
    let router: RouterStage

    public init(_ configuration: ServerConfiguration, root: DocumentRoot) {
        self.configuration = configuration
        router = RouterStage(configuration, root: root)
    }

    public func run() throws(SystemError) {
        if configuration.http2Only {
            // A plain `curl http://…` on this port reads our SETTINGS frame as "HTTP/0.9": say so up front.
            Console.out("http2: HTTP/2 only (--http2-only): " + (configuration.tls == nil
                ? "clients must start with the preface (curl --http2-prior-knowledge); HTTP/1.1 gets GOAWAY"
                : "ALPN agrees to h2 alone; a client without it is closed"))
        }
        try router.run(stageName: "http2", adjust: { options in
            options.http2 = true // the one switch: HTTP2Connection for a preface or ALPN h2
            options.http2Only = configuration.http2Only // --http2-only: HTTP2Connection for every connection
        })
    }
}
