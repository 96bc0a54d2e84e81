/*
 * server_name, one piece of code for http{} and stream{} (server_names.h): what the directive
 * refuses, the per-address table of names with nginx's wildcard rules and conflict warning,
 * and the lookup by exact name and longest wildcard. The regexes stay with the layer, which
 * runs them in order with its own captures.
 */
#include <string.h>
#include <strings.h>

#include "cycle.h"
#include "hash_size.h"
#include "log.h"
#include "pool.h"
#include "server_names.h"
#include "str.h"

const char *mg_server_name_directive(mg_conf_t *cf, mg_array_t *names, void *server,
                                     mg_server_name_compile_pt compile)
{
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t v = cf->args[i];
        char ch = v.len ? v.data[0] : '\0';
        if ((ch == '*' && (v.len < 3 || v.data[1] != '.')) || (ch == '.' && v.len < 2)) {
            mg_conf_error(cf, 0, "server name \"%s\" is invalid", v.data);
            return MG_CONF_ERROR;
        }
        if (memchr(v.data, '/', v.len)) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "server name \"%s\" has suspicious symbols", v.data);
        }
        mg_server_name_t *sn = mg_array_push(names);
        memset(sn, 0, sizeof(*sn));
        sn->server = server;
        if (v.len == 9 && strncasecmp(v.data, "$hostname", 9) == 0) {
            sn->name = cf->cycle->hostname;
            continue;
        }
        if (ch != '~') {
            sn->name.data = mg_pnalloc(cf->pool, v.len + 1);
            mg_strlow(sn->name.data, v.data, v.len);
            sn->name.data[v.len] = '\0';
            sn->name.len = v.len;
            continue;
        }
        if (v.len == 1) {
            mg_conf_error(cf, 0, "empty regex in server name \"%s\"", v.data);
            return MG_CONF_ERROR;
        }
        /* names are matched lowercased: a pattern with capitals is matched without case */
        mg_str_t pattern = {v.len - 1, v.data + 1};
        int caseless = 0;
        for (size_t k = 0; k < pattern.len && !caseless; k++) {
            caseless = pattern.data[k] >= 'A' && pattern.data[k] <= 'Z';
        }
        sn->regex = compile(cf, pattern, caseless);
        if (sn->regex == NULL) {
            return MG_CONF_ERROR;
        }
        sn->name = v;
    }
    return MG_CONF_OK;
}

void mg_server_names_default(mg_conf_t *cf, mg_array_t *names, void *server)
{
    if (names->nelts == 0) {
        mg_server_name_t *sn = mg_array_push(names);
        memset(sn, 0, sizeof(*sn));
        sn->server = server;
        sn->name = mg_pstr(cf->pool, "", 0);
    }
}

mg_str_t mg_server_names_first(const mg_array_t *names)
{
    if (names->nelts == 0) {
        return (mg_str_t)mg_string("");
    }
    mg_str_t name = ((mg_server_name_t *)names->elts)[0].name;
    if (name.len > 1 && name.data[0] == '.') {
        name.data++;
        name.len--;
    }
    return name;
}

int mg_server_names_captures(const mg_array_t *names)
{
    const mg_server_name_t *sn = names->elts;
    for (size_t i = names->nelts; i-- > 0;) {
        if (sn[i].regex) {
            return sn[i].regex->captures > 0;
        }
    }
    return 0;
}

mg_server_names_t *mg_server_names_create(mg_pool_t *pool)
{
    mg_server_names_t *t = mg_pcalloc(pool, sizeof(mg_server_names_t));
    mg_array_init(&t->exact, pool, 4, sizeof(mg_server_name_t));
    mg_array_init(&t->wc_head, pool, 2, sizeof(mg_server_name_t));
    mg_array_init(&t->wc_tail, pool, 2, sizeof(mg_server_name_t));
    mg_array_init(&t->regex, pool, 2, sizeof(mg_server_name_t));
    return t;
}

/* nginx's checks on a name of its wildcard hash: one '*' at most, no "..", no NUL, and a star
 * only as "*.x" or "x.*" (".x" is a wildcard whatever follows) */
