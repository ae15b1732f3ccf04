import Glibc
import HTTPCore
import Sockets

/// The bytes a connection still has to send, in order: response heads and in-memory bodies (merged into
/// one buffer, so pipelined responses leave in one write) and file bodies (sent with sendfile).
///
/// A nonblocking socket takes what fits in its send buffer and answers EAGAIN for the rest; the queue
/// remembers where it stopped, and the event loop calls `flush` again when the socket is writable.
struct OutputQueue {
    enum Segment {
        case bytes([UInt8])
        /// A piece of a body held in memory elsewhere (an HTTP/2 DATA frame's payload, a slice of a cached
        /// file's bytes): never merged, so never copied; it leaves with the pieces around it in one
        /// gathered write.
        case shared(ArraySlice<UInt8>)
        case file(SharedFile, offset: Int, remaining: Int)
        /// A body of unknown length, pulled one piece at a time as the previous piece leaves.
        case stream(any BodyStream, chunked: Bool)

        var isInMemory: Bool {
            switch self {
            case .bytes, .shared: true
            case .file, .stream: false
            }
        }

        /// The octets of a `.bytes` or `.shared` piece (0 for the others).
        var inMemoryCount: Int {
            switch self {
            case .bytes(let bytes): bytes.count
            case .shared(let piece): piece.count
            case .file, .stream: 0
            }
        }
    }

    private var segments: [Segment] = []
    /// Bytes of the first segment already written (when it is `.bytes` or `.shared`).
    private var firstOffset = 0
    /// In-memory bytes not yet written; file segments are not counted, they cost no memory.
    private(set) var bufferedBytes = 0
    /// File octets not yet sent: no memory, but a producer that must not run ahead of the client (HTTP/2's
    /// DATA frames) counts them too.
    private(set) var fileBytes = 0
    /// Whether the transport holds partial segments until the connection closes (`Transport.cork`).
    private(set) var corked = false
    /// Everything still to send, in memory or on disk.
    var queuedBytes: Int { bufferedBytes + fileBytes }

    var isEmpty: Bool { segments.isEmpty }

    /// In-memory bytes written since the last `takeSentBytes()` (for /metrics; file bytes are the loop's to count).
    private var sentBytes = 0

    /// The last `.bytes` piece sent whole, or copied onto the piece before it, kept for the loop to write a
    /// later head into (`takeSpent`).
    private var spent: [UInt8]?

    /// The storage of a piece already sent, if there is one: the loop recycles it (`ResponseWriter.recycle`).
    mutating func takeSpent() -> [UInt8]? {
        defer { spent = nil }
        return spent
    }

    mutating func takeSentBytes() -> Int {
        defer { sentBytes = 0 }
        return sentBytes
    }

