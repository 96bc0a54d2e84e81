/*
 * geo: a variable whose value depends on an IP address (the client's, or a variable's),
 * by longest prefix over CIDR networks (IPv4 and IPv6) or over IPv4 ranges, with trusted
 * proxies whose X-Forwarded-For names the address. The block is read with nginx's checks and
 * messages, then turned into sorted intervals searched by bisection. No phase handlers.
 * The same block in stream{} (ngx_stream_geo_module) makes a stream variable with the same
 * reading and lookup; it has no trusted proxies there (realip sets the client's address).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>

#include "cidr.h"
#include "http.h"
#include "stream.h"
#include "variables.h"

typedef unsigned __int128 geo_u128;

#define GEO_NONE 0xffffffffu /* what an unusable address is looked up as (nginx's INADDR_NONE) */

/* An address: IPv4 in the low 32 bits of a, or IPv6. */
typedef struct {
    int v6;
    geo_u128 a;
} geo_addr_t;

typedef struct {
    int v6;
    geo_u128 addr;
    geo_u128 mask;
} geo_cidr_t;

/* Sorted intervals covering the whole space: start[i] .. start[i+1]-1 has value[i]; IPv4
 * starts are kept in 32 bits, four times denser for the search. */
typedef struct {
    geo_u128 *start;
    uint32_t *start4;
    mg_str_t **value;
    size_t n;
} geo_intervals_t;

typedef struct {
    mg_int_t index;                     /* the address's variable, or -1: the client's */
    mg_stream_complex_t *stream_source; /* in stream{}: the address's text, NULL: the client's */
    geo_cidr_t *proxies;
    size_t nproxies;
    int proxy_recursive;
    geo_intervals_t v4;
    geo_intervals_t v6;
} geo_t;

/* ---- addresses, as nginx reads them ---- */

/* nginx's IPv4 reading: four dot-separated decimal parts of at most 255 (empty ones count
 * as 0, leading zeros are decimal); 255.255.255.255 is its "none" and so unusable. */
static int parse_v4(const char *s, size_t len, uint32_t *out)
{
    uint32_t addr = 0, octet = 0;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            octet = octet * 10 + (uint32_t)(c - '0');
            if (octet > 255) {
                return 0;
            }
        } else if (c == '.') {
            addr = (addr << 8) + octet;
            octet = 0;
            dots++;
        } else {
            return 0;
        }
    }
    if (dots != 3) {
        return 0;
    }
    addr = (addr << 8) + octet;
    if (addr == GEO_NONE) {
        return 0;
    }
    *out = addr;
    return 1;
}

/* An IPv6 literal ending in a dotted IPv4 part, that part read as nginx reads IPv4 (cidr.c
 * leaves it to inet_pton, which takes no leading zeros), into b: 1, or 0 when it is no address. */
static int parse_v6_dotted(const char *s, size_t len, unsigned char b[16])
{
    char buf[64];
    /* (a NUL, which no address holds, would hide the colon from strrchr below: a value
     * decoded from a request can carry one) */
    if (len == 0 || len >= sizeof(buf) - 8 || memchr(s, ':', len) == NULL ||
        memchr(s, '\0', len) != NULL) {
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *colon = strrchr(buf, ':');
    if (strchr(colon, '.')) {
        uint32_t v4;
        if (!parse_v4(colon + 1, strlen(colon + 1), &v4)) {
            return 0;
        }
        snprintf(colon + 1, sizeof(buf) - (size_t)(colon + 1 - buf), "%x:%x", v4 >> 16,
                 v4 & 0xffff);
    }
    return inet_pton(AF_INET6, buf, b) == 1;
}

/* IPv6 text: hex groups read in place by cidr.c's reader (a geo of $remote_addr reads one per
 * request), a dotted tail by parse_v6_dotted. Not inlined: parse_addr, with IPv4 first, stays
 * small enough to be inlined itself. */
__attribute__((noinline)) static int parse_v6(const char *s, size_t len, geo_u128 *out)
{
    unsigned char b[16];
    int rc = mg_inet6_parse_hex(s, len, b);
    if (rc == 0) {
        return 0;
    }
    if (rc < 0 && !parse_v6_dotted(s, len, b)) {
        return 0;
    }
    /* the 16 bytes in network order as one number: two big-endian words */
    uint64_t hi, lo;
    memcpy(&hi, b, 8);
    memcpy(&lo, b + 8, 8);
    *out = (geo_u128)be64toh(hi) << 64 | be64toh(lo);
    return 1;
}

static int parse_addr(const char *s, size_t len, geo_addr_t *out)
{
    uint32_t v4;
    if (parse_v4(s, len, &v4)) {
        out->v6 = 0;
        out->a = v4;
        return 1;
    }
    out->v6 = 1;
    return parse_v6(s, len, &out->a);
}

/* An X-Forwarded-For element: an address, "addr:port" or "[v6]:port" (port 1-65535). */
static int parse_addr_port(const char *s, size_t len, geo_addr_t *out)
{
    if (parse_addr(s, len, out)) {
        return 1;
    }
    const char *end = s + len, *addr = s, *colon;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL || close + 1 >= end || close[1] != ':') {
            return 0;
        }
        addr = s + 1;
        len = (size_t)(close - addr);
        colon = close + 1;
    } else {
        if ((colon = memchr(s, ':', len)) == NULL) {
            return 0;
        }
        len = (size_t)(colon - s);
    }
    int64_t port = mg_atoi(colon + 1, (size_t)(end - colon - 1));
    return port >= 1 && port <= 65535 && parse_addr(addr, len, out);
}

