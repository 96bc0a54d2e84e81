/*
 * libFuzzer target for ssl_preread's ClientHello reading (core/ssl_preread.c): the input is a
 * client's first bytes, whole and cut at a point its first byte picks. Beyond crashes it
 * checks that every span lies within the gathered message, that the ALPN text fits its
 * buffer, and that more bytes never change a verdict: a prefix read whole (1) or refused (-1)
 * is read the same with the rest after it.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=ssl_preread)
 */
#include <stdlib.h>
#include <string.h>

#include "../../core/ssl_hello.c"
#include "../../core/ssl_preread.c"

static int parse(const uint8_t *data, size_t len, mg_ssl_preread_t *out, unsigned char **scratch)
{
    /* exactly sized copies: a read past the end is caught */
    unsigned char *in = malloc(len ? len : 1);
    memcpy(in, data, len);
    *scratch = malloc(len ? len : 1);
    int rc = mg_ssl_preread_parse(in, len, *scratch, out);
    free(in);
    if (rc == 1) {
        if (out->server_name && (out->server_name < *scratch ||
                                 out->server_name + out->server_name_len > *scratch + len)) {
            abort();
        }
        if (out->alpn) {
            if (out->alpn < *scratch || out->alpn + out->alpn_len > *scratch + len) {
                abort();
            }
            char *text = malloc(out->alpn_len + 1);
            if (mg_ssl_preread_alpn_text(out->alpn, out->alpn_len, text) > out->alpn_len) {
                abort();
            }
            free(text);
        }
        (void)strlen(mg_ssl_preread_version_name(out->version));
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t cut = data[0] * (size - 1) / 255;
    data++;
    size--;
    mg_ssl_preread_t whole, part;
    unsigned char *s1, *s2;
    int rc = parse(data, size, &whole, &s1);
    int rcp = parse(data, cut, &part, &s2);
    if (rcp != 0 && rcp != rc) {
        abort();
    }
    /* fewer bytes than it said it needs can say no more */
    if (rcp == 0 && (part.need <= cut || (part.need > size ? rc != 0 : 0))) {
        abort();
    }
    if (rcp == 1 &&
        (part.version != whole.version || part.server_name_len != whole.server_name_len ||
         part.alpn_len != whole.alpn_len ||
         (part.server_name &&
          memcmp(part.server_name, whole.server_name, part.server_name_len) != 0))) {
        abort();
    }
    free(s1);
    free(s2);
    return 0;
}
