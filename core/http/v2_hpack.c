/*
 * What nginx measures of a client's header blocks before it decodes them, for the bytes a
 * connection feeds nghttp2 (which decodes them, and tells only the decoded fields): the frames
 * are followed to their HEADERS and CONTINUATION payloads, and each HPACK representation's
 * integers and string lengths are read there, its strings skipped. nginx refuses a name or value
 * longer as sent (Huffman-coded or raw) than large_client_header_buffers' size, an integer
 * of more than 4 octets, a block that ends inside a field and a HEADERS frame with no block; the
 * walk stops at the first such one, so the connection can feed nghttp2 the bytes before it and
 * end as nginx ends.
 */
#include "v2.h"

enum {
    W_HEAD,   /* a frame header's 9 bytes */
    W_PADLEN, /* HEADERS' pad length */
    W_BODY,   /* the payload: pre bytes passed, left walked as HPACK, pad passed */
};

enum {
    H_REP, /* a representation's first byte */
    H_INT, /* an integer's continuation octets */
    H_LEN, /* a string's first byte: the Huffman flag and its length's prefix */
    H_STR, /* a string's bytes */
};

enum {
    I_INDEX, /* an indexed field's index: nothing follows */
    I_NAME,  /* a literal's name index: 0, a name string follows; then the value */
    I_SIZE,  /* a dynamic table size update */
    I_SLEN,  /* a name's or value's length */
};

/* the static table's entries; SETTINGS_HEADER_TABLE_SIZE, nghttp2's default as nginx's */
#define H2_STATIC_ENTRIES 61
#define H2_TABLE_SIZE 4096
#define H2_PREFACE_LEN 24
#define H2_MAX_OCTETS 4 /* nginx reads an integer from at most 4 octets, its prefix's included */

void mg_http_v2_hwalk_init(mg_http_v2_hwalk_t *w, size_t limit)
{
    memset(w, 0, sizeof(*w));
    w->limit = limit;
    w->state = W_BODY;
    w->pre = H2_PREFACE_LEN; /* the client's preface goes through nghttp2 too */
}

/* A name or a value was passed: the value is next, or the next representation. */
static void str_done(mg_http_v2_hwalk_t *w)
{
    if (w->is_value) {
        w->fields++;
        w->hstate = H_REP;
    } else {
        w->is_value = 1;
        w->hstate = H_LEN;
    }
}

/* An integer's value is whole: what follows it. 0, or the reason the walk stops. */
static unsigned int_done(mg_http_v2_hwalk_t *w)
{
    /* an index past the static table's 61 entries while the dynamic table is surely empty
     * (nginx names it; with entries it would take their count, which only the decoded sizes
     * tell: nghttp2 refuses those unlogged) */
    if ((w->what == I_INDEX || w->what == I_NAME) && w->value > H2_STATIC_ENTRIES &&
        !w->table_used) {
        return MG_HWALK_BOUND;
    }
    switch (w->what) {
    case I_NAME:
        w->table_used |= w->indexing;
        w->is_value = w->value != 0; /* a name from the tables: the value's length is next */
        w->hstate = H_LEN;
        return 0;
    case I_SLEN:
        if (w->value > w->limit) {
            return MG_HWALK_FIELD;
        }
        w->str = w->value;
        w->hstate = H_STR;
        if (w->str == 0) {
            str_done(w);
        }
        return 0;
    default:
        /* (nghttp2 refuses both too, COMPRESSION_ERROR, but says nothing of them) */
        if (w->what == I_INDEX && w->value == 0) {
            return MG_HWALK_INDEX0;
        }
        if (w->what == I_SIZE && w->value > H2_TABLE_SIZE) {
            return MG_HWALK_TABLE_SIZE;
        }
        if (w->what == I_SIZE && w->value == 0) {
            w->table_used = 0; /* emptied */
        }
        w->fields += w->what == I_INDEX;
        w->hstate = H_REP;
        return 0;
    }
}

/* The first octet of an integer with a prefix of bits: whole, or continued. */
static unsigned int_start(mg_http_v2_hwalk_t *w, unsigned what, uint8_t b, unsigned bits)
{
    unsigned max = (1u << bits) - 1;
    w->what = (uint8_t)what;
    w->value = b & max;
    if (w->value < max) {
        return int_done(w);
    }
    w->octets = 1;
    w->hstate = H_INT;
    return 0;
}

