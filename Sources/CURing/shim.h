#ifndef HTTPKIT_CURING_SHIM_H
#define HTTPKIT_CURING_SHIM_H
// io_uring through liburing (Debian 12: liburing 2.3). Swift calls only the httpkit_ring_* functions
// below: liburing's helpers are static inline functions full of C11 atomics (the ring's head and tail are
// shared with the kernel), its flags are macros, and 2.3 has no io_uring_setup_buf_ring yet, so the
// provided-buffer ring is set up here by hand. Every function returns 0 or a negative errno, as the
// kernel does; Sockets' CompletionRing turns that into a SystemError.
// liburing.h defines _GNU_SOURCE and _XOPEN_SOURCE, which would give this module its own fd_set (with
// `fds_bits`, not `__fds_bits`) and clash with every other module's: the system headers come first,
// with the same feature macros as everywhere else.
#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <fcntl.h>
#include <time.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <poll.h>

/// A ring, and the buffers the kernel picks from when a receive completes (a "provided-buffer ring").
struct httpkit_ring {
    struct io_uring ring;
    struct io_uring_buf_ring *buffers; // the ring of buffer addresses, shared with the kernel (mmap'd)
    unsigned char *memory;             // buffer_count buffers of buffer_size bytes, one after another
    unsigned buffer_count, buffer_size, buffer_group;
    struct __kernel_timespec tick;     // read by the kernel when a timeout is submitted: must stay put
};

/// Sets up a ring of `entries` submissions and a provided-buffer ring of `buffer_count` (a power of two)
/// buffers of `buffer_size` bytes. NULL on failure, with the call that failed in *call and -errno in *error.
static inline struct httpkit_ring *httpkit_ring_create(unsigned entries, unsigned buffer_count,
                                                       unsigned buffer_size, const char **call, int *error) {
    struct httpkit_ring *r = calloc(1, sizeof *r);
    if (!r) { *call = "calloc"; *error = -ENOMEM; return NULL; }
    // One thread submits (SINGLE_ISSUER), and the kernel's completion work for it waits until that thread
    // asks for completions (DEFER_TASKRUN, Linux 6.1) instead of interrupting it as each packet arrives.
    int result = io_uring_queue_init(entries, &r->ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (result == -EINVAL) result = io_uring_queue_init(entries, &r->ring, 0); // an older kernel
    if (result < 0) { *call = "io_uring_queue_init"; *error = result; free(r); return NULL; }
    size_t ring_bytes = buffer_count * sizeof(struct io_uring_buf);
    void *shared = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    r->memory = malloc((size_t)buffer_count * buffer_size);
    if (shared == MAP_FAILED || !r->memory) {
        *call = "mmap"; *error = -ENOMEM;
        if (shared != MAP_FAILED) munmap(shared, ring_bytes);
        free(r->memory); io_uring_queue_exit(&r->ring); free(r); return NULL;
    }
    r->buffers = shared;
    r->buffer_count = buffer_count;
    r->buffer_size = buffer_size;
    r->buffer_group = 0;
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (unsigned long)shared;
    reg.ring_entries = buffer_count;
    reg.bgid = (unsigned short)r->buffer_group;
    result = io_uring_register_buf_ring(&r->ring, &reg, 0);
    if (result < 0) {
        *call = "io_uring_register_buf_ring"; *error = result;
        munmap(shared, ring_bytes); free(r->memory); io_uring_queue_exit(&r->ring); free(r); return NULL;
    }
    io_uring_buf_ring_init(r->buffers);
    int mask = io_uring_buf_ring_mask(buffer_count);
    for (unsigned id = 0; id < buffer_count; id++) {
        io_uring_buf_ring_add(r->buffers, r->memory + (size_t)id * buffer_size, buffer_size, (unsigned short)id, mask, (int)id);
    }
    io_uring_buf_ring_advance(r->buffers, (int)buffer_count);
    return r;
}

static inline void httpkit_ring_destroy(struct httpkit_ring *r) {
    io_uring_queue_exit(&r->ring);
    munmap(r->buffers, r->buffer_count * sizeof(struct io_uring_buf));
    free(r->memory);
    free(r);
}

/// The next free submission slot; when the submission queue is full, what is queued is submitted first.
static inline struct io_uring_sqe *httpkit_ring_sqe(struct httpkit_ring *r, unsigned long long user_data) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    while (!sqe) {
        io_uring_submit(&r->ring);
        sqe = io_uring_get_sqe(&r->ring);
    }
    io_uring_sqe_set_data64(sqe, user_data);
    return sqe;
}

