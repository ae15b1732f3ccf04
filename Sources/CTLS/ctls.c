#include "ctls.h"
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>

struct httpkit_tls_context {
    SSL_CTX *ctx;
    int offer_h2;
    FILE *keylog;
};

struct httpkit_tls_session {
    SSL *ssl;
};

static void fill_error(char *error, size_t size, const char *what) {
    unsigned long code = ERR_get_error();
    char reason[256] = "";
    if (code) ERR_error_string_n(code, reason, sizeof reason);
    snprintf(error, size, "%s%s%s", what, code ? ": " : "", reason);
    ERR_clear_error();
}

static int keylog_index = -1;

static void write_keylog(const SSL *ssl, const char *line) {
    httpkit_tls_context *context = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index);
    if (context && context->keylog) {
        fprintf(context->keylog, "%s\n", line);
        fflush(context->keylog);
    }
}

// ALPN (RFC 7301): pick h2 when it is offered and we serve it, else http/1.1; a client without ALPN, or
// offering only protocols we do not speak, gets no ALPN answer and speaks HTTP/1.1. An HTTP/2-only port
// (HTTPKIT_ALPN_H2_ONLY) agrees to nothing but h2: a client that offers only other protocols gets the fatal
// no_application_protocol alert (RFC 7301 §3.2), not a handshake that ends in a protocol we do not speak.
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)ssl;
    httpkit_tls_context *context = arg;
    static const unsigned char h2[] = "\x02h2";
    static const unsigned char http11[] = "\x08http/1.1";
    if (context->offer_h2 &&
        SSL_select_next_proto((unsigned char **)out, outlen, h2, sizeof h2 - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    if (context->offer_h2 == HTTPKIT_ALPN_H2_ONLY)
        return SSL_TLSEXT_ERR_ALERT_FATAL; // OpenSSL sends no_application_protocol
    if (SSL_select_next_proto((unsigned char **)out, outlen, http11, sizeof http11 - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

httpkit_tls_context *httpkit_tls_context_new(const char *cert_path, const char *key_path, int offer_h2,
                                             const char *keylog_path, char *error, size_t error_size) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { fill_error(error, error_size, "SSL_CTX_new"); return NULL; }
    // TLS 1.2 and 1.3 only: 1.0 and 1.1 are deprecated (RFC 8996).
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // TLS 1.2: forward-secret AEAD suites only (TLS 1.3's suites are all AEAD).
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!SHA1:!RSA");
    // A client that closes TCP without close_notify (most do, and wrk always) is a normal end, not an error.
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE
                                 | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // Session resumption: stateless tickets (TLS 1.3 and 1.2) plus a small server-side cache.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"httpkit", 7);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        fill_error(error, error_size, "--tls-cert: cannot use the certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        fill_error(error, error_size, "--tls-key: cannot use the private key");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        fill_error(error, error_size, "--tls-key does not match --tls-cert");
        SSL_CTX_free(ctx);
        return NULL;
    }
    httpkit_tls_context *context = calloc(1, sizeof *context);
    context->ctx = ctx;
    context->offer_h2 = offer_h2;
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, context);
    if (keylog_path && *keylog_path) {
        context->keylog = fopen(keylog_path, "a");
        if (!context->keylog) {
            snprintf(error, error_size, "SSLKEYLOGFILE %s cannot be opened for appending", keylog_path);
            httpkit_tls_context_free(context);
            return NULL;
        }
        if (keylog_index < 0) keylog_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        SSL_CTX_set_ex_data(ctx, keylog_index, context);
        SSL_CTX_set_keylog_callback(ctx, write_keylog);
    }
    return context;
}

void httpkit_tls_context_free(httpkit_tls_context *context) {
    if (!context) return;
    if (context->keylog) fclose(context->keylog);
    SSL_CTX_free(context->ctx);
    free(context);
}

httpkit_tls_session *httpkit_tls_session_new(httpkit_tls_context *context, int fd, char *error, size_t error_size) {
    SSL *ssl = SSL_new(context->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        fill_error(error, error_size, "SSL_new");
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    httpkit_tls_session *session = calloc(1, sizeof *session);
    session->ssl = ssl;
    return session;
}

void httpkit_tls_session_free(httpkit_tls_session *session) {
    if (!session) return;
    SSL_free(session->ssl);
    free(session);
}

static long result(httpkit_tls_session *session, int n, int reading, const char *call, char *error, size_t error_size) {
    if (n > 0) return n;
    int code = SSL_get_error(session->ssl, n);
    switch (code) {
    case SSL_ERROR_WANT_READ: return HTTPKIT_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return HTTPKIT_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
    case SSL_ERROR_SYSCALL:
        // For a read, the peer's end (close_notify, or TCP EOF without it): 0 like read(2). A write can
        // never "write 0 bytes": the peer is gone (EPIPE, ECONNRESET), which is an error to the caller.
        if (reading && (code == SSL_ERROR_ZERO_RETURN || ERR_peek_error() == 0)) return 0;
        if (ERR_peek_error() == 0) return HTTPKIT_TLS_GONE;
        fill_error(error, error_size, call);
        return HTTPKIT_TLS_ERROR;
    default: {
        unsigned long first = ERR_peek_error();
        if (ERR_GET_REASON(first) == SSL_R_HTTP_REQUEST) {
            ERR_clear_error();
            snprintf(error, error_size, "plain HTTP on a TLS port (the client sent an HTTP request instead of a ClientHello)");
            return HTTPKIT_TLS_PLAIN_HTTP;
        }
        fill_error(error, error_size, call);
        return HTTPKIT_TLS_ERROR;
    }
    }
}

long httpkit_tls_read(httpkit_tls_session *session, void *buffer, size_t count, char *error, size_t error_size) {
    ERR_clear_error();
    int n = SSL_read(session->ssl, buffer, count > 0x7fffffff ? 0x7fffffff : (int)count);
    return result(session, n, 1, "SSL_read", error, error_size);
}

long httpkit_tls_write(httpkit_tls_session *session, const void *buffer, size_t count, char *error, size_t error_size) {
    ERR_clear_error();
    int n = SSL_write(session->ssl, buffer, count > 0x7fffffff ? 0x7fffffff : (int)count);
    return result(session, n, 0, "SSL_write", error, error_size);
}

void httpkit_tls_shutdown(httpkit_tls_session *session) {
    ERR_clear_error();
    if (SSL_is_init_finished(session->ssl)) SSL_shutdown(session->ssl);
    ERR_clear_error();
}

int httpkit_tls_handshake_done(httpkit_tls_session *session) { return SSL_is_init_finished(session->ssl); }

void httpkit_tls_info(httpkit_tls_session *session, char *version, size_t version_size, char *cipher, size_t cipher_size,
                      char *alpn, size_t alpn_size, char *sni, size_t sni_size, int *resumed) {
    SSL *ssl = session->ssl;
    snprintf(version, version_size, "%s", SSL_get_version(ssl));
    snprintf(cipher, cipher_size, "%s", SSL_get_cipher_name(ssl));
    const unsigned char *protocol = NULL;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl, &protocol, &length);
    snprintf(alpn, alpn_size, "%.*s", (int)length, protocol ? (const char *)protocol : "");
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(sni, sni_size, "%s", name ? name : "");
    *resumed = SSL_session_reused(ssl);
}

int httpkit_tls_make_self_signed(const char *cert_path, const char *key_path, char *fingerprint, size_t fingerprint_size,
                                 char *error, size_t error_size) {
    int status = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    FILE *file = NULL;
    if (!key || !cert) { fill_error(error, error_size, "key generation"); goto done; }
    // A 128-bit random serial: CAs must use at least 64 bits of entropy (CA/Browser Forum), and testssl checks.
    BIGNUM *serial = BN_new();
    BN_rand(serial, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
    BN_free(serial);
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"httpkit (self-signed)", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    const char *extensions[][2] = {
        {"subjectAltName", "DNS:localhost,IP:127.0.0.1,IP:::1"},
        {"basicConstraints", "critical,CA:FALSE"},
        {"keyUsage", "critical,digitalSignature"},
        {"extendedKeyUsage", "serverAuth"},
    };
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++) {
        X509_EXTENSION *extension = X509V3_EXT_conf(NULL, &v3, extensions[i][0], extensions[i][1]);
        if (!extension) { fill_error(error, error_size, extensions[i][0]); goto done; }
        X509_add_ext(cert, extension, -1);
        X509_EXTENSION_free(extension);
    }
    if (!X509_sign(cert, key, EVP_sha256())) { fill_error(error, error_size, "X509_sign"); goto done; }
    if (!(file = fopen(key_path, "w")) || !PEM_write_PrivateKey(file, key, NULL, NULL, 0, NULL, NULL)) {
        snprintf(error, error_size, "cannot write the key to %s", key_path);
        goto done;
    }
    fclose(file);
    if (!(file = fopen(cert_path, "w")) || !PEM_write_X509(file, cert)) {
        snprintf(error, error_size, "cannot write the certificate to %s", cert_path);
        goto done;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(cert, EVP_sha256(), digest, &length);
    size_t used = 0;
    for (unsigned int i = 0; i < length && used + 3 < fingerprint_size; i++)
        used += snprintf(fingerprint + used, fingerprint_size - used, i ? ":%02X" : "%02X", digest[i]);
    status = 0;
done:
    if (file) fclose(file);
    X509_free(cert);
    EVP_PKEY_free(key);
    return status;
}

const char *httpkit_tls_library_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

// MARK: - The client side

httpkit_tls_context *httpkit_tls_client_context_new(const char *ca_path, char *error, size_t error_size) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { fill_error(error, error_size, "SSL_CTX_new"); return NULL; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Verify against the system's CA store (and ca_path), but let the handshake finish either way: the
    // result is read afterwards with SSL_get_verify_result and shown, with a warning when it failed.
    SSL_CTX_set_default_verify_paths(ctx);
    if (ca_path && *ca_path && SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
        fill_error(error, error_size, "cannot load the CA file");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    // A TCP close without close_notify reads as the end of the stream (as before OpenSSL 3), not as an
    // error: an HTTP/1.1 response framed by Content-Length is complete either way (RFC 9112 §9.8).
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    static const unsigned char http11[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, http11, sizeof http11 - 1);
    httpkit_tls_context *context = calloc(1, sizeof *context);
    context->ctx = ctx;
    return context;
}

void httpkit_tls_client_offer_h2(httpkit_tls_context *context) {
    static const unsigned char both[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(context->ctx, both, sizeof both - 1);
}

httpkit_tls_session *httpkit_tls_client_session_new(httpkit_tls_context *context, int fd, const char *host,
                                                    char *error, size_t error_size) {
    ERR_clear_error();
    SSL *ssl = SSL_new(context->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        fill_error(error, error_size, "SSL_new");
        SSL_free(ssl);
        return NULL;
    }
    // SNI carries host names only, never IP addresses (RFC 6066 §3); the certificate check takes either.
    unsigned char address[16];
    int isIP = inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1;
    if (isIP) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    }
    SSL_set_connect_state(ssl);
    int n = SSL_connect(ssl);
    if (n != 1) {
        int code = SSL_get_error(ssl, n);
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
            snprintf(error, error_size, "SSL_connect: the server did not finish the handshake in time");
        } else if (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            snprintf(error, error_size, "SSL_connect: the server closed the connection during the handshake (is it a TLS port?)");
        } else {
            fill_error(error, error_size, "SSL_connect");
        }
        SSL_free(ssl);
        return NULL;
    }
    httpkit_tls_session *session = calloc(1, sizeof *session);
    session->ssl = ssl;
    return session;
}

int httpkit_tls_pending(httpkit_tls_session *session) { return SSL_pending(session->ssl); }

void httpkit_tls_peer_info(httpkit_tls_session *session, char *subject, size_t subject_size, char *issuer, size_t issuer_size,
                           char *not_after, size_t not_after_size, char *fingerprint, size_t fingerprint_size,
                           int *verified, char *verify_text, size_t verify_text_size) {
    subject[0] = issuer[0] = not_after[0] = fingerprint[0] = 0;
    long result = SSL_get_verify_result(session->ssl);
    *verified = result == X509_V_OK;
    snprintf(verify_text, verify_text_size, "%s", X509_verify_cert_error_string(result));
    X509 *cert = SSL_get1_peer_certificate(session->ssl);
    if (!cert) {
        *verified = 0;
        snprintf(verify_text, verify_text_size, "the server sent no certificate");
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(cert), subject, (int)subject_size);
    X509_NAME_oneline(X509_get_issuer_name(cert), issuer, (int)issuer_size);
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio) {
        ASN1_TIME_print(bio, X509_get0_notAfter(cert));
        int n = BIO_read(bio, not_after, (int)not_after_size - 1);
        not_after[n > 0 ? n : 0] = 0;
        BIO_free(bio);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(cert, EVP_sha256(), digest, &length);
    size_t used = 0;
    for (unsigned int i = 0; i < length && used + 3 < fingerprint_size; i++)
        used += snprintf(fingerprint + used, fingerprint_size - used, i ? ":%02X" : "%02X", digest[i]);
    X509_free(cert);
}
