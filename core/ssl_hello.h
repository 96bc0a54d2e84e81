/*
 * Reading a ClientHello's extensions (the bodies OpenSSL's SSL_client_hello_get0_ext gives):
 * the server name, the supported versions, the first pre-shared key identity, the pre-shared
 * key exchange modes. The bytes are the client's: every length is checked before it is used
 * (t/fuzz/fuzz_ssl_hello.c).
 */
#ifndef MG_SSL_HELLO_H
#define MG_SSL_HELLO_H

#include <stddef.h>

/* The host_name of a server_name extension's body (p, len): 0 with *name set, 1 when the
 * list has no host_name, -1 when the bytes are malformed. */
int mg_ssl_hello_server_name(const unsigned char *p, size_t len, const unsigned char **name,
                             size_t *name_len);
/* The versions of a supported_versions extension's body, last first (as lua-resty-core lists
 * them), at most max into out; 0 when malformed. */
size_t mg_ssl_hello_versions(const unsigned char *p, size_t len, unsigned *out, size_t max);
/* The first identity of a pre_shared_key extension's body: 0 with *id set, -1 when
 * malformed or empty. */
int mg_ssl_hello_psk_identity(const unsigned char *p, size_t len, const unsigned char **id,
                              size_t *id_len);
/* Whether a psk_key_exchange_modes extension's body offers psk_ke or psk_dhe_ke (0 or 1), the
 * modes without which OpenSSL ignores the pre-shared keys: 1 or 0 (also when malformed). */
int mg_ssl_hello_psk_modes_known(const unsigned char *p, size_t len);

/* The SNI name as a Host is compared (core/http/ssl.c's servername callback): lowercased, one
 * trailing dot dropped, into out (len + 1 bytes, NUL-terminated); -1 when longer than 255. */
int mg_ssl_hello_sni_name(const char *name, size_t len, char *out, size_t *out_len);

#endif
