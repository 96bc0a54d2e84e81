/*
 * The lua module: the *_by_lua* directives (inline strings, { } blocks, files), the lua_*
 * settings, and the phase handlers and filters that hand requests to the runner (phase.c).
 * Code is compiled when the directive is read, so a Lua syntax error is a config error.
 */
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include "api.h"
#include "script.h"
#include "server.h"

const mg_lua_code_directive_t mg_lua_d_init = {MG_LUA_INIT, "init_by_lua"};
const mg_lua_code_directive_t mg_lua_d_init_worker = {MG_LUA_INIT_WORKER, "init_worker_by_lua"};
static const mg_lua_code_directive_t d_exit_worker = {MG_LUA_EXIT_WORKER, "exit_worker_by_lua"};
static const mg_lua_code_directive_t d_server_rewrite = {MG_LUA_SERVER_REWRITE,
                                                         "server_rewrite_by_lua"};
static const mg_lua_code_directive_t d_rewrite = {MG_LUA_REWRITE, "rewrite_by_lua"};
static const mg_lua_code_directive_t d_access = {MG_LUA_ACCESS, "access_by_lua"};
static const mg_lua_code_directive_t d_content = {MG_LUA_CONTENT, "content_by_lua"};
static const mg_lua_code_directive_t d_log = {MG_LUA_LOG, "log_by_lua"};
static const mg_lua_code_directive_t d_header_filter = {MG_LUA_HEADER_FILTER,
                                                        "header_filter_by_lua"};
static const mg_lua_code_directive_t d_body_filter = {MG_LUA_BODY_FILTER, "body_filter_by_lua"};
static const mg_lua_code_directive_t d_set = {MG_LUA_SET, "set_by_lua"};

static mg_int_t lua_content_handler(mg_request_t *r);

static int ends_with(mg_str_t s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.data + s.len - n, suffix, n) == 0;
}

/* The code a directive names in `arg` (inline, block or file), compiled; NULL with *err set
 * (a phrase, or MG_CONF_ERROR when already logged). */
static mg_lua_code_t *code_from_arg(mg_conf_t *cf, const mg_lua_code_directive_t *d, mg_str_t arg,
                                    const char **err)
{
    mg_lua_main_conf_t *lmcf = mg_lua_conf_main(cf);
    mg_lua_code_t *code = mg_pcalloc(cf->pool, sizeof(mg_lua_code_t));
    code->ref = LUA_NOREF;
    *err = MG_CONF_ERROR;
    if (ends_with(cf->args[0], "_file")) {
        code->is_file = 1;
        if (arg.len == 0) {
            *err = "has an empty file name";
            return NULL;
        }
        /* variables need a request: only request phases may name files with them */
        if ((d->phase & MG_LUA_REQUEST_PHASES) && !lmcf->stream &&
            mg_http_script_variables_count(arg)) {
            code->path_cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
            if (mg_http_compile_complex_value(cf, arg, code->path_cv) != MG_OK) {
                return NULL;
            }
        } else {
            code->src = mg_conf_full_name(cf->cycle, arg, 0);
            code->chunkname = mg_psprintf(cf->pool, "@%s", code->src.data);
        }
    } else {
        /* OpenResty's chunk names: the label, the config file's base name and the line of the
         * directive, so Lua's messages read "content_by_lua(nginx.conf:12):3: ..." */
        const char *file = mg_conf_file(cf);
        const char *base = strrchr(file, '/');
        mg_uint_t line = ends_with(cf->args[0], "_block") ? cf->raw_line : 0;
        if (line == 0) {
            const char *where = mg_conf_where(cf);
            const char *colon = strrchr(where, ':');
            line = colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;
        }
        code->src = arg;
        code->chunkname = mg_psprintf(cf->pool, "=%s(%s:%lu)", d->label, base ? base + 1 : file,
                                      (unsigned long)line);
    }
    if (mg_lua_vm(cf, lmcf) == NULL || mg_lua_code_compile(cf, lmcf, code) != MG_OK) {
        return NULL;
    }
    lmcf->phases |= d->phase;
    return code;
}

mg_lua_code_t *mg_lua_code_from_arg(mg_conf_t *cf, unsigned phase, const char *label, mg_str_t arg,
                                    const char **err)
{
    mg_lua_code_directive_t d = {phase, label};
    return code_from_arg(cf, &d, arg, err);
}

const char *mg_lua_set_code(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const mg_lua_code_directive_t *d = cmd->post;
    mg_lua_code_t **slot = (mg_lua_code_t **)((char *)conf + cmd->offset);
    if (*slot) {
        return "is duplicate";
    }
    const char *err;
    mg_lua_code_t *code = code_from_arg(cf, d, cf->args[cf->nargs - 1], &err);
    if (code == NULL) {
        return err;
    }
    *slot = code;
    if (d->phase == MG_LUA_CONTENT && mg_lua_conf_main(cf)->stream) {
        return mg_lua_stream_set_content(cf);
    }
    if (d->phase == MG_LUA_CONTENT) {
        mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
        if (clcf->handler && clcf->handler != lua_content_handler) {
            return "is duplicate";
        }
        clcf->handler = lua_content_handler;
    }
    return MG_CONF_OK;
}

