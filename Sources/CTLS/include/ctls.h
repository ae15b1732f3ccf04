#ifndef HTTPKIT_CTLS_H
#define HTTPKIT_CTLS_H
// TLS with OpenSSL for httpkit: the few calls the server needs, wrapped in C so that OpenSSL's macros
// (SSL_CTX_set_min_proto_version, the servername callback) and its error queue stay on this side.
// Every function that can fail fills `error` (a buffer of `error_size` bytes) with OpenSSL's reason.
#include <stddef.h>

typedef struct httpkit_tls_context httpkit_tls_context;
typedef struct httpkit_tls_session httpkit_tls_session;

/// What ALPN (RFC 7301) agrees to: `http/1.1` only, `h2` before `http/1.1`, or `h2` only (an HTTP/2-only port).
enum { HTTPKIT_ALPN_HTTP1 = 0, HTTPKIT_ALPN_H2_AND_HTTP1 = 1, HTTPKIT_ALPN_H2_ONLY = 2 };

/// A server context: certificate chain and key (PEM files), TLS 1.2 and 1.3 only, modern ciphers,
/// session tickets, ALPN as `offer_h2` says (one of HTTPKIT_ALPN_…), and a key log to `keylog_path` if not
/// NULL (NSS key log format, for Wireshark). NULL on failure.
httpkit_tls_context *httpkit_tls_context_new(const char *cert_path, const char *key_path, int offer_h2,
                                             const char *keylog_path, char *error, size_t error_size);
void httpkit_tls_context_free(httpkit_tls_context *context);

/// A session over a connected, nonblocking socket, server side.
httpkit_tls_session *httpkit_tls_session_new(httpkit_tls_context *context, int fd, char *error, size_t error_size);
void httpkit_tls_session_free(httpkit_tls_session *session);

/// Results of read and write besides a byte count.
enum { HTTPKIT_TLS_WANT_READ = -1, HTTPKIT_TLS_WANT_WRITE = -2, HTTPKIT_TLS_ERROR = -3, HTTPKIT_TLS_PLAIN_HTTP = -4, HTTPKIT_TLS_GONE = -5 };

/// Runs the handshake as far as the socket allows, then reads. >0 bytes, 0 when the peer closed (TLS
/// close_notify or TCP EOF), or one of the negative results (the error text is filled for ERROR).
long httpkit_tls_read(httpkit_tls_session *session, void *buffer, size_t count, char *error, size_t error_size);
long httpkit_tls_write(httpkit_tls_session *session, const void *buffer, size_t count, char *error, size_t error_size);
/// Sends close_notify (our half of the TLS close).
void httpkit_tls_shutdown(httpkit_tls_session *session);

/// After the handshake: the version ("TLSv1.3"), the cipher, the ALPN protocol ("" if none), the SNI name
/// ("" if none), and whether the session was resumed. Strings are copied into the given buffers.
int httpkit_tls_handshake_done(httpkit_tls_session *session);
void httpkit_tls_info(httpkit_tls_session *session, char *version, size_t version_size, char *cipher, size_t cipher_size,
                      char *alpn, size_t alpn_size, char *sni, size_t sni_size, int *resumed);

/// Writes a throwaway self-signed certificate for localhost and 127.0.0.1 (P-256, 30 days) and its key to
/// the two paths, and its SHA-256 fingerprint (as "AB:CD:…") into `fingerprint`. 0 on success.
int httpkit_tls_make_self_signed(const char *cert_path, const char *key_path, char *fingerprint, size_t fingerprint_size,
                                 char *error, size_t error_size);

/// The linked OpenSSL's version text.
const char *httpkit_tls_library_version(void);
// The client side (the REPL's :tls, check --target https://): a context that trusts the system's CA store
// (and `ca_path` when not NULL), TLS 1.2 and 1.3, ALPN http/1.1. Verification is reported, not enforced:
// the handshake completes either way and httpkit_tls_peer_info says whether the certificate verified, so a
// learner's self-signed certificate can be looked at (as curl -k would) with the warning printed.
httpkit_tls_context *httpkit_tls_client_context_new(const char *ca_path, char *error, size_t error_size);

/// Makes a client context offer ALPN `h2, http/1.1` instead of `http/1.1` alone (the REPL's :h2 over TLS).
void httpkit_tls_client_offer_h2(httpkit_tls_context *context);

/// A client session over a connected, blocking socket; runs the handshake. `host` is checked against the
/// certificate (a name, or an IP address) and sent as SNI when it is a name. NULL on failure.
httpkit_tls_session *httpkit_tls_client_session_new(httpkit_tls_context *context, int fd, const char *host,
                                                    char *error, size_t error_size);

/// Bytes already decrypted and waiting inside OpenSSL (poll cannot see them).
int httpkit_tls_pending(httpkit_tls_session *session);

/// The server's certificate: subject, issuer, expiry ("notAfter", as OpenSSL prints it), SHA-256
/// fingerprint ("AB:CD:…"), and whether it verified (1) or not (0, with OpenSSL's reason in `verify_text`).
void httpkit_tls_peer_info(httpkit_tls_session *session, char *subject, size_t subject_size, char *issuer, size_t issuer_size,
                           char *not_after, size_t not_after_size, char *fingerprint, size_t fingerprint_size,
                           int *verified, char *verify_text, size_t verify_text_size);
#endif
