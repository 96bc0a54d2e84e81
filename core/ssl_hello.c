/*
 * ClientHello extension bodies read with every length checked: what the handshake hooks
 * (core/http/ssl.c, lua/ssl_clienthello.c) look at before OpenSSL has chosen anything.
 */
#include <openssl/tls1.h>

#include "ssl_hello.h"

static size_t u16(const unsigned char *p)
{
    return (size_t)p[0] << 8 | p[1];
}

int mg_ssl_hello_server_name(const unsigned char *p, size_t len, const unsigned char **name,
                             size_t *name_len)
{
    /* ServerNameList: a 2-byte length, then (type, 2-byte length, name) entries */
    if (len < 2 || u16(p) + 2 != len) {
        return -1;
    }
    p += 2;
    len -= 2;
    while (len >= 3) {
        unsigned type = p[0];
        size_t n = u16(p + 1);
        if (n > len - 3) {
            return -1;
        }
        if (type == TLSEXT_NAMETYPE_host_name) {
            if (n == 0) {
                return -1;
            }
            *name = p + 3;
            *name_len = n;
            return 0;
        }
        p += 3 + n;
        len -= 3 + n;
    }
    return len == 0 ? 1 : -1;
}

size_t mg_ssl_hello_versions(const unsigned char *p, size_t len, unsigned *out, size_t max)
{
    /* a 1-byte length, then 2-byte versions */
    if (len < 1 || (size_t)p[0] != len - 1) {
        return 0;
    }
    size_t n = 0;
    for (size_t off = len - 1; off >= 2 && n < max; off -= 2) {
        out[n++] = (unsigned)u16(p + off - 1);
    }
    return n;
}

int mg_ssl_hello_sni_name(const char *name, size_t len, char *out, size_t *out_len)
{
    if (len > 255) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    }
    /* a trailing dot is the same name, as a Host header's */
    if (len > 1 && out[len - 1] == '.') {
        len--;
    }
    out[len] = '\0';
    *out_len = len;
    return 0;
}

int mg_ssl_hello_psk_identity(const unsigned char *p, size_t len, const unsigned char **id,
                              size_t *id_len)
{
    /* identities (2-byte length; each a 2-byte length, the identity, a 4-byte age), then
     * the binders */
    if (len < 2) {
        return -1;
    }
    size_t list = u16(p);
    if (list > len - 2 || list < 2) {
        return -1;
    }
    size_t n = u16(p + 2);
    if (n == 0 || n + 6 > list) {
        return -1;
    }
    *id = p + 4;
    *id_len = n;
    return 0;
}

int mg_ssl_hello_psk_modes_known(const unsigned char *p, size_t len)
{
    /* a 1-byte length, then 1-byte modes */
    if (len < 1 || (size_t)p[0] != len - 1) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (p[i] <= 1) {
            return 1;
        }
    }
    return 0;
}