/* set_by_lua $var 'code' [args], set_by_lua_file $var file [args], set_by_lua_block $var {}:
 * set.c adds it to the rewrite module's list. */
static const char *lua_set_by_lua(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)conf;
    int block = ends_with(cf->args[0], "_block");
    const char *err;
    mg_lua_code_t *code = code_from_arg(cf, cmd->post, cf->args[block ? cf->nargs - 1 : 2], &err);
    if (code == NULL) {
        return err;
    }
    size_t nargs = block ? 0 : cf->nargs - 3;
    return mg_lua_set_add(cf, cf->args[1], code, cf->args + 3, nargs);
}

const char *mg_lua_set_code_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_flag(cf, cmd, conf);
    if (rv == MG_CONF_OK && mg_str_eq(cf->args[1], "off")) {
        mg_conf_log(cf, MG_LOG_ALERT, 0, "lua_code_cache is off; this will hurt performance");
    }
    return rv;
}

/* A no-op since lua-nginx-module 0.10.16, which loads resty.core always; any value passes, as
 * there. */
const char *mg_lua_set_load_resty_core(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_conf_log(cf, MG_LOG_WARN, 0,
                "lua_load_resty_core is deprecated (the lua-resty-core library is required since "
                "ngx_lua v0.10.16)");
    return MG_CONF_OK;
}

/* lua_malloc_trim N: as lua-nginx-module's, given again it takes the last value */
static const char *lua_set_malloc_trim(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_lua_main_conf_t *lmcf = conf;
    int64_t n = mg_atoi(cf->args[1].data, cf->args[1].len);
    if (n < 0) {
        return "invalid number in the 1st argument";
    }
    lmcf->malloc_trim = (mg_int_t)n;
    return MG_CONF_OK;
}

/* lua_socket_send_lowat: SO_SNDLOWAT cannot be set on Linux; lua-nginx-module says so (with
 * its old name) and goes on */
static const char *lua_set_send_lowat(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_size(cf, cmd, conf);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    mg_conf_log(cf, MG_LOG_WARN, 0, "\"lua_send_lowat\" is not supported, ignored");
    *(size_t *)((char *)conf + cmd->offset) = 0;
    return MG_CONF_OK;
}

