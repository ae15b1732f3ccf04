import Foundation
import HTTPCore
import Sockets
@testable import Stages
import Testing

/// A transport that cannot send files (like TLS, which encrypts in user space) and takes at most
/// `chunk` bytes per write: it records what it was given.
final class RecordingTransport: Transport {
    let socket = Socket(fd: -1)
    var written: [UInt8] = []
    /// The `more` flag (MSG_MORE) of each write, in order.
    var moreFlags: [Bool] = []
    var sendFileCalls = 0
    let chunk: Int

    init(chunk: Int) { self.chunk = chunk }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> { .done(0) }

    func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        let count = min(bytes.count, chunk)
        written += bytes[0..<count]
        moreFlags.append(more)
        return .done(count)
    }

    /// Gathered writes (two pieces per call, like TCP's sendmsg), when `gathers` is set; `chunk` still caps a call.
    var gathers = false
    var gatheredCalls = 0

    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard gathers else { return try write(first, more: true) }
        gatheredCalls += 1
        let both = Array(first) + Array(second)
        return try both.withUnsafeBytes { all in Result { () throws(SystemError) in try write(all, more: more) } }.get()
    }

    /// How many buffers each gathered write of any number of pieces was given (when `gathers` is set).
    var gatheredPieces: [Int] = []

    func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard let first = vectors.first else { return .done(0) }
        guard gathers else { return try write(UnsafeRawBufferPointer(start: first.iov_base, count: first.iov_len), more: true) }
        gatheredPieces.append(vectors.count)
        var all: [UInt8] = []
        for vector in vectors { all += UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len) }
        return try all.withUnsafeBytes { raw in Result { () throws(SystemError) in try write(raw, more: more) } }.get()
    }

    func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? {
        sendFileCalls += 1
        return nil
    }

    /// How many times the queue asked to hold partial segments until the close.
    var corks = 0
    func cork() { corks += 1 }

    func shutdownWrite() {}
    func close() {}
}

/// A transport with sendfile that takes everything: it counts what each call sent, in order.
final class FileSendingTransport: Transport {
    let socket = Socket(fd: -1)
    var written: [UInt8] = []
    var fileCalls: [Int] = []

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> { .done(0) }
    func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        written += bytes
        return .done(bytes.count)
    }
    func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard let first = vectors.first else { return .done(0) }
        return try write(UnsafeRawBufferPointer(start: first.iov_base, count: first.iov_len), more: more)
    }
    func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? {
        written += try file.pread(length: count, offset: offset) // what sendfile would have sent
        fileCalls.append(count)
        return .done(count)
    }
    func shutdownWrite() {}
    func close() {}
}

@Suite("OutputQueue over a transport without sendfile")
struct OutputQueueTests {
    /// An event loop's flush sends at most `fileBytesPerFlush` of files, then answers "not done" with the socket
    /// still writable, so one fast reader of a large file cannot hold the loop: the next flush goes on from there.
    @Test func aLargeFileLeavesInSharesOfTwoMegabytes() throws {
        let path = NSTemporaryDirectory() + "httpkit-queue-\(UUID().uuidString)"
        let content = (0..<5_000_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 10) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var queue = OutputQueue()
        queue.append(Array("head\r\n\r\n".utf8))
        queue.append(file: SharedFile(try FileDescriptor.openForReading(path)), offset: 0, length: content.count)
        queue.append(Array("next".utf8))
        let transport = FileSendingTransport()
        var turns = 0
        while try !queue.flush(to: transport, fileBudget: OutputQueue.fileBytesPerFlush) {
            turns += 1
            #expect(transport.written.count == 8 + turns * OutputQueue.fileBytesPerFlush)
            if turns > 5 { break }
        }
        #expect(turns == 2)
        #expect(transport.written == Array("head\r\n\r\n".utf8) + content + Array("next".utf8))
        #expect(transport.fileCalls.allSatisfy { $0 <= 1 << 20 })
        // Without a budget (a blocking exchange, the default), all at once.
        var whole = OutputQueue()
        whole.append(file: SharedFile(try FileDescriptor.openForReading(path)), offset: 0, length: content.count)
        #expect(try whole.flush(to: FileSendingTransport()))
    }

