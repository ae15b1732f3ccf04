import HTTPCore
import Sockets

/// The one place in the project where a handler's response becomes output: the event loop and the
/// blocking stages both queue responses through it.
///
/// It opens what the body needs first (a file, a stream), so that a file that cannot be opened is
/// answered with 403 before any byte of a 200 head is queued; then the connection's HTTP/1.1 machine
/// decides the framing and whether the connection stays open, and the writer queues what it says.
struct ResponseWriter {
    private let files: OpenFileCache
    private var dates = HTTPDate.Cache()
    /// Arrays whose bytes have been sent (`OutputQueue.takeSpent`), for the next heads to be written into: a
    /// response then costs no allocation and no `free`. A few, each small: what an idle loop holds is bounded.
    private var spareBuffers: [[UInt8]] = []
    static let maxSpareBuffers = 8
    static let largestSpareBuffer = 32 * 1024

    /// How many spare arrays are kept now (for the tests of the bound).
    var spareCount: Int { spareBuffers.count }

    /// Keeps `buffer`'s storage for a later head, if there is room and it is small enough to be worth keeping.
    mutating func recycle(_ buffer: [UInt8]) {
        guard spareBuffers.count < Self.maxSpareBuffers, buffer.capacity <= Self.largestSpareBuffer else { return }
        if spareBuffers.capacity == 0 { spareBuffers.reserveCapacity(Self.maxSpareBuffers) }
        spareBuffers.append(buffer)
    }

    /// A spare array for another writer of bytes (HTTP/2's frames), if one is kept.
    mutating func takeSpare() -> [UInt8]? { spareBuffers.popLast() }

    init(files: OpenFileCache = OpenFileCache()) {
        self.files = files
    }

    /// Queues `response`, the answer to `request` (nil: the answer to a request the parser refused).
    /// Returns how the response ends the connection, if it does: `.close`, `.lingeringClose` or
    /// `.switchProtocols`.
    mutating func queue(_ response: HTTPResponse, to request: HTTPRequest?, on machine: inout HTTP1Connection,
                        into output: inout OutputQueue) -> HTTP1Connection.Action? {
        queue(response, answering: .of(request), on: &machine, into: &output)
    }

    /// The same, given only what the answer needs of the request (the event loop's way: the handler has it).
    /// Inlined into the loop's `answer` (its optional action then costs no copy across a call): left to the
    /// compiler, it was inlined or not as the code around it changed (~140 instructions a request, callgrind).
    @inline(__always)
    mutating func queue(_ response: HTTPResponse, answering request: AnsweredRequest, on machine: inout HTTP1Connection,
                        into output: inout OutputQueue) -> HTTP1Connection.Action? {
        switch response.body {
        case .empty, .bytes:
            // In memory already (most answers): nothing to open, so it is queued as it is, not copied.
            return queue(opened: response, files: [:], stream: nil, to: request, on: &machine, into: &output)
        case .file, .parts, .stream:
            break
        }
        var response = response
        var stream: (any BodyStream)?
        let opened = openFiles(of: &response, answering: request.method)
        if response.sendsBody(answering: request.method), case .stream(let body) = response.body {
            do {
                stream = try body.open()
            } catch {
                response = .text(.internalServerError, "500 Internal Server Error: the body could not be produced\n")
            }
        }
        return queue(opened: response, files: opened, stream: stream, to: request, on: &machine, into: &output)
    }

    /// Queues what the machine's `respond` says for a response whose files and stream are open.
    private mutating func queue(opened response: HTTPResponse, files opened: [String: SharedFile], stream: (any BodyStream)?,
                                to request: AnsweredRequest, on machine: inout HTTP1Connection,
                                into output: inout OutputQueue) -> HTTP1Connection.Action? {
        var ending: HTTP1Connection.Action?
        machine.respond(response, answering: request, date: dates.current(), reusing: spareBuffers.popLast()) { action in
            switch action {
            case .write(let bytes):
                output.append(bytes)
            case .sendFile(let path, let offset, let length):
                if let file = opened[path] { output.append(file: file, offset: offset, length: length) }
            case .stream(_, let chunked):
                if let stream { output.append(stream: stream, chunked: chunked) }
            case .close, .lingeringClose, .switchProtocols:
                ending = action
            case .request, .head, .body, .bodyEnd, .rejected:
                break // input-side actions never come out of respond
            }
        }
        // A head the queue copied onto the answer before it (pipelined requests) leaves its array free: kept
        // for the next head, a batch of pipelined answers allocates no head (callgrind: ~250 instructions each).
        if let spent = output.takeSpent() { recycle(spent) }
        return ending
    }

    /// Today's Date header value, formatted once a second.
    mutating func currentDate() -> String { dates.current() }

    /// Opens the files `response`'s body names (through the loop's open-file cache), before any byte of its
    /// head is queued: a file that cannot be opened turns the response into a 403. HTTP/1.1 and HTTP/2
    /// both send files from what this returns.
    func openFiles(of response: inout HTTPResponse, answering method: HTTPMethod) -> [String: SharedFile] {
        guard response.sendsBody(answering: method) else { return [:] }
        var paths: [String] = []
        switch response.body {
        case .file(let path, _, _): paths = [path]
        case .parts(let parts): for case .file(let path, _, _) in parts { paths.append(path) }
        default: break
        }
        var opened: [String: SharedFile] = [:]
        for path in paths where opened[path] == nil {
            do {
                opened[path] = try files.open(path)
            } catch {
                response = .text(.forbidden, "403 Forbidden: the file could not be opened (\(error.errnoName))\n")
                return [:]
            }
        }
        return opened
    }
}

/// Files opened for responses, kept open for a second (like nginx's open_file_cache): a file sent again
/// soon costs no open() and close(). Replaced files are noticed within that second. One per event loop
/// (a loop is one thread: no lock); the blocking stages use one per connection.
final class OpenFileCache {
    private var entries: [String: (file: SharedFile, openedAt: Double)] = [:]
    private let validity: Double

    init(validity: Double = 1) {
        self.validity = validity
    }

    func open(_ path: String) throws(SystemError) -> SharedFile {
        let now = Processes.monotonicSeconds()
        if let cached = entries[path], now - cached.openedAt < validity { return cached.file }
        entries[path] = nil
        let file = SharedFile(try FileDescriptor.openForReading(path))
        if validity > 0 {
            if entries.count >= 1024 { entries.removeAll(keepingCapacity: true) }
            entries[path] = (file, now)
        }
        return file
    }
}