static const mg_command_t lua_commands[] = {
#define CODE_MAIN(name, args, d, field) MG_LUA_CODE_MAIN_ROW(name, MG_CTX_HTTP, args, field, d)
#define CODE_LOC(name, ctxs, args, d, field)                                                       \
    {                                                                                              \
        name, ctxs, args, mg_lua_set_code, MG_LOC_CONF, offsetof(mg_lua_loc_conf_t, field), &d     \
    }
#define ANY_LOC_IF (MG_HTTP_ANY_LOC | MG_CTX_LIF)
#define LOC_IF (MG_CTX_LOCATION | MG_CTX_LIF)
#define SET_CTX (MG_CTX_SERVER | MG_CTX_SIF | MG_CTX_LOCATION | MG_CTX_LIF)
    MG_LUA_INIT_COMMANDS(MG_CTX_HTTP),
    CODE_MAIN("exit_worker_by_lua_block", MG_RAW_BLOCK, d_exit_worker, exit_worker),
    CODE_MAIN("exit_worker_by_lua_file", MG_ARGS(1, 1), d_exit_worker, exit_worker),
    {"set_by_lua", SET_CTX, MG_ARGS(2, MG_MANY), lua_set_by_lua, MG_NO_CONF, 0, &d_set},
    {"set_by_lua_block", SET_CTX, MG_RAW_BLOCK | MG_ARGS(1, 1), lua_set_by_lua, MG_NO_CONF, 0,
     &d_set},
    {"set_by_lua_file", SET_CTX, MG_ARGS(2, MG_MANY), lua_set_by_lua, MG_NO_CONF, 0, &d_set},
    CODE_LOC("server_rewrite_by_lua_block", MG_CTX_HTTP | MG_CTX_SERVER, MG_RAW_BLOCK,
             d_server_rewrite, server_rewrite),
    CODE_LOC("server_rewrite_by_lua_file", MG_CTX_HTTP | MG_CTX_SERVER, MG_ARGS(1, 1),
             d_server_rewrite, server_rewrite),
    CODE_LOC("rewrite_by_lua", ANY_LOC_IF, MG_ARGS(1, 1), d_rewrite, rewrite),
    CODE_LOC("rewrite_by_lua_block", ANY_LOC_IF, MG_RAW_BLOCK, d_rewrite, rewrite),
    CODE_LOC("rewrite_by_lua_file", ANY_LOC_IF, MG_ARGS(1, 1), d_rewrite, rewrite),
    CODE_LOC("access_by_lua", ANY_LOC_IF, MG_ARGS(1, 1), d_access, access),
    CODE_LOC("access_by_lua_block", ANY_LOC_IF, MG_RAW_BLOCK, d_access, access),
    CODE_LOC("access_by_lua_file", ANY_LOC_IF, MG_ARGS(1, 1), d_access, access),
    CODE_LOC("content_by_lua", LOC_IF, MG_ARGS(1, 1), d_content, content),
    CODE_LOC("content_by_lua_block", LOC_IF, MG_RAW_BLOCK, d_content, content),
    CODE_LOC("content_by_lua_file", LOC_IF, MG_ARGS(1, 1), d_content, content),
    CODE_LOC("log_by_lua", ANY_LOC_IF, MG_ARGS(1, 1), d_log, log),
    CODE_LOC("log_by_lua_block", ANY_LOC_IF, MG_RAW_BLOCK, d_log, log),
    CODE_LOC("log_by_lua_file", ANY_LOC_IF, MG_ARGS(1, 1), d_log, log),
    CODE_LOC("header_filter_by_lua", ANY_LOC_IF, MG_ARGS(1, 1), d_header_filter, header_filter),
    CODE_LOC("header_filter_by_lua_block", ANY_LOC_IF, MG_RAW_BLOCK, d_header_filter,
             header_filter),
    CODE_LOC("header_filter_by_lua_file", ANY_LOC_IF, MG_ARGS(1, 1), d_header_filter,
             header_filter),
    CODE_LOC("body_filter_by_lua", ANY_LOC_IF, MG_ARGS(1, 1), d_body_filter, body_filter),
    CODE_LOC("body_filter_by_lua_block", ANY_LOC_IF, MG_RAW_BLOCK, d_body_filter, body_filter),
    CODE_LOC("body_filter_by_lua_file", ANY_LOC_IF, MG_ARGS(1, 1), d_body_filter, body_filter),
    MG_LUA_MAIN_COMMANDS(MG_CTX_HTTP),
    MG_LUA_LOC_COMMANDS(ANY_LOC_IF),
    MG_LUA_SSL_COMMANDS(MG_HTTP_ANY_LOC),
    {"rewrite_by_lua_no_postpone", MG_CTX_HTTP, MG_FLAG, mg_conf_set_flag, MG_MAIN_CONF,
     offsetof(mg_lua_main_conf_t, rewrite_no_postpone), NULL},
    {"access_by_lua_no_postpone", MG_CTX_HTTP, MG_FLAG, mg_conf_set_flag, MG_MAIN_CONF,
     offsetof(mg_lua_main_conf_t, access_no_postpone), NULL},
    {"lua_worker_thread_vm_pool_size", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(mg_lua_main_conf_t, worker_thread_vm_pool_size), NULL},
    {"lua_thread_cache_max_entries", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_num, MG_MAIN_CONF,
     offsetof(mg_lua_main_conf_t, thread_cache_max), NULL},
    {"lua_malloc_trim", MG_CTX_HTTP, MG_ARGS(1, 1), lua_set_malloc_trim, MG_MAIN_CONF, 0, NULL},
    {"lua_need_request_body", ANY_LOC_IF, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(mg_lua_loc_conf_t, need_request_body), NULL},
    {"lua_transform_underscores_in_response_headers", ANY_LOC_IF, MG_FLAG, mg_conf_set_flag,
     MG_LOC_CONF, offsetof(mg_lua_loc_conf_t, transform_underscores), NULL},
    {"lua_check_client_abort", ANY_LOC_IF, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(mg_lua_loc_conf_t, check_client_abort), NULL},
    {"lua_http10_buffering", ANY_LOC_IF, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(mg_lua_loc_conf_t, http10_buffering), NULL},
    {"lua_use_default_type", ANY_LOC_IF, MG_FLAG, mg_conf_set_flag, MG_LOC_CONF,
     offsetof(mg_lua_loc_conf_t, use_default_type), NULL},
    {"lua_socket_send_lowat", ANY_LOC_IF, MG_ARGS(1, 1), lua_set_send_lowat, MG_LOC_CONF,
     offsetof(mg_lua_loc_conf_t, socket_send_lowat), NULL},
    {0},
#undef CODE_MAIN
#undef CODE_LOC
};

