/*
 * secure_link, secure_link_md5, secure_link_secret (nginx's ngx_http_secure_link_module): the
 * $secure_link check a location's "if" acts upon. The md5 form reads "HASH,EXPIRES" from the
 * secure_link expression (HASH: the base64url MD5 of the secure_link_md5 expression, which
 * may use $secure_link_expires) and answers "" (wrong), "0" (expired) or "1"; the old form
 * reads "/PREFIX/HEXMD5/LINK" from the request URI, the MD5 of LINK and the secret, and
 * answers the LINK. Both variables are cacheable, as nginx's: read them in that order.
 */
#include "http.h"
#include "md5.h"
#include "script.h"
#include "variables.h"

typedef struct {
    mg_http_complex_value_t *variable; /* MG_CONF_UNSET_PTR until set */
    mg_http_complex_value_t *md5;
    mg_str_t secret;          /* data NULL: unset */
    const char *secret_where; /* FILE:LINE of secure_link_secret, for the merge's error */
} secure_link_conf_t;

typedef struct {
    mg_str_t expires; /* the EXPIRES text, once $secure_link read a valid one */
} secure_link_ctx_t;

mg_module_t mg_secure_link_module;

static void *secure_link_create_conf(mg_conf_t *cf)
{
    secure_link_conf_t *sc = mg_pcalloc(cf->pool, sizeof(secure_link_conf_t));
    sc->variable = MG_CONF_UNSET_PTR;
    sc->md5 = MG_CONF_UNSET_PTR;
    return sc;
}

static const char *secure_link_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    secure_link_conf_t *prev = parent, *conf = child;
    if (conf->secret.data) {
        if (conf->variable == MG_CONF_UNSET_PTR) {
            conf->variable = NULL;
        }
        if (conf->md5 == MG_CONF_UNSET_PTR) {
            conf->md5 = NULL;
        }
        if (conf->variable || conf->md5) {
            /* nginx names a place here too: the directive's */
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "\"secure_link_secret\" cannot be mixed with \"secure_link\" and "
                         "\"secure_link_md5\" in %s",
                         conf->secret_where);
            return MG_CONF_ERROR;
        }
        return MG_CONF_OK;
    }
    mg_conf_merge_ptr(conf->variable, prev->variable, NULL);
    mg_conf_merge_ptr(conf->md5, prev->md5, NULL);
    if (conf->variable == NULL && conf->md5 == NULL) {
        conf->secret = prev->secret;
    }
    return MG_CONF_OK;
}

