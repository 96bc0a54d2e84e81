/*
 * libFuzzer target for the header block walk (core/http/v2_hpack.c, included): the input's
 * head chooses the string limit, HEADERS' padding and priority, where the block is cut into
 * CONTINUATIONs and the pieces the walk is fed in; its rest is the HPACK block, put in frames
 * after the preface, a SETTINGS and a DATA frame (whose payload looks like a block too). Checks:
 * the walk stops at the same byte, for the same reason, with the same fields counted, whatever
 * the pieces; a plain walk of the block alone here (nginx's reading: integers of at most 4
 * octets, strings no longer than the limit as sent, an index 0, a table size update over 4096,
 * an index past the static table while the dynamic one is empty, a block ending inside a field
 * or none in the HEADERS frame refused) agrees; and where the walk passed the whole block and
 * nghttp2's inflater decodes it, nghttp2 counts the same fields and none of their strings is
 * longer than the limit allows (a Huffman code is at least 5 bits a byte).
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=h2_hpack)
 */
#include <stdlib.h>

#include "../../core/http/v2_hpack.c"

#define HEAD 13 /* the input's bytes before the block */

/* An integer with a prefix of bits at b[*i]: 1 whole, 0 the block ended, -1 over 4 octets. */
static int ref_int(const uint8_t *b, size_t n, size_t *i, unsigned bits, uint32_t *v)
{
    uint32_t max = (1u << bits) - 1;
    *v = b[(*i)++] & max;
    if (*v < max) {
        return 1;
    }
    for (unsigned k = 0; k < 3; k++) {
        if (*i >= n) {
            return 0;
        }
        uint8_t c = b[(*i)++];
        *v += (uint32_t)(c & 0x7f) << (7 * k);
        if (c < 0x80) {
            return 1;
        }
    }
    return -1;
}

/* The block read at once: where the reading stops (just past the integer refused, or n where
 * the block ends inside a field) or n. */
static size_t ref_walk(const uint8_t *b, size_t n, size_t limit, unsigned *why, uint32_t *fields)
{
    size_t i = 0;
    uint32_t v;
    int used = 0; /* the dynamic table may hold entries (it starts empty: one block alone) */
    *why = 0;
    *fields = 0;
    while (i < n) {
        uint8_t c = b[i];
        unsigned bits = c & 0x80 ? 7 : c & 0x40 ? 6 : c & 0x20 ? 5 : 4;
        int r = ref_int(b, n, &i, bits, &v);
        if (r < 0) {
            *why = bits == 5 ? MG_HWALK_SIZE : MG_HWALK_INDEX;
            return i;
        }
        if (r == 0) {
            *why = MG_HWALK_CUT;
            return n;
        }
        if (bits == 7 && v == 0) {
            *why = MG_HWALK_INDEX0;
            return i;
        }
        if (bits == 5 && v > 4096) {
            *why = MG_HWALK_TABLE_SIZE;
            return i;
        }
        if (bits != 5 && v > 61 && !used) {
            *why = MG_HWALK_BOUND;
            return i;
        }
        if (bits == 5 && v == 0) {
            used = 0;
        }
        if (bits == 6) {
            used = 1;
        }
        if (bits == 7) {
            (*fields)++;
            continue;
        }
        if (bits == 5) {
            continue;
        }
        for (int s = v == 0 ? 0 : 1; s < 2; s++) { /* the name (unless indexed), the value */
            if (i >= n) {
                *why = MG_HWALK_CUT;
                return n;
            }
            r = ref_int(b, n, &i, 7, &v);
            if (r < 0) {
                *why = MG_HWALK_LENGTH;
                return i;
            }
            if (r == 0) {
                *why = MG_HWALK_CUT;
                return n;
            }
            if (v > limit) {
                *why = MG_HWALK_FIELD;
                return i;
            }
            if (n - i < v) {
                *why = MG_HWALK_CUT_STRING;
                return n;
            }
            i += v;
        }
        (*fields)++;
    }
    return n;
}

static size_t put_frame(uint8_t *p, size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
    p[0] = (uint8_t)(len >> 16), p[1] = (uint8_t)(len >> 8), p[2] = (uint8_t)len;
    p[3] = type, p[4] = flags;
    p[5] = (uint8_t)(sid >> 24), p[6] = (uint8_t)(sid >> 16), p[7] = (uint8_t)(sid >> 8);
    p[8] = (uint8_t)sid;
    return 9;
}

/* Fed in pieces of size at most piece: the walk's answer (the bytes up to its stop, or n). A
 * piece it takes a part of (a pause before a frame the connection looks at first, or before a
 * frame's start the piece's end cuts; never at the piece's first byte, where the walk gathers
 * a cut header itself) is fed on from there. */
