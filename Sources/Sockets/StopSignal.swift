import CSystem

/// SIGINT and SIGTERM, turned into a flag that server loops check.
///
/// The handler (in C, because a signal handler may only touch a `sig_atomic_t`) is installed without
/// SA_RESTART: a blocking `accept()` returns EINTR, `syscall` sees the flag and throws instead of
/// retrying, and the stage's loop ends and returns normally, so the process exits 0.
public enum StopSignal {
    /// Installs the handlers and ignores SIGPIPE (a write to a closed peer then fails with EPIPE).
    public static func install() { httpkit_install_stop_handlers() }

    public static var isRequested: Bool { httpkit_stop_signal() != 0 }

    /// Makes the handler also write a byte to `fd`, to wake an event loop blocked in poll or epoll_wait.
    public static func wake(_ fd: Int32) { httpkit_set_stop_wake_fd(fd) }
}

/// SIGINT as a flag for interactive tools (the REPL): Ctrl-C abandons what is being typed or waited for
/// instead of ending the process.
public enum Interrupts {
    public static func install() { httpkit_install_interrupt_flag() }
    /// Whether Ctrl-C was pressed since the last call.
    public static func take() -> Bool { httpkit_take_interrupt() != 0 }
}
