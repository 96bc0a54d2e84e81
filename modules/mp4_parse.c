/*
 * The MP4 rewriter of the mp4 module (see mp4.h): reads the atoms, crops each track's sample
 * tables to [start, end) as nginx does and writes the new moov. Every count and offset comes from
 * the file, so each is checked against the bytes that hold it before use.
 */
#include "mp4.h"

enum { L_MOOV, L_TRAK, L_MDIA, L_MINF, L_STBL };

typedef struct {
    const uint8_t *p; /* the entries */
    uint32_t n;
    const uint8_t *vf; /* version and flags, copied */
    unsigned present : 1;
} table_t;

typedef struct {
    mg_str_t tkhd, mdhd, hdlr, vmhd, smhd, dinf, stsd; /* whole atoms, as read */
    table_t stts, stss, ctts, stsc, stco;
    unsigned co64 : 1;
    unsigned has_stsz : 1;
    const uint8_t *stsz_vf, *stsz_p;
    uint32_t stsz_size, stsz_n;
    uint32_t timescale;
    /* the crop */
    uint64_t s, n;   /* first sample kept, how many */
    uint64_t prefix; /* the key frame prefix's duration (media timescale) */
    uint64_t stts_first, stts_skip, stts_end, stts_last_count; /* entries [first, end) */
    uint64_t chunk0, within, chunk_end, end_count;             /* chunks 1-based */
    size_t stsc_first, stsc_last;
    uint64_t start_off, end_off;
    uint64_t nchunks; /* in the new stco */
} trak_t;

typedef struct {
    mg_mp4_t *m;
    mg_pool_t *pool;
    mg_str_t mvhd;
    uint32_t movie_timescale;
    trak_t *traks;
    size_t ntraks, cap;
    trak_t *cur;
    uint8_t *ahead; /* the read-ahead window: bytes [ahead_off, ahead_off + ahead_len) */
    off_t ahead_off;
    size_t ahead_len;
    /* nginx's read buffer as it would be, which mp4_max_buffer_size is checked against: of
     * mp4_buffer_size, cut for good to what is left of the file at a read that refills it
     * (so a moov atom in a small file, or last in one, is never "too large") */
    size_t nb_size;
    off_t nb_end; /* the file offset its bytes end at; -1 before the first read */
} ctx_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* ms in a timescale's units, at most UINT64_MAX: an end of up to 2^63 - 1 ms (mp4.c's bound)
 * at a large timescale stays the longest time (nginx's 64-bit product wraps, cutting a track at
 * whatever is left of it) */
static uint64_t scale(uint64_t ms, uint32_t ts)
{
    unsigned __int128 units = (unsigned __int128)ms * ts / 1000;
    return units > UINT64_MAX ? UINT64_MAX : (uint64_t)units;
}

static mg_int_t fail(ctx_t *c, char *msg)
{
    c->m->error = msg;
    return MG_ERROR;
}

#define FAIL(c, ...) fail(c, mg_psprintf((c)->pool, __VA_ARGS__))

/* A sample table: version and flags, a count, count entries of esize bytes (after "skip" more
 * header bytes). */
static mg_int_t read_table(ctx_t *c, table_t *t, const char *name, const uint8_t *p, uint64_t len,
                           size_t esize)
{
    if (len < 8) {
        return FAIL(c, "\"%s\" mp4 %s atom too small", c->m->path, name);
    }
    uint32_t n = be32(p + 4);
    if ((uint64_t)n * esize > len - 8) {
        return FAIL(c, "\"%s\" mp4 %s atom too small", c->m->path, name);
    }
    t->vf = p;
    t->n = n;
    t->p = p + 8;
    t->present = 1;
    return MG_OK;
}

static mg_int_t leaf(ctx_t *c, int level, const uint8_t *a, uint64_t size, size_t hdr);

/* The atoms inside [p, end) at a level; as nginx: a size below the header is "too small", one
 * past the parent "too large"; 0 runs to the parent's end. */
static mg_int_t walk(ctx_t *c, int level, const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 8) {
        uint64_t size = be32(p);
        size_t hdr = 8;
        if (size == 1) {
            if (end - p < 16) {
                return FAIL(c, "\"%s\" mp4 atom is too small:%llu", c->m->path, 1ULL);
            }
            size = be64(p + 8);
            hdr = 16;
        } else if (size == 0) {
            size = (uint64_t)(end - p);
        }
        if (size < hdr) {
            return FAIL(c, "\"%s\" mp4 atom is too small:%llu", c->m->path,
                        (unsigned long long)size);
        }
        if (size > (uint64_t)(end - p)) {
            return FAIL(c, "\"%s\" mp4 atom too large:%llu", c->m->path, (unsigned long long)size);
        }
        mg_int_t rc = leaf(c, level, p, size, hdr);
        if (rc != MG_OK) {
            return rc; /* MG_DECLINED: a trak left out */
        }
        p += size;
    }
    return MG_OK;
}

