/*
 * The cache file's header: checked before anything of a file is served (see cache_file.h).
 * Pure code on a buffer, so the fuzzer and the unit tests drive it without files.
 */
#include <stddef.h>
#include <string.h>
#include <zlib.h>

#include "cache_file.h"
#include "mg.h"

uint32_t mg_cache_file_crc(const mg_cache_file_header_t *h, const char *parts, size_t parts_len)
{
    mg_cache_file_header_t c = *h;
    c.crc = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)&c, sizeof(c));
    while (parts_len) {
        uInt n = parts_len > (1u << 30) ? (1u << 30) : (uInt)parts_len;
        crc = crc32(crc, (const Bytef *)parts, n);
        parts += n;
        parts_len -= n;
    }
    return (uint32_t)crc;
}

int mg_cache_file_parse(const char *buf, size_t len, uint64_t file_size, mg_cache_file_meta_t *m,
                        const char **why)
{
    memset(m, 0, sizeof(*m));
    mg_cache_file_header_t *h = &m->h;
    /* the magic and the version first: a file of another version (whose header may be
     * shorter) is told apart, so that an upgrade's old files are a quiet miss */
    size_t head = offsetof(mg_cache_file_header_t, header_size);
    if (file_size < head || len < head) {
        *why = "is too small"; /* nginx's words for a file shorter than its header */
        return MG_DECLINED;
    }
    memcpy(h, buf, head);
    if (memcmp(h->magic, MG_CACHE_FILE_MAGIC, 8) != 0) {
        *why = "is not a cache file";
        return MG_DECLINED;
    }
    if (h->version != MG_CACHE_FILE_VERSION) {
        *why = "version mismatch"; /* nginx's words */
        return MG_DECLINED;
    }
    if (file_size < sizeof(*h) || len < sizeof(*h)) {
        *why = "is too small";
        return MG_DECLINED;
    }
    memcpy(h, buf, sizeof(*h));
    if (h->header_size != sizeof(*h)) {
        *why = "has another version";
        return MG_DECLINED;
    }
    /* a header-only answer has no body; unknown flags are not this version's */
    if (h->key_len > MG_CACHE_FILE_MAX_KEY || h->head_len == 0 ||
        (h->flags & ~MG_CACHE_FILE_HEADER_ONLY) ||
        ((h->flags & MG_CACHE_FILE_HEADER_ONLY) && h->body_len != 0) || h->spare != 0) {
        *why = "has a bad header";
        return MG_DECLINED;
    }
    uint64_t parts = (uint64_t)h->key_len + h->etag_len + h->vary_len + h->head_len;
    if (parts > MG_CACHE_FILE_MAX_META) {
        *why = "has a bad header";
        return MG_DECLINED;
    }
    uint64_t meta = sizeof(*h) + parts;
    if (h->body_len > UINT64_MAX - meta || meta + h->body_len != file_size) {
        *why = meta + h->body_len > file_size || h->body_len > UINT64_MAX - meta
                   ? "is truncated"
                   : "has a wrong size";
        return MG_DECLINED;
    }
    m->meta_len = (size_t)meta;
    if (len < meta) {
        return MG_AGAIN;
    }
    const char *p = buf + sizeof(*h);
    if (mg_cache_file_crc(h, p, (size_t)parts) != h->crc) {
        *why = "has a bad checksum";
        return MG_DECLINED;
    }
    m->key = p;
    m->etag = m->key + h->key_len;
    m->vary = m->etag + h->etag_len;
    m->head = m->vary + h->vary_len;
    if (len - meta >= h->body_len) {
        m->body = buf + meta;
    }
    return MG_OK;
}