void *mg_lua_create_main_conf(mg_conf_t *cf)
{
    mg_lua_main_conf_t *lmcf = mg_pcalloc(cf->pool, sizeof(mg_lua_main_conf_t));
    lmcf->cycle = cf->cycle;
    lmcf->rewrite_no_postpone = MG_CONF_UNSET;
    lmcf->access_no_postpone = MG_CONF_UNSET;
    lmcf->regex_match_limit = MG_CONF_UNSET;
    lmcf->sa_restart = MG_CONF_UNSET;
    lmcf->regex_cache_max_entries = MG_CONF_UNSET;
    lmcf->max_pending_timers = MG_CONF_UNSET;
    lmcf->max_running_timers = MG_CONF_UNSET;
    lmcf->worker_thread_vm_pool_size = MG_CONF_UNSET;
    lmcf->thread_cache_max = MG_CONF_UNSET;
    lmcf->malloc_trim = MG_CONF_UNSET;
    return lmcf;
}

void mg_lua_init_main_defaults(mg_lua_main_conf_t *lmcf)
{
    mg_conf_merge(lmcf->rewrite_no_postpone, MG_CONF_UNSET, 0);
    mg_conf_merge(lmcf->access_no_postpone, MG_CONF_UNSET, 0);
    mg_conf_merge(lmcf->regex_match_limit, MG_CONF_UNSET, 0);
    mg_conf_merge(lmcf->sa_restart, MG_CONF_UNSET, 1);
    mg_conf_merge(lmcf->regex_cache_max_entries, MG_CONF_UNSET, 1024);
    mg_conf_merge(lmcf->max_pending_timers, MG_CONF_UNSET, 1024);
    mg_conf_merge(lmcf->max_running_timers, MG_CONF_UNSET, 256);
    mg_conf_merge(lmcf->worker_thread_vm_pool_size, MG_CONF_UNSET, 10);
    mg_conf_merge(lmcf->thread_cache_max, MG_CONF_UNSET, 1024);
}

static const char *lua_init_main_conf(mg_conf_t *cf, void *conf)
{
    mg_lua_main_conf_t *lmcf = conf;
    mg_lua_init_main_defaults(lmcf);
    /* timers have no location: their cosockets take the http{} level's settings, which
     * get their defaults here (servers then inherit them as they would the unset values) */
    mg_lua_loc_conf_t *http = cf->cycle->http->loc_conf[mg_lua_module.index];
    lmcf->conf = http;
    return mg_lua_merge_common(cf, lmcf, http, NULL);
}

void *mg_lua_create_loc_conf(mg_conf_t *cf)
{
    mg_lua_loc_conf_t *llcf = mg_pcalloc(cf->pool, sizeof(mg_lua_loc_conf_t));
    llcf->code_cache = MG_CONF_UNSET;
    llcf->need_request_body = MG_CONF_UNSET;
    llcf->transform_underscores = MG_CONF_UNSET;
    llcf->socket_connect_timeout = MG_CONF_UNSET;
    llcf->socket_send_timeout = MG_CONF_UNSET;
    llcf->socket_read_timeout = MG_CONF_UNSET;
    llcf->socket_keepalive_timeout = MG_CONF_UNSET;
    llcf->socket_buffer_size = MG_CONF_UNSET_SIZE;
    llcf->socket_pool_size = MG_CONF_UNSET;
    llcf->socket_log_errors = MG_CONF_UNSET;
    llcf->check_client_abort = MG_CONF_UNSET;
    llcf->http10_buffering = MG_CONF_UNSET;
    llcf->use_default_type = MG_CONF_UNSET;
    llcf->socket_send_lowat = MG_CONF_UNSET_SIZE;
    mg_ssl_client_conf_init(&llcf->ssl);
    return llcf;
}

/* lua-nginx-module's defaults: 60 s timeouts, a page-sized buffer, pools of 30. */
static void merge_socket_conf(mg_lua_loc_conf_t *c, const mg_lua_loc_conf_t *p)
{
    mg_conf_merge(c->socket_connect_timeout, p->socket_connect_timeout, 60000);
    mg_conf_merge(c->socket_send_timeout, p->socket_send_timeout, 60000);
    mg_conf_merge(c->socket_read_timeout, p->socket_read_timeout, 60000);
    mg_conf_merge(c->socket_keepalive_timeout, p->socket_keepalive_timeout, 60000);
    mg_conf_merge_size(c->socket_buffer_size, p->socket_buffer_size, (size_t)getpagesize());
    mg_conf_merge(c->socket_pool_size, p->socket_pool_size, 30);
    mg_conf_merge(c->socket_log_errors, p->socket_log_errors, 1);
    mg_conf_merge(c->check_client_abort, p->check_client_abort, 0);
}

