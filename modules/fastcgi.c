/*
 * fastcgi: nginx's FastCGI module on the upstream engine. The request goes as records
 * (FCGI_BEGIN_REQUEST as a responder, with FCGI_KEEP_CONN under fastcgi_keep_conn; the
 * fastcgi_param values and the client's header lines as HTTP_* in FCGI_PARAMS; the body in
 * FCGI_STDIN records, a body in a temporary file sent from it); the answer's records are
 * decoded by fastcgi_parse.c as they are read (stderr logged as nginx does), and its CGI head
 * (Status, Location) parsed by the engine's CGI parser. Buffers, timeouts, next upstream,
 * hidden headers ... are the family's (core/http/upstream_conf.c).
 */
#include "cache.h"
#include "cgi_params.h"
#include "fastcgi_parse.h"
#include "variables.h"

mg_module_t mg_fastcgi_module;

typedef struct {
    mg_cgi_loc_conf_t cgi; /* fastcgi_pass, fastcgi_param, the family's settings */
    mg_str_t index;
    mg_regex_t *split;
    int keep_conn;
    mg_array_t *catch_stderr; /* mg_str_t */
} fcgi_loc_conf_t;

typedef struct {
    mg_cgi_ctx_t c; /* head: FCGI_BEGIN_REQUEST and FCGI_PARAMS */
    mg_fastcgi_parser_t parser;
    /* until the head is parsed, the last decode call's stdout pieces (parser.seg_*), its
     * input and output lengths: raw_offset maps the head's end back into the records */
    size_t raw_len, out_len;
    unsigned head_done : 1;
} fcgi_ctx_t;

#define RECORD_MAX 32768 /* content per record we send, as nginx */

static const char zeros[8];

/* ---- $fastcgi_script_name, $fastcgi_path_info ---- */

static void split_uri(mg_request_t *r, fcgi_loc_conf_t *flcf, mg_str_t *script, mg_str_t *info)
{
    *script = r->uri;
    /* empty, not unset: an access log writes "" for it, as nginx's, not "-" */
    info->len = 0;
    info->data = (char *)"";
    if (flcf->split) {
        int ov[9];
        mg_int_t n = mg_regex_exec(flcf->split, r->uri.data, r->uri.len, ov, 9);
        if (n >= 3) {
            script->data = r->uri.data + ov[2];
            script->len = (size_t)(ov[3] - ov[2]);
            info->data = r->uri.data + ov[4];
            info->len = (size_t)(ov[5] - ov[4]);
        }
    }
    if (flcf->index.len && script->len && script->data[script->len - 1] == '/') {
        char *p = mg_pnalloc(r->pool, script->len + flcf->index.len);
        memcpy(p, script->data, script->len);
        memcpy(p + script->len, flcf->index.data, flcf->index.len);
        script->data = p;
        script->len += flcf->index.len;
    }
}

static mg_int_t var_split(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    fcgi_loc_conf_t *flcf = mg_http_get_loc_conf(r, mg_fastcgi_module);
    mg_str_t script, info;
    split_uri(r, flcf, &script, &info);
    v->value = data ? info : script;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    return MG_OK;
}

/* ---- the request records ---- */

static char *put_header(char *p, int type, size_t len, size_t pad)
{
    p[0] = 1;
    p[1] = (char)type;
    p[2] = 0;
    p[3] = 1;
    p[4] = (char)(len >> 8);
    p[5] = (char)(len & 0xff);
    p[6] = (char)pad;
    p[7] = 0;
    return p + 8;
}

static size_t pair_len(size_t kl, size_t vl)
{
    return (kl > 127 ? 4 : 1) + (vl > 127 ? 4 : 1) + kl + vl;
}

static char *put_len(char *p, size_t n)
{
    if (n > 127) {
        *p++ = (char)(((n >> 24) & 0x7f) | 0x80);
        *p++ = (char)(n >> 16);
        *p++ = (char)(n >> 8);
    }
    *p++ = (char)n;
    return p;
}

