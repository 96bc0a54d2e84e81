/*
 * libFuzzer target for the cache file header reader (core/http/cache_file.c): the input's
 * first byte says whether to make its checksum right (so inputs get past it to the length
 * checks) and how far the file's size is from the input's length; the rest is the file's
 * start. Beyond crashes it checks that a file taken is exactly its parts and body, that the
 * parts lie inside what was read, and that "read more" asks for more than was given and no
 * more than the file holds, that a header-only file taken has no body and that a file refused
 * for its version has the magic and another version.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=cache_header)
 */
#include <stdlib.h>
#include <string.h>

#include "cache_file.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    unsigned flags = data[0];
    data++;
    size--;
    /* an exactly sized copy: reading past the end is caught */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if ((flags & 1) && size >= sizeof(mg_cache_file_header_t)) {
        mg_cache_file_header_t h;
        memcpy(&h, buf, sizeof(h));
        uint64_t parts = (uint64_t)h.key_len + h.etag_len + h.vary_len + h.head_len;
        size_t room = size - sizeof(h);
        h.crc = mg_cache_file_crc(&h, buf + sizeof(h), parts < room ? (size_t)parts : room);
        memcpy(buf, &h, sizeof(h));
    }
    int delta = (int)((flags >> 1) & 0x1f) - 16; /* the file may be longer or shorter */
    uint64_t file_size = (int64_t)size + delta < 0 ? 0 : (uint64_t)((int64_t)size + delta);
    if (flags & 0x40) {
        file_size = size; /* the whole file was read */
    }
    mg_cache_file_meta_t m;
    const char *why = NULL;
    int rc = mg_cache_file_parse(buf, size, file_size, &m, &why);
    if (rc == MG_OK) {
        const mg_cache_file_header_t *h = &m.h;
        size_t parts = (size_t)h->key_len + h->etag_len + h->vary_len + h->head_len;
        if (m.meta_len != sizeof(*h) + parts || m.meta_len > size ||
            m.meta_len + h->body_len != file_size || m.key != buf + sizeof(*h) ||
            m.head + h->head_len != buf + m.meta_len || why != NULL ||
            (m.body != NULL) != (size - m.meta_len >= h->body_len) ||
            (m.body && m.body != buf + m.meta_len) || h->version != MG_CACHE_FILE_VERSION ||
            ((h->flags & MG_CACHE_FILE_HEADER_ONLY) && h->body_len != 0)) {
            abort();
        }
    } else if (rc == MG_AGAIN) {
        if (m.meta_len <= size || m.meta_len > file_size) {
            abort();
        }
    } else if (rc != MG_DECLINED || why == NULL) {
        abort();
    } else if (strcmp(why, "version mismatch") == 0 &&
               (memcmp(m.h.magic, MG_CACHE_FILE_MAGIC, 8) != 0 ||
                m.h.version == MG_CACHE_FILE_VERSION)) {
        abort(); /* the reader tells an old file from a broken one by its version */
    }
    free(buf);
    return 0;
}