const char *mg_lua_merge_common(mg_conf_t *cf, const mg_lua_main_conf_t *lmcf, mg_lua_loc_conf_t *c,
                                mg_lua_loc_conf_t *p)
{
    int top = p == NULL;
    if (top) {
        p = mg_lua_create_loc_conf(cf);
    }
    /* a level without a phase's code takes its parent's (each layer sets only its phases');
     * http's content is used only where the location's handler is this module's: an "if"
     * inside the location that has it (a nested location gets no handler from its parent) */
    struct {
        mg_lua_code_t **code;
        mg_lua_code_t *prev;
    } codes[] = {
        {&c->server_rewrite, p->server_rewrite},
        {&c->rewrite, p->rewrite},
        {&c->access, p->access},
        {&c->content, p->content},
        {&c->log, p->log},
        {&c->header_filter, p->header_filter},
        {&c->body_filter, p->body_filter},
        {&c->preread, p->preread},
    };
    for (size_t i = 0; i < mg_nelems(codes); i++) {
        if (*codes[i].code == NULL) {
            *codes[i].code = codes[i].prev;
        }
    }
    mg_conf_merge(c->code_cache, p->code_cache, 1);
    merge_socket_conf(c, p);
    /* lua-nginx-module's lua_ssl_* defaults: TLSv1 to TLSv1.2, ciphers DEFAULT, depth 1; one
     * client context at the top level, shared by every level below that sets nothing. None
     * without Lua code in the block (each *_by_lua* made the VM at its directive, before any
     * merge) and without a lua_ssl_* here or above: no cosocket can ask for it, and made
     * anyway it is OpenSSL's every algorithm fetched, ~2 MiB of a worker's RSS with nothing
     * else configured (t/481); a lua_ssl_* line still makes one, so -t reports its errors as
     * nginx's does */
    int none = lmcf->L == NULL && mg_ssl_client_conf_unset(&c->ssl) && p->ssl.ctx == NULL;
    mg_ssl_client_conf_merge(&c->ssl, &p->ssl, MG_SSL_TLSv1 | MG_SSL_TLSv1_1 | MG_SSL_TLSv1_2,
                             "DEFAULT", 1);
    if (none) {
        return MG_CONF_OK;
    }
    if (mg_ssl_client_ctx_shared(cf, &c->ssl, top ? NULL : &p->ssl) != MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const char *lua_merge_loc_conf(mg_conf_t *cf, void *prev, void *conf)
{
    mg_lua_loc_conf_t *p = prev, *c = conf;
    mg_conf_merge(c->need_request_body, p->need_request_body, 0);
    mg_conf_merge(c->transform_underscores, p->transform_underscores, 1);
    mg_conf_merge(c->http10_buffering, p->http10_buffering, 1);
    mg_conf_merge(c->use_default_type, p->use_default_type, 1);
    return mg_lua_merge_common(cf, mg_http_conf_get_main(cf, mg_lua_module), c, p);
}

/* ---- request phases ---- */

static mg_int_t lua_server_rewrite_handler(mg_request_t *r);
static mg_int_t lua_rewrite_handler(mg_request_t *r);
static mg_int_t lua_access_handler(mg_request_t *r);

static void body_read_done(mg_request_t *r)
{
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    ctx->body_read = 1;
    if (!ctx->body_waiting) {
        return; /* read at once, the handler goes on by itself */
    }
    ctx->body_waiting = 0;
    /* the phase handler that waited runs its entry now, and its answer is the phase's */
    mg_http_handler_pt h = ctx->phase == MG_LUA_CONTENT          ? lua_content_handler
                           : ctx->phase == MG_LUA_ACCESS         ? lua_access_handler
                           : ctx->phase == MG_LUA_SERVER_REWRITE ? lua_server_rewrite_handler
                                                                 : lua_rewrite_handler;
    mg_http_phase_resume(r, h(r));
}

/* lua_need_request_body: the whole body is read before the first Lua entry runs. */
static mg_int_t need_body(mg_request_t *r, mg_lua_ctx_t *ctx, unsigned phase)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    if (!llcf->need_request_body || ctx->body_read) {
        return MG_OK;
    }
    ctx->phase = phase;
    r->request_body_in_clean_file = 1; /* as lua-nginx-module: no body file outlives it */
    mg_int_t rc = mg_http_read_client_request_body(r, body_read_done);
    if (rc >= MG_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }
    if (ctx->body_read) {
        return MG_OK;
    }
    ctx->body_waiting = 1;
    return MG_AGAIN;
}

static mg_int_t lua_phase_handler(mg_request_t *r, mg_lua_code_t *code, unsigned phase)
{
    if (code == NULL) {
        return MG_DECLINED;
    }
    mg_lua_ctx_t *ctx = mg_lua_get_ctx(r);
    if (ctx->waiting || ctx->body_waiting) {
        return MG_AGAIN;
    }
    /* an entry runs once per location: the phase engine comes back to this handler after
     * the request body arrived */
    if ((phase == MG_LUA_SERVER_REWRITE && ctx->entered_server_rewrite) ||
        (phase == MG_LUA_REWRITE && ctx->entered_rewrite) ||
        (phase == MG_LUA_ACCESS && ctx->entered_access)) {
        return MG_DECLINED;
    }
    mg_int_t rc = need_body(r, ctx, phase);
    if (rc != MG_OK) {
        return rc;
    }
    if (phase == MG_LUA_SERVER_REWRITE) {
        ctx->entered_server_rewrite = 1;
    } else if (phase == MG_LUA_REWRITE) {
        ctx->entered_rewrite = 1;
    } else if (phase == MG_LUA_ACCESS) {
        ctx->entered_access = 1;
    } else {
        ctx->entered_content = 1;
    }
    return mg_lua_run_entry(r, code, phase);
}

static mg_int_t lua_server_rewrite_handler(mg_request_t *r)
{
    /* the server's configuration: no location is chosen yet */
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    return lua_phase_handler(r, llcf->server_rewrite, MG_LUA_SERVER_REWRITE);
}

static mg_int_t lua_rewrite_handler(mg_request_t *r)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    return lua_phase_handler(r, llcf->rewrite, MG_LUA_REWRITE);
}