static int is(const uint8_t *a, const char *type)
{
    return memcmp(a + 4, type, 4) == 0;
}

static mg_int_t leaf(ctx_t *c, int level, const uint8_t *a, uint64_t size, size_t hdr)
{
    const uint8_t *p = a + hdr;
    uint64_t len = size - hdr;
    mg_str_t whole = {(size_t)size, (char *)a};
    trak_t *t = c->cur;
    switch (level) {
    case L_MOOV:
        if (is(a, "mvhd")) {
            if (len < 4 || len < (p[0] == 1 ? 112u : 100u)) {
                return FAIL(c, "\"%s\" mp4 mvhd atom too small", c->m->path);
            }
            uint32_t ts = be32(p + (p[0] == 1 ? 20 : 12));
            uint64_t d = p[0] == 1 ? be64(p + 24) : be32(p + 16);
            /* start > duration in ms, without dividing by a timescale that may be 0 */
            if ((unsigned __int128)c->m->start * ts > (unsigned __int128)d * 1000) {
                return FAIL(c, "\"%s\" mp4 start time exceeds file duration", c->m->path);
            }
            c->mvhd = whole;
            c->movie_timescale = ts;
            return MG_OK;
        }
        if (is(a, "cmov")) {
            return FAIL(c, "\"%s\" mp4 compressed moov atom (cmov) is not supported", c->m->path);
        }
        if (is(a, "trak")) {
            if (c->ntraks == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 4;
                trak_t *n = mg_palloc(c->pool, c->cap * sizeof(trak_t));
                if (c->ntraks) {
                    memcpy(n, c->traks, c->ntraks * sizeof(trak_t));
                }
                c->traks = n;
            }
            c->cur = &c->traks[c->ntraks++];
            memset(c->cur, 0, sizeof(trak_t));
            mg_int_t rc = walk(c, L_TRAK, p, p + len);
            if (rc == MG_DECLINED) {
                c->ntraks--; /* ended by the start */
                return MG_OK;
            }
            return rc;
        }
        return MG_OK;
    case L_TRAK:
        if (is(a, "tkhd")) {
            if (len < 4 || len < (p[0] == 1 ? 96u : 84u)) {
                return FAIL(c, "\"%s\" mp4 tkhd atom too small", c->m->path);
            }
            t->tkhd = whole;
            /* as nginx: a track whose duration ends by the start is left out, unread */
            uint64_t d = p[0] == 1 ? be64(p + 28) : be32(p + 20);
            if (d <= scale(c->m->start, c->movie_timescale)) {
                return MG_DECLINED;
            }
        } else if (is(a, "mdia")) {
            return walk(c, L_MDIA, p, p + len);
        }
        return MG_OK;
    case L_MDIA:
        if (is(a, "mdhd")) {
            if (len < 4 || len < (p[0] == 1 ? 36u : 24u)) {
                return FAIL(c, "\"%s\" mp4 mdhd atom too small", c->m->path);
            }
            t->mdhd = whole;
            t->timescale = be32(p + (p[0] == 1 ? 20 : 12));
        } else if (is(a, "hdlr")) {
            t->hdlr = whole;
        } else if (is(a, "minf")) {
            return walk(c, L_MINF, p, p + len);
        }
        return MG_OK;
    case L_MINF:
        if (is(a, "vmhd")) {
            t->vmhd = whole;
        } else if (is(a, "smhd")) {
            t->smhd = whole;
        } else if (is(a, "dinf")) {
            t->dinf = whole;
        } else if (is(a, "stbl")) {
            return walk(c, L_STBL, p, p + len);
        }
        return MG_OK;
    default:
        if (is(a, "stsd")) {
            t->stsd = whole;
        } else if (is(a, "stts")) {
            return read_table(c, &t->stts, "stts", p, len, 8);
        } else if (is(a, "stss")) {
            return read_table(c, &t->stss, "stss", p, len, 4);
        } else if (is(a, "ctts")) {
            return read_table(c, &t->ctts, "ctts", p, len, 8);
        } else if (is(a, "stsc")) {
            return read_table(c, &t->stsc, "stsc", p, len, 12);
        } else if (is(a, "stco")) {
            t->co64 = 0;
            return read_table(c, &t->stco, "stco", p, len, 4);
        } else if (is(a, "co64")) {
            t->co64 = 1;
            return read_table(c, &t->stco, "co64", p, len, 8);
        } else if (is(a, "stsz")) {
            if (len < 12) {
                return FAIL(c, "\"%s\" mp4 stsz atom too small", c->m->path);
            }
            t->stsz_vf = p;
            t->stsz_size = be32(p + 4);
            t->stsz_n = be32(p + 8);
            if (t->stsz_size == 0 && (uint64_t)t->stsz_n * 4 > len - 12) {
                return FAIL(c, "\"%s\" mp4 stsz atom too small", c->m->path);
            }
            t->stsz_p = p + 12;
            t->has_stsz = 1;
        }
        return MG_OK;
    }
}