static int valid_name(mg_str_t n)
{
    int stars = 0;
    for (size_t i = 0; i < n.len; i++) {
        if ((n.data[i] == '*' && ++stars > 1) || n.data[i] == '\0' ||
            (n.data[i] == '.' && i + 1 < n.len && n.data[i + 1] == '.')) {
            return 0;
        }
    }
    if (n.len > 1 && n.data[0] == '.') {
        return 1;
    }
    if (n.len > 2 && ((n.data[0] == '*' && n.data[1] == '.') ||
                      (n.data[n.len - 2] == '.' && n.data[n.len - 1] == '*'))) {
        return 1;
    }
    return stars == 0;
}

static mg_server_name_t *lookup(const mg_array_t *list, mg_str_t key)
{
    mg_server_name_t *e = list->elts;
    for (size_t i = 0; i < list->nelts; i++) {
        if (mg_str_eq_str(e[i].name, key)) {
            return &e[i];
        }
    }
    return NULL;
}

/* The name is taken already: x by an exact x or a ".x"; ".x" also by an exact x. */
static int taken(const mg_server_names_t *t, mg_array_t *list, mg_str_t key)
{
    if (lookup(list, key)) {
        return 1;
    }
    if (list == &t->exact) {
        mg_server_name_t *h = t->wc_head.elts;
        for (size_t i = 0; i < t->wc_head.nelts; i++) {
            if (h[i].dot && h[i].name.len == key.len + 1 &&
                memcmp(h[i].name.data + 1, key.data, key.len) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static mg_int_t add_name(mg_conf_t *cf, mg_server_names_t *t, const mg_server_name_t *sn,
                         const char *addr_text)
{
    if (sn->regex) {
        *(mg_server_name_t *)mg_array_push(&t->regex) = *sn;
        return MG_OK;
    }
    mg_str_t n = sn->name, key = n;
    if (!valid_name(n)) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "invalid server name or wildcard \"%.*s\" on %s",
                     (int)n.len, n.data, addr_text);
        return MG_ERROR;
    }
    mg_array_t *list = &t->exact;
    int dot = 0, conflict;
    if (n.len > 1 && n.data[0] == '.') {
        list = &t->wc_head;
        dot = 1;
        conflict = taken(t, list, key) || taken(t, &t->exact, (mg_str_t){n.len - 1, n.data + 1});
    } else {
        if (n.len > 2 && n.data[0] == '*') {
            list = &t->wc_head;
            key = (mg_str_t){n.len - 1, n.data + 1}; /* ".x" */
        } else if (n.len > 2 && n.data[n.len - 1] == '*') {
            list = &t->wc_tail;
            key.len--; /* "x." */
        }
        conflict = taken(t, list, key);
    }
    if (conflict) {
        /* as nginx, whichever server the name was given to first (the same one too) */
        mg_log_error(MG_LOG_WARN, cf->log, 0, "conflicting server name \"%.*s\" on %s, ignored",
                     (int)n.len, n.data, addr_text);
        return MG_OK;
    }
    mg_server_name_t *e = mg_array_push(list);
    *e = *sn;
    e->name = key;
    e->dot = dot;
    return MG_OK;
}

mg_int_t mg_server_names_add(mg_conf_t *cf, mg_server_names_t *t, const mg_array_t *names,
                             const char *addr_text)
{
    const mg_server_name_t *sn = names->elts;
    for (size_t i = 0; i < names->nelts; i++) {
        if (add_name(cf, t, &sn[i], addr_text) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}

mg_int_t mg_server_names_check(mg_conf_t *cf, const mg_server_names_t *t, mg_int_t max_size,
                               mg_int_t bucket_size)
{
    mg_hash_keys_t keys;
    mg_hash_keys_init(&keys);
    const mg_server_name_t *n = t->exact.elts;
    for (size_t i = 0; i < t->exact.nelts; i++) {
        mg_hash_keys_add(&keys, n[i].name);
    }
    n = t->wc_head.elts;
    for (size_t i = 0; i < t->wc_head.nelts; i++) {
        mg_hash_keys_add_head(cf, &keys, (mg_str_t){n[i].name.len - 1, n[i].name.data + 1});
    }
    n = t->wc_tail.elts;
    for (size_t i = 0; i < t->wc_tail.nelts; i++) {
        mg_hash_keys_add_tail(cf, &keys, (mg_str_t){n[i].name.len - 1, n[i].name.data});
    }
    mg_int_t rc = mg_hash_keys_check(cf, &keys, "server_names_hash", max_size, bucket_size);
    mg_hash_keys_free(&keys);
    return rc;
}

void *mg_server_names_find(const mg_server_names_t *t, mg_str_t host)
{
    const mg_server_name_t *e = t->exact.elts;
    for (size_t i = 0; i < t->exact.nelts; i++) {
        if (mg_str_eq_str(e[i].name, host)) {
            return e[i].server;
        }
    }
    if (host.len == 0) {
        return NULL;
    }
    void *best = NULL;
    size_t best_len = 0;
    e = t->wc_head.elts;
    for (size_t i = 0; i < t->wc_head.nelts; i++) {
        mg_str_t k = e[i].name; /* ".example.com" */
        int match =
            (host.len > k.len && memcmp(host.data + host.len - k.len, k.data, k.len) == 0) ||
            (e[i].dot && host.len == k.len - 1 && memcmp(host.data, k.data + 1, host.len) == 0);
        if (match && k.len > best_len) {
            best = e[i].server;
            best_len = k.len;
        }
    }
    if (best) {
        return best;
    }
    e = t->wc_tail.elts;
    for (size_t i = 0; i < t->wc_tail.nelts; i++) {
        mg_str_t k = e[i].name; /* "www.example." */
        if (host.len > k.len && memcmp(host.data, k.data, k.len) == 0 && k.len > best_len) {
            best = e[i].server;
            best_len = k.len;
        }
    }
    return best;
}

mg_int_t mg_server_name_validate(mg_pool_t *pool, mg_str_t in, mg_str_t *out)
{
    size_t host_len = mg_server_name_check(in);
    if (host_len == 0) {
        return MG_DECLINED;
    }
    out->data = mg_pnalloc(pool, host_len + 1);
    mg_strlow(out->data, in.data, host_len);
    out->data[host_len] = '\0';
    out->len = host_len;
    return MG_OK;
}

/* the bytes mg_server_name_check passes over without a look: not '.', ':', '[', ']', '/', a
 * control byte, space or DEL (a switch per byte cost ~20 instructions, a Host "bench" 99) */
static const unsigned char name_plain[256] = {
    [0x21 ... 0x2d] = 1, [0x30 ... 0x39] = 1, [0x3b ... 0x5a] = 1,
    ['\\'] = 1,          [0x5e ... 0x7e] = 1, [0x80 ... 0xff] = 1,
};

size_t mg_server_name_check(mg_str_t in)
{
    /* as nginx: the name ends at a ':' outside brackets or after a literal's ']', but the
     * whole value is checked (a "..", '/', NUL or control byte in the port part refuses it
     * too); '\\' is an ordinary byte on Linux */
    size_t host_len = in.len;
    int dot_pos = -2;
    enum { usual, literal, rest } state = usual;
    for (size_t i = 0; i < in.len; i++) {
        unsigned char ch = (unsigned char)in.data[i];
        if (name_plain[ch]) {
            continue;
        }
        switch (ch) {
        case '.':
            if (dot_pos == (int)i - 1) {
                return 0;
            }
            dot_pos = (int)i;
            break;
        case ':':
            if (state == usual) {
                host_len = i;
                state = rest;
            }
            break;
        case '[':
            if (i == 0) {
                state = literal;
            }
            break;
        case ']':
            if (state == literal) {
                host_len = i + 1;
                state = rest;
            }
            break;
        case '/':
        case '\0':
            return 0;
        default:
            if (ch <= 0x20 || ch == 0x7f) {
                return 0;
            }
        }
    }
    if (host_len && in.data[host_len - 1] == '.') {
        host_len--;
    }
    return host_len;
}