static mg_int_t lua_access_handler(mg_request_t *r)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    return lua_phase_handler(r, llcf->access, MG_LUA_ACCESS);
}

static mg_int_t lua_content_handler(mg_request_t *r)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    return lua_phase_handler(r, llcf->content, MG_LUA_CONTENT);
}

/* lua_malloc_trim: every N requests that reach the log phase (main requests, and
 * subrequests with log_subrequest on), malloc_trim(1) gives glibc's free heap pages back, as
 * lua-nginx-module does. The worker's own idle trim (server.c) is apart: it runs once the worker
 * has no connection, so an always busy worker trims only here. */
static mg_int_t lua_trim_handler(mg_request_t *r)
{
    mg_lua_main_conf_t *lmcf = mg_http_get_main_conf(r, mg_lua_module);
    if (++lmcf->trim_nreq >= lmcf->malloc_trim) {
        lmcf->trim_nreq = 0;
#ifdef __GLIBC__
        int rc = malloc_trim(1);
        mg_debug_http(&r->connection->log, "malloc_trim(1) returned %d", rc);
        (void)rc;
#endif
    }
    return MG_DECLINED;
}

static mg_int_t lua_log_handler(mg_request_t *r)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(r, mg_lua_module);
    if (llcf->log == NULL) {
        return MG_DECLINED;
    }
    mg_lua_main_conf_t *lmcf = mg_http_get_main_conf(r, mg_lua_module);
    int top = lua_gettop(lmcf->L);
    mg_lua_call(lmcf, r, llcf->log, MG_LUA_LOG, 0, 0);
    lua_settop(lmcf->L, top);
    return MG_OK;
}

/* ---- lua_check_client_abort and ngx.on_abort ---- */

/* The client closed its connection while the request's Lua code waits: ngx.on_abort's
 * function runs (once; the request goes on unless it calls ngx.exit), else the request ends
 * with 499, which frees its coroutines, timers and cosockets. */
static void client_aborted(mg_request_t *r)
{
    mg_lua_ctx_t *ctx = mg_http_get_ctx(r, mg_lua_module);
    if (ctx == NULL || !ctx->waiting) {
        return;
    }
    if (ctx->abort_co) {
        mg_lua_thread_start(ctx->abort_co);
        return;
    }
    mg_http_finalize_request(r, MG_HTTP_CLIENT_CLOSED_REQUEST);
}

static const mg_http_abort_t lua_abort = {client_aborted, NULL, NULL};

void mg_lua_watch_client(mg_lua_ctx_t *ctx)
{
    mg_lua_loc_conf_t *llcf = mg_http_get_loc_conf(ctx->r, mg_lua_module);
    if (llcf->check_client_abort) {
        mg_http_watch_client(ctx->r, &lua_abort);
    }
}

void mg_lua_unwatch_client(mg_lua_ctx_t *ctx)
{
    mg_http_unwatch_client(ctx->r, &lua_abort);
}

int mg_lua_on_abort(lua_State *L)
{
    mg_lua_ctx_t *ctx = mg_lua_cur.ctx;
    /* as lua-nginx-module, a request's duplicate call or lua_check_client_abort off is
     * answered before the context is checked: a filter, log or set code gets nil and why */
    if (ctx != NULL && (ctx->r != NULL || ctx->s != NULL)) {
        if (ctx->abort_co) {
            lua_pushnil(L);
            lua_pushliteral(L, "duplicate call");
            return 2;
        }
        if (!mg_lua_ctx_conf(ctx)->check_client_abort) {
            lua_pushnil(L);
            lua_pushliteral(L, "lua_check_client_abort is off");
            return 2;
        }
    }
    mg_lua_check_phase(L, MG_LUA_REWRITE | MG_LUA_ACCESS | MG_LUA_CONTENT);
    if (ctx == NULL || mg_lua_cur.co == NULL || (ctx->r == NULL && ctx->s == NULL)) {
        return luaL_error(L, "no request ctx found");
    }
    if (lua_type(L, 1) != LUA_TFUNCTION) {
        return luaL_argerror(L, 1, "Lua function expected");
    }
    lua_settop(L, 1);
    ctx->abort_co = mg_lua_thread_new(ctx, L);
    lua_pushinteger(L, 1);
    return 1;
}