    @Test func aFileGoesOutThroughReadAndWriteInOrder() throws {
        let path = NSTemporaryDirectory() + "httpkit-queue-\(UUID().uuidString)"
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = SharedFile(try FileDescriptor.openForReading(path))

        var queue = OutputQueue()
        queue.append(Array("head\r\n\r\n".utf8))
        queue.append(file: file, offset: 1000, length: 200_000)
        queue.append(Array("next".utf8))
        let transport = RecordingTransport(chunk: 10_000)
        #expect(try queue.flush(to: transport))
        #expect(transport.written == Array("head\r\n\r\n".utf8) + content[1000..<201_000] + Array("next".utf8))
        #expect(transport.sendFileCalls >= 1)
        #expect(queue.isEmpty && queue.bufferedBytes == 0)
        // Read-and-write holds one 64 KB piece at a time, not the whole file.
    }

    /// The last bytes before a close go with MSG_MORE, so the kernel sends them with the FIN in one segment;
    /// bytes after which the connection stays open must not (they would wait for more data).
    @Test func theLastBytesBeforeAFinAskTheKernelToWait() throws {
        for finFollows in [false, true] {
            var queue = OutputQueue()
            queue.append(Array(repeating: 0x41, count: 25))
            let transport = RecordingTransport(chunk: 10)
            #expect(try queue.flush(to: transport, finFollows: finFollows))
            #expect(transport.written.count == 25)
            #expect(transport.moreFlags == [finFollows, finFollows, finFollows])
        }
    }

    /// A file that ends the connection is corked once, before its first piece (its segments leave full and the
    /// FIN rides on the last); one after which the connection stays open, or with more queued behind it, is not.
    @Test func theLastFileBeforeAFinIsCorkedOnce() throws {
        let path = NSTemporaryDirectory() + "httpkit-cork-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x42, count: 200_000)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = SharedFile(try FileDescriptor.openForReading(path))
        for (finFollows, after, corks) in [(true, "", 1), (false, "", 0), (true, "next", 0)] {
            var queue = OutputQueue()
            queue.append(Array("head\r\n\r\n".utf8))
            queue.append(file: file, offset: 0, length: 200_000)
            queue.append(Array(after.utf8))
            let transport = RecordingTransport(chunk: 10_000)
            #expect(try queue.flush(to: transport, finFollows: finFollows))
            #expect(transport.written.count == 8 + 200_000 + after.utf8.count)
            #expect(transport.corks == corks, "finFollows \(finFollows), after \(after.debugDescription)")
        }
    }

    /// A large body keeps its own storage (no copy behind its head) and leaves with the head in gathered
    /// writes; every byte arrives once and in order, whatever size each write takes.
    @Test(arguments: [7, 100, 20_000, 1 << 20])
    func aHeadAndALargeBodyLeaveTogetherInOrder(chunk: Int) throws {
        let head = Array("HTTP/1.1 200 OK\r\n\r\n".utf8)
        let body = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let next = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".utf8)
        var queue = OutputQueue()
        queue.append(head)
        queue.append(body) // over mergeLimit: a segment of its own
        queue.append(next)
        queue.append(Array("!".utf8)) // small after small: merged with `next`
        let transport = RecordingTransport(chunk: chunk)
        transport.gathers = true
        #expect(try queue.flush(to: transport))
        #expect(transport.written == head + body + next + Array("!".utf8))
        #expect(transport.gatheredCalls > 0)
        #expect(queue.isEmpty && queue.bufferedBytes == 0)
    }

