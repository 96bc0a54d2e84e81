/*
 * map: a variable whose value is looked up from another value (a complex value) when the
 * variable is first read in a request: exact strings without case, with "hostnames" the
 * longest "*.suffix"/".suffix" then the longest "prefix.*" mask, then regexes in order
 * (their captures usable in the value), then the default. No phase handlers, no filters.
 * map_hash_max_size/bucket_size size nginx's hash; moongate keeps its own tables but checks
 * the sizes as nginx builds its hash, so a configuration nginx refuses is refused here.
 * The same block in stream{} (ngx_stream_map_module) makes a stream variable: the same tables
 * and lookup, values with stream variables, regex captures as the session's.
 */
#include "hash_size.h"
#include "http.h"
#include "script.h"
#include "stream.h"
#include "variables.h"

/* A value: an http complex value, or in stream{} a stream one. */
typedef struct {
    mg_http_complex_value_t http;
    mg_stream_complex_t *stream;
} map_value_t;

typedef struct {
    const char *key; /* lowercase; NULL = free slot */
    uint32_t len;
    uint32_t hash;
    map_value_t *value;
    int dot; /* wildcard ".suffix" (matches the suffix itself), not "*.suffix" */
} map_entry_t;

/* Open addressing, at most half full; malloc'ed, freed with the cycle pool. */
typedef struct {
    map_entry_t *slots;
    size_t mask;
    size_t n;
} map_table_t;

typedef struct {
    mg_regex_t *regex;
    map_value_t *value;
} map_regex_t;

typedef struct {
    mg_http_complex_value_t source;
    mg_stream_complex_t stream_source; /* in stream{} */
    map_table_t exact;
    map_table_t head; /* "*.example.com" and ".example.com" under "example.com" */
    map_table_t tail; /* "www.*" under "www" */
    map_regex_t *regexes;
    size_t nregexes;
    map_value_t *dflt;
    int hostnames;
} map_t;

typedef struct {
    mg_int_t hash_max_size;
    mg_int_t hash_bucket_size;
} map_main_conf_t;

/* The block being read. */
typedef struct {
    map_t *map;
    mg_array_t regexes; /* map_regex_t */
    int volatile_;
    mg_hash_keys_t keys; /* for nginx's hash size check */
} map_block_t;

mg_module_t mg_map_module;

static map_value_t map_empty_value = {{{0, ""}, NULL, 0}, NULL};

/* ---- tables ---- */

/* FNV-1a from the last byte to the first: a hostname's suffixes' hashes are steps of its own
 * (find_head). */
#define HASH_START 2166136261u

static uint32_t hash_step(uint32_t h, char c)
{
    return (h ^ (unsigned char)mg_tolower(c)) * 16777619u;
}

static uint32_t hash_lc(const char *s, size_t len)
{
    uint32_t h = HASH_START;
    for (size_t i = len; i-- > 0;) {
        h = hash_step(h, s[i]);
    }
    return h;
}

