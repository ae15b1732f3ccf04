import Glibc
import CSystem

/// Processes and resource limits: what the `fork` stage and the many-connection stages need.
public enum Processes {
    /// fork(2). In the child, returns 0; in the parent, the child's pid.
    /// Buffered stdio output is flushed first, or the child would print it a second time.
    public static func fork() throws(SystemError) -> pid_t {
        fflush(nil)
        return try syscall("fork") { Glibc.fork() }
    }

    public static var currentPID: pid_t { getpid() }
    public static var parentPID: pid_t { getppid() }

    /// Reaps exited children from a SIGCHLD handler (a `waitpid(-1, WNOHANG)` loop), so none stays a zombie.
    public static func installChildReaper() { httpkit_install_child_reaper() }

    /// Children the reaper has collected so far.

    /// In a forked child: die with SIGTERM if the parent dies, so no handler outlives the server.
    public static func exitWithParent() { httpkit_set_parent_death_signal(SIGTERM) }

    /// Ends a forked child without running the parent's exit handlers or flushing its stdio buffers again.
    public static func exitChild(_ status: Int32 = 0) -> Never { _exit(status) }

    /// Raises the soft limit on open descriptors to the hard limit, so a server can hold thousands of
    /// connections (the soft limit is often 1024). Returns the new limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }

    /// Keeps freed memory in the process instead of handing it back to the kernel after every large free.
    ///
    /// glibc's malloc returns the free space at the top of its heap to the kernel (`brk`, `madvise`) once it
    /// passes the trim threshold, which it sets to twice the largest block it has seen freed, a few hundred
    /// KB. A server that builds and frees the same large buffers on every request (64 KB batches of HTTP/2
    /// DATA for a 100 KB file, say) then gets that memory back from the kernel one page fault at a time,
    /// request after request: measured with h2load -c10 -m10 on a 100 KB file, 29.5 → 21.0 µs of server CPU
    /// per request once the heap keeps up to 16 MB free. Blocks of 1 MB and more still get their own
    /// mappings (given back as soon as they are freed), so a large upload's buffers do not stay.
    /// The cost: up to 16 MB that a busy moment freed stays in the process's resident size.
    public static func keepFreedMemory() {
        httpkit_malloc_thresholds(16 << 20, 1 << 20)
    }

    /// Monotonic time in seconds, for timeouts (wall-clock time can jump).
    public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Sleeps, resuming after signals, unless a stop was requested.
    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR && !StopSignal.isRequested {
            request = remaining
        }
    }
}
