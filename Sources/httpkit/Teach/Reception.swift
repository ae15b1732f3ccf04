import Foundation
import HTTPCore
import Sockets

/// Everything that came back on one check's connection, and how the conversation ended: the material a
/// failed check's report is made of. Kept even when sending or parsing failed, because the bytes that did
/// arrive (a 400 after one `recv`, a body four bytes longer than its Content-Length) are the diagnosis.
struct Reception: Sendable {
    /// How reading stopped.
    enum Ending: Sendable, Equatable {
        /// The check had what it waited for; the connection was still open.
        case open
        /// The server closed the connection (read returned 0).
        case closed
        /// The connection was reset (ECONNRESET): the server closed it with request bytes still unread.
        case reset
        /// Nothing more arrived within the receive timeout.
        case timedOut(seconds: Double)
        /// No connection at all (or no TLS session on it): the error, as the system said it.
        case noConnection(String)
    }

    /// Every byte received, in order.
    var bytes: [UInt8] = []
    var ending = Ending.open
    /// Set when writing the request failed (`write: EPIPE`): the server stopped reading before it had all of it.
    var sendError: String?
    /// How many of the request's writes went out before the first byte came back, when the check sent it in
    /// pieces (one `recv` answers after the first).
    var answeredAfterWrite: Int?
    /// The methods of the requests sent, in order: a response to HEAD has no body.
    var methods: [String] = []
    /// Bytes after the last complete response that no response parser could place (a body longer than its
    /// Content-Length says, say).
    var unparsedBytes = 0
    /// False for echo, whose bytes are not HTTP: no wire analysis of them.
    var isHTTP = true
    /// HTTP/2 frames from the server (HTTP2Checks.swift): dumped frame by frame, not as an HTTP/1.1 response.
    var isHTTP2 = false
    /// How many complete responses the parser took from `bytes`.
    var responsesParsed = 0
    /// What the strict response parser refused, when it refused (the wire analysis says why at length).
    var parseError: String?

    init(bytes: [UInt8] = [], ending: Ending = .open) {
        self.bytes = bytes
        self.ending = ending
    }

    /// A connection that failed before any byte: the error, worded for the report.
    init(failure error: any Error) {
        switch error {
        case let error as TLSError: self.init(ending: .noConnection("the TLS handshake failed: \(error)"))
        case let error as SystemError where error.errno == ECONNRESET: self.init(ending: .reset)
        default: self.init(ending: .noConnection("\(error)"))
        }
    }
}

// MARK: - What went wrong, in words

extension Reception {
    /// The first problem the wire analysis finds in the bytes received, with where it is:
    /// `Content-Length 4235 ≠ body 4239: 4 bytes extra`, `bare LF (expected CRLF) in the status-line, at 0x000f`.
    /// nil when the bytes are well-formed HTTP (or there are none).
    var wireCause: String? {
        guard isHTTP, !bytes.isEmpty else { return nil }
        let analysis = WireAnalysis(bytes, as: .response, requestMethod: methods.first)
        for message in analysis.messages {
            for element in message.elements {
                guard let warning = element.warnings.first else { continue }
                let place = element.note.components(separatedBy: "  ").first.flatMap { $0.isEmpty ? nil : $0 } ?? "message"
                return "\(warning) — in the \(place) at offset \(String(format: "0x%04x", element.range.lowerBound))"
                    + (Self.explanation(of: warning, in: analysis, message: message).map { ". \($0)" } ?? "")
            }
        }
        return nil
    }

    /// The classic mistake behind a warning, when the bytes show which one it is.
    static func explanation(of warning: String, in analysis: WireAnalysis, message: WireMessage) -> String? {
        if warning.hasPrefix("bare LF") {
            return "Every line of an HTTP/1.1 head ends in \\r\\n (RFC 9112 §2.2): send \"\\r\\n\", not \"\\n\""
        }
        if warning.hasPrefix("Content-Length"), warning.contains("extra"),
           let declared = Int(warning.dropFirst("Content-Length ".count).prefix { $0.isNumber }),
           let head = message.elements.firstIndex(where: { $0.role == .boundary }) {
            // Everything after the head is the body the server meant to send.
            let body = analysis.bytes[message.elements[head].range.upperBound...]
            let characters = String(decoding: body, as: UTF8.self).count
            if characters == declared && characters != body.count {
                return "\(declared) is the number of characters; Content-Length counts bytes (\(body.count) in UTF-8): "
                    + "take the length of the encoded body"
            }
            return "the bytes after it are read as the start of the next response"
        }
        if warning.contains("is not a hexadecimal chunk size") || warning.hasPrefix("chunk-size says") {
            return "a chunk-size line is the data's length in hexadecimal (RFC 9112 §7.1): 26 bytes is 1a"
        }
        return nil
    }

    /// How the conversation ended, as the end of a sentence: "then the server closed the connection".
    var endingText: String {
        var text: String
        switch ending {
        case .open: text = "the check stopped reading (it had what it waited for)"
        case .closed: text = "the server closed the connection"
        case .reset: text = "the connection was reset (ECONNRESET): the server closed it with request bytes unread"
        case .timedOut(let seconds): text = "nothing more came within \(seconds.formatted()) s while the connection stayed open"
        case .noConnection(let error): text = "no connection: \(error)"
        }
        if let sendError { text += "; sending the request failed (\(sendError)): the server stopped reading before it had all of it" }
        return text
    }

    /// Why the bytes are not the answer, when the bytes say it: what the wire shows, else that nothing (or
    /// not all of it) came and how the conversation ended. nil when complete, well-formed responses arrived,
    /// and only the check can say what is wrong with them.
    var cause: String? {
        if let wireCause { return wireCause }
        if bytes.isEmpty {
            switch ending {
            case .timedOut(let seconds):
                return "no response within \(seconds.formatted()) s: the server is still waiting (for more of the request?) or busy with another client"
            case .closed where sendError == nil:
                return "the server closed the connection without sending a byte"
            default:
                return "nothing came back: \(endingText)"
            }
        }
        if let parseError { return "the response could not be parsed: \(parseError)" }
        if unparsedBytes > 0 { return "\(WireAnalysis.bytesText(unparsedBytes)) after the last complete response" }
        if responsesParsed == 0 { return "the response is incomplete: \(endingText)" }
        return nil
    }
}

extension Double {
    /// 3 for 3.0, 0.5 for 0.5: a duration as a person writes it.
    func formatted() -> String { self == rounded() ? String(Int(self)) : String(self) }
}
