/*
 * libFuzzer target for the ClientHello reading moongate does itself (core/ssl_hello.c: the
 * server_name, supported_versions, pre_shared_key and psk_key_exchange_modes bodies, the SNI
 * name's normalization), two ways: the input's first byte 0-3 gives the rest to one parser as an
 * extension body; otherwise the rest is a client's first bytes to an OpenSSL server whose
 * ClientHello callback runs the parsers on the extensions the client sent, as core/http/ssl.c's
 * callbacks do. Beyond crashes it checks that every span a parser returns lies within its input.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=ssl_hello)
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/ssl_hello.c"

static void check_body(int which, const unsigned char *p, size_t len)
{
    const unsigned char *span;
    size_t n;
    unsigned versions[64];
    switch (which) {
    case 0:
        if (mg_ssl_hello_server_name(p, len, &span, &n) == 0) {
            if (span < p + 5 || span + n > p + len || n == 0) {
                abort();
            }
            char *out = malloc(n + 1);
            size_t out_len;
            if (mg_ssl_hello_sni_name((const char *)span, n, out, &out_len) == 0 &&
                (out_len > n || out[out_len] != '\0')) {
                abort();
            }
            free(out);
        }
        break;
    case 1:
        n = mg_ssl_hello_versions(p, len, versions, 64);
        if (n > 64 || (len && n > (len - 1) / 2)) {
            abort();
        }
        break;
    case 2:
        if (mg_ssl_hello_psk_identity(p, len, &span, &n) == 0 &&
            (span < p + 4 || span + n + 4 > p + len || n == 0)) {
            abort();
        }
        break;
    default:
        if (mg_ssl_hello_psk_modes_known(p, len) && len < 2) {
            abort();
        }
    }
}

/* the extensions the handshake hooks read, through the same calls */
static int on_hello(SSL *ssl, int *ad, void *arg)
{
    (void)ad;
    (void)arg;
    static const unsigned types[] = {TLSEXT_TYPE_server_name, TLSEXT_TYPE_supported_versions,
                                     TLSEXT_TYPE_psk, TLSEXT_TYPE_psk_kex_modes};
    for (int i = 0; i < 4; i++) {
        const unsigned char *p;
        size_t len;
        if (SSL_client_hello_get0_ext(ssl, types[i], &p, &len)) {
            /* an exactly sized copy: reading past the end is caught */
            unsigned char *copy = malloc(len ? len : 1);
            memcpy(copy, p, len);
            check_body(i, copy, len);
            free(copy);
        }
    }
    const unsigned char *id;
    if (SSL_client_hello_get0_session_id(ssl, &id) > SSL_MAX_SSL_SESSION_ID_LENGTH) {
        abort();
    }
    return SSL_CLIENT_HELLO_RETRY; /* stop here: what follows is OpenSSL's */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static SSL_CTX *ctx;
    if (size < 1) {
        return 0;
    }
    if (data[0] < 4) {
        unsigned char *copy = malloc(size - 1 ? size - 1 : 1);
        memcpy(copy, data + 1, size - 1);
        check_body(data[0], copy, size - 1);
        free(copy);
        return 0;
    }
    if (ctx == NULL) {
        ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_client_hello_cb(ctx, on_hello, NULL);
    }
    SSL *ssl = SSL_new(ctx);
    BIO *in = BIO_new_mem_buf(data + 1, (int)(size - 1));
    BIO *out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    SSL_set_accept_state(ssl);
    SSL_do_handshake(ssl);
    SSL_free(ssl);
    ERR_clear_error();
    return 0;
}