static int eq_lc(const char *lower, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (lower[i] != mg_tolower(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* h: hash_lc(s, len) */
static map_entry_t *table_find_hashed(const map_table_t *t, const char *s, size_t len, uint32_t h)
{
    if (t->n == 0) {
        return NULL;
    }
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        map_entry_t *e = &t->slots[i];
        if (e->key == NULL) {
            return NULL;
        }
        if (e->hash == h && e->len == len && eq_lc(e->key, s, len)) {
            return e;
        }
    }
}

static map_entry_t *table_find(const map_table_t *t, const char *s, size_t len)
{
    return t->n ? table_find_hashed(t, s, len, hash_lc(s, len)) : NULL;
}

static void table_put(map_table_t *t, map_entry_t *in)
{
    for (size_t i = in->hash & t->mask;; i = (i + 1) & t->mask) {
        if (t->slots[i].key == NULL) {
            t->slots[i] = *in;
            t->n++;
            return;
        }
    }
}

/* Add a new key (the caller checked it is not there); key is lowercase. */
static void table_add(map_table_t *t, mg_str_t key, map_value_t *value, int dot)
{
    if ((t->n + 1) * 2 > t->mask + 1 || t->slots == NULL) {
        map_table_t old = *t;
        size_t size = t->slots ? (t->mask + 1) * 2 : 16;
        t->slots = mg_calloc(size * sizeof(map_entry_t));
        t->mask = size - 1;
        t->n = 0;
        for (size_t i = 0; old.slots && i <= old.mask; i++) {
            if (old.slots[i].key) {
                table_put(t, &old.slots[i]);
            }
        }
        free(old.slots);
    }
    map_entry_t e = {key.data, (uint32_t)key.len, hash_lc(key.data, key.len), value, dot};
    table_put(t, &e);
}

/* A pool cleanup: the slots live as long as the configuration. */
static void table_free(void *data)
{
    map_table_t *t = data;
    free(t->slots);
}

/* ---- lookup ---- */

/* A name's hash and its suffixes' (after each dot), in one pass: the 32 shortest suffixes
 * are kept, the dots of longer ones are before s + unkept. */
typedef struct {
    uint32_t hash;
    size_t n, unkept;
    struct {
        size_t at; /* where the suffix starts */
        uint32_t hash;
    } sfx[32];
} name_hashes_t;

static void hash_name(const char *s, size_t len, name_hashes_t *nh)
{
    uint32_t h = HASH_START;
    nh->n = 0;
    nh->unkept = 0;
    for (size_t i = len; i-- > 0;) {
        if (s[i] == '.') {
            if (nh->n < mg_nelems(nh->sfx)) {
                nh->sfx[nh->n].at = i + 1;
                nh->sfx[nh->n++].hash = h;
            } else if (nh->unkept == 0) {
                nh->unkept = i + 1;
            }
        }
        h = hash_step(h, s[i]);
    }
    nh->hash = h;
}

/* The longest suffix of s that a "*.suffix" (s has a label more) or ".suffix" mask names. */
static map_entry_t *find_head(const map_table_t *t, const char *s, size_t len,
                              const name_hashes_t *nh)
{
    if (t->n == 0) {
        return NULL;
    }
    map_entry_t *e = table_find_hashed(t, s, len, nh->hash);
    if (e && e->dot) {
        return e;
    }
    for (size_t i = 0; i < nh->unkept; i++) {
        if (s[i] == '.' && (e = table_find(t, s + i + 1, len - i - 1)) != NULL) {
            return e;
        }
    }
    for (size_t k = nh->n; k-- > 0;) {
        size_t at = nh->sfx[k].at;
        if ((e = table_find_hashed(t, s + at, len - at, nh->sfx[k].hash)) != NULL) {
            return e;
        }
    }
    return NULL;
}

/* The longest "prefix.*" mask with s = prefix "." something. */
static map_entry_t *find_tail(const map_table_t *t, const char *s, size_t len)
{
    if (t->n == 0) {
        return NULL;
    }
    for (size_t i = len; i-- > 0;) {
        map_entry_t *e;
        if (s[i] == '.' && (e = table_find(t, s, i)) != NULL) {
            return e;
        }
    }
    return NULL;
}

/* The tables' answer for s, both layers' (NULL: none) */
static map_value_t *map_find_key(map_t *map, mg_str_t s)
{
    if (!map->hostnames) {
        map_entry_t *e = table_find(&map->exact, s.data, s.len);
        return e ? e->value : NULL;
    }
    name_hashes_t nh;
    hash_name(s.data, s.len, &nh);
    map_entry_t *e = table_find_hashed(&map->exact, s.data, s.len, nh.hash);
    if (e == NULL) {
        e = find_head(&map->head, s.data, s.len, &nh);
    }
    if (e == NULL) {
        e = find_tail(&map->tail, s.data, s.len);
    }
    return e ? e->value : NULL;
}

/* own: s is the request's copy; otherwise a variable's value, copied before a regex keeps
 * pointers into it as its captures */
static map_value_t *map_find(mg_request_t *r, map_t *map, mg_str_t s, int own)
{
    map_value_t *found = map_find_key(map, s);
    if (found) {
        return found;
    }
    if (s.len && map->nregexes && !own) {
        s = mg_pstr(r->pool, s.data, s.len);
    }
    /* nginx tries no regex on an empty value */
    for (size_t i = 0; s.len && i < map->nregexes; i++) {
        mg_int_t rc = mg_http_regex_exec(r, map->regexes[i].regex, s);
        if (rc == MG_OK) {
            return map->regexes[i].value;
        }
        if (rc == MG_ERROR) {
            break;
        }
    }
    return map->dflt;
}

static mg_int_t map_variable(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    map_t *map = (map_t *)data;
    mg_str_t s;
    int own = 1;
    if (map->source.nparts == 1 && map->source.parts[0].index >= 0) {
        /* the usual "map $var": its value as it is, no copy for a table lookup */
        mg_uint_t index = (mg_uint_t)map->source.parts[0].index;
        mg_http_var_value_t *src = mg_http_get_flushed_variable(r, index);
        s = src && !src->not_found ? src->value : map_empty_value.http.value;
        own = 0;
    } else {
        s = mg_http_complex_value(r, &map->source);
    }
    if (map->hostnames && s.len && s.data[s.len - 1] == '.') {
        s.len--;
    }
    v->value = mg_http_complex_value(r, &map_find(r, map, s, own)->http);
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static mg_str_t map_stream_variable(mg_stream_session_t *s, uintptr_t data)
{
    map_t *map = (map_t *)data;
    mg_str_t key = mg_stream_complex_value(s, &map->stream_source);
    if (map->hostnames && key.len && key.data[key.len - 1] == '.') {
        key.len--;
    }
    map_value_t *found = map_find_key(map, key);
    /* the key is the session's copy, or the configuration's text: captures may point into it */
    for (size_t i = 0; found == NULL && key.len && i < map->nregexes; i++) {
        mg_int_t rc = mg_stream_regex_exec(s, map->regexes[i].regex, key);
        if (rc == MG_OK) {
            found = map->regexes[i].value;
        } else if (rc == MG_ERROR) {
            break;
        }
    }
    if (found == NULL) {
        found = map->dflt;
    }
    return found->stream ? mg_stream_complex_value(s, found->stream) : (mg_str_t)mg_string("");
}

/* ---- the block ---- */

static map_value_t *map_value(mg_conf_t *cf, mg_str_t text)
{
    map_value_t *v = mg_pcalloc(cf->pool, sizeof(*v));
    if (cf->ctx & MG_CTX_STREAM) {
        v->stream = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
        return mg_stream_complex_compile(cf, text, v->stream) == MG_CONF_OK ? v : NULL;
    }
    return mg_http_compile_complex_value(cf, text, &v->http) == MG_OK ? v : NULL;
}

static const char *conflict(mg_conf_t *cf, mg_str_t key)
{
    mg_conf_error(cf, 0, "conflicting parameter \"%.*s\"", (int)key.len, key.data);
    return MG_CONF_ERROR;
}

/* A key under "hostnames": exact, "*.suffix", ".suffix" or "prefix.*" (nginx's checks);
 * orig is as written (for "invalid"), key lowercase (for "conflicting", as nginx). */
static const char *add_hostname(mg_conf_t *cf, map_block_t *b, mg_str_t orig, mg_str_t key,
                                map_value_t *value)
{
    map_t *map = b->map;
    int stars = 0;
    for (size_t i = 0; i < key.len; i++) {
        if (key.data[i] == '*') {
            stars++;
        }
        if (stars > 1 || key.data[i] == '\0' ||
            (key.data[i] == '.' && i + 1 < key.len && key.data[i + 1] == '.')) {
            goto invalid;
        }
    }
    if (key.len && key.data[0] == '.') {
        /* ".example.com": example.com itself and its subdomains */
        mg_str_t suffix = {key.len - 1, key.data + 1};
        if (table_find(&map->exact, suffix.data, suffix.len) ||
            table_find(&map->head, suffix.data, suffix.len)) {
            return conflict(cf, key);
        }
        /* in the exact table for the conflicts and the lookup; nginx's exact hash does not
         * hold it (its wildcard hash answers for the name itself), hence no exact key */
        table_add(&map->exact, suffix, value, 0);
        table_add(&map->head, suffix, value, 1);
        mg_hash_keys_add_head(cf, &b->keys, suffix);
        return MG_CONF_OK;
    }
    if (key.len > 1 && key.data[0] == '*' && key.data[1] == '.') {
        mg_str_t suffix = {key.len - 2, key.data + 2};
        if (suffix.len == 0) {
            goto invalid;
        }
        if (table_find(&map->head, suffix.data, suffix.len)) {
            return conflict(cf, key);
        }
        table_add(&map->head, suffix, value, 0);
        mg_hash_keys_add_head(cf, &b->keys, suffix);
        return MG_CONF_OK;
    }
    if (key.len > 1 && key.data[key.len - 2] == '.' && key.data[key.len - 1] == '*') {
        mg_str_t prefix = {key.len - 2, key.data};
        if (table_find(&map->tail, prefix.data, prefix.len)) {
            return conflict(cf, key);
        }
        table_add(&map->tail, prefix, value, 0);
        mg_hash_keys_add_tail(cf, &b->keys, prefix);
        return MG_CONF_OK;
    }
    if (stars) {
        goto invalid;
    }
    if (table_find(&map->exact, key.data, key.len)) {
        return conflict(cf, key);
    }
    table_add(&map->exact, key, value, 0);
    mg_hash_keys_add(&b->keys, key);
    return MG_CONF_OK;

invalid:
    mg_conf_error(cf, 0, "invalid hostname or wildcard \"%.*s\"", (int)orig.len, orig.data);
    return MG_CONF_ERROR;
}

static const char *map_line(mg_conf_t *cf, void *data)
{
    map_block_t *b = data;
    map_t *map = b->map;
    mg_str_t *args = cf->args;
    if (cf->nargs == 1 && mg_str_eq(args[0], "hostnames")) {
        map->hostnames = 1;
        return MG_CONF_OK;
    }
    if (cf->nargs == 1 && mg_str_eq(args[0], "volatile")) {
        b->volatile_ = 1;
        return MG_CONF_OK;
    }
    if (cf->nargs != 2) {
        return "invalid number of the map parameters";
    }
    if (mg_str_eq(args[0], "include")) {
        return mg_conf_include(cf, args[1]);
    }
    map_value_t *value = map_value(cf, args[1]);
    if (value == NULL) {
        return MG_CONF_ERROR;
    }
    if (mg_str_eq(args[0], "default")) {
        if (map->dflt) {
            return "duplicate default map parameter";
        }
        map->dflt = value;
        return MG_CONF_OK;
    }
    mg_str_t key = args[0];
    if (key.len && key.data[0] == '~') {
        int caseless = key.len > 1 && key.data[1] == '*';
        mg_str_t pattern = {key.len - 1 - caseless, key.data + 1 + caseless};
        map_regex_t *re = mg_array_push(&b->regexes);
        mg_str_t pat = mg_pstr(cf->pool, pattern.data, pattern.len);
        re->regex = cf->ctx & MG_CTX_STREAM ? mg_stream_regex_compile(cf, pat, caseless)
                                            : mg_http_regex_compile(cf, pat, caseless);
        if (re->regex == NULL) {
            return MG_CONF_ERROR;
        }
        re->value = value;
        return MG_CONF_OK;
    }
    if (key.len && key.data[0] == '\\') {
        key.data++;
        key.len--;
    }
    mg_str_t low = {key.len, mg_pnalloc(cf->pool, key.len + 1)};
    mg_strlow(low.data, key.data, key.len);
    low.data[key.len] = '\0';
    if (map->hostnames) {
        return add_hostname(cf, b, key, low, value);
    }
    if (table_find(&map->exact, low.data, low.len)) {
        return conflict(cf, low);
    }
    table_add(&map->exact, low, value, 0);
    mg_hash_keys_add(&b->keys, low);
    return MG_CONF_OK;
}

static const char *map_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    map_main_conf_t *mmcf = conf;
    /* nginx fixes the hash sizes at the first map: map_hash_* after it is a duplicate */
    if (mmcf->hash_max_size == MG_CONF_UNSET) {
        mmcf->hash_max_size = 2048;
    }
    if (mmcf->hash_bucket_size == MG_CONF_UNSET) {
        mmcf->hash_bucket_size = MG_HASH_CACHELINE;
    }
    map_t *map = mg_pcalloc(cf->pool, sizeof(map_t));
    int stream = (cf->ctx & MG_CTX_STREAM) != 0;
    if (stream ? mg_stream_complex_compile(cf, cf->args[1], &map->stream_source) != MG_CONF_OK
               : mg_http_compile_complex_value(cf, cf->args[1], &map->source) != MG_OK) {
        return MG_CONF_ERROR;
    }
    mg_str_t name = cf->args[2];
    if (name.len == 0 || name.data[0] != '$') {
        mg_conf_error(cf, 0, "invalid variable name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    name.data++;
    name.len--;
    mg_http_variable_t *var = NULL;
    if (stream) {
        /* a stream variable is read anew each time: "volatile" changes nothing */
        mg_stream_variable_add(cf, mg_pstrdup(cf->pool, name.data, name.len), map_stream_variable,
                               (uintptr_t)map);
    } else {
        var = mg_http_add_variable(cf, name, MG_HTTP_VAR_CHANGEABLE);
        if (var == NULL) {
            return MG_CONF_ERROR;
        }
        var->get_handler = map_variable;
        var->data = (uintptr_t)map;
    }

    map_block_t b = {.map = map};
    mg_array_init(&b.regexes, cf->pool, 4, sizeof(map_regex_t));
    mg_hash_keys_init(&b.keys);
    mg_pool_cleanup_add(cf->cycle->pool, table_free, &map->exact);
    mg_pool_cleanup_add(cf->cycle->pool, table_free, &map->head);
    mg_pool_cleanup_add(cf->cycle->pool, table_free, &map->tail);

    const char *(*saved_handler)(mg_conf_t *, void *) = cf->handler;
    void *saved_data = cf->handler_data;
    cf->handler = map_line;
    cf->handler_data = &b;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->handler = saved_handler;
    cf->handler_data = saved_data;

    if (rc == MG_OK) {
        rc = mg_hash_keys_check(cf, &b.keys, "map_hash", mmcf->hash_max_size,
                                mmcf->hash_bucket_size);
    }
    mg_hash_keys_free(&b.keys);
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }
    map->regexes = b.regexes.elts;
    map->nregexes = b.regexes.nelts;
    if (map->dflt == NULL) {
        map->dflt = &map_empty_value;
    }
    if (b.volatile_ && var) {
        var->flags |= MG_HTTP_VAR_NOCACHEABLE;
    }
    return MG_CONF_OK;
}

static void *map_create_main_conf(mg_conf_t *cf)
{
    map_main_conf_t *mmcf = mg_palloc(cf->pool, sizeof(map_main_conf_t));
    mmcf->hash_max_size = MG_CONF_UNSET;
    mmcf->hash_bucket_size = MG_CONF_UNSET;
    return mmcf;
}

static const mg_stream_module_t map_stream = {
    .create_main_conf = map_create_main_conf,
};

#define MAP_CTX (MG_CTX_HTTP | MG_CTX_STREAM)

static const mg_command_t map_commands[] = {
    {"map", MAP_CTX, MG_BLOCK | MG_ARGS(2, 2), map_block, MG_MAIN_CONF, 0, NULL},
    {"map_hash_max_size", MAP_CTX, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(map_main_conf_t, hash_max_size), NULL},
    {"map_hash_bucket_size", MAP_CTX, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(map_main_conf_t, hash_bucket_size), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t map_defaults[] = {
    {"map_hash_max_size", "2048"},
    {"map_hash_bucket_size", "32|64|128"},
    {"map", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_map_module = {
    .name = "map",
    .commands = map_commands,
    .defaults = map_defaults,
    .create_main_conf = map_create_main_conf,
    .stream = &map_stream,
};
