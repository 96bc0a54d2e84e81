/*
 * libFuzzer target for the Range header parser (modules/range.c's parse_ranges), included
 * here so its static parser can be called. The first 8 input bytes are the entity's length
 * (folded to a non-negative off_t), the 9th max_ranges; the rest is the list after "bytes=".
 * Beyond crashes and undefined behaviour (an overflowing sum) it checks that every range
 * taken is non-empty and inside the entity, no more than max_ranges are kept on success, and
 * the ranges accepted add up to no more than the entity.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=range)
 *
 * fuzz-link: libmoongate
 */
#include <limits.h>
#include <stdlib.h>

#include "../../modules/range.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 9) {
        return 0;
    }
    uint64_t l;
    memcpy(&l, data, 8);
    off_t length = (off_t)(l >> 1);
    if (data[8] & 0x80) {
        length = (off_t)(l & 0xfff); /* small entities are the usual case */
    }
    mg_int_t max = data[8] & 0x40 ? INT_MAX : (mg_int_t)(data[8] & 0x3f);
    data += 9;
    size -= 9;
    char *copy = malloc(size ? size : 1); /* exactly sized: reading past it is caught */
    memcpy(copy, data, size);

    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.pool = mg_pool_create(1024);
    range_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.length = length;
    int rc = parse_ranges(&r, &ctx, copy, copy + size, max);
    if (rc == PARSE_OK) {
        off_t total = 0;
        if (ctx.nranges == 0 || (mg_int_t)ctx.nranges > max) {
            abort();
        }
        for (size_t i = 0; i < ctx.nranges; i++) {
            range_t *g = &ctx.ranges[i];
            if (g->start < 0 || g->start >= g->end || g->end > length) {
                abort();
            }
            total += g->end - g->start;
            if (total > length) {
                abort();
            }
        }
    }
    mg_pool_destroy(r.pool);
    free(copy);
    return 0;
}