/* stts: the first sample at or after "units" into the track (MG_DECLINED: past its samples;
 * zero-length samples at 0 are passed over too, as nginx does) */
static mg_int_t crop_start(ctx_t *c, trak_t *t, uint64_t units)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < t->stts.n; i++) {
        uint64_t cnt = be32(t->stts.p + i * 8), dur = be32(t->stts.p + i * 8 + 4);
        if (units < cnt * dur) {
            t->s = s + units / dur;
            t->stts_first = i;
            t->stts_skip = units / dur;
            goto found;
        }
        s += cnt;
        units -= cnt * dur;
    }
    return MG_DECLINED;
found:
    if (c->m->start_key_frame && t->stss.present) {
        /* back to the key frame at or before the start; the edit list hides the frames between */
        uint64_t target = t->s + 1, key = 0;
        for (uint32_t i = 0; i < t->stss.n; i++) {
            uint64_t k = be32(t->stss.p + i * 4);
            if (k > target) {
                break;
            }
            key = k;
        }
        uint64_t back = key ? target - key : 0;
        t->s -= back;
        while (back) {
            uint64_t dur = be32(t->stts.p + t->stts_first * 8 + 4);
            if (t->stts_skip >= back) {
                t->stts_skip -= back;
                t->prefix += back * dur;
                break;
            }
            t->prefix += t->stts_skip * dur;
            back -= t->stts_skip;
            t->stts_first--;
            t->stts_skip = be32(t->stts.p + t->stts_first * 8);
        }
    }
    return MG_OK;
}

/* stts: how many samples from t->s fill "units" (all of them when the track is shorter) */
static void crop_end(trak_t *t, uint64_t units)
{
    uint64_t n = 0;
    for (uint64_t i = t->stts_first; i < t->stts.n; i++) {
        uint64_t cnt = be32(t->stts.p + i * 8), dur = be32(t->stts.p + i * 8 + 4);
        if (i == t->stts_first) {
            cnt -= t->stts_skip;
        }
        if (units != UINT64_MAX && units < cnt * dur) {
            t->n = n + units / dur;
            t->stts_end = i + 1;
            t->stts_last_count = units / dur;
            return;
        }
        n += cnt;
        if (units != UINT64_MAX) {
            units -= cnt * dur;
        }
    }
    t->n = n;
    t->stts_end = t->stts.n;
    t->stts_last_count = UINT64_MAX; /* the entry whole */
}

/* stsc: the chunk holding sample "sample" (0-based), its place there and its stsc entry */
static mg_int_t find_chunk(trak_t *t, uint64_t sample, uint64_t *chunk, uint64_t *within,
                           size_t *entry)
{
    uint64_t chunks = t->stco.n;
    for (uint32_t j = 0; j < t->stsc.n; j++) {
        uint64_t first = be32(t->stsc.p + j * 12), spc = be32(t->stsc.p + j * 12 + 4);
        uint64_t next = j + 1 < t->stsc.n ? be32(t->stsc.p + (j + 1) * 12) : chunks + 1;
        uint64_t run = next > first ? (next - first) * spc : 0;
        if (sample < run) {
            *chunk = first + sample / spc;
            *within = sample % spc;
            *entry = j;
            return MG_OK;
        }
        sample -= run;
    }
    return MG_DECLINED;
}

static uint64_t sample_size(trak_t *t, uint64_t i)
{
    return t->stsz_size ? t->stsz_size : be32(t->stsz_p + i * 4);
}

