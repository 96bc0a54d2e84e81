/*
 * ngx_stream_ssl_preread_module: "ssl_preread on" reads the client's ClientHello in the
 * preread phase without terminating TLS (core/ssl_preread.c parses it) for
 * $ssl_preread_server_name, $ssl_preread_alpn_protocols and $ssl_preread_protocol, so that
 * proxy_pass can route TLS by name. Bytes that are not a TLS handshake, or a malformed one,
 * decline: the variables are not found ("-" in a log; empty where ssl_preread is on but the
 * hello did not come whole) and the session goes on, as nginx's.
 */
#include "ssl_preread.h"
#include "stream.h"

extern mg_module_t mg_stream_ssl_preread_module;

typedef struct {
    int enable;
} preread_conf_t;

typedef struct {
    mg_str_t server_name, alpn;
    unsigned version;
    unsigned done : 1;      /* a ClientHello was read: the variables are set */
    unsigned char *scratch; /* the gathered message, reused by every try */
    size_t scratch_size;
    size_t need; /* the bytes a new try needs (each try reads the records from the start) */
} preread_ctx_t;

static mg_int_t preread_handler(mg_stream_session_t *s)
{
    preread_conf_t *pc = mg_stream_get_srv_conf(s, mg_stream_ssl_preread_module);
    if (!pc->enable || s->udp) {
        return MG_DECLINED;
    }
    s->preread_claimed = 1; /* nginx's waits for bytes even when some came with a PROXY header */
    preread_ctx_t *ctx = s->ctx[mg_stream_ssl_preread_module.index];
    if (ctx == NULL) {
        ctx = mg_pcalloc(s->pool, sizeof(preread_ctx_t));
        s->ctx[mg_stream_ssl_preread_module.index] = ctx;
    }
    /* one scratch buffer as large as the preread buffer: a client sending a byte at a time
       costs no more memory than one sending it all */
    if (ctx->scratch_size < s->preread_len) {
        ctx->scratch_size = mg_max(s->preread_size, s->preread_len);
        ctx->scratch = mg_palloc(s->pool, ctx->scratch_size);
    }
    if (s->preread_len < ctx->need) {
        return MG_AGAIN; /* the record being read is not whole yet */
    }
    mg_ssl_preread_t hello;
    int rc =
        mg_ssl_preread_parse((unsigned char *)s->preread, s->preread_len, ctx->scratch, &hello);
    if (rc == 0) {
        ctx->need = hello.need;
        return MG_AGAIN;
    }
    if (rc < 0) {
        mg_debug_stream(&s->connection->log, "ssl preread: not a valid ClientHello");
        s->ctx[mg_stream_ssl_preread_module.index] = NULL; /* the variables: not found */
        return MG_DECLINED;
    }
    ctx->done = 1;
    ctx->version = hello.version;
    if (hello.server_name) {
        ctx->server_name = mg_pstr(s->pool, (const char *)hello.server_name, hello.server_name_len);
        /* nginx >= 1.25.5: the name chooses the session's server among those of the address
         * (as the TLS SNI does); a failed regex ends the session (500) */
        if (mg_stream_server_by_name(s, ctx->server_name) != MG_OK) {
            return MG_ERROR;
        }
    }
    if (hello.alpn) {
        char *text = mg_pnalloc(s->pool, hello.alpn_len + 1);
        ctx->alpn.len = mg_ssl_preread_alpn_text(hello.alpn, hello.alpn_len, text);
        ctx->alpn.data = text;
    }
    return MG_OK;
}

static mg_str_t v_preread(mg_stream_session_t *s, uintptr_t which)
{
    preread_ctx_t *ctx = s->ctx[mg_stream_ssl_preread_module.index];
    if (ctx == NULL) { /* ssl_preread off (or UDP): not found, "-" in a log, as nginx's */
        return (mg_str_t)mg_null_string;
    }
    if (!ctx->done) {
        return (mg_str_t)mg_string("");
    }
    switch (which) {
    case 0:
        return ctx->server_name.data ? ctx->server_name : (mg_str_t)mg_string("");
    case 1:
        return ctx->alpn.data ? ctx->alpn : (mg_str_t)mg_string("");
    default: {
        const char *name = mg_ssl_preread_version_name(ctx->version);
        return (mg_str_t){strlen(name), (char *)name};
    }
    }
}

static void *preread_create_srv_conf(mg_conf_t *cf)
{
    preread_conf_t *pc = mg_pcalloc(cf->pool, sizeof(preread_conf_t));
    pc->enable = MG_CONF_UNSET;
    return pc;
}

static const char *preread_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    preread_conf_t *prev = parent, *pc = child;
    mg_conf_merge(pc->enable, prev->enable, 0);
    return MG_CONF_OK;
}

static mg_int_t preread_init(mg_conf_t *cf)
{
    /* the handler only where a server has it on */
    mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
    mg_stream_srv_conf_t **servers = cmcf->servers.elts;
    for (size_t i = 0; i < cmcf->servers.nelts; i++) {
        preread_conf_t *pc = servers[i]->ctx->srv_conf[mg_stream_ssl_preread_module.index];
        if (pc->enable) {
            mg_stream_add_handler(cf, MG_STREAM_PREREAD_PHASE, preread_handler);
            break;
        }
    }
    mg_stream_variable_add(cf, "ssl_preread_server_name", v_preread, 0);
    mg_stream_variable_add(cf, "ssl_preread_alpn_protocols", v_preread, 1);
    mg_stream_variable_add(cf, "ssl_preread_protocol", v_preread, 2);
    return MG_OK;
}

static const mg_command_t preread_commands[] = {
    {"ssl_preread", MG_CTX_STREAM | MG_CTX_STREAM_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(preread_conf_t, enable), NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t preread_stream = {
    .create_srv_conf = preread_create_srv_conf,
    .merge_srv_conf = preread_merge_srv_conf,
    .init = preread_init,
};

mg_module_t mg_stream_ssl_preread_module = {
    .name = "stream_ssl_preread",
    .commands = preread_commands,
    .stream = &preread_stream,
};