static geo_u128 prefix_mask(int v6, int64_t bits)
{
    int width = v6 ? 128 : 32;
    if (bits == 0) {
        return 0;
    }
    geo_u128 all = v6 ? ~(geo_u128)0 : 0xffffffffu;
    return (all << (width - bits)) & all;
}

/* "addr[/bits]": MG_OK, MG_DONE (host bits were set: cleared, nginx warns) or MG_ERROR. */
static mg_int_t parse_cidr(mg_str_t text, geo_cidr_t *c)
{
    if (mg_str_eq(text, "255.255.255.255")) {
        /* nginx's one way to name the address an unusable one is looked up as */
        c->v6 = 0;
        c->addr = c->mask = GEO_NONE;
        return MG_OK;
    }
    const char *slash = memchr(text.data, '/', text.len);
    size_t alen = slash ? (size_t)(slash - text.data) : text.len;
    uint32_t v4;
    if (parse_v4(text.data, alen, &v4)) {
        c->v6 = 0;
        c->addr = v4;
    } else if (parse_v6(text.data, alen, &c->addr)) {
        c->v6 = 1;
    } else {
        return MG_ERROR;
    }
    int64_t bits = c->v6 ? 128 : 32;
    if (slash) {
        bits = mg_atoi(slash + 1, text.len - alen - 1);
        if (bits < 0 || bits > (c->v6 ? 128 : 32)) {
            return MG_ERROR;
        }
    }
    c->mask = prefix_mask(c->v6, bits);
    if ((c->addr & c->mask) != c->addr) {
        c->addr &= c->mask;
        return MG_DONE;
    }
    return MG_OK;
}

static int cidr_match(const geo_cidr_t *c, size_t n, const geo_addr_t *a)
{
    int mapped = a->v6 && (a->a >> 32) == 0xffff;
    for (size_t i = 0; i < n; i++) {
        if (c[i].v6 == a->v6 && (a->a & c[i].mask) == c[i].addr) {
            return 1;
        }
        /* ::ffff:a.b.c.d is a.b.c.d to an IPv4 network, as for nginx */
        if (mapped && !c[i].v6 && ((a->a & 0xffffffffu) & c[i].mask) == c[i].addr) {
            return 1;
        }
    }
    return 0;
}

/* ---- the lookup ---- */

