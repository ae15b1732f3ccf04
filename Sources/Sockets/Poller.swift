import Glibc
import CSystem

/// What a descriptor is waited on for.
public struct Interest: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Interest(rawValue: 1)
    public static let write = Interest(rawValue: 2)
}

/// One descriptor that became ready.
public struct ReadinessEvent: Sendable, Hashable {
    public var fd: Int32
    public var readable: Bool
    public var writable: Bool
    /// The peer hung up or the socket has an error: reading will say which.
    public var hangup: Bool

    public init(fd: Int32, readable: Bool, writable: Bool, hangup: Bool) {
        self.fd = fd
        self.readable = readable
        self.writable = writable
        self.hangup = hangup
    }
}

/// A readiness API: tell it which descriptors to watch, then wait until some are ready.
///
/// Three implementations show why event loops moved from select to epoll:
/// - `SelectPoller`: a fixed-size bitmap (FD_SETSIZE, 1024 descriptors), rebuilt and scanned every wait;
/// - `PollPoller`: an array of any size, but still copied to the kernel and scanned every wait — O(watched);
/// - `EpollPoller`: the kernel keeps the watch list, and a wait returns only the ready ones — O(ready).
public protocol Poller: AnyObject {
    var name: String { get }
    func add(_ fd: Int32, _ interest: Interest) throws(SystemError)
    func modify(_ fd: Int32, _ interest: Interest) throws(SystemError)
    func remove(_ fd: Int32)
    /// `fd` is about to be closed: forget it. (epoll forgets a closed descriptor by itself, so it skips
    /// the system call; poll and select must drop it from their tables.)
    func forgetBeforeClose(_ fd: Int32)
    /// Waits up to `timeoutMilliseconds` (-1: forever) and replaces `events` with the ready descriptors.
    /// A signal ends the wait early with no events.
    func wait(timeoutMilliseconds: Int32, into events: inout [ReadinessEvent]) throws(SystemError)
}

/// The error a poller throws for a descriptor it cannot watch (select's FD_SETSIZE wall).
public let descriptorTooLarge: Int32 = EMFILE

public final class EpollPoller: Poller {
    public let name = "epoll"
    let epfd: Int32
    private var buffer: [epoll_event]

    public init(maxEventsPerWait: Int = 1024) throws(SystemError) {
        epfd = try syscall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        buffer = [epoll_event](repeating: epoll_event(), count: maxEventsPerWait)
    }

    deinit { close(epfd) }

    private func control(_ operation: Int32, _ fd: Int32, _ interest: Interest, name: String) throws(SystemError) {
        var event = epoll_event()
        var mask: UInt32 = 0
        if interest.contains(.read) { mask |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if interest.contains(.write) { mask |= EPOLLOUT.rawValue }
        event.events = mask
        event.data.fd = fd
        _ = try syscall(name) { epoll_ctl(epfd, operation, fd, &event) }
    }

    public func add(_ fd: Int32, _ interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd, interest, name: "epoll_ctl(ADD)")
    }

    public func modify(_ fd: Int32, _ interest: Interest) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd, interest, name: "epoll_ctl(MOD)")
    }

    public func remove(_ fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event)
    }

    public func forgetBeforeClose(_ fd: Int32) {}

    public func wait(timeoutMilliseconds: Int32, into events: inout [ReadinessEvent]) throws(SystemError) {
        events.removeAll(keepingCapacity: true)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            epoll_wait(epfd, pointer.baseAddress, Int32(pointer.count), timeoutMilliseconds)
        }
        if count < 0 {
            if errno == EINTR { return }
            throw SystemError("epoll_wait", errno: errno)
        }
        for index in 0..<Int(count) {
            let event = buffer[index]
            let mask = event.events
            events.append(ReadinessEvent(
                fd: event.data.fd,
                readable: mask & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0,
                writable: mask & EPOLLOUT.rawValue != 0,
                hangup: mask & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0))
        }
    }
}

public final class PollPoller: Poller {
    public let name = "poll"
    private var descriptors: [pollfd] = []
    private var indexByFD: [Int32: Int] = [:]

    public init() {}

    private static func mask(_ interest: Interest) -> Int16 {
        var mask: Int16 = 0
        if interest.contains(.read) { mask |= Int16(POLLIN) }
        if interest.contains(.write) { mask |= Int16(POLLOUT) }
        return mask
    }

