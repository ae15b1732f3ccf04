import Glibc
internal import CURing // only this file sees liburing; no module that imports Sockets loads it

/// One finished request from the ring: which request (`tag`, the number it was submitted with), its
/// result (what the system call would have returned, or -errno), and for a receive, the buffer it filled.
public struct Completion: Sendable {
    public var tag: UInt64
    public var result: Int32
    /// The multishot request that produced this is still armed and will complete again.
    public var more: Bool
    /// The provided buffer the kernel filled (a receive), to be read and then given back with `recycle`.
    public var buffer: UInt16?
}

/// io_uring: a *completion* API. Where a poller says "this socket is ready, now you read it", the ring
/// is handed the work itself — accept on this listener, receive on that socket, send these bytes — and
/// says when it is done and how it went. Requests are queued in user space and go to the kernel in one
/// `io_uring_enter`, which also waits for completions; a multishot request stays armed and completes
/// again and again (every new connection, every arrival of bytes) until it is cancelled.
///
/// Received bytes land in *provided buffers*: a pool the kernel picks from when data arrives, so an idle
/// connection holds no buffer. Each receive completion names its buffer; read it, then `recycle` it.
/// Bytes to send must stay where they are until their completion arrives: the kernel reads them later.
public final class CompletionRing {
    private let ring: UnsafeMutablePointer<httpkit_ring>
    public let bufferSize: Int
    private var cqes: [UnsafeMutablePointer<io_uring_cqe>?]

    /// Sets up the ring, or throws the call that failed: ENOSYS (a kernel without io_uring), EPERM
    /// (disabled with sysctl kernel.io_uring_disabled, or by a container's seccomp filter), EINVAL (a
    /// kernel older than 5.19, without provided-buffer rings).
    public init(entries: UInt32 = 1024, buffers: UInt32 = 512, bufferSize: UInt32 = 16 * 1024) throws(SystemError) {
        var call: UnsafePointer<CChar>?
        var error: Int32 = 0
        guard let ring = httpkit_ring_create(entries, buffers, bufferSize, &call, &error) else {
            throw SystemError(call.map { String(cString: $0) } ?? "io_uring_queue_init", errno: -error)
        }
        self.ring = ring
        self.bufferSize = Int(bufferSize)
        cqes = Array(repeating: nil, count: Int(entries) * 2)
    }

    deinit { httpkit_ring_destroy(ring) }

    /// nil when io_uring works here, else why not (the stages check it first; the tests skip on it).
    public static func unavailableReason() -> SystemError? {
        do { _ = try CompletionRing(entries: 4, buffers: 4, bufferSize: 64) } catch { return error }
        return nil
    }

    // MARK: - Requests (queued; they reach the kernel with the next `submitAndWait`)

    public func acceptMultishot(_ listener: Int32, tag: UInt64) { httpkit_ring_accept_multishot(ring, listener, tag) }
    public func receiveMultishot(_ fd: Int32, tag: UInt64) { httpkit_ring_recv_multishot(ring, fd, tag) }
    /// `bytes` must stay valid and unchanged until this send's completion. `more` (MSG_MORE): the connection
    /// closes right after, so the kernel may hold a last partial segment and send it with the FIN.
    public func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, more: Bool = false, tag: UInt64) {
        httpkit_ring_send(ring, fd, bytes.baseAddress, bytes.count, more ? 1 : 0, tag)
    }
    /// The size of the scratch memory `send(_:_:_:scratch:more:tag:)` writes its message header into.
    public static var sendTwoScratchSize: Int { httpkit_ring_send_two_scratch_size() }
    /// One send of two pieces (a sendmsg). The pieces and `scratch` must stay valid and unchanged until this
    /// send's completion.
    public func send(_ fd: Int32, _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                     scratch: UnsafeMutableRawPointer, more: Bool = false, tag: UInt64) {
        httpkit_ring_send_two(ring, fd, scratch, first.baseAddress, first.count, second.baseAddress, second.count,
                              more ? 1 : 0, tag)
    }
    /// One completion when `fd`'s send buffer has room (POLLOUT): readiness from the ring, for bytes the loop
    /// writes itself (a file with `sendfile`) when the socket took only part of them.
    public func pollWritable(_ fd: Int32, tag: UInt64) { httpkit_ring_poll_writable(ring, fd, tag) }
    public func cancel(_ target: UInt64, tag: UInt64) { httpkit_ring_cancel(ring, target, tag) }
    /// Cancels whatever is pending on `fd`, then closes it (a pending receive would keep the socket open).
    public func cancelAndClose(_ fd: Int32, tag: UInt64) { httpkit_ring_cancel_and_close(ring, fd, tag) }
    /// Cancels the requests submitted with these tags (each nil or pending), then closes `fd`: for a
    /// connection, whose few pending requests the loop knows, cheaper than cancelling by descriptor.
    public func cancelAndClose(_ fd: Int32, requests first: UInt64?, _ second: UInt64?, tag: UInt64) {
        httpkit_ring_cancel_requests_and_close(ring, fd, first ?? 0, second ?? 0, tag)
    }
    /// One completion (result -ETIME) after `milliseconds`.
    public func timeout(milliseconds: UInt32, tag: UInt64) { httpkit_ring_timeout(ring, milliseconds, tag) }

    // MARK: - Completions

    /// Submits what was queued and waits until at least one completion is ready, then replaces
    /// `completions` with every ready one. A signal ends the wait early with none.
    public func submitAndWait(into completions: inout [Completion]) throws(SystemError) {
        completions.removeAll(keepingCapacity: true)
        let submitted = httpkit_ring_submit_and_wait(ring)
        if submitted < 0 && submitted != -EINTR && submitted != -EBUSY && submitted != -EAGAIN {
            throw SystemError("io_uring_enter", errno: -submitted)
        }
        let count = cqes.withUnsafeMutableBufferPointer { httpkit_ring_peek(ring, $0.baseAddress, UInt32($0.count)) }
        for index in 0..<Int(count) {
            let cqe = cqes[index]!.pointee
            let buffer = httpkit_cqe_buffer_id(cqe.flags)
            completions.append(Completion(tag: cqe.user_data, result: cqe.res, more: httpkit_cqe_more(cqe.flags) != 0,
                                          buffer: buffer < 0 ? nil : UInt16(buffer)))
        }
        httpkit_ring_advance(ring, count)
    }

    /// The first `count` bytes of a provided buffer, valid until it is recycled.
    public func bytes(in buffer: UInt16, count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: httpkit_ring_buffer(ring, UInt32(buffer)), count: count)
    }

    /// Gives a provided buffer back to the kernel for a later receive.
    public func recycle(_ buffer: UInt16) { httpkit_ring_recycle(ring, UInt32(buffer)) }
}
