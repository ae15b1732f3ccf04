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