    /// HTTP/2's DATA frames of a body in memory: each frame's header, then a slice of the body that is never
    /// copied into the queue. They leave in gathered writes, every byte once and in order, however much
    /// each write takes (a cut inside a header, inside a slice, at a boundary).
    @Test(arguments: [5, 9, 4_096, 16_393, 1 << 20])
    func framesAndSharedSlicesLeaveTogetherInOrder(chunk: Int) throws {
        let body = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var expected: [UInt8] = []
        var queue = OutputQueue()
        queue.append(Array("HEADERS".utf8))
        expected += Array("HEADERS".utf8)
        var offset = 0
        while offset < body.count {
            let take = min(16_384, body.count - offset)
            let header = [UInt8(take >> 16), UInt8((take >> 8) & 0xff), UInt8(take & 0xff), 0, 0, 0, 0, 0, 1]
            queue.append(header)
            queue.append(shared: body[offset..<(offset + take)])
            expected += header + body[offset..<(offset + take)]
            offset += take
        }
        queue.append(Array("after".utf8))
        expected += Array("after".utf8)
        #expect(queue.bufferedBytes == expected.count)
        let transport = RecordingTransport(chunk: chunk)
        transport.gathers = true
        #expect(try queue.flush(to: transport))
        #expect(transport.written == expected)
        #expect(!transport.gatheredPieces.isEmpty && transport.gatheredPieces.allSatisfy { $0 <= OutputQueue.maxGathered })
        if chunk == 1 << 20 {
            // One write of seven buffers: HEADERS with the first frame header (small pieces merge), then each
            // slice, the next header, and "after".
            #expect(transport.gatheredPieces == [7])
        }
        #expect(queue.isEmpty && queue.bufferedBytes == 0)
    }

    @Test("a piece sent whole is handed back for its storage to be written again; one sent in part is not")
    func spentPieces() throws {
        var queue = OutputQueue()
        queue.append(Array("first answer".utf8))
        let partly = RecordingTransport(chunk: 5)
        let wouldBlock = BlockingAfter(bytes: 5)
        #expect(try !queue.flush(to: wouldBlock))
        #expect(queue.takeSpent() == nil, "the piece is still being sent")
        #expect(try queue.flush(to: partly))
        #expect(queue.takeSpent() == Array("first answer".utf8))
        #expect(queue.takeSpent() == nil, "handed back once")

        // Gathered: a head and a shared body slice; the head (bytes) is handed back, the shared slice never.
        let body = Array(repeating: UInt8(ascii: "z"), count: 20_000)
        queue.append(Array("head".utf8))
        queue.append(shared: body[...])
        let transport = RecordingTransport(chunk: 1 << 20)
        transport.gathers = true
        #expect(try queue.flush(to: transport))
        #expect(queue.takeSpent() == Array("head".utf8))
        #expect(transport.written == Array("head".utf8) + body)
    }

    @Test("a piece copied onto the one before it is handed back at once, and the queue still sends every octet")
    func copiedPiecesHandedBack() throws {
        var queue = OutputQueue()
        queue.append(Array("first".utf8))
        #expect(queue.takeSpent() == nil, "the first piece has nothing before it")
        queue.append(Array("first".utf8))
        #expect(queue.takeSpent() == Array("first".utf8), "the second copy of the first answer went onto the first")
        queue.append(Array(" second".utf8))
        queue.append(Array(" third".utf8))
        #expect(queue.takeSpent() == Array(" second".utf8), "the first copied array is kept; later ones are freed")
        #expect(queue.takeSpent() == nil)
        let transport = RecordingTransport(chunk: 1 << 20)
        #expect(try queue.flush(to: transport))
        #expect(transport.written == Array("firstfirst second third".utf8))
    }