static mg_str_t *intervals_find(const geo_intervals_t *iv, geo_u128 a)
{
    size_t lo = 0, hi = iv->n; /* start[0] is 0: the answer is in [lo, hi) */
    if (iv->start4) {
        uint32_t a4 = (uint32_t)a;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (iv->start4[mid] <= a4) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return iv->value[lo];
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (iv->start[mid] <= a) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return iv->value[lo];
}

/* One X-Forwarded-For value, from its end, as nginx walks it: MG_OK (addr moved on, or the
 * value was used up), MG_DONE (stopped at an untrusted or unreadable element after moving),
 * MG_DECLINED (nothing taken). */
static mg_int_t forwarded(geo_t *geo, geo_addr_t *addr, const char *xff, size_t len)
{
    int found = 0;
    size_t start;
    do {
        if (!cidr_match(geo->proxies, geo->nproxies, addr)) {
            return found ? MG_DONE : MG_DECLINED;
        }
        /* trailing separators, then the element before them; nginx never looks at the
         * value's first byte as a separator */
        while (len > 1 && (xff[len - 1] == ' ' || xff[len - 1] == ',')) {
            len--;
        }
        start = len ? len - 1 : 0;
        while (start > 0 && xff[start] != ' ' && xff[start] != ',') {
            start--;
        }
        if (start > 0) {
            start++;
        }
        geo_addr_t next;
        if (!parse_addr_port(xff + start, len - start, &next)) {
            return found ? MG_DONE : MG_DECLINED;
        }
        *addr = next;
        found = 1;
        len = start ? start - 1 : 0;
    } while (geo->proxy_recursive && start > 0);
    return MG_OK;
}

static void real_addr(mg_request_t *r, geo_t *geo, geo_addr_t *addr)
{
    mg_array_t *headers = &r->headers_in.headers;
    mg_table_elt_t *h = headers->elts;
    /* the last header line only, or with proxy_recursive each earlier one in turn while
     * the address found is a trusted one */
    for (size_t i = headers->nelts; i-- > 0;) {
        if (h[i].hash == 0 || !mg_str_caseeq(h[i].key, "x-forwarded-for")) {
            continue;
        }
        if (forwarded(geo, addr, h[i].value.data, h[i].value.len) != MG_OK ||
            !geo->proxy_recursive) {
            break;
        }
    }
}

static int sockaddr_geo(const struct sockaddr *sa, geo_addr_t *addr)
{
    if (sa->sa_family == AF_INET) {
        addr->v6 = 0;
        addr->a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        return 1;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        addr->v6 = 1;
        addr->a = 0;
        for (int i = 0; i < 16; i++) {
            addr->a = (addr->a << 8) | b[i];
        }
        return 1;
    }
    return 0;
}

/* Both layers' lookup: ok 0 means no usable address (looked up as nginx's INADDR_NONE). */
static mg_str_t geo_lookup(geo_t *geo, int ok, const geo_addr_t *addr)
{
    mg_str_t *value;
    if (!ok) {
        value = intervals_find(&geo->v4, GEO_NONE);
    } else if (addr->v6 && (addr->a >> 32) == 0xffff) {
        /* ::ffff:a.b.c.d is looked up as a.b.c.d */
        value = intervals_find(&geo->v4, addr->a & 0xffffffffu);
    } else if (addr->v6) {
        value = geo->v6.n ? intervals_find(&geo->v6, addr->a) : intervals_find(&geo->v4, GEO_NONE);
    } else {
        value = intervals_find(&geo->v4, addr->a);
    }
    return *value;
}

static mg_int_t geo_variable(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    geo_t *geo = (geo_t *)data;
    geo_addr_t addr = {0, GEO_NONE};
    int ok = 0;
    if (geo->index >= 0) {
        mg_http_var_value_t *src = mg_http_get_flushed_variable(r, (mg_uint_t)geo->index);
        ok = src && !src->not_found && parse_addr(src->value.data, src->value.len, &addr);
    } else {
        ok = sockaddr_geo(r->connection->sockaddr, &addr);
    }
    if (ok && geo->nproxies) {
        real_addr(r, geo, &addr);
    }
    v->value = geo_lookup(geo, ok, &addr);
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static mg_str_t geo_stream_variable(mg_stream_session_t *s, uintptr_t data)
{
    geo_t *geo = (geo_t *)data;
    geo_addr_t addr = {0, GEO_NONE};
    int ok;
    if (geo->stream_source) {
        mg_str_t text = mg_stream_complex_value(s, geo->stream_source);
        ok = parse_addr(text.data, text.len, &addr);
    } else {
        ok = sockaddr_geo(s->connection->sockaddr, &addr);
    }
    return geo_lookup(geo, ok, &addr);
}

/* ---- building the intervals ---- */

static void intervals_push(mg_array_t *starts, mg_array_t *values, geo_u128 start, mg_str_t *value)
{
    if (values->nelts && ((mg_str_t **)values->elts)[values->nelts - 1] == value) {
        return; /* same value as the interval before: one interval */
    }
    *(geo_u128 *)mg_array_push(starts) = start;
    *(mg_str_t **)mg_array_push(values) = value;
}

static void intervals_done(mg_conf_t *cf, geo_intervals_t *iv, mg_array_t *starts,
                           mg_array_t *values, int v6)
{
    iv->n = starts->nelts;
    iv->value = mg_palloc(cf->pool, iv->n * sizeof(mg_str_t *));
    geo_u128 *st = starts->elts;
    if (v6) {
        iv->start = mg_palloc(cf->pool, iv->n * sizeof(geo_u128));
        memcpy(iv->start, st, iv->n * sizeof(geo_u128));
    } else {
        iv->start4 = mg_palloc(cf->pool, iv->n * sizeof(uint32_t));
        for (size_t i = 0; i < iv->n; i++) {
            iv->start4[i] = (uint32_t)st[i];
        }
    }
    memcpy(iv->value, values->elts, iv->n * sizeof(mg_str_t *));
    mg_array_free(starts);
    mg_array_free(values);
}

/* ---- CIDR mode: networks by (address, prefix) while reading ---- */

typedef struct {
    geo_cidr_t net;
    mg_str_t *value;
    int used; /* slot taken (a deleted network keeps its slot with value NULL) */
} geo_net_t;

typedef struct {
    geo_net_t *slots;
    size_t mask;
    size_t used;
} geo_nets_t;

static size_t net_hash(const geo_cidr_t *c)
{
    uint64_t h = (uint64_t)c->addr ^ (uint64_t)(c->addr >> 64) * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)c->mask * 31 + (uint64_t)(c->mask >> 64) + (uint64_t)c->v6;
    h *= 0xff51afd7ed558ccdull;
    return (size_t)(h ^ (h >> 33));
}

static geo_net_t *nets_slot(geo_nets_t *t, const geo_cidr_t *c)
{
    for (size_t i = net_hash(c) & t->mask;; i = (i + 1) & t->mask) {
        geo_net_t *e = &t->slots[i];
        if (!e->used || (e->net.v6 == c->v6 && e->net.addr == c->addr && e->net.mask == c->mask)) {
            return e;
        }
    }
}

static geo_net_t *nets_get(geo_nets_t *t, const geo_cidr_t *c)
{
    if (t->slots == NULL || (t->used + 1) * 2 > t->mask + 1) {
        geo_nets_t old = *t;
        size_t size = t->slots ? (t->mask + 1) * 2 : 64;
        t->slots = mg_calloc(size * sizeof(geo_net_t));
        t->mask = size - 1;
        t->used = 0;
        for (size_t i = 0; old.slots && i <= old.mask; i++) {
            if (old.slots[i].used && old.slots[i].value) {
                *nets_slot(t, &old.slots[i].net) = old.slots[i];
                t->used++;
            }
        }
        free(old.slots);
    }
    return nets_slot(t, c);
}

static int cmp_nets(const void *a, const void *b)
{
    const geo_net_t *x = a, *y = b;
    if (x->net.addr != y->net.addr) {
        return x->net.addr < y->net.addr ? -1 : 1;
    }
    /* the larger network (shorter mask) first */
    return x->net.mask < y->net.mask ? -1 : x->net.mask > y->net.mask;
}

/* Longest prefix over nested-or-disjoint networks, flattened: a sweep in address order with
 * the stack of networks that contain the current address. */
static void nets_build(mg_conf_t *cf, geo_nets_t *t, int v6, mg_str_t *dflt, geo_intervals_t *iv)
{
    mg_array_t list;
    mg_array_init(&list, NULL, 64, sizeof(geo_net_t));
    geo_cidr_t root = {v6, 0, 0};
    int have_root = 0;
    for (size_t i = 0; t->slots && i <= t->mask; i++) {
        geo_net_t *e = &t->slots[i];
        if (e->used && e->value && e->net.v6 == v6) {
            *(geo_net_t *)mg_array_push(&list) = *e;
            have_root |= e->net.mask == 0;
        }
    }
    if (!have_root) {
        geo_net_t *e = mg_array_push(&list);
        e->net = root;
        e->value = dflt;
    }
    qsort(list.elts, list.nelts, sizeof(geo_net_t), cmp_nets);

    geo_u128 top = v6 ? ~(geo_u128)0 : 0xffffffffu;
    mg_array_t starts, values;
    mg_array_init(&starts, NULL, list.nelts * 2 + 1, sizeof(geo_u128));
    mg_array_init(&values, NULL, list.nelts * 2 + 1, sizeof(mg_str_t *));
    geo_net_t *stack[129];
    size_t sp = 0;
    geo_u128 cursor = 0;
    int done = 0;
    geo_net_t *nets = list.elts;
    for (size_t i = 0; i <= list.nelts; i++) {
        geo_net_t *p = i < list.nelts ? &nets[i] : NULL;
        /* close the networks that end before p (all of them at the end) */
        while (sp && (p == NULL ||
                      (stack[sp - 1]->net.addr | (~stack[sp - 1]->net.mask & top)) < p->net.addr)) {
            geo_net_t *q = stack[--sp];
            geo_u128 end = q->net.addr | (~q->net.mask & top);
            if (!done && cursor <= end) {
                intervals_push(&starts, &values, cursor, q->value);
                if (end == top) {
                    done = 1;
                } else {
                    cursor = end + 1;
                }
            }
        }
        if (p == NULL) {
            break;
        }
        if (sp && cursor < p->net.addr) {
            intervals_push(&starts, &values, cursor, stack[sp - 1]->value);
            cursor = p->net.addr;
        }
        stack[sp++] = p;
    }
    mg_array_free(&list);
    intervals_done(cf, iv, &starts, &values, v6);
}

/* ---- ranges mode: IPv4 ranges kept per /16, as nginx keeps them (which its messages show) ---- */

typedef struct {
    uint16_t lo, hi;
    mg_str_t *value;
} geo_piece_t;

typedef struct {
    mg_array_t *chunks; /* 65536 arrays of geo_piece_t, sorted, disjoint; NULL until used */
    mg_str_t *dflt;
} geo_ranges_t;

static void ranges_build(mg_conf_t *cf, geo_ranges_t *rg, geo_intervals_t *iv)
{
    mg_str_t *dflt = rg->dflt;
    mg_array_t starts, values;
    mg_array_init(&starts, NULL, 64, sizeof(geo_u128));
    mg_array_init(&values, NULL, 64, sizeof(mg_str_t *));
    uint64_t cursor = 0;
    for (uint32_t h = 0; rg->chunks && h < 0x10000; h++) {
        mg_array_t *a = &rg->chunks[h];
        geo_piece_t *pc = a->elts;
        for (size_t i = 0; pc && i < a->nelts; i++) {
            uint64_t s = (uint64_t)h << 16 | pc[i].lo, e = (uint64_t)h << 16 | pc[i].hi;
            if (cursor < s) {
                intervals_push(&starts, &values, cursor, dflt);
            }
            intervals_push(&starts, &values, s, pc[i].value);
            cursor = e + 1;
        }
        if (a->elts) {
            mg_array_free(a);
        }
    }
    if (cursor <= 0xffffffffu || starts.nelts == 0) {
        intervals_push(&starts, &values, cursor, dflt);
    }
    free(rg->chunks);
    rg->chunks = NULL;
    intervals_done(cf, iv, &starts, &values, 0);
}

/* "a.b.c.d-e.f.g.h" */
static int parse_range(mg_str_t text, uint32_t *s, uint32_t *e)
{
    const char *dash = memchr(text.data, '-', text.len);
    if (dash == NULL) {
        return 0;
    }
    size_t n = (size_t)(dash - text.data);
    return parse_v4(text.data, n, s) && parse_v4(dash + 1, text.len - n - 1, e) && *s <= *e;
}

/* ---- the block ---- */

typedef struct {
    geo_t *geo;
    int ranges;
    int cidr_used; /* a network line was read: too late for "ranges" */
    geo_nets_t nets;
    geo_ranges_t rg;
    mg_str_t *dflt;
    mg_array_t proxies; /* geo_cidr_t */
} geo_block_t;

static mg_str_t *geo_value(mg_conf_t *cf, mg_str_t s)
{
    mg_str_t *v = mg_palloc(cf->pool, sizeof(mg_str_t));
    *v = s;
    return v;
}

static void low_bits(mg_conf_t *cf, mg_str_t net)
{
    mg_conf_log(cf, MG_LOG_WARN, 0, "low address bits of %.*s are meaningless", (int)net.len,
                net.data);
}

static const char *bad_network(mg_conf_t *cf, mg_str_t net)
{
    mg_conf_error(cf, 0, "invalid network \"%.*s\"", (int)net.len, net.data);
    return MG_CONF_ERROR;
}

/* The value an address gets from the networks read so far (longest prefix). */
static mg_str_t *nets_lookup(geo_nets_t *t, int v6, geo_u128 addr)
{
    for (int bits = v6 ? 128 : 32; bits >= 0; bits--) {
        geo_cidr_t c = {v6, 0, prefix_mask(v6, bits)};
        c.addr = addr & c.mask;
        geo_net_t *e = nets_slot(t, &c);
        if (e->used && e->value) {
            return e->value;
        }
    }
    return NULL;
}

static void cidr_add(mg_conf_t *cf, geo_block_t *b, geo_cidr_t *net, mg_str_t name, mg_str_t *value)
{
    geo_net_t *e = nets_get(&b->nets, net);
    if (e->used && e->value) {
        /* nginx names as the old value what its network's first address gets, which a
         * smaller network inside it may give */
        mg_str_t *old = nets_lookup(&b->nets, net->v6, net->addr);
        mg_conf_log(cf, MG_LOG_WARN, 0,
                    "duplicate network \"%.*s\", value: \"%.*s\", old value: "
                    "\"%.*s\"",
                    (int)name.len, name.data, (int)value->len, value->data, (int)old->len,
                    old->data);
    }
    if (!e->used) {
        b->nets.used++;
    }
    e->used = 1;
    e->net = *net;
    e->value = value;
}

static const char *geo_cidr_line(mg_conf_t *cf, geo_block_t *b)
{
    mg_str_t *args = cf->args;
    b->cidr_used = 1;
    if (mg_str_eq(args[0], "default")) {
        mg_str_t *value = geo_value(cf, args[1]);
        geo_cidr_t any4 = {0, 0, 0}, any6 = {1, 0, 0};
        cidr_add(cf, b, &any4, args[0], value);
        cidr_add(cf, b, &any6, args[0], value);
        return MG_CONF_OK;
    }
    int del = mg_str_eq(args[0], "delete");
    mg_str_t text = del ? args[1] : args[0];
    geo_cidr_t net;
    mg_int_t rc = parse_cidr(text, &net);
    if (rc == MG_ERROR) {
        return bad_network(cf, text);
    }
    if (rc == MG_DONE) {
        low_bits(cf, text);
    }
    if (!del) {
        cidr_add(cf, b, &net, text, geo_value(cf, args[1]));
        return MG_CONF_OK;
    }
    geo_net_t *e = nets_get(&b->nets, &net);
    if (!e->used || e->value == NULL) {
        mg_conf_log(cf, MG_LOG_WARN, 0, "no network \"%.*s\" to delete", (int)text.len, text.data);
        return MG_CONF_OK;
    }
    e->value = NULL;
    return MG_CONF_OK;
}

static mg_array_t *range_chunk(geo_block_t *b, uint32_t h)
{
    if (b->rg.chunks == NULL) {
        b->rg.chunks = mg_calloc(0x10000 * sizeof(mg_array_t));
    }
    mg_array_t *a = &b->rg.chunks[h];
    if (a->elts == NULL) {
        mg_array_init(a, NULL, 4, sizeof(geo_piece_t));
    }
    return a;
}

static void piece_insert(mg_array_t *a, size_t at, uint16_t lo, uint16_t hi, mg_str_t *value)
{
    mg_array_push(a);
    geo_piece_t *pc = a->elts;
    memmove(&pc[at + 1], &pc[at], (a->nelts - 1 - at) * sizeof(geo_piece_t));
    pc[at].lo = lo;
    pc[at].hi = hi;
    pc[at].value = value;
}

static const char *range_add(mg_conf_t *cf, geo_block_t *b, mg_str_t text, uint32_t s, uint32_t e,
                             mg_str_t *value)
{
    for (uint32_t h = s >> 16; h <= e >> 16; h++) {
        uint16_t lo = h == s >> 16 ? (uint16_t)(s & 0xffff) : 0;
        uint16_t hi = h == e >> 16 ? (uint16_t)(e & 0xffff) : 0xffff;
        mg_array_t *a = range_chunk(b, h);
        geo_piece_t *pc = a->elts;
        size_t i = 0;
        while (i < a->nelts && pc[i].hi < lo) {
            i++;
        }
        if (i == a->nelts || hi < pc[i].lo) {
            piece_insert(a, i, lo, hi, value);
            continue;
        }
        if (lo == pc[i].lo && hi == pc[i].hi) {
            mg_conf_log(cf, MG_LOG_WARN, 0,
                        "duplicate range \"%.*s\", value: \"%.*s\", old "
                        "value: \"%.*s\"",
                        (int)text.len, text.data, (int)value->len, value->data,
                        (int)pc[i].value->len, pc[i].value->data);
            pc[i].value = value;
            continue;
        }
        if (lo >= pc[i].lo && hi <= pc[i].hi) {
            /* inside an earlier range: split it around the new one */
            geo_piece_t old = pc[i];
            size_t at = i;
            if (lo > old.lo) {
                pc[i].hi = (uint16_t)(lo - 1);
                at++;
                piece_insert(a, at, lo, hi, value);
            } else {
                pc[i].lo = lo;
                pc[i].hi = hi;
                pc[i].value = value;
            }
            if (hi < old.hi) {
                piece_insert(a, at + 1, (uint16_t)(hi + 1), old.hi, old.value);
            }
            continue;
        }
        mg_conf_error(cf, 0, "range \"%.*s\" overlaps \"%u.%u.%u.%u-%u.%u.%u.%u\"", (int)text.len,
                      text.data, h >> 8, h & 0xff, pc[i].lo >> 8, pc[i].lo & 0xff, h >> 8, h & 0xff,
                      pc[i].hi >> 8, pc[i].hi & 0xff);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static void range_delete(mg_conf_t *cf, geo_block_t *b, mg_str_t text, uint32_t s, uint32_t e)
{
    int missing = 0;
    for (uint32_t h = s >> 16; h <= e >> 16; h++) {
        uint16_t lo = h == s >> 16 ? (uint16_t)(s & 0xffff) : 0;
        uint16_t hi = h == e >> 16 ? (uint16_t)(e & 0xffff) : 0xffff;
        mg_array_t *a = b->rg.chunks ? &b->rg.chunks[h] : NULL;
        geo_piece_t *pc = a ? a->elts : NULL;
        size_t i = 0;
        while (pc && i < a->nelts && !(pc[i].lo == lo && pc[i].hi == hi)) {
            i++;
        }
        if (pc == NULL || i == a->nelts) {
            missing = 1;
            continue;
        }
        memmove(&pc[i], &pc[i + 1], (a->nelts - i - 1) * sizeof(geo_piece_t));
        a->nelts--;
    }
    if (missing) {
        mg_conf_log(cf, MG_LOG_WARN, 0, "no address range \"%.*s\" to delete", (int)text.len,
                    text.data);
    }
}

static const char *geo_range_line(mg_conf_t *cf, geo_block_t *b)
{
    mg_str_t *args = cf->args;
    if (mg_str_eq(args[0], "default")) {
        mg_str_t *value = geo_value(cf, args[1]);
        if (b->rg.dflt) {
            mg_conf_log(cf, MG_LOG_WARN, 0,
                        "duplicate default geo range value: \"%.*s\", old "
                        "value: \"%.*s\"",
                        (int)value->len, value->data, (int)b->rg.dflt->len, b->rg.dflt->data);
        }
        b->rg.dflt = value;
        return MG_CONF_OK;
    }
    int del = mg_str_eq(args[0], "delete");
    mg_str_t text = del ? args[1] : args[0];
    uint32_t s, e;
    if (!parse_range(text, &s, &e)) {
        mg_conf_error(cf, 0, "invalid range \"%.*s\"", (int)text.len, text.data);
        return MG_CONF_ERROR;
    }
    if (del) {
        range_delete(cf, b, text, s, e);
        return MG_CONF_OK;
    }
    return range_add(cf, b, text, s, e, geo_value(cf, args[1]));
}

static const char *geo_line(mg_conf_t *cf, void *data)
{
    geo_block_t *b = data;
    mg_str_t *args = cf->args;
    if (cf->nargs == 1 && mg_str_eq(args[0], "ranges")) {
        if (b->cidr_used) {
            return "the \"ranges\" directive must be the first directive inside \"geo\" block";
        }
        b->ranges = 1;
        return MG_CONF_OK;
    }
    int http = !(cf->ctx & MG_CTX_STREAM); /* stream's geo has no trusted proxies */
    if (http && cf->nargs == 1 && mg_str_eq(args[0], "proxy_recursive")) {
        b->geo->proxy_recursive = 1;
        return MG_CONF_OK;
    }
    if (cf->nargs != 2) {
        return "invalid number of the geo parameters";
    }
    if (mg_str_eq(args[0], "include")) {
        /* one file: nginx's geo takes no glob here */
        mg_str_t path = mg_conf_full_name(cf->cycle, args[1], 1);
        return mg_conf_parse(cf, path.data) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
    }
    if (http && mg_str_eq(args[0], "proxy")) {
        geo_cidr_t net;
        mg_int_t rc = parse_cidr(args[1], &net);
        if (rc == MG_ERROR) {
            return bad_network(cf, args[1]);
        }
        if (rc == MG_DONE) {
            low_bits(cf, args[1]);
        }
        *(geo_cidr_t *)mg_array_push(&b->proxies) = net;
        return MG_CONF_OK;
    }
    return b->ranges ? geo_range_line(cf, b) : geo_cidr_line(cf, b);
}

static const char *bad_name(mg_conf_t *cf, mg_str_t name)
{
    mg_conf_error(cf, 0, "invalid variable name \"%.*s\"", (int)name.len, name.data);
    return MG_CONF_ERROR;
}

static const char *geo_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    geo_t *geo = mg_pcalloc(cf->pool, sizeof(geo_t));
    geo->index = -1;
    mg_str_t name = cf->args[cf->nargs - 1];
    if (name.len == 0 || name.data[0] != '$') {
        return bad_name(cf, name);
    }
    name.data++;
    name.len--;
    if (cf->ctx & MG_CTX_STREAM) {
        mg_stream_variable_add(cf, mg_pstrdup(cf->pool, name.data, name.len), geo_stream_variable,
                               (uintptr_t)geo);
        if (cf->nargs == 3) {
            if (cf->args[1].len == 0 || cf->args[1].data[0] != '$') {
                return bad_name(cf, cf->args[1]);
            }
            geo->stream_source = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
            if (mg_stream_complex_compile(cf, cf->args[1], geo->stream_source) != MG_CONF_OK) {
                return MG_CONF_ERROR;
            }
        }
    } else {
        mg_http_variable_t *var = mg_http_add_variable(cf, name, MG_HTTP_VAR_CHANGEABLE);
        if (var == NULL) {
            return MG_CONF_ERROR;
        }
        var->get_handler = geo_variable;
        var->data = (uintptr_t)geo;
    }
    if (cf->nargs == 3 && !(cf->ctx & MG_CTX_STREAM)) {
        mg_str_t src = cf->args[1];
        if (src.len == 0 || src.data[0] != '$') {
            return bad_name(cf, src);
        }
        src.data++;
        src.len--;
        geo->index = mg_http_get_variable_index(cf, src);
        if (geo->index < 0) {
            return MG_CONF_ERROR;
        }
    }

    geo_block_t b = {.geo = geo};
    mg_array_init(&b.proxies, cf->pool, 4, sizeof(geo_cidr_t));
    const char *(*saved_handler)(mg_conf_t *, void *) = cf->handler;
    void *saved_data = cf->handler_data;
    cf->handler = geo_line;
    cf->handler_data = &b;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->handler = saved_handler;
    cf->handler_data = saved_data;

    if (rc == MG_OK) {
        geo->proxies = b.proxies.elts;
        geo->nproxies = b.proxies.nelts;
        if (b.ranges) {
            if (b.rg.dflt == NULL) {
                b.rg.dflt = geo_value(cf, (mg_str_t){0, ""});
            }
            ranges_build(cf, &b.rg, &geo->v4);
        } else {
            mg_str_t *empty = geo_value(cf, (mg_str_t){0, ""});
            nets_build(cf, &b.nets, 0, empty, &geo->v4);
            nets_build(cf, &b.nets, 1, empty, &geo->v6);
        }
    }
    free(b.nets.slots);
    if (b.rg.chunks) {
        for (size_t h = 0; h < 0x10000; h++) {
            if (b.rg.chunks[h].elts) {
                mg_array_free(&b.rg.chunks[h]);
            }
        }
        free(b.rg.chunks);
    }
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

static const mg_command_t geo_commands[] = {
    {"geo", MG_CTX_HTTP | MG_CTX_STREAM, MG_BLOCK | MG_ARGS(1, 2), geo_block, MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t geo_defaults[] = {
    {"geo", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_geo_module = {
    .name = "geo",
    .commands = geo_commands,
    .defaults = geo_defaults,
};