static size_t walk(mg_http_v2_hwalk_t *w, size_t limit, const uint8_t *s, size_t n, size_t piece)
{
    mg_http_v2_hwalk_init(w, limit);
    size_t off = 0;
    while (off < n) {
        size_t k = mg_min(piece, n - off);
        size_t took = mg_http_v2_hwalk(w, s + off, k);
        off += took;
        if (w->why) {
            if (took == 0) {
                abort(); /* it stops past an integer's last octet */
            }
            return off;
        }
        if (took == 0 || took > k) {
            abort();
        }
    }
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEAD) {
        return 0;
    }
    size_t limit = (size_t)data[0] * 8;
    int padded = data[1] & 1, prio = data[1] & 2;
    uint8_t padlen = data[2];
    unsigned ncuts = data[3] & 7;
    size_t piece = 1 + data[12] % 64;
    const uint8_t *b = data + HEAD;
    size_t n = size - HEAD;

    /* the block's cuts, in order */
    size_t cuts[9];
    cuts[0] = 0;
    for (unsigned k = 1; k <= ncuts; k++) {
        cuts[k] = mg_max(cuts[k - 1], n ? data[3 + k] * n / 255 : 0);
    }
    cuts[ncuts + 1] = n;

    /* preface, SETTINGS, DATA with the block's first bytes, HEADERS, CONTINUATIONs */
    size_t cap = 24 + 9 + 9 + 16 + 9 + 1 + 5 + 255 + n + 9 * (ncuts + 1);
    uint8_t *s = malloc(cap);
    size_t *pos = malloc((n ? n : 1) * sizeof(size_t)); /* each block byte's place in s */
    size_t len = 0;
    memcpy(s, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    len = 24;
    len += put_frame(s + len, 0, NGHTTP2_SETTINGS, 0, 0);
    size_t dn = mg_min(n, 16);
    len += put_frame(s + len, dn, NGHTTP2_DATA, 0, 1);
    memcpy(s + len, b, dn);
    len += dn;
    size_t hpos = 0; /* the HEADERS frame's place in s */
    for (unsigned k = 0; k <= ncuts; k++) {
        size_t frag = cuts[k + 1] - cuts[k];
        if (k == 0) {
            hpos = len;
            size_t plen = frag + (padded ? 1 + padlen : 0) + (prio ? 5 : 0);
            uint8_t flags = (padded ? NGHTTP2_FLAG_PADDED : 0) |
                            (prio ? NGHTTP2_FLAG_PRIORITY : 0) |
                            (ncuts == 0 ? NGHTTP2_FLAG_END_HEADERS : 0);
            len += put_frame(s + len, plen, NGHTTP2_HEADERS, flags, 1);
            if (padded) {
                s[len++] = padlen;
            }
            if (prio) {
                memset(s + len, 0, 5);
                len += 5;
            }
        } else {
            len += put_frame(s + len, frag, NGHTTP2_CONTINUATION,
                             k == ncuts ? NGHTTP2_FLAG_END_HEADERS : 0, 1);
        }
        for (size_t i = cuts[k]; i < cuts[k + 1]; i++) {
            pos[i] = len;
            s[len++] = b[i];
        }
        if (k == 0 && padded) {
            memset(s + len, 0, padlen);
            len += padlen;
        }
    }

    mg_http_v2_hwalk_t w1, w2;
    size_t a = walk(&w1, limit, s, len, len);
    size_t c = walk(&w2, limit, s, len, piece);
    if (a != c || w1.why != w2.why || w1.fields != w2.fields) {
        abort();
    }
    unsigned why;
    uint32_t fields;
    size_t r = ref_walk(b, n, limit, &why, &fields), stop = why ? pos[r - 1] + 1 : len;
    if (cuts[1] == 0) {
        /* a HEADERS frame without a block, as nginx: only its pad length and priority, refused
         * from its length (empty) right past its header; with padding, a block cut short past
         * its pad length */
        why = padded && padlen ? MG_HWALK_CUT : MG_HWALK_EMPTY;
        fields = 0;
        stop = hpos + 9 + (padded && padlen ? 1 : 0);
    } else if (why >= MG_HWALK_CUT_STRING && cuts[ncuts] == n) {
        stop = len; /* the last CONTINUATION is empty: the cut is seen past its header */
    }
    if (why != w1.why || fields != w1.fields || a != stop) {
        abort();
    }

    if (!why) {
        /* nghttp2 decodes what the walk passed: the same fields, none longer than allowed */
        nghttp2_hd_inflater *inf;
        if (nghttp2_hd_inflate_new(&inf) != 0) {
            abort();
        }
        size_t off = 0, seen = 0, most = mg_max(limit * 8 / 5, 64);
        for (;;) {
            nghttp2_nv nv;
            int fl = 0;
            ssize_t rv = nghttp2_hd_inflate_hd2(inf, &nv, &fl, b + off, n - off, 1);
            if (rv < 0) {
                seen = (size_t)-1;
                break;
            }
            off += (size_t)rv;
            if (fl & NGHTTP2_HD_INFLATE_EMIT) {
                seen++;
                if (nv.namelen > most || nv.valuelen > most) {
                    abort();
                }
            }
            if (fl & NGHTTP2_HD_INFLATE_FINAL) {
                break;
            }
            if (rv == 0 && !(fl & NGHTTP2_HD_INFLATE_EMIT)) {
                break;
            }
        }
        if (seen != (size_t)-1 && off == n && seen != fields) {
            abort();
        }
        nghttp2_hd_inflate_del(inf);
    }
    free(pos);
    free(s);
    return 0;
}