    @Test("pipelined answers queued before a write leave the second head's array as a spare for the next head")
    func pipelinedHeadsRecycled() {
        var writer = ResponseWriter(), machine = HTTP1Connection(policy: .init()), output = OutputQueue()
        machine.receive(Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        var answered = 0
        while let action = machine.nextAction() {
            guard case .request(let request) = action else { continue }
            _ = writer.queue(.text(.ok, "answer \(request.target)\n"), to: request, on: &machine, into: &output)
            answered += 1
        }
        #expect(answered == 2)
        #expect(writer.spareCount == 1, "the second head was copied onto the first answer; its array is kept")
        #expect(output.bufferedBytes > 0)
    }

    @Test("the writer keeps at most eight spare arrays, none over 32 KB")
    func spareArraysBounded() {
        var writer = ResponseWriter()
        for _ in 0..<20 { writer.recycle([UInt8](repeating: 1, count: 100)) }
        writer.recycle([UInt8](repeating: 1, count: 100_000))
        #expect(writer.spareCount == ResponseWriter.maxSpareBuffers)
        var fresh = ResponseWriter()
        fresh.recycle([UInt8](repeating: 1, count: ResponseWriter.largestSpareBuffer + 1))
        #expect(fresh.spareCount == 0)
    }

    /// io_uring's loop sends a large body of its own from where it lies: the queue hands over the head and
    /// the body whole, counts them as sent, and leaves what follows; anything else at the front stays queued.
    @Test func aHeadAndALargeBodyOfItsOwnAreTakenWhole() throws {
        let body = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var queue = OutputQueue()
        queue.append(Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        queue.append(body)
        queue.append(Array("next".utf8))
        let taken = queue.takeHeadAndOwnBody(headLimit: 64 * 1024)
        #expect(taken?.head == Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        #expect(taken?.body.count == body.count && taken?.body == body, "not the body")
        #expect(queue.bufferedBytes == 4)
        #expect(queue.takeSentBytes() == 19 + 100_000)
        #expect(queue.takeHeadAndOwnBody(headLimit: 64 * 1024) == nil) // "next" alone: copied as before
        let transport = RecordingTransport(chunk: 100)
        #expect(try queue.flush(to: transport))
        #expect(transport.written == Array("next".utf8))

        var small = OutputQueue() // a small body is merged with its head: nothing to take
        small.append(Array("head".utf8))
        small.append(Array(repeating: 1, count: 1_000))
        #expect(small.takeHeadAndOwnBody(headLimit: 64 * 1024) == nil)
        var tooLongAHead = OutputQueue()
        tooLongAHead.append(Array("head".utf8))
        tooLongAHead.append(body)
        #expect(tooLongAHead.takeHeadAndOwnBody(headLimit: 3) == nil)
        #expect(tooLongAHead.bufferedBytes == 4 + 100_000)
    }

    /// A SendBuffer with a body attached: what is left after each short send, across the copied bytes and the body.
    @Test func aSendBufferWithABodyAttachedResumesWhereTheKernelStopped() throws {
        let buffer = SendBuffer()
        let body = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 5) }
        _ = Array("head".utf8).withUnsafeBytes { try? buffer.write($0, more: true) }
        buffer.attach(body)
        #expect(buffer.total == 70_004)
        /// Whether what is left to send is `expected` (a Bool: a failure would print 70,000 numbers).
        func leftIs(_ expected: [UInt8]) -> Bool { Array(buffer.unsentPieces.copied) + Array(buffer.unsentPieces.attached) == expected }
        #expect(leftIs(Array("head".utf8) + body))
        buffer.sent = 2
        #expect(leftIs(Array("ad".utf8) + body))
        buffer.sent = 4 + 50_000
        #expect(buffer.unsentPieces.copied.isEmpty)
        #expect(leftIs(Array(body[50_000...])))
        buffer.reset()
        #expect(buffer.total == 0 && buffer.unsentPieces.attached.isEmpty)
    }
}

/// A transport that takes `bytes` octets, then says the socket would block.
final class BlockingAfter: Transport {
    let socket = Socket(fd: -1)
    var left: Int
    init(bytes: Int) { left = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> { .done(0) }
    func write(_ bytes: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard left > 0 else { return .wouldBlock }
        let count = min(left, bytes.count)
        left -= count
        return .done(count)
    }
    func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer, more: Bool) throws(SystemError) -> IOResult<Int> {
        try write(first, more: more)
    }
    func write(gathering vectors: UnsafeBufferPointer<iovec>, more: Bool) throws(SystemError) -> IOResult<Int> {
        guard let first = vectors.first else { return .done(0) }
        return try write(UnsafeRawBufferPointer(start: first.iov_base, count: first.iov_len), more: more)
    }
    func sendFile(_ file: FileDescriptor, offset: Int, count: Int) throws(SystemError) -> IOResult<Int>? { nil }
    func cork() {}
    func shutdownWrite() {}
    func close() {}
}