/* FCGI_BEGIN_REQUEST and the FCGI_PARAMS records */
static mg_int_t create_request(mg_request_t *r, mg_cgi_ctx_t *ctx)
{
    fcgi_loc_conf_t *flcf = mg_http_get_loc_conf(r, mg_fastcgi_module);
    mg_array_t *pairs = mg_cgi_params(r, flcf->cgi.params, flcf->cgi.upstream.pass_request_headers);
    mg_cgi_pair_t *pp = pairs->elts;
    size_t len = 0;
    for (size_t i = 0; i < pairs->nelts; i++) {
        len += pair_len(pp[i].key.len, pp[i].value.len);
    }
    char *flat = mg_pnalloc(r->pool, len + 1), *p = flat;
    for (size_t i = 0; i < pairs->nelts; i++) {
        p = put_len(p, pp[i].key.len);
        p = put_len(p, pp[i].value.len);
        memcpy(p, pp[i].key.data, pp[i].key.len);
        p += pp[i].key.len;
        memcpy(p, pp[i].value.data, pp[i].value.len);
        p += pp[i].value.len;
    }
    size_t records = len / RECORD_MAX + 2;
    char *buf = mg_pnalloc(r->pool, 16 + len + records * 16), *q = buf;
    q = put_header(q, MG_FASTCGI_BEGIN_REQUEST, 8, 0);
    memset(q, 0, 8);
    q[1] = 1; /* FCGI_RESPONDER */
    q[2] = flcf->keep_conn ? 1 : 0;
    q += 8;
    for (size_t off = 0; off < len; off += RECORD_MAX) {
        size_t n = mg_min(len - off, (size_t)RECORD_MAX);
        size_t pad = (8 - n % 8) % 8;
        q = put_header(q, MG_FASTCGI_PARAMS, n, pad);
        memcpy(q, flat + off, n);
        memset(q + n, 0, pad);
        q += n + pad;
    }
    q = put_header(q, MG_FASTCGI_PARAMS, 0, 0);
    ctx->head = mg_buf_mem(r->pool, buf, (size_t)(q - buf));
    return MG_OK;
}

/* The body as FCGI_STDIN records around its buffers (memory or its temporary file), and the
 * empty record that ends it */
static mg_buf_t *stdin_records(mg_request_t *r, mg_cgi_ctx_t *ctx, mg_buf_t *body)
{
    (void)ctx;
    mg_buf_t *out = NULL, **t = &out;
    for (mg_buf_t *b = body; b; b = b->next) {
        size_t size = mg_buf_size(b);
        for (size_t off = 0; off < size; off += RECORD_MAX) {
            size_t n = mg_min(size - off, (size_t)RECORD_MAX);
            size_t pad = (8 - n % 8) % 8;
            char *hb = mg_pnalloc(r->pool, 8);
            put_header(hb, MG_FASTCGI_STDIN, n, pad);
            mg_buf_t *hdr = mg_buf_mem(r->pool, hb, 8);
            mg_buf_t *piece = mg_pcalloc(r->pool, sizeof(mg_buf_t));
            *piece = *b;
            piece->next = NULL;
            if (b->in_file) {
                piece->file_pos = b->file_pos + (off_t)off;
                piece->file_last = piece->file_pos + (off_t)n;
            } else {
                piece->pos = b->pos + off;
                piece->last = piece->pos + n;
            }
            *t = hdr;
            hdr->next = piece;
            t = &piece->next;
            if (pad) {
                mg_buf_t *pb = mg_buf_mem(r->pool, zeros, pad);
                *t = pb;
                t = &pb->next;
            }
        }
    }
    char *eb = mg_pnalloc(r->pool, 8);
    put_header(eb, MG_FASTCGI_STDIN, 0, 0);
    *t = mg_buf_mem(r->pool, eb, 8);
    return out;
}

/* fastcgi_request_buffering off: the stream's next n bytes as one FCGI_STDIN record (n fits:
 * the stream is client_body_buffer_size at most, and a record takes 65535), or the empty one */
static mg_buf_t *stdin_stream(mg_upstream_t *u, mg_buf_t *stream, size_t n)
{
    mg_request_t *r = u->r;
    if (n == 0) {
        char *eb = mg_pnalloc(r->pool, 8);
        put_header(eb, MG_FASTCGI_STDIN, 0, 0);
        return mg_buf_mem(r->pool, eb, 8);
    }
    mg_buf_t *out = NULL, **t = &out;
    for (size_t off = 0; off < n; off += RECORD_MAX) {
        size_t len = mg_min(n - off, (size_t)RECORD_MAX);
        size_t pad = (8 - len % 8) % 8;
        char *hb = mg_pnalloc(r->pool, 8 + pad);
        put_header(hb, MG_FASTCGI_STDIN, len, pad);
        memset(hb + 8, 0, pad);
        mg_buf_t *hdr = mg_buf_mem(r->pool, hb, 8);
        mg_buf_t *piece = mg_buf_mem(r->pool, stream->pos + off, len);
        mg_buf_t *pb = mg_buf_mem(r->pool, hb + 8, pad);
        *t = hdr;
        hdr->next = piece;
        piece->next = pb;
        t = &pb->next;
        u->stream_slice = piece; /* the last one's end is where the stream is taken to */
    }
    return out;
}

