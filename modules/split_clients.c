/*
 * split_clients: a variable that puts a value (a complex value) into one of several buckets
 * by its MurmurHash2, for A/B testing. The buckets' bounds are computed as nginx computes
 * them, so a given string lands in the same bucket as with nginx. No phase handlers. The same
 * block in stream{} makes a stream variable (ngx_stream_split_clients_module).
 */
#include "http.h"
#include "script.h"
#include "stream.h"
#include "variables.h"

typedef struct {
    uint32_t bound; /* the hash is below it; 0: "*", the rest */
    mg_str_t value;
} split_part_t;

typedef struct {
    mg_http_complex_value_t source;
    mg_stream_complex_t stream_source; /* in stream{} */
    mg_array_t parts;                  /* split_part_t; percent in hundredths while reading */
} split_t;

/* MurmurHash2 (Austin Appleby's, seed 0), as nginx hashes the string. */
static uint32_t murmur2(const unsigned char *d, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    uint32_t h = (uint32_t)len;
    for (; len >= 4; d += 4, len -= 4) {
        uint32_t k = d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len) {
    case 3:
        h ^= (uint32_t)d[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)d[1] << 8;
        /* fall through */
    case 1:
        h ^= d[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* The bucket's value of a string, for both layers. */
static mg_str_t split_pick(split_t *split, mg_str_t s)
{
    uint32_t hash = murmur2((const unsigned char *)s.data, s.len);
    split_part_t *part = split->parts.elts;
    for (size_t i = 0; i < split->parts.nelts; i++) {
        if (hash < part[i].bound || part[i].bound == 0) {
            return part[i].value;
        }
    }
    return (mg_str_t)mg_string("");
}

static mg_str_t split_stream_variable(mg_stream_session_t *s, uintptr_t data)
{
    split_t *split = (split_t *)data;
    return split_pick(split, mg_stream_complex_value(s, &split->stream_source));
}

static mg_int_t split_variable(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    split_t *split = (split_t *)data;
    v->value = split_pick(split, mg_http_complex_value(r, &split->source));
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

/* "12.34" -> 1234: digits with at most one point and two decimals; -1 otherwise. */
static int64_t parse_hundredths(const char *s, size_t len)
{
    if (len == 0) {
        return -1;
    }
    int64_t v = 0;
    int dot = 0, decimals = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (dot) {
                return -1;
            }
            dot = 1;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || (dot && decimals == 2) || v > INT64_MAX / 1000) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
        decimals += dot;
    }
    for (; decimals < 2; decimals++) {
        v *= 10;
    }
    return v;
}

static const char *split_line(mg_conf_t *cf, void *data)
{
    split_t *split = data;
    mg_str_t pc = cf->args[0];
    split_part_t *part = mg_array_push(&split->parts);
    if (!(pc.len == 1 && pc.data[0] == '*')) {
        int64_t n =
            pc.len && pc.data[pc.len - 1] == '%' ? parse_hundredths(pc.data, pc.len - 1) : -1;
        if (n <= 0) {
            mg_conf_error(cf, 0, "invalid percent value \"%s\"", pc.data);
            return MG_CONF_ERROR;
        }
        part->bound = (uint32_t)mg_min(n, 10001); /* hundredths until the block ends */
    }
    /* nginx reads the word after the percentage and ignores any further one */
    if (cf->nargs > 1) {
        part->value = cf->args[1];
    } else {
        part->value.data = "";
    }
    return MG_CONF_OK;
}

static const char *split_block(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    split_t *split = mg_pcalloc(cf->pool, sizeof(split_t));
    int stream = (cf->ctx & MG_CTX_STREAM) != 0;
    if (stream) {
        if (mg_stream_complex_compile(cf, cf->args[1], &split->stream_source) != MG_CONF_OK) {
            return MG_CONF_ERROR;
        }
    } else if (mg_http_compile_complex_value(cf, cf->args[1], &split->source) != MG_OK) {
        return MG_CONF_ERROR;
    }
    mg_str_t name = cf->args[2];
    if (name.len == 0 || name.data[0] != '$') {
        mg_conf_error(cf, 0, "invalid variable name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    name.data++;
    name.len--;
    if (stream) {
        mg_stream_variable_add(cf, mg_pstrdup(cf->pool, name.data, name.len), split_stream_variable,
                               (uintptr_t)split);
    } else {
        mg_http_variable_t *var = mg_http_add_variable(cf, name, MG_HTTP_VAR_CHANGEABLE);
        if (var == NULL) {
            return MG_CONF_ERROR;
        }
        var->get_handler = split_variable;
        var->data = (uintptr_t)split;
    }
    mg_array_init(&split->parts, cf->pool, 4, sizeof(split_part_t));

    const char *(*saved_handler)(mg_conf_t *, void *) = cf->handler;
    void *saved_data = cf->handler_data;
    cf->handler = split_line;
    cf->handler_data = split;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->handler = saved_handler;
    cf->handler_data = saved_data;
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }

    /* Each part's share of 2^32-1 is rounded down on its own and the shares are summed, as
     * nginx does (a bound one below the rounded total shows where it differs); "*" takes
     * the rest and ends the sum at 100%. */
    split_part_t *part = split->parts.elts;
    uint64_t sum = 0, last = 0;
    for (size_t i = 0; i < split->parts.nelts; i++) {
        sum = part[i].bound ? sum + part[i].bound : 10000;
        if (sum > 10000) {
            mg_conf_error(cf, 0, "percent total is greater than 100%%");
            return MG_CONF_ERROR;
        }
        if (part[i].bound) {
            last += part[i].bound * (uint64_t)0xffffffff / 10000;
            part[i].bound = (uint32_t)last;
        }
    }
    return MG_CONF_OK;
}

static const mg_command_t split_clients_commands[] = {
    {"split_clients", MG_CTX_HTTP | MG_CTX_STREAM, MG_BLOCK | MG_ARGS(2, 2), split_block,
     MG_NO_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t split_clients_defaults[] = {
    {"split_clients", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_split_clients_module = {
    .name = "split_clients",
    .commands = split_clients_commands,
    .defaults = split_clients_defaults,
};
