/*
 * The proxy cache's file format (moongate's own, not nginx's): a fixed header, then the key,
 * the ETag, the Vary value and the upstream's response head as it came, then the body. The
 * header says how long each part is and carries a CRC-32 of itself and of the parts before
 * the body, so a file cut short, grown or scribbled on is told from a good one before anything
 * of it is served (cache_file.c; fuzzed by t/fuzz/fuzz_cache_header.c).
 */
#ifndef MG_HTTP_CACHE_FILE_H
#define MG_HTTP_CACHE_FILE_H

#include <stddef.h>
#include <stdint.h>

#define MG_CACHE_FILE_MAGIC "MGCACHE\n"
/* 2: the flags field (a header-only answer to a HEAD); a file of another version is a miss */
#define MG_CACHE_FILE_VERSION 2
/* flags: the answer to a HEAD that went upstream as HEAD, its head only (its Content-Length,
 * if any, says what a GET would get, not what the file holds) */
#define MG_CACHE_FILE_HEADER_ONLY 0x1u
/* bounds on the parts before the body, so a reader never allocates what a broken file says */
#define MG_CACHE_FILE_MAX_KEY 4096
#define MG_CACHE_FILE_MAX_META (1024 * 1024)

typedef struct {
    char magic[8];
    uint32_t version;
    uint32_t header_size;  /* sizeof this struct */
    int64_t valid_sec;     /* fresh until then (wall clock, seconds) */
    int64_t date;          /* when it was stored */
    int64_t last_modified; /* the upstream's Last-Modified, -1: none */
    uint8_t md5[16];       /* of the key: the file's name */
    uint8_t variant[16];   /* of the request's values of the headers Vary names */
    uint32_t status;
    uint32_t key_len;
    uint32_t etag_len;
    uint32_t vary_len;
    uint32_t head_len;
    uint32_t updating_sec; /* Cache-Control's stale-while-revalidate */
    uint64_t body_len;
    uint32_t crc;       /* CRC-32 of the bytes above (with crc 0), the key, ETag, Vary and head */
    uint32_t error_sec; /* ... stale-if-error */
    uint32_t flags;     /* MG_CACHE_FILE_HEADER_ONLY */
    uint32_t spare;     /* 0; spelled out so that no padding goes under the checksum */
} mg_cache_file_header_t;

/* no padding: the checksum covers the struct's bytes */
_Static_assert(sizeof(mg_cache_file_header_t) == 120, "cache file header layout");

/* What a file holds, pointing into the buffer it was read from. */
typedef struct {
    mg_cache_file_header_t h;
    const char *key, *etag, *vary, *head;
    const char *body; /* the body when the buffer held all of it, else NULL */
    size_t meta_len;  /* the header and the parts: where the body starts */
} mg_cache_file_meta_t;

/* Read a file's start buf[0..len) of a file of file_size bytes: MG_OK with *m; MG_AGAIN when
 * the parts go beyond len (m->meta_len says how many bytes are needed); MG_DECLINED when it is
 * not a good file, *why saying what is wrong ("truncated", "bad checksum", ...; for a file of
 * another version, m->h.version is that version and *why "version mismatch"). */
int mg_cache_file_parse(const char *buf, size_t len, uint64_t file_size, mg_cache_file_meta_t *m,
                        const char **why);
/* The header's crc for the header h (its crc field ignored) and the parts. */
uint32_t mg_cache_file_crc(const mg_cache_file_header_t *h, const char *parts, size_t parts_len);

#endif
