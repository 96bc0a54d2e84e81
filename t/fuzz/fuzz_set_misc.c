/*
 * libFuzzer target for set_misc's value filters (modules/set_misc.c, included here for its
 * static functions; also Lua's ndk.set_var.*): the quoting for SQL, PostgreSQL and JSON, URI
 * escaping and unescaping, and base32, base64, base64url and hex both ways. The input's first
 * byte picks set_base32_padding (bit 0); the rest is the value every filter reads. Beyond
 * crashes it checks that each decoder gives back what its encoder made (base32 with the
 * default alphabet, padded or not) and that a quoted string is quoted.
 * Build: t/fuzz/run.sh (FUZZ_TARGETS=set_misc)
 *
 * fuzz-link: libmoongate
 */
#include <stdlib.h>

#include "../../modules/set_misc.c"

static void same(mg_str_t a, const char *b, size_t len)
{
    if (a.len != len || (len && memcmp(a.data, b, len) != 0)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t len = size - 1;
    char *value = malloc(len ? len : 1); /* exactly sized: reading past it is caught */
    memcpy(value, data + 1, len);

    static mg_connection_t c;
    mg_request_t r;
    memset(&r, 0, sizeof(r));
    r.connection = &c;
    r.pool = mg_pool_create(1024);
    set_misc_conf_t conf;
    memset(&conf, 0, sizeof(conf));
    conf.base32_padding = data[0] & 1;
    conf.base32_alphabet = (mg_str_t){32, (char *)default_alphabet};
    for (unsigned i = 0; i < 32; i++) {
        conf.base32_rev[(unsigned char)default_alphabet[i]] = (unsigned char)i;
    }
    void *loc_conf[256] = {0};
    loc_conf[mg_set_misc_module.index] = &conf;
    r.loc_conf = loc_conf;

    mg_str_t v = {len, value}, out, back;
    static const set_misc_pt filters[] = {
        quote_sql,     quote_pgsql,   quote_json, unescape_uri,     escape_uri,
        decode_base32, decode_base64, decode_hex, decode_base64url,
    };
    for (size_t i = 0; i < mg_nelems(filters); i++) {
        out = (mg_str_t)mg_null_string;
        if (filters[i](&r, &v, &out) == MG_OK && out.len && out.data == NULL) {
            abort();
        }
    }
    /* quoted: "'...'" and "\"...\"" (an empty JSON value is null, as set-misc's) */
    if (quote_sql(&r, &v, &out) != MG_OK || out.len < 2 || out.data[0] != '\'' ||
        out.data[out.len - 1] != '\'') {
        abort();
    }
    if (quote_json(&r, &v, &out) != MG_OK) {
        abort();
    }
    if (len == 0) {
        same(out, "null", 4);
    } else if (out.len < 2 || out.data[0] != '"' || out.data[out.len - 1] != '"') {
        abort();
    }

    static const struct {
        set_misc_pt enc, dec;
    } pairs[] = {
        {encode_base32, decode_base32},
        {encode_base64, decode_base64},
        {encode_base64url, decode_base64url},
        {encode_hex, decode_hex},
    };
    for (size_t i = 0; i < mg_nelems(pairs); i++) {
        if (pairs[i].enc(&r, &v, &out) != MG_OK || pairs[i].dec(&r, &out, &back) != MG_OK) {
            abort();
        }
        same(back, value, len);
    }
    mg_pool_destroy(r.pool);
    free(value);
    return 0;
}