/* Crop one track. */
static mg_int_t update_trak(ctx_t *c, trak_t *t)
{
    mg_mp4_t *m = c->m;
    if (!t->stts.present) {
        return FAIL(c, "no mp4 stts atoms were found in \"%s\"", m->path);
    }
    uint64_t units = scale(m->start, t->timescale);
    t->s = 0;
    t->stts_first = 0;
    t->stts_skip = 0;
    if (crop_start(c, t, units) != MG_OK) {
        return FAIL(c, "start time is out mp4 stts samples in \"%s\"", m->path);
    }
    uint64_t end = m->length ? scale(m->length, t->timescale) : UINT64_MAX;
    crop_end(t, end > UINT64_MAX - t->prefix ? UINT64_MAX : end + t->prefix);
    if (!t->stsc.present) {
        return FAIL(c, "no mp4 stsc atoms were found in \"%s\"", m->path);
    }
    if (!t->stco.present) {
        return FAIL(c, "no mp4 stco atoms were found in \"%s\"", m->path);
    }
    if (find_chunk(t, t->s, &t->chunk0, &t->within, &t->stsc_first) != MG_OK) {
        return FAIL(c, "start time is out mp4 stsc chunks in \"%s\"", m->path);
    }
    /* no sample (an end before the next one starts): the start's chunk with none, as nginx */
    uint64_t last = t->s, wend = t->within;
    t->chunk_end = t->chunk0;
    t->stsc_last = t->stsc_first;
    t->end_count = t->within;
    if (t->n) {
        last = t->s + t->n - 1;
        if (find_chunk(t, last, &t->chunk_end, &wend, &t->stsc_last) != MG_OK) {
            return FAIL(c, "end time is out mp4 stsc chunks in \"%s\"", m->path);
        }
        t->end_count = wend + 1;
    }
    /* no sample and none skipped in the chunk: no chunk (nginx) */
    t->nchunks = t->n || t->within ? t->chunk_end - t->chunk0 + 1 : 0;
    if (t->chunk0 == 0 || t->chunk_end > t->stco.n || t->chunk0 > t->chunk_end) {
        return FAIL(c, "end time is out mp4 stco chunks in \"%s\"", m->path);
    }
    uint64_t skip = 0, keep = 0;
    if (t->has_stsz) {
        if (t->stsz_size == 0 && t->s + t->n > t->stsz_n) {
            return FAIL(c, "end time is out mp4 stsz samples in \"%s\"", m->path);
        }
        for (uint64_t i = t->s - t->within; i < t->s; i++) {
            skip += sample_size(t, i);
        }
        for (uint64_t i = last - wend; i < last + (t->n != 0); i++) {
            keep += sample_size(t, i);
        }
    }
    size_t w = t->co64 ? 8 : 4;
    uint64_t o0 =
        w == 8 ? be64(t->stco.p + (t->chunk0 - 1) * 8) : be32(t->stco.p + (t->chunk0 - 1) * 4);
    uint64_t oe = w == 8 ? be64(t->stco.p + (t->chunk_end - 1) * 8)
                         : be32(t->stco.p + (t->chunk_end - 1) * 4);
    t->start_off = o0 + skip;
    t->end_off = oe + keep;
    return MG_OK;
}

/* the output moov, written front to back; container sizes are patched when they close */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} out_t;

static uint8_t *grow(ctx_t *c, out_t *o, size_t n)
{
    if (o->cap - o->len < n) {
        size_t cap = (o->cap + n) * 2;
        uint8_t *p = mg_palloc(c->pool, cap);
        if (o->len) {
            memcpy(p, o->p, o->len);
        }
        o->p = p;
        o->cap = cap;
    }
    uint8_t *at = o->p + o->len;
    o->len += n;
    return at;
}

static void put_bytes(ctx_t *c, out_t *o, mg_str_t s)
{
    if (s.len) {
        memcpy(grow(c, o, s.len), s.data, s.len);
    }
}

static size_t open_box(ctx_t *c, out_t *o, const char *type)
{
    size_t at = o->len;
    uint8_t *p = grow(c, o, 8);
    memcpy(p + 4, type, 4);
    return at;
}

static void close_box(out_t *o, size_t at)
{
    put32(o->p + at, (uint32_t)(o->len - at));
}

/* the new duration of a header's field: less the start, at most the length, plus the prefix */
static uint64_t new_duration(ctx_t *c, uint64_t d, uint32_t ts, uint64_t prefix)
{
    d -= scale(c->m->start, ts);
    if (c->m->length) {
        uint64_t l = scale(c->m->length, ts);
        if (d > l) {
            d = l;
        }
    }
    return d + prefix;
}