static const char *set_cv(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_complex_value_t **field = (mg_http_complex_value_t **)((char *)conf + cmd->offset);
    if (*field != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    *field = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    if (mg_http_compile_complex_value(cf, cf->args[1], *field) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *set_secret(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    secure_link_conf_t *sc = conf;
    if (sc->secret.data) {
        return "is duplicate";
    }
    sc->secret = cf->args[1];
    const char *where = mg_conf_where(cf);
    sc->secret_where = mg_pstrdup(cf->pool, where, strlen(where));
    return MG_CONF_OK;
}

static mg_int_t not_found(mg_http_var_value_t *v)
{
    v->valid = 0;
    v->not_found = 1;
    return MG_OK;
}

static void set_value(mg_http_var_value_t *v, const char *s, size_t len)
{
    v->value.data = (char *)s;
    v->value.len = len;
    v->valid = 1;
    v->not_found = 0;
}

/* Seconds since the epoch as nginx's ngx_atotm reads them: digits only; -1 otherwise. */
static time_t parse_expires(const char *s, size_t len)
{
    if (len == 0) {
        return -1;
    }
    int64_t t = mg_atoi(s, len);
    return t < 0 ? -1 : (time_t)t;
}

/* base64url (RFC 4648 section 5) as nginx reads it: '-' and '_', the input ending at the
 * first '='. */
static mg_int_t decode_base64url(mg_request_t *r, mg_str_t src, unsigned char *dst, size_t *len)
{
    char *s = mg_pnalloc(r->pool, src.len + 1);
    for (size_t i = 0; i < src.len; i++) {
        char c = src.data[i];
        if (c == '+' || c == '/') {
            return MG_ERROR;
        }
        s[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    mg_str_t std = {src.len, s};
    return mg_base64_decode(std, dst, len);
}

/* The old form: "/PREFIX/HEXMD5/LINK" (the request URI as sent, arguments included); the
 * link when the MD5 of LINK followed by the secret matches. */
static mg_int_t old_form(mg_request_t *r, secure_link_conf_t *sc, mg_http_var_value_t *v)
{
    mg_str_t u = r->unparsed_uri;
    if (u.len < 2) {
        return not_found(v);
    }
    const char *p = u.data + 1, *last = u.data + u.len;
    const char *hash = memchr(p, '/', (size_t)(last - p));
    if (hash == NULL) {
        return not_found(v);
    }
    hash++;
    const char *end = memchr(hash, '/', (size_t)(last - hash));
    if (end == NULL) {
        return not_found(v);
    }
    const char *link = end + 1;
    size_t len = (size_t)(last - link);
    if (end - hash != 2 * MG_MD5_DIGEST_LEN || len == 0) {
        return not_found(v);
    }
    unsigned char want[MG_MD5_DIGEST_LEN], got[MG_MD5_DIGEST_LEN];
    for (int i = 0; i < MG_MD5_DIGEST_LEN; i++) {
        int64_t b = mg_hextoi(hash + 2 * i, 2);
        if (b < 0) {
            return not_found(v);
        }
        want[i] = (unsigned char)b;
    }
    mg_md5_t md5;
    mg_md5_init(&md5);
    mg_md5_update(&md5, link, len);
    mg_md5_update(&md5, sc->secret.data, sc->secret.len);
    mg_md5_final(&md5, got);
    if (memcmp(want, got, MG_MD5_DIGEST_LEN) != 0) {
        return not_found(v);
    }
    set_value(v, link, len);
    return MG_OK;
}

static mg_int_t var_secure_link(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    secure_link_conf_t *sc = mg_http_get_loc_conf(r, mg_secure_link_module);
    if (sc->secret.data) {
        return old_form(r, sc, v);
    }
    if (sc->variable == NULL || sc->md5 == NULL) {
        return not_found(v);
    }
    mg_str_t val = mg_http_complex_value(r, sc->variable);
    char *comma = memchr(val.data, ',', val.len);
    time_t expires = 0;
    if (comma) {
        const char *e = comma + 1;
        size_t elen = (size_t)(val.data + val.len - e);
        val.len = (size_t)(comma - val.data);
        expires = parse_expires(e, elen);
        if (expires <= 0) {
            return not_found(v);
        }
        /* $secure_link_expires now has the text, for the md5 expression below */
        secure_link_ctx_t *ctx = mg_pcalloc(r->pool, sizeof(*ctx));
        ctx->expires = (mg_str_t){elen, (char *)e};
        mg_http_set_ctx(r, ctx, mg_secure_link_module);
    }
    /* 16 bytes are 22 characters, 24 with padding */
    if (val.len > 24) {
        return not_found(v);
    }
    unsigned char hash[mg_base64_decoded_len(24)];
    size_t hlen;
    if (decode_base64url(r, val, hash, &hlen) != MG_OK || hlen != MG_MD5_DIGEST_LEN) {
        return not_found(v);
    }
    mg_str_t text = mg_http_complex_value(r, sc->md5);
    unsigned char md5[MG_MD5_DIGEST_LEN];
    mg_md5(text.data, text.len, md5);
    if (memcmp(hash, md5, MG_MD5_DIGEST_LEN) != 0) {
        return not_found(v);
    }
    if (expires && expires < mg_now.sec) {
        set_value(v, "0", 1);
    } else {
        set_value(v, "1", 1);
    }
    return MG_OK;
}

static mg_int_t var_secure_link_expires(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    secure_link_ctx_t *ctx = mg_http_get_ctx(r, mg_secure_link_module);
    if (ctx == NULL) {
        return not_found(v);
    }
    set_value(v, ctx->expires.data, ctx->expires.len);
    return MG_OK;
}

static void *secure_link_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, 1);
}

static const char *secure_link_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    static const struct {
        const char *name;
        mg_http_get_variable_pt get;
    } vars[] = {
        {"secure_link", var_secure_link},
        {"secure_link_expires", var_secure_link_expires},
    };
    for (size_t i = 0; i < mg_nelems(vars); i++) {
        mg_str_t name = {strlen(vars[i].name), (char *)vars[i].name};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, 0);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = vars[i].get;
    }
    return MG_CONF_OK;
}

static const mg_command_t secure_link_commands[] = {
    {"secure_link", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), set_cv, MG_LOC_CONF,
     offsetof(secure_link_conf_t, variable), NULL},
    {"secure_link_md5", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), set_cv, MG_LOC_CONF,
     offsetof(secure_link_conf_t, md5), NULL},
    /* nginx documents it for locations but takes it at every level */
    {"secure_link_secret", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), set_secret, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t secure_link_defaults[] = {
    {"secure_link", MG_NO_DEFAULT},
    {"secure_link_md5", MG_NO_DEFAULT},
    {"secure_link_secret", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_secure_link_module = {
    .name = "secure_link",
    .commands = secure_link_commands,
    .defaults = secure_link_defaults,
    .create_main_conf = secure_link_create_main_conf,
    .init_main_conf = secure_link_init_main_conf,
    .create_loc_conf = secure_link_create_conf,
    .merge_loc_conf = secure_link_merge_conf,
};