/* Block bytes p[0..n): how many were walked (n unless it stopped: then w->why says why). */
static size_t walk_block(mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (w->hstate == H_REP) {
            /* indexed fields in one octet: most of a client's blocks once its table holds
             * them */
            size_t k = i;
            /* (past the static table's: checked below while the dynamic one is empty) */
            uint8_t top = w->table_used ? 0xff : 0x80 + H2_STATIC_ENTRIES + 1;
            while (k < n && p[k] > 0x80 && p[k] < top) {
                k++;
            }
            w->fields += (uint32_t)(k - i);
            i = k;
            if (i == n) {
                break;
            }
        }
        uint8_t b = p[i];
        unsigned why = 0;
        switch (w->hstate) {
        case H_STR: {
            size_t k = mg_min(n - i, (size_t)w->str);
            w->str -= (uint32_t)k;
            i += k;
            if (w->str == 0) {
                str_done(w);
            }
            continue;
        }
        case H_REP:
            w->indexing = (b & 0xc0) == 0x40;
            if (b & 0x80) {
                why = int_start(w, I_INDEX, b, 7);
            } else if (b & 0x40) {
                why = int_start(w, I_NAME, b, 6);
            } else if (b & 0x20) {
                why = int_start(w, I_SIZE, b, 5);
            } else {
                why = int_start(w, I_NAME, b, 4); /* without indexing, or never indexed */
            }
            break;
        case H_LEN:
            why = int_start(w, I_SLEN, b, 7); /* the Huffman flag aside: nginx measures as sent */
            break;
        case H_INT:
            /* nginx's most: 3 octets after the prefix's, a value under 2^21 + 2^7 */
            w->value += (uint32_t)(b & 0x7f) << (7 * (w->octets - 1));
            w->octets++;
            if (b < 0x80) {
                why = int_done(w);
            } else if (w->octets == H2_MAX_OCTETS) {
                why = w->what == I_SLEN   ? MG_HWALK_LENGTH
                      : w->what == I_SIZE ? MG_HWALK_SIZE
                                          : MG_HWALK_INDEX;
            }
            break;
        }
        i++;
        if (why) {
            w->why = (uint8_t)why;
            return i;
        }
    }
    return n;
}

/* The END_HEADERS frame's block bytes are all walked: a field left unfinished is nginx's
 * FRAME_SIZE_ERROR (the walk stops past the block's last byte, which the connection keeps
 * from nghttp2). */
static void block_ended(mg_http_v2_hwalk_t *w)
{
    if (w->end_headers && w->hstate != H_REP) {
        w->why = w->hstate == H_STR ? MG_HWALK_CUT_STRING : MG_HWALK_CUT;
    }
}

/* Whether the walk is between frames (the next byte a frame header's first). */
static int at_frame(const mg_http_v2_hwalk_t *w)
{
    return (w->state == W_HEAD && w->hd_len == 0) ||
           (w->state == W_BODY && w->pre == 0 && w->left == 0 && w->pad == 0);
}

/* The bytes of a frame's start the gate looks at (its header, and a stream's WINDOW_UPDATE's
 * increment), from the first n of p (9 while the header is not whole). */
static size_t gate_need(const uint8_t *p, size_t n)
{
    if (n >= 9 && p[3] == NGHTTP2_WINDOW_UPDATE && mg_http_v2_frame_len(p) == 4 &&
        mg_http_v2_frame_sid(p) != 0) {
        return 13;
    }
    return 9;
}

/* A frame nginx ignores or answers otherwise than nghttp2, which the connection may drop (or
 * answer) before nghttp2 reads it: DATA on a stream (it may be one never opened, or one whose
 * request ended), RST_STREAM on a stream (one never opened; or one whose request nginx would
 * have run and answered before reading the reset, as its HEADERS came in the same bytes: the
 * walk stops before it, so those requests start first), WINDOW_UPDATE on a stream never opened
 * (an even one, or one after the last HEADERS), a WINDOW_UPDATE of 0 on a stream (it may be
 * closed), a GOAWAY. */
static int gated(const mg_http_v2_hwalk_t *w, const uint8_t *hd)
{
    int32_t sid = mg_http_v2_frame_sid(hd);
    if (sid == 0) {
        return hd[3] == NGHTTP2_GOAWAY;
    }
    if (hd[3] == NGHTTP2_WINDOW_UPDATE && gate_need(hd, 9) == 13 && (hd[9] & 0x7f) == 0 &&
        !hd[10] && !hd[11] && !hd[12]) {
        return 1;
    }
    return hd[3] == NGHTTP2_DATA || hd[3] == NGHTTP2_RST_STREAM ||
           (hd[3] == NGHTTP2_WINDOW_UPDATE && (sid % 2 == 0 || sid > w->sid));
}