/* a version 0 or 1 header atom copied with its duration (at off0 or off1 of the payload)
 * replaced; returns the duration written */
static uint64_t put_header(ctx_t *c, out_t *o, mg_str_t a, size_t off0, size_t off1, uint32_t ts,
                           uint64_t prefix)
{
    size_t hdr = be32((uint8_t *)a.data) == 1 ? 16 : 8;
    uint8_t *p = grow(c, o, a.len);
    memcpy(p, a.data, a.len);
    uint8_t *v = p + hdr;
    uint64_t d;
    if (v[0] == 1) {
        d = new_duration(c, be64(v + off1), ts, prefix);
        put64(v + off1, d);
    } else {
        d = new_duration(c, be32(v + off0), ts, prefix) & 0xffffffff;
        put32(v + off0, (uint32_t)d);
    }
    return d;
}

static size_t table_head(ctx_t *c, out_t *o, const char *type, const uint8_t *vf, uint32_t n)
{
    size_t at = open_box(c, o, type);
    uint8_t *p = grow(c, o, 8);
    memcpy(p, vf, 4);
    put32(p + 4, n);
    return at;
}

static void put_pair(ctx_t *c, out_t *o, uint64_t a, uint64_t b)
{
    uint8_t *p = grow(c, o, 8);
    put32(p, (uint32_t)a);
    put32(p + 4, (uint32_t)b);
}

static void write_stts(ctx_t *c, out_t *o, trak_t *t)
{
    uint64_t n = t->stts_end > t->stts_first ? t->stts_end - t->stts_first : 0;
    size_t at = table_head(c, o, "stts", t->stts.vf, (uint32_t)n);
    for (uint64_t i = t->stts_first; i < t->stts_end; i++) {
        uint64_t cnt = be32(t->stts.p + i * 8);
        if (i == t->stts_first) {
            cnt -= t->stts_skip;
        }
        if (i + 1 == t->stts_end && t->stts_last_count != UINT64_MAX) {
            cnt = t->stts_last_count;
        }
        put_pair(c, o, cnt, be32(t->stts.p + i * 8 + 4));
    }
    close_box(o, at);
}

static void write_stss(ctx_t *c, out_t *o, trak_t *t)
{
    size_t at = table_head(c, o, "stss", t->stss.vf, 0);
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->stss.n; i++) {
        uint64_t k = be32(t->stss.p + i * 4);
        if (k > t->s && k <= t->s + t->n) {
            put32(grow(c, o, 4), (uint32_t)(k - t->s));
            n++;
        }
    }
    put32(o->p + at + 12, n);
    close_box(o, at);
}

/* ctts: the entries of samples [s, s + n); none left at the start drops the atom. As nginx,
 * an end on an entry's boundary keeps the next entry with a count of 0. */
static void write_ctts(ctx_t *c, out_t *o, trak_t *t)
{
    uint64_t skip = t->s, left = t->n;
    size_t at = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->ctts.n; i++) {
        uint64_t cnt = be32(t->ctts.p + i * 8);
        if (skip >= cnt) {
            skip -= cnt;
            continue;
        }
        cnt -= skip;
        skip = 0;
        int end = left < cnt;
        if (end) {
            cnt = left;
        }
        left -= cnt;
        if (n++ == 0) {
            at = table_head(c, o, "ctts", t->ctts.vf, 0);
        }
        put_pair(c, o, cnt, be32(t->ctts.p + i * 8 + 4));
        if (end) {
            break;
        }
    }
    if (n) {
        put32(o->p + at + 12, n);
        close_box(o, at);
    }
}

static void stsc_entry(ctx_t *c, out_t *o, trak_t *t, uint64_t chunk, uint64_t spc, size_t j,
                       uint32_t *n)
{
    uint8_t *p = grow(c, o, 12);
    put32(p, (uint32_t)(chunk - t->chunk0 + 1));
    put32(p + 4, (uint32_t)spc);
    memcpy(p + 8, t->stsc.p + j * 12 + 8, 4);
    (*n)++;
}

/* stsc: chunks chunk0..chunk_end renumbered from 1; the first and the last chunk may hold fewer
 * samples than their entry says, and get entries of their own */
