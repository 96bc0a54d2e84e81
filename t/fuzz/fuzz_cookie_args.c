/*
 * libFuzzer target for the request's cookie and argument lookups: $cookie_NAME
 * (core/http/variables.c), the userid module's cookie finder (modules/userid.c) and $arg_NAME
 * (mg_http_arg), both files included here for their static functions. The input's first byte
 * is the name's length (0-15), then the name, then the value: its lines are the Cookie
 * header lines and, whole, the request's arguments. Beyond crashes it checks that a value
 * found lies inside what was searched and that the two cookie readers, which must read as
 * nginx's $cookie_ does, agree.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=cookie_args)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../core/http/variables.c"
#include "../../modules/userid.c"

static void inside(mg_str_t v, const char *base, size_t len)
{
    if (v.len && (v.data < base || v.data + v.len > base + len)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || (size_t)(data[0] & 15) > size - 1) {
        return 0;
    }
    size_t nlen = data[0] & 15;
    /* exactly sized copies: reading past them is caught */
    char *var = malloc(7 + nlen);
    memcpy(var, "cookie_", 7);
    memcpy(var + 7, data + 1, nlen);
    data += 1 + nlen;
    size -= 1 + nlen;
    char *value = malloc(size ? size : 1);
    memcpy(value, data, size);

    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.pool = mg_pool_create(1024);
    mg_array_init(&r.headers_in.headers, r.pool, 4, sizeof(mg_table_elt_t));
    for (size_t at = 0; at <= size;) {
        const char *nl = memchr(value + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - value) : size;
        mg_table_elt_t *h = mg_array_push(&r.headers_in.headers);
        h->key = (mg_str_t){6, "Cookie"};
        h->value = (mg_str_t){end - at, value + at};
        h->hash = 1;
        at = end + 1;
    }

    mg_str_t name = {7 + nlen, var};
    mg_http_var_value_t v;
    memset(&v, 0, sizeof(v));
    int found = var_cookie_prefix(&r, &v, (uintptr_t)&name) == MG_OK && !v.not_found;
    if (found) {
        inside(v.value, value, size);
    }
    mg_str_t got, line;
    int found2 = find_cookie(&r, (mg_str_t){nlen, var + 7}, &got, &line);
    if (found != found2 || (found && (got.data != v.value.data || got.len != v.value.len))) {
        abort();
    }

    r.args = (mg_str_t){size, value};
    mg_str_t arg;
    if (mg_http_arg(&r, var + 7, nlen, &arg) == MG_OK) {
        inside(arg, value, size);
    }

    mg_pool_destroy(r.pool);
    free(value);
    free(var);
    return 0;
}