size_t mg_http_v2_hwalk_need(const mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n)
{
    return !w->why && at_frame(w) ? gate_need(p, n) : 0;
}

int mg_http_v2_hwalk_gated(const mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n)
{
    return !w->why && at_frame(w) && (n >= 13 || n >= gate_need(p, n)) && gated(w, p);
}

/* A frame header: the first of a fixed size with another length is noted (w->bad_*). */
static void length_noted(mg_http_v2_hwalk_t *w, const uint8_t *hd)
{
    uint32_t len = mg_http_v2_frame_len(hd);
    int bad;
    switch (hd[3]) {
    case NGHTTP2_RST_STREAM:
    case NGHTTP2_WINDOW_UPDATE:
        bad = len != 4;
        break;
    case NGHTTP2_PRIORITY:
        bad = len != 5;
        break;
    case NGHTTP2_PING:
        bad = len != 8;
        break;
    case NGHTTP2_GOAWAY:
        bad = len < 8;
        break;
    case NGHTTP2_SETTINGS:
        bad = len % 6 != 0 || ((hd[4] & NGHTTP2_FLAG_ACK) && len);
        break;
    default:
        return;
    }
    if (bad && !w->bad_type) {
        w->bad_type = hd[3];
        w->bad_flags = hd[4];
        w->bad_len = len;
    }
}

/* A padded DATA or HEADERS frame whose header hd has just been passed, its pad length p[0]
 * there (n > 0: one a read cut from its header is not looked at): the first whose padding does
 * not fit is noted, for nginx's line when nghttp2 refuses it (PROTOCOL_ERROR). */
static void padding_noted(mg_http_v2_hwalk_t *w, const uint8_t *hd, const uint8_t *p, size_t n)
{
    uint32_t len = mg_http_v2_frame_len(hd);
    uint32_t prio = hd[3] == NGHTTP2_HEADERS && (hd[4] & NGHTTP2_FLAG_PRIORITY) ? 5 : 0;
    if (n && len > prio && (uint32_t)p[0] + prio > len - 1 && !w->bad_type && !w->bad_padded) {
        w->bad_padded = 1;
        w->bad_type = hd[3];
        w->bad_len = hd[3] == NGHTTP2_HEADERS ? len - 1 - prio : len; /* as nginx says */
        w->bad_pad = p[0];
    }
}

/* A frame header hd: whether the frame follows a block's frame that was not its last, whether
 * it is a CONTINUATION for another stream then (for nginx's line when nghttp2 refuses it), and
 * whether the walk stops at it: a padded DATA frame with no room for its pad length, which
 * nginx refuses as too short (FRAME_SIZE_ERROR; nghttp2: PROTOCOL_ERROR), unless a
 * CONTINUATION was due. */
static int frame_started(mg_http_v2_hwalk_t *w, const uint8_t *hd)
{
    int expected = w->in_block;
    uint8_t type = hd[3], flags = hd[4];
    if (expected && type == NGHTTP2_CONTINUATION && mg_http_v2_frame_sid(hd) != w->sid) {
        w->cont_sid = 1;
    }
    w->in_block = (type == NGHTTP2_HEADERS || type == NGHTTP2_CONTINUATION) &&
                  !(flags & NGHTTP2_FLAG_END_HEADERS);
    if (type == NGHTTP2_DATA && (flags & NGHTTP2_FLAG_PADDED) && mg_http_v2_frame_len(hd) == 0 &&
        !expected) {
        w->why = MG_HWALK_DATA_PAD;
        return 1;
    }
    return 0;
}

