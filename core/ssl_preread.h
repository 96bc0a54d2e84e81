/*
 * The ClientHello as a TLS client's first bytes carry it (records and all), read without
 * terminating TLS: the stream ssl_preread module's parser (modules/stream_ssl_preread.c). The
 * bytes are the client's: every length is checked (t/fuzz/fuzz_ssl_preread.c).
 */
#ifndef MG_SSL_PREREAD_H
#define MG_SSL_PREREAD_H

#include <stddef.h>

typedef struct {
    unsigned version;                 /* 0x0002 (SSLv2), 0x0300 ... 0x0304 (TLSv1.3); 0: none */
    const unsigned char *server_name; /* the first host_name, in scratch; NULL: none */
    size_t server_name_len;
    const unsigned char *alpn; /* the ALPN extension's protocol list (1-byte lengths), in
                                  scratch; NULL: none */
    size_t alpn_len;
    size_t need; /* with 0: how many bytes in all before a new call can say more */
} mg_ssl_preread_t;

/* Read the ClientHello from a client's first len bytes, the handshake message gathered from
 * its records into scratch (at least len bytes): 1 when it is whole (*out filled), 0 when
 * more bytes are needed, -1 when the bytes are not a TLS handshake or are malformed. */
int mg_ssl_preread_parse(const unsigned char *buf, size_t len, unsigned char *scratch,
                         mg_ssl_preread_t *out);
/* An ALPN list as "h2,http/1.1" into out (at least len bytes): its length. */
size_t mg_ssl_preread_alpn_text(const unsigned char *p, size_t len, char *out);
/* The version as SSL_get_version() writes it ("TLSv1.2"), "" when unknown. */
const char *mg_ssl_preread_version_name(unsigned version);

#endif