static void write_stsc(ctx_t *c, out_t *o, trak_t *t)
{
    size_t at = table_head(c, o, "stsc", t->stsc.vf, 0);
    uint32_t n = 0;
    for (size_t j = t->stsc_first; t->nchunks && j <= t->stsc_last; j++) {
        uint64_t first = be32(t->stsc.p + j * 12), spc = be32(t->stsc.p + j * 12 + 4);
        uint64_t next = j + 1 < t->stsc.n ? be32(t->stsc.p + (j + 1) * 12) : t->stco.n + 1;
        uint64_t lo = j == t->stsc_first ? t->chunk0 : first;
        uint64_t hi = j == t->stsc_last ? t->chunk_end : next - 1;
        if (lo > hi) {
            continue;
        }
        uint64_t ch = lo;
        if (j == t->stsc_first && t->within) {
            uint64_t cnt = spc - t->within;
            if (lo == hi && j == t->stsc_last) {
                cnt = t->end_count - t->within;
            }
            stsc_entry(c, o, t, ch++, cnt, j, &n);
            if (ch > hi) {
                continue;
            }
        }
        if (j == t->stsc_last && t->end_count < spc) {
            if (ch < hi) {
                stsc_entry(c, o, t, ch, spc, j, &n);
            }
            uint64_t cnt = t->end_count;
            if (hi == t->chunk0) {
                cnt -= t->within;
            }
            stsc_entry(c, o, t, hi, cnt, j, &n);
        } else {
            stsc_entry(c, o, t, ch, spc, j, &n);
        }
    }
    put32(o->p + at + 12, n);
    close_box(o, at);
}

static void write_stsz(ctx_t *c, out_t *o, trak_t *t)
{
    size_t at = open_box(c, o, "stsz");
    uint8_t *p = grow(c, o, 12);
    memcpy(p, t->stsz_vf, 4);
    put32(p + 4, t->stsz_size);
    if (t->stsz_size) {
        put32(p + 8, t->stsz_n); /* the count stays, as in nginx */
    } else {
        put32(p + 8, (uint32_t)t->n);
        size_t len = (size_t)t->n * 4;
        memcpy(grow(c, o, len), t->stsz_p + t->s * 4, len);
    }
    close_box(o, at);
}

/* stco/co64 with unshifted offsets; returns where its entries start */
static size_t write_stco(ctx_t *c, out_t *o, trak_t *t)
{
    uint64_t n = t->nchunks;
    size_t w = t->co64 ? 8 : 4;
    size_t at = table_head(c, o, t->co64 ? "co64" : "stco", t->stco.vf, (uint32_t)n);
    size_t entries = o->len;
    if (n) {
        uint8_t *p = grow(c, o, (size_t)n * w);
        memcpy(p, t->stco.p + (t->chunk0 - 1) * w, (size_t)n * w);
        if (w == 8) {
            put64(p, t->start_off);
        } else {
            put32(p, (uint32_t)t->start_off);
        }
    }
    close_box(o, at);
    return entries;
}

static void write_trak(ctx_t *c, out_t *o, trak_t *t, size_t *stco_at)
{
    size_t trak = open_box(c, o, "trak");
    uint64_t tkdur = 0;
    if (t->tkhd.len) {
        tkdur = put_header(c, o, t->tkhd, 20, 28, c->movie_timescale, 0);
    } else {
        tkdur = new_duration(c, 0, c->movie_timescale, 0);
    }
    if (t->prefix) {
        /* an edit list: play from the requested start, the key frame's prefix hidden */
        size_t edts = open_box(c, o, "edts");
        size_t elst = open_box(c, o, "elst");
        uint8_t *p = grow(c, o, 28);
        put32(p, 0x01000000);
        put32(p + 4, 1);
        put64(p + 8, tkdur);
        put64(p + 16, t->prefix);
        put32(p + 24, 0x00010000);
        close_box(o, elst);
        close_box(o, edts);
    }
    size_t mdia = open_box(c, o, "mdia");
    if (t->mdhd.len) {
        put_header(c, o, t->mdhd, 16, 24, t->timescale, t->prefix);
    }
    put_bytes(c, o, t->hdlr);
    size_t minf = open_box(c, o, "minf");
    put_bytes(c, o, t->vmhd);
    put_bytes(c, o, t->smhd);
    put_bytes(c, o, t->dinf);
    size_t stbl = open_box(c, o, "stbl");
    put_bytes(c, o, t->stsd);
    write_stts(c, o, t);
    if (t->stss.present) {
        write_stss(c, o, t);
    }
    if (t->ctts.present) {
        write_ctts(c, o, t);
    }
    write_stsc(c, o, t);
    if (t->has_stsz) {
        write_stsz(c, o, t);
    }
    *stco_at = write_stco(c, o, t);
    close_box(o, stbl);
    close_box(o, minf);
    close_box(o, mdia);
    close_box(o, trak);
}