/* nginx's postponing: rewrite_by_lua and access_by_lua run after the other modules' handlers
 * of their phase (rewrite_by_lua_no_postpone puts rewrite first); log_by_lua runs first. */
static mg_int_t lua_init(mg_conf_t *cf)
{
    mg_lua_main_conf_t *lmcf = mg_http_conf_get_main(cf, mg_lua_module);
    /* as lua-nginx-module's: requests are counted by its log handler, which is there for
     * log_by_lua* or for lua_malloc_trim N > 0; the default N (1000) applies to the former */
    if (lmcf->malloc_trim == MG_CONF_UNSET) {
        lmcf->malloc_trim = (lmcf->phases & MG_LUA_LOG) ? 1000 : 0;
    }
    if (lmcf->malloc_trim > 0) {
        mg_http_add_phase_handler(cf, MG_HTTP_LOG_PHASE, lua_trim_handler);
    }
    if (lmcf->L == NULL) {
        return MG_OK;
    }
    if (lmcf->phases & MG_LUA_SERVER_REWRITE) {
        mg_http_add_phase_handler_last(cf, MG_HTTP_SERVER_REWRITE_PHASE,
                                       lua_server_rewrite_handler);
    }
    if (lmcf->phases & MG_LUA_REWRITE) {
        if (lmcf->rewrite_no_postpone) {
            mg_http_add_phase_handler(cf, MG_HTTP_REWRITE_PHASE, lua_rewrite_handler);
        } else {
            mg_http_add_phase_handler_last(cf, MG_HTTP_REWRITE_PHASE, lua_rewrite_handler);
        }
    }
    if (lmcf->phases & MG_LUA_ACCESS) {
        if (lmcf->access_no_postpone) {
            mg_http_add_phase_handler(cf, MG_HTTP_ACCESS_PHASE, lua_access_handler);
        } else {
            mg_http_add_phase_handler_last(cf, MG_HTTP_ACCESS_PHASE, lua_access_handler);
        }
    }
    if (lmcf->phases & MG_LUA_LOG) {
        /* lua-nginx-module's log handler runs before the others: what log_by_lua sets (a
         * variable) reaches the access log */
        mg_http_add_phase_handler_first(cf, MG_HTTP_LOG_PHASE, lua_log_handler);
    }
    /* ngx.on_abort is this module's: it belongs with lua_check_client_abort */
    lua_getglobal(lmcf->L, "ngx");
    lua_pushcfunction(lmcf->L, mg_lua_on_abort);
    lua_setfield(lmcf->L, -2, "on_abort");
    lua_pop(lmcf->L, 1);
    return mg_lua_vm_ready(cf, lmcf);
}

/* lua_sa_restart: SA_RESTART on (or off) every signal the worker catches, so that a blocking
 * call of Lua code (io.read on a pipe) is not cut short by a signal the worker handles
 * (libevent's handlers set it already; "off" clears it, as nginx's own handlers have it). */
static void set_sa_restart(int on)
{
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0 ||
            sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) {
            continue;
        }
        int flags = on ? sa.sa_flags | SA_RESTART : sa.sa_flags & ~SA_RESTART;
        if (flags != sa.sa_flags) {
            sa.sa_flags = flags;
            sigaction(sig, &sa, NULL);
        }
    }
}

void mg_lua_sa_restart(mg_cycle_t *cycle)
{
    if (cycle->server && cycle->server->on_done) {
        return; /* not an embedding program's handlers */
    }
    /* "on" in either block sets it, as each OpenResty module's worker start does; "off"
     * clears it only when no block says on */
    int on = -1;
    if (cycle->http) {
        mg_lua_main_conf_t *lmcf = cycle->http->main_conf[mg_lua_module.index];
        on = (int)lmcf->sa_restart;
    }
    if (cycle->stream) {
        mg_lua_main_conf_t *lmcf = cycle->stream->main_conf[mg_stream_lua_module.index];
        on = on == 1 ? 1 : (int)lmcf->sa_restart;
    }
    if (on >= 0) {
        set_sa_restart(on);
    }
}

static size_t init_worker_log_handler(mg_log_t *log, char *buf, size_t len)
{
    (void)log;
    return (size_t)(mg_sprintf_end(buf, buf + len, ", context: init_worker_by_lua*") - buf);
}