/* ---- the response ---- */

/* The stdout decoded so far holds the whole head (up to its empty line). */
static int head_complete(const char *p, size_t len)
{
    for (const char *e = p + len; (p = memchr(p, '\n', (size_t)(e - p))) != NULL;) {
        p++;
        if (p < e && *p == '\r') {
            p++;
        }
        if (p < e && *p == '\n') {
            return 1;
        }
    }
    return 0;
}

static int on_stderr(void *data, const char *msg, size_t len)
{
    mg_upstream_t *u = data;
    fcgi_ctx_t *ctx = (fcgi_ctx_t *)u;
    fcgi_loc_conf_t *flcf = mg_http_get_loc_conf(u->r, mg_fastcgi_module);
    /* as nginx: a record after the stdout that completed the head is the body's (nginx reads
     * it with the body: "while reading upstream", and fastcgi_catch_stderr is not asked);
     * the head is decoded at u->hbuf + u->hlen */
    int body = ctx->head_done || head_complete(u->hbuf, u->hlen + ctx->parser.err_out);
    mg_connection_t *c = u->r->connection;
    const char *action = c->log.action;
    if (body && !ctx->head_done) {
        c->log.action = "reading upstream";
    }
    /* as nginx: trailing line ends, dots and spaces are not part of the message */
    size_t l = len;
    while (l &&
           (msg[l - 1] == '\n' || msg[l - 1] == '\r' || msg[l - 1] == '.' || msg[l - 1] == ' ')) {
        l--;
    }
    /* its line ends and tabs as the application wrote them, as nginx's (a PHP message spans
     * lines); other control bytes escaped as in any line */
    mg_log_error(MG_LOG_ERR | MG_LOG_LINES, mg_http_request_log(u->r), 0,
                 "FastCGI sent in stderr: \"%.*s\"", (int)l, msg);
    c->log.action = action;
    if (flcf->catch_stderr && !u->header_sent && !body) {
        mg_str_t *s = flcf->catch_stderr->elts;
        for (size_t i = 0; i < flcf->catch_stderr->nelts; i++) {
            if (mg_strlcasestrn(msg, msg + len, s[i].data, s[i].len)) {
                return 1;
            }
        }
    }
    return 0;
}

static mg_int_t decode(mg_upstream_t *u, char *buf, size_t *n)
{
    fcgi_ctx_t *ctx = (fcgi_ctx_t *)u; /* u is its first member */
    mg_fastcgi_parser_t *p = &ctx->parser;
    if (!ctx->head_done) {
        if (p->seg_max == 0) {
            /* a piece is at least a record header and a byte: the head buffer holds fewer */
            p->seg_max = u->conf->buffer_size / 9 + 1;
            p->seg_out = mg_palloc(u->r->pool, 2 * p->seg_max * sizeof(size_t));
            p->seg_raw = p->seg_out + p->seg_max;
        }
        p->nseg = 0;
        ctx->raw_len = *n;
    } else {
        p->seg_max = 0;
    }
    int rc = mg_fastcgi_parse(p, buf, n, on_stderr, u);
    ctx->out_len = *n;
    if (rc == 1) {
        u->decoded_end = 1;
        return MG_DONE;
    }
    if (rc == -1) {
        static const char *const what[] = {"",
                                           "upstream sent unsupported FastCGI protocol version: %d",
                                           "upstream sent invalid FastCGI record type: %d",
                                           "upstream sent unexpected FastCGI request id: %d"};
        mg_log_error(MG_LOG_ERR, mg_http_request_log(u->r), 0, what[ctx->parser.bad_what],
                     ctx->parser.bad);
    }
    return rc < 0 ? MG_ERROR : MG_OK;
}

static void reinit(mg_upstream_t *u)
{
    fcgi_ctx_t *ctx = (fcgi_ctx_t *)u;
    ctx->parser = (mg_fastcgi_parser_t){0};
    ctx->head_done = 0;
}