size_t mg_http_v2_hwalk(mg_http_v2_hwalk_t *w, const uint8_t *p, size_t n)
{
    size_t i = 0;
    w->headers = 0;
    while (i < n && !w->why) {
        if (i && at_frame(w) && (n - i < gate_need(p + i, n - i) || gated(w, p + i))) {
            /* dropped or not once nghttp2 has read the frames before it; a frame's start cut
             * by the bytes' end is held by the caller until the gate can look at it */
            return i;
        }
        if (w->state == W_HEAD && w->hd_len == 0 && n - i >= 9 && p[i + 3] != NGHTTP2_HEADERS &&
            p[i + 3] != NGHTTP2_CONTINUATION) {
            /* a frame with no header block, its header whole here: passed at once */
            uint32_t len = mg_http_v2_frame_len(p + i);
            if (n - i - 9 >= len) {
                if (frame_started(w, p + i)) {
                    i += 9;
                    break;
                }
                length_noted(w, p + i);
                if (p[i + 3] == NGHTTP2_DATA && (p[i + 4] & NGHTTP2_FLAG_PADDED)) {
                    padding_noted(w, p + i, p + i + 9, len);
                }
                i += 9 + len;
                continue;
            }
        }
        if (w->state == W_HEAD && w->hd_len == 0 && w->headers && n - i > 3 &&
            p[i + 3] == NGHTTP2_HEADERS) {
            /* a second request in these bytes: the first is answered before nghttp2 reads
             * this one, whose block may end the connection (nginx answers a request as its
             * block ends; nghttp2's GOAWAY would go before that answer, and end it) */
            return i;
        }
        switch (w->state) {
        case W_HEAD: {
            const uint8_t *hd = p + i; /* the header where it is whole, else gathered */
            if (w->hd_len || n - i < 9) {
                size_t k = mg_min(n - i, 9 - (size_t)w->hd_len);
                memcpy(w->hd + w->hd_len, p + i, k);
                w->hd_len += (uint8_t)k;
                i += k;
                if (w->hd_len < 9) {
                    break;
                }
                w->hd_len = 0;
                hd = w->hd;
            } else {
                i += 9;
            }
            uint32_t len = mg_http_v2_frame_len(hd);
            uint8_t type = hd[3], flags = hd[4];
            int expected = w->in_block; /* (nghttp2 refuses any other frame, as nginx) */
            if (frame_started(w, hd)) {
                break;
            }
            length_noted(w, hd);
            uint32_t fixed = type == NGHTTP2_HEADERS ? ((flags & NGHTTP2_FLAG_PADDED) ? 1 : 0) +
                                                           ((flags & NGHTTP2_FLAG_PRIORITY) ? 5 : 0)
                                                     : 0;
            if (type <= NGHTTP2_HEADERS && (flags & NGHTTP2_FLAG_PADDED) && len > fixed) {
                padding_noted(w, hd, p + i, n - i);
            }
            w->state = W_BODY;
            w->pre = len;
            w->left = w->pad = 0;
            w->end_headers = (flags & NGHTTP2_FLAG_END_HEADERS) != 0;
            if (type == NGHTTP2_HEADERS) {
                /* a new block: its representations start afresh */
                w->headers = 1;
                w->hstate = H_REP;
                w->sid = mg_http_v2_frame_sid(hd);
                w->prio = flags & NGHTTP2_FLAG_PRIORITY ? 5 : 0;
                if (len <= fixed) {
                    /* as nginx: too short for its pad length and priority (pre keeps the
                     * length for the line), or no room for a block: FRAME_SIZE_ERROR (nghttp2:
                     * PROTOCOL_ERROR for a padded one, no line) */
                    if (!expected) {
                        w->why = len < fixed ? MG_HWALK_SHORT : MG_HWALK_EMPTY;
                    }
                } else if (flags & NGHTTP2_FLAG_PADDED) {
                    w->pre = len - 1;
                    w->state = W_PADLEN;
                } else {
                    w->pre = mg_min(len, w->prio);
                    w->left = len - w->pre;
                }
            } else if (type == NGHTTP2_CONTINUATION) {
                w->pre = 0;
                w->left = len;
                if (len == 0) {
                    block_ended(w);
                }
            }
            break;
        }
        case W_PADLEN: {
            /* the rest: priority, the block, then pad bytes (nghttp2 refuses a frame whose
             * padding does not fit: its payload is passed whole here) */
            uint32_t rest = w->pre;
            i++;
            w->state = W_BODY;
            if (p[i - 1] + (uint32_t)w->prio <= rest) {
                w->pre = w->prio;
                w->pad = p[i - 1];
                w->left = rest - w->pre - w->pad;
                if (w->left == 0) {
                    /* nginx: a block cut short (naming the stream); with no padding either the
                     * frame was found empty from its length */
                    w->why = MG_HWALK_CUT;
                }
            }
            break;
        }
        case W_BODY:
            if (w->pre) {
                size_t k = mg_min(n - i, (size_t)w->pre);
                w->pre -= (uint32_t)k;
                i += k;
            } else if (w->left) {
                size_t k = mg_min(n - i, (size_t)w->left);
                size_t done = walk_block(w, p + i, k);
                w->left -= (uint32_t)done;
                i += done;
                if (w->left == 0 && !w->why) {
                    block_ended(w);
                }
            } else if (w->pad) {
                size_t k = mg_min(n - i, (size_t)w->pad);
                w->pad -= (uint32_t)k;
                i += k;
            } else {
                w->state = W_HEAD;
            }
            break;
        }
    }
    return w->why ? i : n;
}
