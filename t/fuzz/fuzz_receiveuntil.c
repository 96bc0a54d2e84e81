/*
 * libFuzzer target for a cosocket's receiveuntil (lua/socket_tcp_io.c: the iterator's pattern
 * matcher consume_until, its state until_init, and push_read_result, which gives back a partial
 * match at the close), included for its static functions. The input: a flags byte (bit 0
 * inclusive), the pattern's length (1-16) and bytes, the number of size arguments (0-7) and
 * each (0-15, 0: none) the iterator's calls cycle through, then the data the peer sends before
 * closing. The data is fed as the reads of a socket would bring it: whole, cut in two at every
 * place, and a byte at a time; every way must give the same results, call by call (the data,
 * or nil after the pattern in size mode, and at the close the "closed" error's partial data).
 * Without sizes the results must also be the data between non-overlapping leftmost
 * occurrences of the pattern (memmem's), with the pattern when inclusive; with a size, a
 * result goes past it only by the bytes of a partial match given back at once, which end it
 * (lua-nginx-module's rule: a byte that ends a partial match and starts nothing is the next
 * call's).
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=receiveuntil)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../lua/socket_tcp_io.c"

static lua_State *L;

static void close_vm(void)
{
    lua_close(L);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    L = luaL_newstate();
    atexit(close_vm);
    return 0;
}

typedef struct {
    char *p;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *p, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 64;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
}

static void put_result(out_t *o, char kind, const char *p, size_t n)
{
    char head[32];
    put(o, head, (size_t)snprintf(head, sizeof(head), "%c%zu:", kind, n));
    put(o, p, n);
}

/* A size-mode result longer than the size, as lua-nginx-module's: only bytes a partial match
 * gave back at once (the pattern's first p) go past it, and the result ends with them. */
static int size_ok(const mg_lua_tcp_until_t *u, const char *r, size_t rlen, size_t size)
{
    for (size_t p = rlen - size + 1; p <= rlen && p <= u->len; p++) {
        if (memcmp(r + rlen - p, u->pat, p) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The iterator's calls over data cut at the cuts (ascending, inside the data); the results
 * written to o. */
static void run(const char *pat, size_t plen, int inclusive, const uint8_t *sizes, size_t nsizes,
                const char *data, size_t len, const size_t *cuts, size_t ncuts, out_t *o)
{
    mg_lua_tcp_until_t *u = malloc(until_size(plen));
    until_init(u, pat, plen, inclusive);
    mg_lua_tcp_t s;
    memset(&s, 0, sizeof(s));
    s.fd = -1;
    s.rmode = MG_LUA_TCP_UNTIL;
    s.until = u;
    size_t next = 0, piece = 0; /* the next read's start, the number of reads made */
    char *rbuf = NULL;
    size_t calls = 0;
    for (;; calls++) {
        if (calls > 3 * (len + 2)) {
            fprintf(stderr, "no progress after %zu calls\n", calls);
            abort();
        }
        if (u->found) {
            u->found = 0;
            put(o, "nil;", 4);
            continue;
        }
        s.rsize = nsizes ? sizes[calls % nsizes] : 0;
        int rc;
        for (;;) {
            if (s.rpos < s.rlast && consume(&s)) {
                rc = R_DONE;
                break;
            }
            s.rpos = s.rlast = 0;
            if (next == len) {
                rc = R_CLOSED;
                break;
            }
            size_t end = piece < ncuts ? cuts[piece] : len;
            piece++;
            /* each read in its own exactly sized buffer: reading past it is caught */
            free(rbuf);
            rbuf = malloc(end - next);
            memcpy(rbuf, data + next, end - next);
            s.rbuf = rbuf;
            s.rlast = end - next;
            next = end;
        }
        int n = push_read_result(L, &s, rc, 0);
        size_t rlen;
        const char *r = lua_tolstring(L, -1, &rlen);
        put_result(o, n == 1 ? 'D' : 'C', r, rlen);
        if (n == 1 && s.rsize && rlen > s.rsize && !u->found && !size_ok(u, r, rlen, s.rsize)) {
            fprintf(stderr, "size %zu: \"%.*s\"\n", s.rsize, (int)rlen, r);
            abort();
        }
        lua_settop(L, 0);
        if (rc != R_DONE) {
            break;
        }
    }
    free(rbuf);
    free(s.acc);
    free(u);
}

static void differ(const char *how, const out_t *a, const out_t *b)
{
    fprintf(stderr, "%s: \"%.*s\"\n   whole: \"%.*s\"\n", how, (int)a->len, a->p, (int)b->len,
            b->p);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) {
        return 0;
    }
    int inclusive = data[0] & 1;
    size_t plen = data[1] % 16 + 1;
    if (size < 2 + plen + 1) {
        return 0;
    }
    const char *pat = (const char *)data + 2;
    size_t at = 2 + plen;
    size_t nsizes = data[at++] % 8;
    if (size < at + nsizes) {
        return 0;
    }
    uint8_t sizes[8];
    for (size_t i = 0; i < nsizes; i++) {
        sizes[i] = data[at++] % 16;
    }
    const char *d = (const char *)data + at;
    size_t len = size - at;
    if (len > 512) {
        return 0; /* every cut is a run: keep it quadratic in a small size */
    }

    out_t whole = {0}, other = {0};
    run(pat, plen, inclusive, sizes, nsizes, d, len, NULL, 0, &whole);
    size_t *cuts = malloc((len ? len : 1) * sizeof(size_t));
    for (size_t c = 1; c < len; c++) {
        other.len = 0;
        cuts[0] = c;
        run(pat, plen, inclusive, sizes, nsizes, d, len, cuts, 1, &other);
        if (other.len != whole.len || memcmp(other.p, whole.p, whole.len) != 0) {
            fprintf(stderr, "cut at %zu\n", c);
            differ("cut in two", &other, &whole);
        }
    }
    for (size_t c = 1; c < len; c++) {
        cuts[c - 1] = c;
    }
    other.len = 0;
    run(pat, plen, inclusive, sizes, nsizes, d, len, cuts, len ? len - 1 : 0, &other);
    if (other.len != whole.len || memcmp(other.p, whole.p, whole.len) != 0) {
        differ("a byte at a time", &other, &whole);
    }

    int sized = 0;
    for (size_t i = 0; i < nsizes; i++) {
        sized |= sizes[i] != 0;
    }
    if (!sized) {
        other.len = 0;
        size_t pos = 0;
        for (;;) {
            const char *m = memmem(d + pos, len - pos, pat, plen);
            if (m == NULL) {
                put_result(&other, 'C', d + pos, len - pos);
                break;
            }
            size_t n = (size_t)(m - (d + pos)) + (inclusive ? plen : 0);
            put_result(&other, 'D', d + pos, n);
            pos = (size_t)(m - d) + plen;
        }
        if (other.len != whole.len || memcmp(other.p, whole.p, whole.len) != 0) {
            differ("memmem's", &other, &whole);
        }
    }
    free(cuts);
    free(whole.p);
    free(other.p);
    return 0;
}