    /// In-memory pieces up to this size are merged into one buffer (pipelined answers leave in one write);
    /// a larger one (a cached file's body) keeps its own storage and leaves beside its head in one gathered
    /// write, without being copied.
    static let mergeLimit = 16 * 1024

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        bufferedBytes += bytes.count
        // A connection's first answer: room for a head, a body and what follows (a file answer is two
        // segments), so the array is allocated once, not grown from one.
        if segments.capacity == 0 { segments.reserveCapacity(4) }
        if case .bytes(var last)? = segments.last, bytes.count <= Self.mergeLimit, last.count <= Self.mergeLimit {
            segments.removeLast()
            last.append(contentsOf: bytes)
            segments.append(.bytes(last))
            // Its octets are copied: the array is free for the next head (pipelined answers, one after the
            // other before a write; the writer takes it at once). An array someone else holds too (a body the
            // file cache shares) stays intact: writing a head into it copies it first.
            if spent == nil { spent = bytes }
        } else {
            segments.append(.bytes(bytes))
        }
    }

    /// For a loop whose sends the kernel reads later (io_uring): an answer at the front whose body is an array
    /// of its own (a cached file's bytes, more than `mergeLimit`), taken out of the queue with its head (and
    /// any answers merged before it; at most `headLimit` octets), so the body can be sent from where it lies
    /// instead of copied. nil when the front is anything else, or partly sent.
    mutating func takeHeadAndOwnBody(headLimit: Int) -> (head: [UInt8], body: [UInt8])? {
        guard firstOffset == 0, segments.count >= 2, case .bytes(let head) = segments[0], head.count <= headLimit,
              case .bytes(let body) = segments[1], body.count > Self.mergeLimit else { return nil }
        segments.removeFirst(2)
        bufferedBytes -= head.count + body.count
        sentBytes += head.count + body.count
        spent = head // copied by the caller: free for the next head (`takeSpent`), as after a write
        return (head, body)
    }

    /// Queues a piece of a body without copying it: the slice keeps the body's storage alive until sent.
    mutating func append(shared piece: ArraySlice<UInt8>) {
        guard !piece.isEmpty else { return }
        bufferedBytes += piece.count
        segments.append(.shared(piece))
    }

    mutating func append(stream: any BodyStream, chunked: Bool) {
        segments.append(.stream(stream, chunked: chunked))
    }

    mutating func append(file: SharedFile, offset: Int, length: Int) {
        if length == 0 { return }
        fileBytes += length
        segments.append(.file(file, offset: offset, remaining: length))
    }

    /// The most file octets an event loop's `flush` sends with `sendfile` before it returns false, the socket
    /// still writable: the loop waits for writability again, which comes at once, and serves its other
    /// connections in between. Without it one fast reader of a large file holds the loop until the whole
    /// file has left (nginx's `sendfile_max_chunk`, 2 MB by default, is the same rule).
    static let fileBytesPerFlush = 2 << 20

    /// Writes as much as the transport takes. Returns true when everything has been sent.
    /// - Parameter finFollows: the connection closes (or shuts down writing) as soon as this is sent. The
    ///   last bytes then go with MSG_MORE: the kernel holds them for the FIN that `close` adds at once, and
    ///   the response and the FIN leave in one segment instead of two (nginx gets the same with TCP_CORK).
    /// - Parameter fileBudget: at most this many octets of files sent with `sendfile` in this call; past it,
    ///   false, as if the socket were full (`fileBytesPerFlush`).
    mutating func flush(to transport: any Transport, finFollows: Bool = false, fileBudget: Int = .max) throws(SystemError) -> Bool {
        var fileBudget = fileBudget
        while let first = segments.first {
            if Self.gathers(segments) {
                guard try writeGathered(to: transport, finFollows: finFollows) else { return false }
                continue
            }
            switch first {
            case .shared:
                break // always gathered (above)
            case .bytes(let bytes):
                // Two pieces of bytes in a row (a head, then a body kept in its own storage) go in one call.
                var next: [UInt8]?
                if segments.count > 1, case .bytes(let following) = segments[1] { next = following }
                var moreFollows = segments.count == (next == nil ? 1 : 2) && finFollows
                if segments.count > 1, case .file = segments[1] { moreFollows = true }
                if next != nil, segments.count > 2, case .file = segments[2] { moreFollows = true }
                let result = try bytes.withUnsafeBytes { all in
                    Result { () throws(SystemError) in
                        let unsent = UnsafeRawBufferPointer(rebasing: all[firstOffset...])
                        guard let next else { return try transport.write(unsent, more: moreFollows) }
                        return try next.withUnsafeBytes { second in
                            Result { () throws(SystemError) in try transport.write(unsent, second, more: moreFollows) }
                        }.get()
                    }
                }.get()
                guard case .done(let count) = result else { return false }
                // A transport that took nothing of a non-empty write would loop here for ever.
                if count == 0 { throw SystemError("write", errno: EPIPE) }
                bufferedBytes -= count
                sentBytes += count
                let firstRemaining = bytes.count - firstOffset
                if count < firstRemaining {
                    firstOffset += count
                } else {
                    // The first piece is gone; what the write took beyond it came from the second.
                    // The last piece (an answer's only one, mostly) leaves from the end: `removeFirst` moves the
                    // rest forward through the general `replaceSubrange` (~170 instructions) even when none follow.
                    if case .bytes(let sent) = segments.count == 1 ? segments.removeLast() : segments.removeFirst() {
                        spent = sent
                    }
                    firstOffset = count - firstRemaining
                    if firstOffset > 0, case .bytes(let second)? = segments.first, firstOffset == second.count {
                        segments.removeFirst()
                        firstOffset = 0
                    }
                }
            case .stream(let stream, let chunked):
                // Only now, with everything before it sent, is the next piece produced: backpressure.
                let piece: [UInt8]?
                do {
                    piece = try stream.next()
                } catch {
                    throw SystemError("body stream (\(error))", errno: EIO)
                }
                segments.removeFirst()
                if let piece {
                    segments.insert(.stream(stream, chunked: chunked), at: 0)
                    let framed = chunked ? ChunkedEncoder.chunk(piece) : piece
                    if !framed.isEmpty {
                        segments.insert(.bytes(framed), at: 0)
                        bufferedBytes += framed.count
                    }
                } else {
                    stream.close()
                    if chunked {
                        segments.insert(.bytes(ChunkedEncoder.lastChunk), at: 0)
                        bufferedBytes += ChunkedEncoder.lastChunk.count
                    }
                }
            case .file(let file, let offset, let remaining):
                // The last file before the FIN: corked, its segments leave full and the FIN rides on the last
                // one (without, a 100 KB file left as 32 K, 32 K, the head's 291 octets, 36 K, then a bare FIN:
                // 41.4 µs of CPU a request at c100, 33.7 corked). Never uncorked: the loop's shutdown sends the rest.
                // Not for a connection that stays open: corking and uncorking each large file cost more
                // (25.5 → 29.0 µs at 100 KB keep-alive c100) than the small segment it saves.
                if finFollows && !corked && segments.count == 1 {
                    transport.cork()
                    corked = true
                }
                guard fileBudget > 0 else { return false } // this turn's share: the rest after the others'
                guard let result = try transport.sendFile(file.descriptor, offset: offset, count: min(remaining, 1 << 20, fileBudget)) else {
                    // The transport cannot send files itself (TLS encrypts in user space): read the next
                    // piece into memory and write it like any other bytes. One piece at a time, so a
                    // 1 GB file still costs 64 KB.
                    let piece = try file.descriptor.pread(length: min(remaining, 64 * 1024), offset: offset)
                    segments[0] = .bytes(piece)
                    bufferedBytes += piece.count
                    fileBytes -= piece.count
                    if remaining > piece.count {
                        segments.insert(.file(file, offset: offset + piece.count, remaining: remaining - piece.count), at: 1)
                    }
                    continue
                }
                guard case .done(let count) = result else { return false }
                if count == 0 { throw SystemError("sendfile", errno: EIO) } // the file shrank under us
                fileBytes -= count
                fileBudget -= count
                if count == remaining {
                    segments.removeFirst() // the file closes when no one else holds it
                } else {
                    segments[0] = .file(file, offset: offset + count, remaining: remaining - count)
                }
            }
        }
        return true
    }

    /// Whether the front of the queue goes out in one gathered write: when a shared piece is among its
    /// first two segments (HTTP/2's DATA: a frame header, the payload, the next header…). Responses without
    /// shared pieces keep the one- and two-piece writes above.
    private static func gathers(_ segments: [Segment]) -> Bool {
        if case .shared? = segments.first { return true }
        if segments.count > 1, case .bytes = segments[0], case .shared = segments[1] { return true }
        return false
    }

    /// The most buffers one gathered write takes: 16 DATA frames of 16 KB with their headers (Linux allows
    /// 1,024 iovecs; past a send buffer's worth, more would only be refused with EAGAIN).
    static let maxGathered = 32

    /// Writes the in-memory segments at the front (up to `maxGathered`) with one `sendmsg`, then drops what
    /// it took. Returns false when the transport took nothing (EAGAIN).
    ///
    /// The iovecs point into the segments themselves: an array of the pieces as slices, made for each write,
    /// was destroyed element by element through Swift's generic value witness (about 3,400 instructions for a
    /// 100 KB HTTP/2 answer's 14 pieces, callgrind), and grew from nothing each time.
    private mutating func writeGathered(to transport: any Transport, finFollows: Bool) throws(SystemError) -> Bool {
        var pieces = 0
        while pieces < segments.count, pieces < Self.maxGathered, segments[pieces].isInMemory { pieces += 1 }
        // MSG_MORE unless these are the last bytes and no FIN follows at once.
        let more = pieces < segments.count || finFollows
        var vectors: [iovec] = []
        vectors.reserveCapacity(pieces)
        let result = try Self.withVectors(segments[..<pieces], skipping: firstOffset, &vectors) { vectors throws(SystemError) in
            try transport.write(gathering: vectors, more: more)
        }
        guard case .done(var count) = result else { return false }
        if count == 0 { throw SystemError("write", errno: EPIPE) } // took nothing of a non-empty write
        bufferedBytes -= count
        sentBytes += count
        // The pieces written whole leave the queue in one step (one by one, each moved the rest forward).
        var whole = 0
        while whole < pieces {
            let length = segments[whole].inMemoryCount - (whole == 0 ? firstOffset : 0)
            guard count >= length else { break }
            count -= length
            whole += 1
        }
        if whole > 0 {
            if case .bytes(let sent) = segments[0] { spent = sent }
            segments.removeFirst(whole)
            firstOffset = 0
        }
        firstOffset += count // into the first piece not written whole (0 when all were)
        return true
    }

    /// Calls `body` with iovecs for the in-memory `pieces` (the first without its first `skipping` octets), each
    /// valid while its `withUnsafeBytes` lasts: one nested call per piece, so no pointer outlives its storage.
    private static func withVectors(_ pieces: ArraySlice<Segment>, skipping: Int, _ vectors: inout [iovec],
                                    _ body: (UnsafeBufferPointer<iovec>) throws(SystemError) -> IOResult<Int>) throws(SystemError) -> IOResult<Int> {
        guard let first = pieces.indices.first else {
            return try vectors.withUnsafeBufferPointer { all in Result { () throws(SystemError) in try body(all) } }.get()
        }
        func next(_ raw: UnsafeRawBufferPointer) -> Result<IOResult<Int>, SystemError> {
            Result { () throws(SystemError) in
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress.map { $0 + skipping }),
                                     iov_len: raw.count - skipping))
                return try withVectors(pieces[(first + 1)...], skipping: 0, &vectors, body)
            }
        }
        switch pieces[first] {
        case .bytes(let bytes): return try bytes.withUnsafeBytes(next).get()
        case .shared(let piece): return try piece.withUnsafeBytes(next).get()
        case .file, .stream: preconditionFailure("only in-memory segments are gathered")
        }
    }

    /// Closes any files still queued (the connection is going away).
    mutating func discard() {
        for segment in segments {
            switch segment {
            case .file: break // released with the segment
            case .stream(let stream, _): stream.close()
            case .bytes, .shared: break
            }
        }
        segments.removeAll()
        bufferedBytes = 0
        fileBytes = 0
        firstOffset = 0
    }
}