/* the stdout piece holding output offset d (its end included: the record header after a
 * head that ends a record is nginx's response length too) */
static size_t raw_offset(mg_upstream_t *u, size_t d)
{
    fcgi_ctx_t *ctx = (fcgi_ctx_t *)u;
    mg_fastcgi_parser_t *p = &ctx->parser;
    for (size_t i = 0; i < p->nseg; i++) {
        size_t end = i + 1 < p->nseg ? p->seg_out[i + 1] : ctx->out_len;
        if (d >= p->seg_out[i] && d <= end) {
            return p->seg_raw[i] + (d - p->seg_out[i]);
        }
    }
    return ctx->raw_len;
}

static ssize_t parse_head(mg_upstream_t *u, const char *buf, size_t len, mg_upstream_head_t *h)
{
    return mg_upstream_parse_cgi_head(u, buf, len, h, 0);
}

static mg_int_t process_header(mg_upstream_t *u)
{
    fcgi_loc_conf_t *flcf = mg_http_get_loc_conf(u->r, mg_fastcgi_module);
    ((fcgi_ctx_t *)u)->head_done = 1;
    /* a connection is kept only when the application was told to keep it */
    u->keepalive = flcf->keep_conn && u->group && u->group->keepalive > 0;
    return mg_upstream_copy_headers(u, MG_UPSTREAM_HIDE_STATUS | MG_UPSTREAM_HIDE_ACCEL);
}

/* ---- the handler ---- */

static const mg_cgi_protocol_t fastcgi_protocol = {
    .module = &mg_fastcgi_module,
    .schema = "fastcgi://",
    .ctx_size = sizeof(fcgi_ctx_t),
    .temp_path = offsetof(mg_http_loc_conf_t, fastcgi_temp_path),
    .store = MG_UPSTREAM_STORE_FASTCGI,
    .process_header = process_header,
    .parse_head = parse_head,
    .decode = decode,
    .reinit = reinit,
    .raw_offset = raw_offset,
    .create_request = create_request,
    .frame_body = stdin_records,
    .frame_stream = stdin_stream,
};

static mg_int_t fastcgi_handler(mg_request_t *r)
{
    return mg_cgi_handler(r, &fastcgi_protocol);
}

/* ---- configuration ---- */