    public func add(_ fd: Int32, _ interest: Interest) throws(SystemError) {
        indexByFD[fd] = descriptors.count
        descriptors.append(pollfd(fd: fd, events: Self.mask(interest), revents: 0))
    }

    public func modify(_ fd: Int32, _ interest: Interest) throws(SystemError) {
        guard let index = indexByFD[fd] else { throw SystemError("poll(modify)", errno: EBADF) }
        descriptors[index].events = Self.mask(interest)
    }

    public func forgetBeforeClose(_ fd: Int32) { remove(fd) }

    public func remove(_ fd: Int32) {
        guard let index = indexByFD.removeValue(forKey: fd) else { return }
        let last = descriptors.removeLast()
        if index < descriptors.count {
            descriptors[index] = last
            indexByFD[last.fd] = index
        }
    }

    public func wait(timeoutMilliseconds: Int32, into events: inout [ReadinessEvent]) throws(SystemError) {
        events.removeAll(keepingCapacity: true)
        let count = descriptors.withUnsafeMutableBufferPointer { pointer in
            poll(pointer.baseAddress, nfds_t(pointer.count), timeoutMilliseconds)
        }
        if count < 0 {
            if errno == EINTR { return }
            throw SystemError("poll", errno: errno)
        }
        guard count > 0 else { return }
        // The whole array is scanned to find the ready few: the O(watched) cost epoll avoids.
        for descriptor in descriptors where descriptor.revents != 0 {
            let revents = Int32(descriptor.revents)
            events.append(ReadinessEvent(
                fd: descriptor.fd,
                readable: revents & Int32(POLLIN) != 0,
                writable: revents & Int32(POLLOUT) != 0,
                hangup: revents & Int32(POLLHUP | POLLERR | POLLNVAL) != 0))
        }
    }
}

public final class SelectPoller: Poller {
    public let name = "select"
    /// select's bitmaps hold descriptors 0 to FD_SETSIZE - 1 (1024 on Linux); writing a larger descriptor
    /// into an fd_set corrupts memory, so it is refused.
    public static let capacity = Int(httpkit_fd_setsize())
    private var interests: [Int32: Interest] = [:]

    public init() {}

    public func add(_ fd: Int32, _ interest: Interest) throws(SystemError) {
        guard fd < Self.capacity else {
            throw SystemError("select: descriptor \(fd) is beyond FD_SETSIZE (\(Self.capacity))", errno: descriptorTooLarge)
        }
        interests[fd] = interest
    }

    public func modify(_ fd: Int32, _ interest: Interest) throws(SystemError) {
        interests[fd] = interest
    }

    public func remove(_ fd: Int32) {
        interests[fd] = nil
    }

    public func forgetBeforeClose(_ fd: Int32) { remove(fd) }

    public func wait(timeoutMilliseconds: Int32, into events: inout [ReadinessEvent]) throws(SystemError) {
        events.removeAll(keepingCapacity: true)
        var readSet = fd_set(), writeSet = fd_set()
        httpkit_fd_zero(&readSet)
        httpkit_fd_zero(&writeSet)
        var highest: Int32 = -1
        for (fd, interest) in interests {
            if interest.contains(.read) { httpkit_fd_set(fd, &readSet) }
            if interest.contains(.write) { httpkit_fd_set(fd, &writeSet) }
            highest = max(highest, fd)
        }
        var timeout = timeval(tv_sec: Int(timeoutMilliseconds / 1000), tv_usec: Int(timeoutMilliseconds % 1000) * 1000)
        let count = timeoutMilliseconds < 0
            ? select(highest + 1, &readSet, &writeSet, nil, nil)
            : select(highest + 1, &readSet, &writeSet, nil, &timeout)
        if count < 0 {
            if errno == EINTR { return }
            throw SystemError("select", errno: errno)
        }
        guard count > 0 else { return }
        for fd in interests.keys {
            let readable = httpkit_fd_isset(fd, &readSet) != 0
            let writable = httpkit_fd_isset(fd, &writeSet) != 0
            if readable || writable {
                events.append(ReadinessEvent(fd: fd, readable: readable, writable: writable, hangup: false))
            }
        }
    }
}