/* reads exactly len bytes at off, or fails */
static mg_int_t read_direct(ctx_t *c, uint8_t *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = c->m->read(c->m->data, buf + got, len - got, off + (off_t)got);
        if (n < 0) {
            c->m->read_errno = errno;
            return FAIL(c, "pread() \"%s\" failed", c->m->path);
        }
        if (n == 0) {
            return FAIL(c, "\"%s\" mp4 file truncated", c->m->path);
        }
        got += (size_t)n;
    }
    return MG_OK;
}

/* nginx reads [off, off + len) into its buffer: a refill when they are not all there */
static void nginx_buffer_read(ctx_t *c, off_t off, uint64_t len)
{
    if (c->nb_end >= 0 && (uint64_t)off + len <= (uint64_t)c->nb_end) {
        return;
    }
    if ((uint64_t)off + c->nb_size > (uint64_t)c->m->size) {
        c->nb_size = (size_t)(c->m->size - off);
    }
    c->nb_end = off + (off_t)c->nb_size;
}

/* read_direct, but what fits in mp4_buffer_size comes from a window read ahead: a file of
 * many small atoms costs a read per buffer, not one per atom header */
static mg_int_t read_at(ctx_t *c, uint8_t *buf, size_t len, off_t off)
{
    size_t bs = c->m->buffer_size;
    if (len > bs) {
        return read_direct(c, buf, len, off);
    }
    if (c->ahead == NULL || off < c->ahead_off ||
        (uint64_t)(off - c->ahead_off) + len > c->ahead_len) {
        if (c->ahead == NULL) {
            c->ahead = mg_pnalloc(c->pool, bs);
        }
        off_t left = c->m->size - off;
        size_t want = left < 0 ? 0 : (uint64_t)left < bs ? (size_t)left : bs;
        if (want < len) {
            want = len; /* past the end: read_direct says truncated */
        }
        c->ahead_len = 0;
        if (read_direct(c, c->ahead, want, off) != MG_OK) {
            return MG_ERROR;
        }
        c->ahead_off = off;
        c->ahead_len = want;
    }
    memcpy(buf, c->ahead + (off - c->ahead_off), len);
    return MG_OK;
}