static const char *fastcgi_split_path_info(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    fcgi_loc_conf_t *flcf = conf;
    /* as nginx's: a second one replaces the first */
    flcf->split = mg_http_regex_compile(cf, cf->args[1], 0);
    if (flcf->split == NULL) {
        return MG_CONF_ERROR;
    }
    if (flcf->split->captures != 2) {
        mg_conf_error(cf, 0, "pattern \"%.*s\" must have 2 captures", (int)cf->args[1].len,
                      cf->args[1].data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *fastcgi_catch_stderr(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    fcgi_loc_conf_t *flcf = conf;
    if (flcf->catch_stderr == NULL) {
        flcf->catch_stderr = mg_array_create(cf->pool, 2, sizeof(mg_str_t));
    }
    *(mg_str_t *)mg_array_push(flcf->catch_stderr) = cf->args[1];
    return MG_CONF_OK;
}

static void *fcgi_create_loc_conf(mg_conf_t *cf)
{
    fcgi_loc_conf_t *c = mg_cgi_create_loc_conf(cf, sizeof(*c));
    c->keep_conn = MG_CONF_UNSET;
    c->split = MG_CONF_UNSET_PTR;
    c->index.data = MG_CONF_UNSET_PTR;
    return c;
}

static const char *fcgi_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    fcgi_loc_conf_t *prev = parent, *conf = child;
    if (mg_cgi_merge_loc_conf(cf, conf, prev, "fastcgi") != MG_CONF_OK) {
        return MG_CONF_ERROR;
    }
    mg_conf_merge(conf->keep_conn, prev->keep_conn, 0);
    mg_conf_merge_ptr(conf->split, prev->split, NULL);
    if (conf->index.data == MG_CONF_UNSET_PTR) {
        if (prev->index.data == MG_CONF_UNSET_PTR) {
            conf->index.len = 0;
            conf->index.data = NULL;
        } else {
            conf->index = prev->index;
        }
    }
    if (conf->catch_stderr == NULL) {
        conf->catch_stderr = prev->catch_stderr;
    }
    return MG_CONF_OK;
}

static const char *fcgi_set_index(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    fcgi_loc_conf_t *flcf = conf;
    if (flcf->index.data != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    flcf->index = cf->args[1];
    return MG_CONF_OK;
}

static const char *fcgi_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)conf;
    mg_cgi_add_owner(&mg_fastcgi_module);
    static const char *const names[] = {"fastcgi_script_name", "fastcgi_path_info"};
    for (size_t i = 0; i < mg_nelems(names); i++) {
        mg_str_t name = {strlen(names[i]), (char *)names[i]};
        mg_http_variable_t *v = mg_http_add_variable(cf, name, MG_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return MG_CONF_ERROR;
        }
        v->get_handler = var_split;
        v->data = i;
    }
    return MG_CONF_OK;
}

#define LOC MG_HTTP_ANY_LOC
#define FU offsetof(fcgi_loc_conf_t, cgi.upstream)

static const mg_command_t fastcgi_commands[] = {
    {"fastcgi_pass", MG_CTX_LOCATION | MG_CTX_LIF, MG_ARGS(1, 1), mg_cgi_set_pass, MG_LOC_CONF,
     offsetof(fcgi_loc_conf_t, cgi.pass), (const void *)fastcgi_handler},
    {"fastcgi_param", LOC, MG_ARGS(2, 3), mg_cgi_set_param, MG_LOC_CONF,
     offsetof(fcgi_loc_conf_t, cgi.params), NULL},
    {"fastcgi_index", LOC, MG_ARGS(1, 1), fcgi_set_index, MG_LOC_CONF, 0, NULL},
    {"fastcgi_split_path_info", LOC, MG_ARGS(1, 1), fastcgi_split_path_info, MG_LOC_CONF, 0, NULL},
    {"fastcgi_keep_conn", LOC, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(fcgi_loc_conf_t, keep_conn), NULL},
    {"fastcgi_catch_stderr", LOC, MG_ARGS(1, 1), fastcgi_catch_stderr, MG_LOC_CONF, 0, NULL},
    MG_UPSTREAM_COMMANDS_BASE("fastcgi", FU),
    MG_UPSTREAM_COMMANDS_BUFFERED("fastcgi", FU),
    MG_UPSTREAM_COMMAND_SEND_LOWAT("fastcgi", FU),
    MG_HTTP_CACHE_COMMANDS("fastcgi", (FU) + offsetof(mg_upstream_conf_t, cache)),
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t fastcgi_defaults[] = {
    {"fastcgi_next_upstream", "error timeout"},
    {"fastcgi_send_lowat", "0"},
    {"fastcgi_buffers", "8 4k|8k"},
    {"fastcgi_busy_buffers_size", "8k|16k"},
    {"fastcgi_temp_file_write_size", "8k|16k"},
    {"fastcgi_cache", "off"},
    {"fastcgi_cache_methods", "GET HEAD"},
    {"fastcgi_cache_min_uses", "1"},
    {"fastcgi_cache_use_stale", "off"},
    {"fastcgi_cache_background_update", "off"},
    {"fastcgi_cache_lock", "off"},
    {"fastcgi_cache_revalidate", "off"},
    {"fastcgi_pass", MG_NO_DEFAULT},
    {"fastcgi_param", MG_NO_DEFAULT},
    {"fastcgi_index", MG_NO_DEFAULT},
    {"fastcgi_split_path_info", MG_NO_DEFAULT},
    {"fastcgi_catch_stderr", MG_NO_DEFAULT},
    {"fastcgi_bind", MG_NO_DEFAULT},
    {"fastcgi_hide_header", MG_NO_DEFAULT},
    {"fastcgi_pass_header", MG_NO_DEFAULT},
    {"fastcgi_ignore_headers", MG_NO_DEFAULT},
    {"fastcgi_cache_path", MG_NO_DEFAULT},
    {"fastcgi_cache_key", MG_NO_DEFAULT},
    {"fastcgi_cache_valid", MG_NO_DEFAULT},
    {"fastcgi_cache_bypass", MG_NO_DEFAULT},
    {"fastcgi_no_cache", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_fastcgi_module = {
    .name = "fastcgi",
    .commands = fastcgi_commands,
    .defaults = fastcgi_defaults,
    .create_main_conf = mg_cgi_create_main_conf,
    .init_main_conf = fcgi_init_main_conf,
    .create_loc_conf = fcgi_create_loc_conf,
    .merge_loc_conf = fcgi_merge_loc_conf,
};
