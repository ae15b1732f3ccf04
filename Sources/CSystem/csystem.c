#define _GNU_SOURCE
#include "csystem.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <fcntl.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <stdatomic.h>

// Written by signal handlers, read by every event-loop thread: C11 atomics (lock-free, so safe in a
// signal handler) rather than volatile sig_atomic_t, which is race-free only within one thread; with
// --workers several loops read these flags (a ThreadSanitizer run of the workers test exited 66).
static atomic_int stop_signal = 0;
static atomic_int stop_wake_fd = -1;

static void on_stop(int sig) {
    int saved = errno;
    atomic_store(&stop_signal, sig);
    int fd = atomic_load(&stop_wake_fd);
    if (fd >= 0) {
        char byte = 1;
        (void)write(fd, &byte, 1);
    }
    errno = saved;
}

void httpkit_install_stop_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; // no SA_RESTART: blocking calls return EINTR so loops can check the flag
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    // A write past RLIMIT_FSIZE then fails with EFBIG (an upload answered 507) instead of killing us.
    signal(SIGXFSZ, SIG_IGN);
    // A process inherits its parent's blocked-signal mask: a server started by a test runner or a
    // supervisor that blocks SIGTERM would otherwise never see it.
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGINT);
    sigaddset(&unblock, SIGTERM);
    sigaddset(&unblock, SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

int httpkit_stop_signal(void) { return atomic_load(&stop_signal); }
void httpkit_set_stop_wake_fd(int fd) { atomic_store(&stop_wake_fd, fd); }

static void on_child(int sig) {
    (void)sig;
    int saved = errno;
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {}
    errno = saved;
}

void httpkit_install_child_reaper(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_child;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_NOCLDSTOP; // restartable calls are still interrupted: accept() must retry EINTR
    sigaction(SIGCHLD, &action, NULL);
}


int httpkit_socket_nonblocking(int domain) {
#ifdef __linux__
    return socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    int fd = socket(domain, SOCK_STREAM, 0);
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
#endif
}

int httpkit_accept_nonblocking(int fd) {
#ifdef __linux__
    return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    int client = accept(fd, NULL, NULL);
    if (client >= 0) fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
    return client;
#endif
}

void httpkit_malloc_thresholds(int trim_threshold, int mmap_threshold) {
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
#else
    (void)trim_threshold; (void)mmap_threshold;
#endif
}

void httpkit_set_parent_death_signal(int sig) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, sig);
#else
    (void)sig;
#endif
}


static atomic_int interrupted = 0;

static void on_interrupt(int sig) {
    (void)sig;
    atomic_store(&interrupted, 1);
}

void httpkit_install_interrupt_flag(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t unblock; // inherited masks may block SIGINT (see httpkit_install_stop_handlers)
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGINT);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

int httpkit_take_interrupt(void) {
    return atomic_exchange(&interrupted, 0);
}