/// Accept connections on `fd` until cancelled: one completion per connection (its descriptor in res).
static inline void httpkit_ring_accept_multishot(struct httpkit_ring *r, int fd, unsigned long long user_data) {
    // Nonblocking, as accept4 gives EventLoop: the ring's own receives and sends never block either way (it
    // waits for readiness itself), but the loop writes files past its cache with sendfile, which must not.
    io_uring_prep_multishot_accept(httpkit_ring_sqe(r, user_data), fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

/// Receive on `fd` until cancelled: one completion per arrival, into a buffer the kernel picks.
static inline void httpkit_ring_recv_multishot(struct httpkit_ring *r, int fd, unsigned long long user_data) {
    struct io_uring_sqe *sqe = httpkit_ring_sqe(r, user_data);
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = (unsigned short)r->buffer_group;
}

/// `more`: MSG_MORE, the kernel holds a last partial segment for what follows (the FIN of a close).
static inline void httpkit_ring_send(struct httpkit_ring *r, int fd, const void *bytes, size_t count, int more,
                                     unsigned long long user_data) {
    io_uring_prep_send(httpkit_ring_sqe(r, user_data), fd, bytes, count, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
}

/// The bytes `httpkit_ring_send_two` needs for its message header and two iovecs, at a fixed address.
static inline size_t httpkit_ring_send_two_scratch_size(void) { return sizeof(struct msghdr) + 2 * sizeof(struct iovec); }

/// One send of two pieces (a head in the loop's buffer, a body where it lies): a sendmsg whose header and
/// iovecs are written into `scratch` (`httpkit_ring_send_two_scratch_size()` bytes that stay put, as the
/// pieces do, until the completion). A piece may be empty.
static inline void httpkit_ring_send_two(struct httpkit_ring *r, int fd, void *scratch,
                                         const void *first, size_t first_count,
                                         const void *second, size_t second_count, int more,
                                         unsigned long long user_data) {
    struct msghdr *message = (struct msghdr *)scratch;
    struct iovec *vectors = (struct iovec *)(message + 1);
    int count = 0;
    if (first_count > 0) { vectors[count].iov_base = (void *)first; vectors[count].iov_len = first_count; count++; }
    if (second_count > 0) { vectors[count].iov_base = (void *)second; vectors[count].iov_len = second_count; count++; }
    memset(message, 0, sizeof *message);
    message->msg_iov = vectors;
    message->msg_iovlen = count;
    io_uring_prep_sendmsg(httpkit_ring_sqe(r, user_data), fd, message, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
}

/// One completion when `fd` can take more bytes (POLLOUT; result: the events, or -errno): readiness on the
/// ring, for a connection that writes itself (sendfile) and found its socket's buffer full.
static inline void httpkit_ring_poll_writable(struct httpkit_ring *r, int fd, unsigned long long user_data) {
    io_uring_prep_poll_add(httpkit_ring_sqe(r, user_data), fd, POLLOUT);
}

/// Cancels the request submitted with `target` (a multishot one ends with -ECANCELED).
static inline void httpkit_ring_cancel(struct httpkit_ring *r, unsigned long long target, unsigned long long user_data) {
    io_uring_prep_cancel64(httpkit_ring_sqe(r, user_data), target, 0);
}

/// Cancels every request on `fd`, then closes it. Closing alone would not do: a pending request holds
/// the socket open. Linked, so the close runs after the cancel; neither posts a completion on success.
static inline void httpkit_ring_cancel_and_close(struct httpkit_ring *r, int fd, unsigned long long user_data) {
    struct io_uring_sqe *cancel = httpkit_ring_sqe(r, user_data);
    io_uring_prep_cancel_fd(cancel, fd, IORING_ASYNC_CANCEL_ALL);
    cancel->flags |= IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS;
    struct io_uring_sqe *close = httpkit_ring_sqe(r, user_data);
    io_uring_prep_close(close, fd);
    close->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/// Cancels the requests submitted with `first` and `second` (0: none), then closes `fd`. Cheaper than by
/// descriptor: a cancel by user_data finds its request in a hash table, where a cancel by descriptor walks
/// every pending poll request (io_poll_cancel was 5% of a Connection: close run). Linked as above; a
/// cancel that finds nothing (the request ended meanwhile) posts its -ENOENT completion with `user_data`.
static inline void httpkit_ring_cancel_requests_and_close(struct httpkit_ring *r, int fd, unsigned long long first,
                                                          unsigned long long second, unsigned long long user_data) {
    unsigned long long targets[2] = {first, second};
    for (int i = 0; i < 2; i++) {
        if (targets[i] == 0) continue;
        struct io_uring_sqe *cancel = httpkit_ring_sqe(r, user_data);
        io_uring_prep_cancel64(cancel, targets[i], 0);
        cancel->flags |= IOSQE_IO_HARDLINK | IOSQE_CQE_SKIP_SUCCESS;
    }
    struct io_uring_sqe *close = httpkit_ring_sqe(r, user_data);
    io_uring_prep_close(close, fd);
    close->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/// A completion with -ETIME after `milliseconds`.
static inline void httpkit_ring_timeout(struct httpkit_ring *r, unsigned milliseconds, unsigned long long user_data) {
    r->tick.tv_sec = milliseconds / 1000;
    r->tick.tv_nsec = (long long)(milliseconds % 1000) * 1000000;
    io_uring_prep_timeout(httpkit_ring_sqe(r, user_data), &r->tick, 0, 0);
}

/// Submits what is queued and waits for at least one completion: one io_uring_enter. -errno on failure.
static inline int httpkit_ring_submit_and_wait(struct httpkit_ring *r) {
    return io_uring_submit_and_wait(&r->ring, 1);
}

/// Up to `count` completions that are ready; each stays valid until httpkit_ring_advance.
static inline unsigned httpkit_ring_peek(struct httpkit_ring *r, struct io_uring_cqe **cqes, unsigned count) {
    return io_uring_peek_batch_cqe(&r->ring, cqes, count);
}

/// Tells the kernel that `count` completions were read: their slots can be reused.
static inline void httpkit_ring_advance(struct httpkit_ring *r, unsigned count) {
    io_uring_cq_advance(&r->ring, count);
}

/// IORING_CQE_F_MORE: the multishot request is still armed and will complete again.
static inline int httpkit_cqe_more(unsigned flags) { return (flags & IORING_CQE_F_MORE) != 0; }
/// IORING_CQE_F_BUFFER: a provided buffer holds the data; its id is in the upper 16 bits, else -1.
static inline int httpkit_cqe_buffer_id(unsigned flags) {
    return (flags & IORING_CQE_F_BUFFER) ? (int)(flags >> IORING_CQE_BUFFER_SHIFT) : -1;
}

static inline unsigned char *httpkit_ring_buffer(struct httpkit_ring *r, unsigned id) {
    return r->memory + (size_t)id * r->buffer_size;
}

/// Gives buffer `id` back to the kernel, to be picked for a later receive.
static inline void httpkit_ring_recycle(struct httpkit_ring *r, unsigned id) {
    io_uring_buf_ring_add(r->buffers, httpkit_ring_buffer(r, id), r->buffer_size, (unsigned short)id,
                          io_uring_buf_ring_mask(r->buffer_count), 0);
    io_uring_buf_ring_advance(r->buffers, 1);
}
#endif