static mg_int_t lua_init_worker(mg_cycle_t *cycle)
{
    mg_lua_sa_restart(cycle);
    if (cycle->http == NULL) {
        return MG_OK;
    }
    mg_lua_main_conf_t *lmcf = cycle->http->main_conf[mg_lua_module.index];
    if (lmcf->L == NULL || lmcf->init_worker == NULL) {
        return MG_OK;
    }
    mg_log_use(&lmcf->worker_log, cycle->log);
    if (cycle->server) {
        lmcf->worker_log.connection = mg_conn_number(cycle->server, cycle);
    }
    lmcf->worker_log.handler = init_worker_log_handler;
    int top = lua_gettop(lmcf->L);
    mg_lua_call(lmcf, NULL, lmcf->init_worker, MG_LUA_INIT_WORKER, 0, 0);
    lua_settop(lmcf->L, top);
    return MG_OK;
}

static void lua_exit_worker(mg_cycle_t *cycle)
{
    if (cycle->http == NULL) {
        return;
    }
    mg_lua_main_conf_t *lmcf = cycle->http->main_conf[mg_lua_module.index];
    if (lmcf->L == NULL) {
        return;
    }
    if (lmcf->exit_worker) {
        int top = lua_gettop(lmcf->L);
        mg_lua_call(lmcf, NULL, lmcf->exit_worker, MG_LUA_EXIT_WORKER, 0, 0);
        lua_settop(lmcf->L, top);
    }
    mg_lua_pipe_exit_worker(lmcf); /* while the event loop exists (lua_close comes after it) */
}

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t lua_defaults[] = {
    {"lua_package_path", "the content of LUA_PATH or Lua's compiled-in defaults"},
    {"lua_package_cpath", "the content of LUA_CPATH or Lua's compiled-in defaults"},
    {"lua_load_resty_core", "on"},
    {"lua_capture_error_log", "none"},
    {"lua_malloc_trim", "1000"},
    {"lua_socket_send_lowat", "0"},
    {"lua_code_cache", "on"},
    {"lua_ssl_protocols", "TLSv1 TLSv1.1 TLSv1.2"},
    {"init_by_lua", MG_NO_DEFAULT},
    {"init_by_lua_block", MG_NO_DEFAULT},
    {"init_by_lua_file", MG_NO_DEFAULT},
    {"init_worker_by_lua", MG_NO_DEFAULT},
    {"init_worker_by_lua_block", MG_NO_DEFAULT},
    {"init_worker_by_lua_file", MG_NO_DEFAULT},
    {"exit_worker_by_lua_block", MG_NO_DEFAULT},
    {"exit_worker_by_lua_file", MG_NO_DEFAULT},
    {"set_by_lua", MG_NO_DEFAULT},
    {"set_by_lua_block", MG_NO_DEFAULT},
    {"set_by_lua_file", MG_NO_DEFAULT},
    {"server_rewrite_by_lua_block", MG_NO_DEFAULT},
    {"server_rewrite_by_lua_file", MG_NO_DEFAULT},
    {"rewrite_by_lua", MG_NO_DEFAULT},
    {"rewrite_by_lua_block", MG_NO_DEFAULT},
    {"rewrite_by_lua_file", MG_NO_DEFAULT},
    {"access_by_lua", MG_NO_DEFAULT},
    {"access_by_lua_block", MG_NO_DEFAULT},
    {"access_by_lua_file", MG_NO_DEFAULT},
    {"content_by_lua", MG_NO_DEFAULT},
    {"content_by_lua_block", MG_NO_DEFAULT},
    {"content_by_lua_file", MG_NO_DEFAULT},
    {"log_by_lua", MG_NO_DEFAULT},
    {"log_by_lua_block", MG_NO_DEFAULT},
    {"log_by_lua_file", MG_NO_DEFAULT},
    {"header_filter_by_lua", MG_NO_DEFAULT},
    {"header_filter_by_lua_block", MG_NO_DEFAULT},
    {"header_filter_by_lua_file", MG_NO_DEFAULT},
    {"body_filter_by_lua", MG_NO_DEFAULT},
    {"body_filter_by_lua_block", MG_NO_DEFAULT},
    {"body_filter_by_lua_file", MG_NO_DEFAULT},
    {"lua_shared_dict", MG_NO_DEFAULT},
    {"lua_ssl_password_file", MG_NO_DEFAULT},
    {"lua_ssl_conf_command", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_lua_module = {
    .name = "lua",
    .commands = lua_commands,
    .defaults = lua_defaults,
    .create_main_conf = mg_lua_create_main_conf,
    .init_main_conf = lua_init_main_conf,
    .create_loc_conf = mg_lua_create_loc_conf,
    .merge_loc_conf = lua_merge_loc_conf,
    .init = lua_init,
    .init_filters = mg_lua_filters_init,
    .init_worker = lua_init_worker,
    .exit_worker = lua_exit_worker,
};
