import Glibc
import Synchronization

/// POSIX threads, the few calls the `threads` stage needs.
public enum Threads {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts a detached thread running `body`, with a small stack: a thread per connection is cheap only
    /// if each one reserves little memory (the default stack is 8 MB of address space).
    public static func spawnDetached(stackSize: Int = 512 * 1024, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, stackSize)
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if status != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: status)
        }
    }
}

/// A counting semaphore: `wait` takes a permit (blocking while none is left), `signal` returns one.
public final class CountingSemaphore: @unchecked Sendable {
    private let semaphore: UnsafeMutablePointer<sem_t>

    public init(permits: Int) {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, UInt32(permits))
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Takes a permit. Returns false if a stop signal interrupted the wait.
    public func wait() -> Bool {
        while sem_wait(semaphore) != 0 {
            if errno == EINTR && StopSignal.isRequested { return false }
        }
        return true
    }

    public func signal() { sem_post(semaphore) }
}

/// A counter shared by threads.
/// (A pthread mutex must not live in a Swift stored property: the property has no stable address.
/// An atomic from the Synchronization module has one by construction.)
public final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    /// Adds `delta` and returns the new value.
    @discardableResult
    public func add(_ delta: Int) -> Int {
        value.wrappingAdd(delta, ordering: .sequentiallyConsistent).newValue
    }

    public var current: Int { value.load(ordering: .sequentiallyConsistent) }
}

/// Fields of /proc/self/status.
public enum ProcessStatus {
    /// A numeric field such as `Threads`, or `VmRSS` (in kB).
    public static func field(_ name: String, pid: Int32? = nil) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8192)
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[0..<count], as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        }
        return nil
    }
}

/// A value shared by threads, behind a POSIX mutex. (Not `Synchronization.Mutex`: on Linux it waits with raw
/// futex calls that ThreadSanitizer cannot see, so every access through it is reported as a race; a
/// pthread mutex is the lock the sanitizer understands, and the one the `threads` lesson explains.)
/// The mutex lives on the heap: a Swift stored property has no stable address to lock.
public final class Locked<Value>: @unchecked Sendable {
    // Inlinable, so a caller in another module gets a version specialized for its Value (a generic call
    // through the runtime cost about 300 instructions on the hot path, callgrind); the mutex is what keeps
    // access exclusive, so the runtime's dynamic exclusivity check adds nothing.
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @exclusivity(unchecked) @usableFromInline var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    @inlinable
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` with the value if the lock is free now; nil, without waiting, if another thread holds it.
    /// For caches that are only a shortcut: a thread that would wait takes the long way instead.
    @inlinable
    public func withLockIfAvailable<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result? {
        guard pthread_mutex_trylock(mutex) == 0 else { return nil }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