mg_int_t mg_mp4_rewrite(mg_mp4_t *m, mg_pool_t *pool)
{
    ctx_t cx = {.m = m, .pool = pool, .nb_size = m->buffer_size, .nb_end = -1}, *c = &cx;
    off_t off = 0, mdat_start = -1, mdat_end = -1;
    uint8_t *moov = NULL;
    size_t moov_len = 0;
    m->ftyp.len = 0;
    while (m->size - off >= 8) {
        uint8_t h[16];
        if (read_at(c, h, 8, off) != MG_OK) {
            return MG_ERROR;
        }
        uint64_t size = be32(h);
        size_t hdr = 8;
        nginx_buffer_read(c, off, 4);
        if (size == 1) {
            nginx_buffer_read(c, off, 16);
            if (m->size - off < 16 || read_at(c, h + 8, 8, off + 8) != MG_OK) {
                return FAIL(c, "\"%s\" mp4 atom is too small:%llu", m->path, 1ULL);
            }
            size = be64(h + 8);
            hdr = 16;
        } else if (size == 0) {
            break; /* nginx reads no further */
        }
        nginx_buffer_read(c, off, 8);
        if (size < hdr) {
            return FAIL(c, "\"%s\" mp4 atom is too small:%llu", m->path, (unsigned long long)size);
        }
        if (size > (uint64_t)(m->size - off)) {
            return FAIL(c, "\"%s\" mp4 atom too large:%llu", m->path, (unsigned long long)size);
        }
        if (memcmp(h + 4, "ftyp", 4) == 0) {
            if (size - hdr > 1024) { /* nginx's limit */
                return FAIL(c, "\"%s\" mp4 ftyp atom is too large:%llu", m->path,
                            (unsigned long long)(size - hdr));
            }
            nginx_buffer_read(c, off + (off_t)hdr, size - hdr);
            m->ftyp.data = mg_pnalloc(pool, (size_t)size);
            m->ftyp.len = (size_t)size;
            if (read_at(c, (uint8_t *)m->ftyp.data, (size_t)size, off) != MG_OK) {
                return MG_ERROR;
            }
        } else if (memcmp(h + 4, "moov", 4) == 0) {
            if (m->start == 0 && m->length == 0 && mdat_start < 0) {
                return MG_DECLINED; /* already playable from its start */
            }
            if (size - hdr > c->nb_size) {
                if (size - hdr > m->max_buffer_size) {
                    return FAIL(c,
                                "\"%s\" mp4 moov atom is too large:%llu, you may want to "
                                "increase mp4_max_buffer_size",
                                m->path, (unsigned long long)(size - hdr));
                }
                /* a buffer of its own, 4k more when no mdat was seen yet */
                c->nb_size = (size_t)(size - hdr) + (mdat_start < 0 ? 4096 : 0);
                c->nb_end = -1;
            }
            nginx_buffer_read(c, off + (off_t)hdr, size - hdr);
            moov_len = (size_t)(size - hdr);
            moov = mg_palloc(pool, moov_len ? moov_len : 1);
            if (read_at(c, moov, moov_len, off + (off_t)hdr) != MG_OK) {
                return MG_ERROR;
            }
            if (walk(c, L_MOOV, moov, moov + moov_len) != MG_OK) {
                return MG_ERROR;
            }
        } else if (memcmp(h + 4, "mdat", 4) == 0) {
            mdat_start = off + (off_t)hdr;
            mdat_end = off + (off_t)size;
        }
        off += (off_t)size;
    }
    if (c->ntraks == 0) {
        return FAIL(c, "no mp4 trak atoms were found in \"%s\"", m->path);
    }
    if (mdat_start < 0) {
        return FAIL(c, "no mp4 mdat atom was found in \"%s\"", m->path);
    }
    uint64_t start = UINT64_MAX, end = 0;
    for (size_t i = 0; i < c->ntraks; i++) {
        trak_t *t = &c->traks[i];
        if (update_trak(c, t) != MG_OK) {
            return MG_ERROR;
        }
        if (t->nchunks == 0) {
            continue; /* no bytes of its own */
        }
        if (t->start_off < start) {
            start = t->start_off;
        }
        if (t->end_off > end) {
            end = t->end_off;
        }
    }
    if (m->length == 0) {
        end = (uint64_t)mdat_end;
    }
    if (start == UINT64_MAX || end <= start) {
        return FAIL(c, "no data between start time and end time in \"%s\"", m->path);
    }
    if (end > (uint64_t)m->size) {
        return FAIL(c, "\"%s\" mp4 chunk offsets are out of the file", m->path);
    }
    m->data_start = (off_t)start;
    m->data_end = (off_t)end;

    /* the moov; chunk offsets shifted once its size is known */
    out_t o = {0};
    size_t *stco_at = mg_palloc(pool, c->ntraks * sizeof(size_t));
    size_t at = open_box(c, &o, "moov");
    if (c->mvhd.len) {
        put_header(c, &o, c->mvhd, 16, 24, c->movie_timescale, 0);
    }
    for (size_t i = 0; i < c->ntraks; i++) {
        write_trak(c, &o, &c->traks[i], &stco_at[i]);
    }
    close_box(&o, at);
    uint64_t mdat_len = end - start;
    uint8_t *mh = mg_palloc(pool, 16);
    if (mdat_len + 8 <= 0xffffffff) {
        put32(mh, (uint32_t)(mdat_len + 8));
        memcpy(mh + 4, "mdat", 4);
        m->mdat_header.len = 8;
    } else {
        put32(mh, 1);
        memcpy(mh + 4, "mdat", 4);
        put64(mh + 8, mdat_len + 16);
        m->mdat_header.len = 16;
    }
    m->mdat_header.data = (char *)mh;
    uint64_t shift = m->ftyp.len + o.len + m->mdat_header.len - start; /* modulo 2^64 */
    for (size_t i = 0; i < c->ntraks; i++) {
        trak_t *t = &c->traks[i];
        uint64_t n = t->nchunks;
        uint8_t *p = o.p + stco_at[i];
        for (uint64_t k = 0; k < n; k++) {
            if (t->co64) {
                put64(p + k * 8, be64(p + k * 8) + shift);
            } else {
                put32(p + k * 4, (uint32_t)(be32(p + k * 4) + shift));
            }
        }
    }
    m->moov.data = (char *)o.p;
    m->moov.len = o.len;
    return MG_OK;
}
