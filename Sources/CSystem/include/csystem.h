#ifndef HTTPKIT_CSYSTEM_H
#define HTTPKIT_CSYSTEM_H
// The few pieces of the C library that Swift's Glibc module does not export, or that must be written in C:
// a signal handler that only touches a sig_atomic_t, fd_set bit operations, and (on Linux) epoll.
#include <signal.h>
#include <sys/select.h>
#include <sys/types.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/sendfile.h>
#endif

/// Installs SIGINT and SIGTERM handlers that record the signal (without SA_RESTART, so a blocking
/// accept() or read() returns EINTR and the server loop can notice), and ignores SIGPIPE so a write to a
/// closed peer fails with EPIPE instead of killing the process.
void httpkit_install_stop_handlers(void);
/// The signal that asked the process to stop, or 0.
int httpkit_stop_signal(void);
/// A descriptor the stop handler writes one byte to, so an event loop blocked in epoll_wait wakes up.
void httpkit_set_stop_wake_fd(int fd);
/// Installs a SIGCHLD handler that reaps every exited child with waitpid(-1, WNOHANG) in a loop.
void httpkit_install_child_reaper(void);

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) on Linux; accept + fcntl elsewhere.
int httpkit_accept_nonblocking(int fd);
/// socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0): a TCP socket that never blocks.
int httpkit_socket_nonblocking(int domain);

/// Asks the kernel to send `sig` to this process when its parent dies (Linux; a no-op elsewhere), so a
/// forked connection handler never outlives its server.
void httpkit_set_parent_death_signal(int sig);

/// glibc's mallopt: the heap keeps up to `trim_threshold` bytes of freed memory instead of giving it back to
/// the kernel, and blocks from `mmap_threshold` bytes get their own mappings (no-op without glibc).
void httpkit_malloc_thresholds(int trim_threshold, int mmap_threshold);

static inline void httpkit_fd_zero(fd_set *set) { FD_ZERO(set); }
static inline void httpkit_fd_set(int fd, fd_set *set) { FD_SET(fd, set); }
static inline int httpkit_fd_isset(int fd, fd_set *set) { return FD_ISSET(fd, set); }
static inline int httpkit_fd_setsize(void) { return FD_SETSIZE; }
/// A SIGINT handler for interactive tools: records the interrupt (without SA_RESTART, so a blocking
/// read returns EINTR) and nothing else.
void httpkit_install_interrupt_flag(void);
/// Returns whether SIGINT arrived since the last call, and clears it.
int httpkit_take_interrupt(void);
#endif
