/*
 * libFuzzer target for the PROXY protocol reader (core/proxy_protocol.c): the input's first two
 * bytes pick the buffer room, the rest is read as a connection's first bytes. Beyond crashes
 * it checks that a header's length lies within the input and room, that its addresses are
 * NUL-terminated, and that every proper prefix of a header that was taken asks for more.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=proxy_protocol)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "pool.h"
#include "proxy_protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t room = 16 + ((size_t)data[0] << 8 | data[1]) % 2048;
    data += 2;
    size -= 2;
    /* an exactly sized copy: reading past the end is caught */
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    static mg_log_t log; /* level 0: nothing is written */
    mg_pool_t *pool = mg_pool_create(1024);
    mg_proxy_protocol_t *pp;
    size_t len = mg_min(size, room);
    ssize_t n = mg_proxy_protocol_read(pool, &log, copy, len, room, &pp);
    if (n > 0) {
        if ((size_t)n > len || pp == NULL ||
            pp->src_addr.data && pp->src_addr.data[pp->src_addr.len]) {
            abort();
        }
        for (size_t k = 0; k < (size_t)n; k++) {
            if (mg_proxy_protocol_read(pool, &log, copy, k, room, &pp) != 0) {
                abort();
            }
        }
    } else if (n < -1) {
        abort();
    }
    mg_pool_destroy(pool);
    free(copy);
    return 0;
}
