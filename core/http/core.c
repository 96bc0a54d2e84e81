/*
 * The http_core module: server and location blocks, listen, server_name, root/alias, types,
 * limit_except and satisfy, and the connection and body limits and timeouts, with nginx's
 * defaults and inheritance.
 */
#include <unistd.h>

#include "conn.h"
#include "hash_size.h"
#include "script.h"
#include "thread_pool.h"
#include "variables.h"

void **mg_http_create_loc_confs(mg_conf_t *cf);
void **mg_http_create_srv_confs(mg_conf_t *cf);

/* ---- conf constructors and mergers ---- */

static void *core_create_main_conf(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_pcalloc(cf->pool, sizeof(mg_http_main_conf_t));
    mg_array_init(&cmcf->servers, cf->pool, 4, sizeof(mg_http_srv_conf_t *));
    mg_array_init(&cmcf->listen, cf->pool, 4, sizeof(mg_http_listen_t));
    mg_array_init(&cmcf->variables, cf->pool, 16, sizeof(mg_http_variable_t));
    mg_array_init(&cmcf->all_variables, cf->pool, 64, sizeof(mg_http_variable_t *));
    mg_array_init(&cmcf->prefix_variables, cf->pool, 8, sizeof(mg_http_variable_t *));
    for (int i = 0; i < MG_HTTP_NPHASES; i++) {
        mg_array_init(&cmcf->phases[i], cf->pool, 2, sizeof(mg_http_handler_pt));
    }
    cmcf->ncaptures = 9;
    cmcf->server_names_hash_max_size = MG_CONF_UNSET;
    cmcf->server_names_hash_bucket_size = MG_CONF_UNSET;
    cmcf->variables_hash_max_size = MG_CONF_UNSET;
    cmcf->variables_hash_bucket_size = MG_CONF_UNSET;
    return cmcf;
}

static const char *core_init_main_conf(mg_conf_t *cf, void *conf)
{
    (void)cf;
    mg_http_main_conf_t *cmcf = conf;
    mg_conf_merge(cmcf->server_names_hash_max_size, MG_CONF_UNSET, 512);
    mg_conf_merge(cmcf->server_names_hash_bucket_size, MG_CONF_UNSET, MG_HASH_CACHELINE);
    mg_conf_merge(cmcf->variables_hash_max_size, MG_CONF_UNSET, 1024);
    mg_conf_merge(cmcf->variables_hash_bucket_size, MG_CONF_UNSET, 64);
    return MG_CONF_OK;
}

static void *core_create_srv_conf(mg_conf_t *cf)
{
    mg_http_srv_conf_t *cscf = mg_pcalloc(cf->pool, sizeof(mg_http_srv_conf_t));
    mg_array_init(&cscf->server_names, cf->pool, 2, sizeof(mg_http_server_name_t));
    mg_array_init(&cscf->named_locations, cf->pool, 2, sizeof(mg_http_loc_conf_t *));
    cscf->client_header_buffer_size = MG_CONF_UNSET_SIZE;
    cscf->large_client_header_buffers_size = MG_CONF_UNSET_SIZE;
    cscf->large_client_header_buffers_num = MG_CONF_UNSET;
    cscf->client_header_timeout = MG_CONF_UNSET;
    cscf->merge_slashes = MG_CONF_UNSET;
    cscf->underscores_in_headers = MG_CONF_UNSET;
    cscf->ignore_invalid_headers = MG_CONF_UNSET;
    cscf->connection_pool_size = MG_CONF_UNSET_SIZE;
    cscf->request_pool_size = MG_CONF_UNSET_SIZE;
    if (cf->src) {
        cscf->file = mg_conf_file(cf);
    }
    return cscf;
}

static const char *core_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    mg_http_srv_conf_t *prev = parent, *conf = child;
    mg_conf_merge_size(conf->client_header_buffer_size, prev->client_header_buffer_size, 1024);
    mg_conf_merge_size(conf->large_client_header_buffers_size, prev->large_client_header_buffers_size, 8192);
    mg_conf_merge(conf->large_client_header_buffers_num, prev->large_client_header_buffers_num, 4);
    mg_conf_merge(conf->client_header_timeout, prev->client_header_timeout, 60000);
    mg_conf_merge(conf->merge_slashes, prev->merge_slashes, 1);
    mg_conf_merge(conf->underscores_in_headers, prev->underscores_in_headers, 0);
    mg_conf_merge(conf->ignore_invalid_headers, prev->ignore_invalid_headers, 1);
    /* nginx's defaults are 512 and 4k; a moongate connection keeps more of its state in its
     * pool, whose blocks are 2k unless told */
    mg_conf_merge_size(conf->connection_pool_size, prev->connection_pool_size, 512);
    mg_conf_merge_size(conf->request_pool_size, prev->request_pool_size, 4096);
    /* as nginx's: a long header line is moved into one of these buffers, which come from
     * the connection's pool */
    if (conf->large_client_header_buffers_size < conf->connection_pool_size) {
        mg_conf_error(cf, 0,
                      "the \"large_client_header_buffers\" size must be equal to or greater "
                      "than \"connection_pool_size\"");
        return MG_CONF_ERROR;
    }
    mg_server_names_default(cf, &conf->server_names, conf);
    return MG_CONF_OK;
}

static void *core_create_loc_conf(mg_conf_t *cf)
{
    mg_http_loc_conf_t *clcf = mg_pcalloc(cf->pool, sizeof(mg_http_loc_conf_t));
    clcf->internal = MG_CONF_UNSET;
    clcf->alias = MG_CONF_UNSET;
    clcf->types = MG_CONF_UNSET_PTR;
    clcf->types_hash_max_size = MG_CONF_UNSET;
    clcf->types_hash_bucket_size = MG_CONF_UNSET;
    clcf->client_max_body_size = MG_CONF_UNSET_SIZE;
    clcf->client_body_buffer_size = MG_CONF_UNSET_SIZE;
    clcf->client_body_timeout = MG_CONF_UNSET;
    clcf->send_timeout = MG_CONF_UNSET;
    clcf->keepalive_timeout = MG_CONF_UNSET;
    clcf->keepalive_header = MG_CONF_UNSET;
    clcf->keepalive_requests = MG_CONF_UNSET;
    clcf->keepalive_time = MG_CONF_UNSET;
    clcf->lingering_time = MG_CONF_UNSET;
    clcf->lingering_timeout = MG_CONF_UNSET;
    clcf->lingering_close = MG_CONF_UNSET;
    clcf->keepalive_disable = 0; /* no bits: not given */
    clcf->reset_timedout_connection = MG_CONF_UNSET;
    clcf->send_lowat = MG_CONF_UNSET_SIZE;
    clcf->server_tokens = MG_CONF_UNSET;
    clcf->chunked_transfer_encoding = MG_CONF_UNSET;
    clcf->absolute_redirect = MG_CONF_UNSET;
    clcf->port_in_redirect = MG_CONF_UNSET;
    clcf->server_name_in_redirect = MG_CONF_UNSET;
    clcf->msie_padding = MG_CONF_UNSET;
    clcf->msie_refresh = MG_CONF_UNSET;
    clcf->log_subrequest = MG_CONF_UNSET;
    clcf->auth_delay = MG_CONF_UNSET;
    clcf->subrequest_output_buffer_size = MG_CONF_UNSET_SIZE;
    clcf->log_not_found = MG_CONF_UNSET;
    clcf->tcp_nodelay = MG_CONF_UNSET;
    clcf->sendfile = MG_CONF_UNSET;
    clcf->tcp_nopush = MG_CONF_UNSET;
    clcf->sendfile_max_chunk = MG_CONF_UNSET_SIZE;
    clcf->postpone_output = MG_CONF_UNSET_SIZE;
    clcf->output_buffers_num = MG_CONF_UNSET;
    clcf->limit_rate = MG_CONF_UNSET_PTR;
    clcf->limit_rate_after = MG_CONF_UNSET_PTR;
    clcf->error_log = MG_CONF_UNSET_PTR;
    clcf->error_pages = MG_CONF_UNSET_PTR;
    clcf->recursive_error_pages = MG_CONF_UNSET;
    clcf->satisfy = MG_CONF_UNSET;
    clcf->open_file_cache = MG_CONF_UNSET_PTR;
    clcf->open_file_cache_valid = MG_CONF_UNSET;
    clcf->open_file_cache_min_uses = MG_CONF_UNSET;
    clcf->open_file_cache_errors = MG_CONF_UNSET;
    clcf->open_file_cache_events = MG_CONF_UNSET;
    clcf->disable_symlinks = MG_CONF_UNSET;
    clcf->read_ahead = MG_CONF_UNSET_SIZE;
    clcf->aio = MG_CONF_UNSET;
    clcf->aio_write = MG_CONF_UNSET;
    clcf->directio = MG_CONF_UNSET;
    clcf->directio_alignment = MG_CONF_UNSET;
    clcf->client_body_in_file_only = MG_CONF_UNSET;
    clcf->client_body_in_single_buffer = MG_CONF_UNSET;
    clcf->resolver = MG_CONF_UNSET_PTR;
    clcf->resolver_timeout = MG_CONF_UNSET;
    return clcf;
}

static mg_int_t check_types_hash(mg_conf_t *cf, mg_http_loc_conf_t *clcf)
{
    mg_hash_keys_t keys;
    mg_hash_keys_init(&keys);
    mg_http_type_t *t = clcf->types->elts;
    for (size_t i = 0; i < clcf->types->nelts; i++) {
        mg_hash_keys_add(&keys, t[i].exten);
    }
    mg_int_t rc = mg_hash_keys_check(cf, &keys, "types_hash", clcf->types_hash_max_size,
                                     clcf->types_hash_bucket_size);
    mg_hash_keys_free(&keys);
    return rc;
}

static mg_array_t *cmcf_default_types(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    return cmcf->default_types;
}

/* One array per http{} block, shared by its locations (never a process-wide cache: a
 * generation's pool may be freed and another one get its address). */
static mg_array_t *default_types(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    if (cmcf->default_types) {
        return cmcf->default_types;
    }
    static const char *defs[][2] = { { "html", "text/html" }, { "gif", "image/gif" },
                                     { "jpg", "image/jpeg" } };
    mg_array_t *types = mg_array_create(cf->pool, 4, sizeof(mg_http_type_t));
    cmcf->default_types = types;
    for (size_t i = 0; i < mg_nelems(defs); i++) {
        mg_http_type_t *t = mg_array_push(types);
        t->exten.data = (char *)defs[i][0];
        t->exten.len = strlen(defs[i][0]);
        t->type.data = (char *)defs[i][1];
        t->type.len = strlen(defs[i][1]);
    }
    return types;
}

static const char *core_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    mg_http_loc_conf_t *prev = parent, *conf = child;
    if (conf->root.data == NULL) {
        conf->alias = prev->alias;
        conf->alias_skip = prev->alias_skip;
        conf->root = prev->root;
        conf->root_cv = prev->root_cv;
        if (conf->root.data == NULL) {
            mg_str_t html = mg_string("html");
            conf->root = mg_conf_full_name(cf->cycle, html, 0);
            conf->alias = 0;
        }
    }
    if (conf->alias == MG_CONF_UNSET) {
        conf->alias = 0;
    }
    mg_conf_merge(conf->internal, MG_CONF_UNSET, 0);
    mg_conf_merge(conf->types_hash_max_size, prev->types_hash_max_size, 1024);
    mg_conf_merge(conf->types_hash_bucket_size, prev->types_hash_bucket_size, 64);
    if (conf->types == MG_CONF_UNSET_PTR && prev->types != MG_CONF_UNSET_PTR) {
        conf->types_checked = prev->types_checked;
    }
    mg_conf_merge_ptr(conf->types, prev->types, default_types(cf));
    if (!conf->types_checked && conf->types != cmcf_default_types(cf)) {
        /* nginx builds a types hash where a level has its own types (or inherits some whose
         * hash was not built yet) */
        if (check_types_hash(cf, conf) != MG_OK) {
            return MG_CONF_ERROR;
        }
        conf->types_checked = 1;
    }
    mg_conf_merge_str(conf->default_type, prev->default_type, "text/plain");
    mg_conf_merge_size(conf->client_max_body_size, prev->client_max_body_size, 1024 * 1024);
    /* nginx's "8k|16k": two memory pages */
    mg_conf_merge_size(conf->client_body_buffer_size, prev->client_body_buffer_size,
                       2 * (size_t)sysconf(_SC_PAGESIZE));
    mg_conf_merge(conf->client_body_timeout, prev->client_body_timeout, 60000);
    mg_conf_merge(conf->send_timeout, prev->send_timeout, 60000);
    mg_conf_merge(conf->keepalive_timeout, prev->keepalive_timeout, 75000);
    mg_conf_merge(conf->keepalive_header, prev->keepalive_header, 0);
    mg_conf_merge(conf->keepalive_requests, prev->keepalive_requests, 1000);
    mg_conf_merge(conf->keepalive_time, prev->keepalive_time, 3600000);
    mg_conf_merge(conf->lingering_time, prev->lingering_time, 30000);
    mg_conf_merge(conf->lingering_timeout, prev->lingering_timeout, 5000);
    mg_conf_merge(conf->lingering_close, prev->lingering_close, MG_HTTP_LINGERING_ON);
    if (conf->keepalive_disable == 0) {
        conf->keepalive_disable =
            prev->keepalive_disable ? prev->keepalive_disable : MG_HTTP_KEEPALIVE_DISABLE_MSIE6;
    }
    mg_conf_merge(conf->reset_timedout_connection, prev->reset_timedout_connection, 0);
    mg_conf_merge_size(conf->send_lowat, prev->send_lowat, 0);
    if (conf->server_tokens == MG_CONF_UNSET) {
        conf->server_tokens_string = prev->server_tokens_string;
    }
    mg_conf_merge(conf->server_tokens, prev->server_tokens, MG_HTTP_TOKENS_ON);
    mg_conf_merge(conf->chunked_transfer_encoding, prev->chunked_transfer_encoding, 1);
    mg_conf_merge(conf->absolute_redirect, prev->absolute_redirect, 1);
    mg_conf_merge(conf->port_in_redirect, prev->port_in_redirect, 1);
    mg_conf_merge(conf->server_name_in_redirect, prev->server_name_in_redirect, 0);
    mg_conf_merge(conf->msie_padding, prev->msie_padding, 1);
    mg_conf_merge(conf->msie_refresh, prev->msie_refresh, 0);
    mg_conf_merge(conf->log_subrequest, prev->log_subrequest, 0);
    mg_conf_merge(conf->auth_delay, prev->auth_delay, 0);
    /* nginx's default is a memory page */
    mg_conf_merge_size(conf->subrequest_output_buffer_size, prev->subrequest_output_buffer_size,
                       (size_t)sysconf(_SC_PAGESIZE));
    mg_conf_merge(conf->log_not_found, prev->log_not_found, 1);
    mg_conf_merge(conf->tcp_nodelay, prev->tcp_nodelay, 1);
    mg_conf_merge(conf->sendfile, prev->sendfile, 0);
    mg_conf_merge(conf->tcp_nopush, prev->tcp_nopush, 0);
    mg_conf_merge_size(conf->sendfile_max_chunk, prev->sendfile_max_chunk, 2 * 1024 * 1024);
    mg_conf_merge_size(conf->postpone_output, prev->postpone_output, 1460);
    if (conf->output_buffers_num == MG_CONF_UNSET) {
        conf->output_buffers_num =
            prev->output_buffers_num == MG_CONF_UNSET ? 2 : prev->output_buffers_num;
        conf->output_buffers_size =
            prev->output_buffers_num == MG_CONF_UNSET ? 32768 : prev->output_buffers_size;
    }
    mg_conf_merge_ptr(conf->limit_rate, prev->limit_rate, NULL);
    mg_conf_merge_ptr(conf->limit_rate_after, prev->limit_rate_after, NULL);
    mg_conf_merge_ptr(conf->error_log, prev->error_log, NULL);
    mg_conf_merge_ptr(conf->error_pages, prev->error_pages, NULL);
    mg_conf_merge(conf->recursive_error_pages, prev->recursive_error_pages, 0);
    mg_conf_merge_ptr(conf->resolver, prev->resolver, NULL);
    mg_conf_merge(conf->resolver_timeout, prev->resolver_timeout, 30000);
    mg_conf_merge(conf->satisfy, prev->satisfy, MG_HTTP_SATISFY_ALL);
    mg_conf_merge_ptr(conf->open_file_cache, prev->open_file_cache, NULL);
    mg_conf_merge(conf->open_file_cache_valid, prev->open_file_cache_valid, 60000);
    mg_conf_merge(conf->open_file_cache_min_uses, prev->open_file_cache_min_uses, 1);
    mg_conf_merge(conf->open_file_cache_errors, prev->open_file_cache_errors, 0);
    mg_conf_merge(conf->open_file_cache_events, prev->open_file_cache_events, 0);
    if (conf->post_action.data == NULL) {
        conf->post_action = prev->post_action;
    }
    if (conf->disable_symlinks == MG_CONF_UNSET) {
        conf->disable_symlinks =
            prev->disable_symlinks == MG_CONF_UNSET ? MG_HTTP_SYMLINKS_OFF : prev->disable_symlinks;
        conf->disable_symlinks_from = prev->disable_symlinks_from;
    }
    mg_conf_merge_size(conf->read_ahead, prev->read_ahead, 0);
    mg_conf_merge(conf->aio_write, prev->aio_write, 0);
    if (conf->aio == MG_CONF_UNSET) {
        conf->aio = prev->aio == MG_CONF_UNSET ? MG_HTTP_AIO_OFF : prev->aio;
        conf->thread_pool = prev->thread_pool;
        conf->thread_pool_name = prev->thread_pool_name;
    }
    mg_conf_merge(conf->directio, prev->directio, INT64_MAX);
    mg_conf_merge(conf->directio_alignment, prev->directio_alignment, 512);
    mg_conf_merge(conf->client_body_in_file_only, prev->client_body_in_file_only,
                  MG_HTTP_BODY_FILE_OFF);
    mg_conf_merge(conf->client_body_in_single_buffer, prev->client_body_in_single_buffer, 0);
    if (mg_http_merge_temp_path(cf, &conf->client_body_temp_path, prev->client_body_temp_path,
                                "client_body_temp") != MG_OK ||
        mg_http_merge_temp_path(cf, &conf->fastcgi_temp_path, prev->fastcgi_temp_path,
                                "fastcgi_temp") != MG_OK ||
        mg_http_merge_temp_path(cf, &conf->uwsgi_temp_path, prev->uwsgi_temp_path, "uwsgi_temp") !=
            MG_OK ||
        mg_http_merge_temp_path(cf, &conf->scgi_temp_path, prev->scgi_temp_path, "scgi_temp") !=
            MG_OK) {
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* ---- server { } ---- */

static const char *core_server(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_conf_ctx_t *http = cf->ctx_data;
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    ctx->main_conf = http->main_conf;
    mg_conf_ctx_t *saved_ctx = cf->ctx_data;
    cf->ctx_data = ctx;
    ctx->srv_conf = mg_http_create_srv_confs(cf);
    ctx->loc_conf = mg_http_create_loc_confs(cf);
    mg_http_srv_conf_t *cscf = ctx->srv_conf[mg_http_core_module.index];
    cscf->ctx = ctx;
    const char *where = mg_conf_where(cf), *colon = strrchr(where, ':');
    cscf->line = colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;
    mg_http_loc_conf_t *clcf = ctx->loc_conf[mg_http_core_module.index];
    clcf->loc_conf = ctx->loc_conf;
    mg_http_main_conf_t *cmcf = http->main_conf[mg_http_core_module.index];
    *(mg_http_srv_conf_t **)mg_array_push(&cmcf->servers) = cscf;

    unsigned saved = cf->ctx;
    cf->ctx = MG_CTX_SERVER;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->ctx = saved;
    cf->ctx_data = saved_ctx;
    if (rc != MG_OK) {
        return MG_CONF_ERROR;
    }
    if (!cscf->listen_seen) {
        /* nginx's default: *:80 for root, *:8000 otherwise */
        mg_http_listen_t *l = mg_array_push(&cmcf->listen);
        mg_str_t addr = geteuid() == 0 ? (mg_str_t)mg_string("80") : (mg_str_t)mg_string("8000");
        int wildcard;
        mg_listen_parse_addr(addr, &l->sockaddr, &l->socklen, &wildcard);
        l->wildcard = wildcard;
        mg_sockaddr_text((struct sockaddr *)&l->sockaddr, l->addr_text, sizeof(l->addr_text), 1);
        l->backlog = 511;
        l->rcvbuf = l->sndbuf = l->fastopen = l->keepalive = -1;
        l->server = cscf;
        l->file = mg_conf_file(cf);
    }
    return MG_CONF_OK;
}

/* ---- location { } ---- */

static const char *core_location(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *pclcf = conf;
    mg_conf_ctx_t *parent = cf->ctx_data;
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    ctx->main_conf = parent->main_conf;
    ctx->srv_conf = parent->srv_conf;
    cf->ctx_data = ctx;
    ctx->loc_conf = mg_http_create_loc_confs(cf);
    cf->ctx_data = parent;
    mg_http_loc_conf_t *clcf = ctx->loc_conf[mg_http_core_module.index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->parent = pclcf;
    clcf->file = mg_conf_file(cf);
    clcf->line = 0;
    const char *w = mg_conf_where(cf);
    const char *colon = strrchr(w, ':');
    clcf->line = colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;

    mg_str_t mod = mg_null_string, name;
    if (cf->nargs == 3) {
        mod = cf->args[1];
        name = cf->args[2];
    } else {
        name = cf->args[1];
        if (name.len > 1 && name.data[0] == '=') {
            mod.data = "=";
            mod.len = 1;
            name.data++;
            name.len--;
        } else if (name.len > 2 && name.data[0] == '^' && name.data[1] == '~') {
            mod.data = "^~";
            mod.len = 2;
            name.data += 2;
            name.len -= 2;
        } else if (name.len > 2 && name.data[0] == '~' && name.data[1] == '*') {
            mod.data = "~*";
            mod.len = 2;
            name.data += 2;
            name.len -= 2;
        } else if (name.len > 1 && name.data[0] == '~') {
            mod.data = "~";
            mod.len = 1;
            name.data++;
            name.len--;
        }
    }
    clcf->name = name;
    if (mod.len) {
        if (mg_str_eq(mod, "=")) {
            clcf->exact_match = 1;
        } else if (mg_str_eq(mod, "^~")) {
            clcf->noregex = 1;
        } else if (mg_str_eq(mod, "~") || mg_str_eq(mod, "~*")) {
            clcf->regex = mg_http_regex_compile(cf, name, mod.len == 2);
            if (clcf->regex == NULL) {
                return MG_CONF_ERROR;
            }
        } else {
            mg_conf_error(cf, 0, "invalid location modifier \"%s\"", mod.data);
            return MG_CONF_ERROR;
        }
    } else if (name.len && name.data[0] == '@') {
        clcf->named = 1;
    }

    if (cf->ctx == MG_CTX_LOCATION) {
        if (pclcf->exact_match) {
            mg_conf_error(cf, 0, "location \"%s\" cannot be inside the exact location \"%s\"",
                          name.data, pclcf->name.data);
            return MG_CONF_ERROR;
        }
        if (pclcf->named) {
            mg_conf_error(cf, 0, "location \"%s\" cannot be inside the named location \"%s\"",
                          name.data, pclcf->name.data);
            return MG_CONF_ERROR;
        }
        if (clcf->named) {
            mg_conf_error(cf, 0, "named location \"%s\" can be on the server level only", name.data);
            return MG_CONF_ERROR;
        }
        if (!pclcf->regex && !clcf->regex &&
            (name.len < pclcf->name.len || memcmp(name.data, pclcf->name.data, pclcf->name.len) != 0)) {
            mg_conf_error(cf, 0, "location \"%s\" is outside location \"%s\"", name.data,
                          pclcf->name.data);
            return MG_CONF_ERROR;
        }
    }
    if (pclcf->locations == NULL) {
        pclcf->locations = mg_array_create(cf->pool, 4, sizeof(mg_http_loc_conf_t *));
    }
    *(mg_http_loc_conf_t **)mg_array_push(pclcf->locations) = clcf;

    unsigned saved = cf->ctx;
    cf->ctx = MG_CTX_LOCATION;
    cf->ctx_data = ctx;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->ctx = saved;
    cf->ctx_data = parent;
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- limit_except METHOD ... { } ---- */

/* The methods limit_except names (nginx's list: no TRACE, which is refused earlier). */
static const struct {
    const char *name;
    int method;
} lmt_methods[] = {
    {"GET", MG_HTTP_GET},           {"HEAD", MG_HTTP_HEAD},           {"POST", MG_HTTP_POST},
    {"PUT", MG_HTTP_PUT},           {"DELETE", MG_HTTP_DELETE},       {"MKCOL", MG_HTTP_MKCOL},
    {"COPY", MG_HTTP_COPY},         {"MOVE", MG_HTTP_MOVE},           {"OPTIONS", MG_HTTP_OPTIONS},
    {"PROPFIND", MG_HTTP_PROPFIND}, {"PROPPATCH", MG_HTTP_PROPPATCH}, {"LOCK", MG_HTTP_LOCK},
    {"UNLOCK", MG_HTTP_UNLOCK},     {"PATCH", MG_HTTP_PATCH},
};

/* The block is a configuration of its own, merged like a nested location but never searched:
 * a request whose method is not listed gets it in place of the location's
 * (mg_http_update_location_config). */
static const char *core_limit_except(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *pclcf = conf;
    if (pclcf->limit_except_loc_conf) {
        return "is duplicate";
    }
    uint32_t allowed = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (k < mg_nelems(lmt_methods) && !mg_str_caseeq(cf->args[i], lmt_methods[k].name)) {
            k++;
        }
        if (k == mg_nelems(lmt_methods)) {
            mg_conf_error(cf, 0, "invalid method \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        allowed |= 1u << lmt_methods[k].method;
    }
    if (allowed & (1u << MG_HTTP_GET)) {
        allowed |= 1u << MG_HTTP_HEAD;
    }
    pclcf->limit_except = ~allowed; /* unknown methods too (bit 0) */

    mg_conf_ctx_t *parent = cf->ctx_data;
    mg_conf_ctx_t *ctx = mg_pcalloc(cf->pool, sizeof(mg_conf_ctx_t));
    ctx->main_conf = parent->main_conf;
    ctx->srv_conf = parent->srv_conf;
    ctx->loc_conf = mg_http_create_loc_confs(cf);
    mg_http_loc_conf_t *clcf = ctx->loc_conf[mg_http_core_module.index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->parent = pclcf;
    clcf->lmt_except = 1;
    clcf->name = pclcf->name; /* alias maps the URI against the enclosing location's name */
    clcf->regex = pclcf->regex;
    clcf->file = pclcf->file;
    clcf->line = pclcf->line;
    pclcf->limit_except_loc_conf = ctx->loc_conf;
    if (pclcf->locations == NULL) {
        pclcf->locations = mg_array_create(cf->pool, 4, sizeof(mg_http_loc_conf_t *));
    }
    *(mg_http_loc_conf_t **)mg_array_push(pclcf->locations) = clcf;

    unsigned saved = cf->ctx;
    cf->ctx = MG_CTX_LMT;
    cf->ctx_data = ctx;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->ctx = saved;
    cf->ctx_data = parent;
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- Authorization: Basic ---- */

mg_int_t mg_http_auth_basic_user(mg_request_t *r, mg_str_t *user, mg_str_t *passwd)
{
    mg_table_elt_t *h = r->headers_in.authorization;
    if (h == NULL || h->value.len < 6 || mg_strncasecmp(h->value.data, "Basic ", 6) != 0) {
        return MG_DECLINED;
    }
    mg_str_t enc = {h->value.len - 6, h->value.data + 6};
    while (enc.len && enc.data[0] == ' ') {
        enc.data++;
        enc.len--;
    }
    if (enc.len == 0) {
        return MG_DECLINED;
    }
    unsigned char *dec = mg_pnalloc(r->pool, mg_base64_decoded_len(enc.len) + 1);
    size_t n;
    if (mg_base64_decode(enc, dec, &n) != MG_OK) {
        return MG_DECLINED;
    }
    dec[n] = '\0';
    unsigned char *colon = memchr(dec, ':', n);
    if (colon == NULL || colon == dec) {
        return MG_DECLINED; /* no password, or an empty user name */
    }
    user->data = (char *)dec;
    user->len = (size_t)(colon - dec);
    passwd->data = (char *)colon + 1;
    passwd->len = n - user->len - 1;
    return MG_OK;
}

/* ---- listen ---- */

/* "name=value" parameters of listen: the value, or NULL when arg is not that parameter */
static const char *listen_param(mg_str_t arg, const char *name, mg_str_t *value)
{
    size_t n = strlen(name);
    if (arg.len <= n || memcmp(arg.data, name, n) != 0 || arg.data[n] != '=') {
        return NULL;
    }
    value->data = arg.data + n + 1;
    value->len = arg.len - n - 1;
    return value->data;
}

/* so_keepalive=[idle]:[intvl]:[cnt]: times (seconds, with units), a count; each may
 * be left out but not all, and none may be 0 */
static int listen_keepalive(mg_str_t v, mg_http_listen_t *l)
{
    const char *p = v.data, *end = v.data + v.len;
    const char *c1 = memchr(p, ':', v.len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
    if (c2 == NULL || memchr(c2 + 1, ':', (size_t)(end - c2 - 1))) {
        return -1;
    }
    mg_str_t part[3] = {{(size_t)(c1 - p), (char *)p},
                        {(size_t)(c2 - c1 - 1), (char *)c1 + 1},
                        {(size_t)(end - c2 - 1), (char *)c2 + 1}};
    int *out[3] = {&l->keepidle, &l->keepintvl, &l->keepcnt};
    int any = 0;
    for (int i = 0; i < 3; i++) {
        if (part[i].len == 0) {
            continue;
        }
        int64_t n = i < 2 ? mg_parse_time(part[i], 1) : mg_atoi(part[i].data, part[i].len);
        if (n <= 0 || n > INT32_MAX) {
            return -1;
        }
        *out[i] = (int)n;
        any = 1;
    }
    return any ? 0 : -1;
}

static const char *core_listen(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_srv_conf_t *cscf = conf;
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    mg_http_listen_t l;
    memset(&l, 0, sizeof(l));
    int wildcard;
    const char *err = mg_listen_parse_addr(cf->args[1], &l.sockaddr, &l.socklen, &wildcard);
    if (err) {
        mg_conf_error(cf, 0, "%s in \"%s\" of the \"listen\" directive", err, cf->args[1].data);
        return MG_CONF_ERROR;
    }
    l.wildcard = wildcard;
    mg_sockaddr_text((struct sockaddr *)&l.sockaddr, l.addr_text, sizeof(l.addr_text), 1);
    l.backlog = 511;
    l.rcvbuf = -1;
    l.sndbuf = -1;
    l.fastopen = -1;
    l.keepalive = -1;
    l.ipv6only = 1;
    for (size_t i = 2; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i], v;
        if (mg_str_eq(a, "default_server") || mg_str_eq(a, "default")) {
            l.default_server = 1;
            continue;
        }
        if (mg_str_eq(a, "proxy_protocol")) {
            l.proxy_protocol = 1; /* an option of the address, not of the socket */
            continue;
        }
        if (mg_str_eq(a, "ssl")) {
            l.ssl = 1; /* an address option too: one listen with it makes the address TLS */
            continue;
        }
        if (mg_str_eq(a, "http2")) {
            l.http2 = 1; /* an address option, as ssl (core/http/v2.c) */
            continue;
        }
        if (mg_str_eq(a, "quic")) {
            mg_conf_error(cf, 0, "the \"%s\" parameter of \"listen\" is not supported by moongate",
                          a.data);
            return MG_CONF_ERROR;
        }
        /* the rest are the socket's: one listen per address may give them */
        l.set_options = 1;
        l.bind = 1;
        if (mg_str_eq(a, "bind")) {
        } else if (mg_str_eq(a, "reuseport")) {
            l.reuseport = 1;
        } else if (mg_str_eq(a, "deferred")) {
            l.deferred = 1;
        } else if (listen_param(a, "backlog", &v)) {
            int64_t n = mg_atoi(v.data, v.len);
            if (n <= 0) {
                mg_conf_error(cf, 0, "invalid backlog \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            l.backlog = (int)mg_min(n, (int64_t)INT32_MAX); /* the kernel caps it anyway */
        } else if (listen_param(a, "rcvbuf", &v) || listen_param(a, "sndbuf", &v)) {
            /* sizes with k and m, not g, as nginx reads them */
            int64_t n = mg_parse_size(v);
            if (n < 0 || n > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid %.6s \"%s\"", a.data, a.data);
                return MG_CONF_ERROR;
            }
            *(a.data[0] == 'r' ? &l.rcvbuf : &l.sndbuf) = (int)n;
        } else if (listen_param(a, "fastopen", &v)) {
            int64_t n = mg_atoi(v.data, v.len);
            if (n < 0 || n > INT32_MAX) {
                mg_conf_error(cf, 0, "invalid fastopen \"%s\"", a.data);
                return MG_CONF_ERROR;
            }
            l.fastopen = (int)n;
        } else if (mg_str_eq(a, "ipv6only=on") || mg_str_eq(a, "ipv6only=off")) {
            /* an IPv4 address takes it too, and nothing changes */
            l.ipv6only = a.data[10] == 'n';
        } else if (listen_param(a, "so_keepalive", &v)) {
            if (mg_str_eq(v, "on")) {
                l.keepalive = 1;
            } else if (mg_str_eq(v, "off")) {
                l.keepalive = 0;
            } else if (listen_keepalive(v, &l) == 0) {
                l.keepalive = 1;
            } else {
                mg_conf_error(cf, 0, "invalid so_keepalive value: \"%s\"", v.data);
                return MG_CONF_ERROR;
            }
        } else if (listen_param(a, "accept_filter", &v)) {
            /* FreeBSD's: nginx elsewhere says so at emerg level and goes on */
            mg_conf_log(cf, MG_LOG_EMERG, 0,
                        "accept filters \"%s\" are not supported on this platform, ignored",
                        a.data);
        } else {
            /* setfib= too: FreeBSD's, unknown to nginx on Linux */
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
    }
    mg_http_listen_t *ls = cmcf->listen.elts;
    for (size_t i = 0; i < cmcf->listen.nelts; i++) {
        if (!mg_sockaddr_equal((struct sockaddr *)&ls[i].sockaddr, (struct sockaddr *)&l.sockaddr, 1)) {
            continue;
        }
        if (ls[i].server == cscf) {
            mg_conf_error(cf, 0, "a duplicate listen %s", l.addr_text);
            return MG_CONF_ERROR;
        }
        if (l.set_options && ls[i].set_options) {
            mg_conf_error(cf, 0, "duplicate listen options for %s", l.addr_text);
            return MG_CONF_ERROR;
        }
        if (l.default_server && ls[i].default_server) {
            mg_conf_error(cf, 0, "a duplicate default server for %s", l.addr_text);
            return MG_CONF_ERROR;
        }
    }
    l.server = cscf;
    l.file = mg_conf_file(cf);
    const char *where = mg_conf_where(cf), *colon = strrchr(where, ':');
    l.line = colon ? (mg_uint_t)strtoul(colon + 1, NULL, 10) : 0;
    *(mg_http_listen_t *)mg_array_push(&cmcf->listen) = l;
    cscf->listen_seen = 1;
    return MG_CONF_OK;
}

/* ---- server_name ---- */

static const char *core_server_name(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    return mg_server_name_directive(cf, &((mg_http_srv_conf_t *)conf)->server_names, conf,
                                    mg_http_regex_compile);
}

/* ---- root / alias ---- */

static const char *core_root(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_loc_conf_t *clcf = conf;
    int alias = strcmp(cmd->name, "alias") == 0;
    if (clcf->root.data) {
        if ((clcf->alias != 0) == alias) {
            return "is duplicate";
        }
        mg_conf_error(cf, 0, "\"%s\" directive is duplicate, \"%s\" directive was specified earlier",
                      cmd->name, clcf->alias ? "alias" : "root");
        return MG_CONF_ERROR;
    }
    if (clcf->named && alias) {
        mg_conf_error(cf, 0, "the \"alias\" directive cannot be used inside the named location");
        return MG_CONF_ERROR;
    }
    mg_str_t v = cf->args[1];
    if (!alias && v.len && v.data[v.len - 1] == '/' && v.len > 1) {
        v.len--; /* nginx drops a trailing slash from root */
    }
    clcf->alias = alias;
    clcf->alias_skip = !alias ? 0 : clcf->regex ? SIZE_MAX : clcf->name.len;
    if (mg_http_script_variables_count(v)) {
        clcf->root = v;
        clcf->root_cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, v, clcf->root_cv) != MG_OK) {
            return MG_CONF_ERROR;
        }
        return MG_CONF_OK;
    }
    clcf->root = mg_conf_full_name(cf->cycle, v, 0);
    return MG_CONF_OK;
}

char *mg_http_map_uri_to_path(mg_request_t *r, mg_str_t *path, size_t *root_len, size_t reserved)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    mg_str_t root = clcf->root;
    if (clcf->root_cv) {
        root = mg_http_complex_value(r, clcf->root_cv);
        if (root.len == 0 || root.data[0] != '/') {
            root = mg_full_name(r->pool, r->connection->cycle, root, 0);
        }
    }
    size_t skip = 0;
    if (clcf->alias) {
        /* as nginx: once the URI changed in the location that was found for it ("rewrite ...
         * break", "break" after a rewrite, ngx.req.set_uri without jump), the alias no longer
         * lines up with it ("last" and a jump search again instead; an internal redirect or a
         * subrequest starts valid) */
        if (!r->valid_location) {
            mg_log_error(MG_LOG_ALERT, &r->connection->log, 0,
                         "\"alias\" cannot be used in location \"%.*s\" where URI was rewritten",
                         (int)clcf->name.len, clcf->name.data);
            return NULL;
        }
        /* alias replaces the prefix of the location it is written in (in a location nested in
         * that one too); in a regex location it is the whole path (with captures), as nginx
         * does */
        skip = mg_min(clcf->alias_skip, r->uri.len);
    }
    size_t len = root.len + r->uri.len - skip;
    char *buf = mg_pnalloc(r->pool, len + reserved + 1);
    memcpy(buf, root.data, root.len);
    memcpy(buf + root.len, r->uri.data + skip, r->uri.len - skip);
    buf[len] = '\0';
    path->data = buf;
    path->len = len;
    *root_len = root.len;
    return buf;
}

/* ---- types { } ---- */

static const char *types_line(mg_conf_t *cf, void *data)
{
    mg_array_t *types = data;
    mg_str_t type = cf->args[0];
    if (cf->nargs == 2 && mg_str_eq(type, "include")) {
        return mg_conf_include(cf, cf->args[1]);
    }
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t ext = cf->args[i];
        mg_http_type_t *t = types->elts;
        int dup = 0;
        for (size_t k = 0; k < types->nelts; k++) {
            if (mg_str_eq_str(t[k].exten, ext)) {
                if (!mg_str_eq_str(t[k].type, type)) {
                    mg_conf_log(cf, MG_LOG_WARN, 0,
                                "duplicate extension \"%s\", content type: \"%s\", previous "
                                "content type: \"%s\"",
                                ext.data, type.data, t[k].type.data);
                }
                t[k].type = type;
                dup = 1;
            }
        }
        if (!dup) {
            mg_http_type_t *nt = mg_array_push(types);
            nt->exten = ext;
            nt->type = type;
        }
    }
    return MG_CONF_OK;
}

static const char *core_types(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->types == MG_CONF_UNSET_PTR) {
        clcf->types = mg_array_create(cf->pool, 64, sizeof(mg_http_type_t));
    }
    mg_conf_t saved = *cf;
    cf->handler = types_line;
    cf->handler_data = clcf->types;
    mg_int_t rc = mg_conf_parse(cf, NULL);
    cf->handler = saved.handler;
    cf->handler_data = saved.handler_data;
    return rc == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* ---- the rest ---- */

static const char *core_keepalive(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->keepalive_timeout != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t t = mg_parse_time(cf->args[1], 0);
    if (t < 0) {
        return "invalid value";
    }
    clcf->keepalive_timeout = t;
    if (cf->nargs == 3) {
        int64_t h = mg_parse_time(cf->args[2], 1);
        if (h < 0) {
            return "invalid value";
        }
        clcf->keepalive_header = (time_t)h;
    }
    return MG_CONF_OK;
}

static const char *core_large_buffers(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_srv_conf_t *cscf = conf;
    if (cscf->large_client_header_buffers_num != MG_CONF_UNSET) {
        return "is duplicate";
    }
    return mg_conf_parse_bufs(cf, &cscf->large_client_header_buffers_num,
                              &cscf->large_client_header_buffers_size);
}

static const char *core_internal(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cf;
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->internal != MG_CONF_UNSET) {
        return "is duplicate";
    }
    clcf->internal = 1;
    return MG_CONF_OK;
}

static const char *core_error_log(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->error_log == MG_CONF_UNSET_PTR) {
        clcf->error_log = NULL;
    }
    return mg_log_set_from_conf(cf, &clcf->error_log);
}

/* error_page code ... [=[response]] uri */
static const char *core_error_page(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->error_pages == MG_CONF_UNSET_PTR || clcf->error_pages == NULL) {
        clcf->error_pages = mg_array_create(cf->pool, 4, sizeof(mg_http_err_page_t));
    }
    size_t ncodes = cf->nargs - 2;
    mg_int_t overwrite = -1;
    mg_str_t eq = cf->args[cf->nargs - 2];
    if (eq.len && eq.data[0] == '=') {
        ncodes--;
        if (eq.len == 1) {
            overwrite = 0;
        } else {
            int64_t n = mg_atoi(eq.data + 1, eq.len - 1);
            if (n < 0) {
                mg_conf_error(cf, 0, "invalid value \"%s\"", eq.data);
                return MG_CONF_ERROR;
            }
            overwrite = (mg_int_t)n;
        }
        if (ncodes == 0) {
            return "invalid number of arguments";
        }
    }
    mg_str_t uri = cf->args[cf->nargs - 1];
    mg_http_complex_value_t *cv = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    mg_str_t args = mg_null_string;
    if (mg_http_script_variables_count(uri) == 0 && uri.len && uri.data[0] == '/') {
        /* a constant local URI: split its arguments once here */
        char *q = memchr(uri.data, '?', uri.len);
        if (q) {
            args.data = q + 1;
            args.len = uri.len - (size_t)(q + 1 - uri.data);
            uri = mg_pstr(cf->pool, uri.data, (size_t)(q - uri.data));
        }
    }
    if (mg_http_compile_complex_value(cf, uri, cv) != MG_OK) {
        return MG_CONF_ERROR;
    }
    for (size_t i = 1; i <= ncodes; i++) {
        mg_str_t a = cf->args[i];
        int64_t code = mg_atoi(a.data, a.len);
        if (code < 0 || code == MG_HTTP_CLIENT_CLOSED_REQUEST) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
        if (code < 300 || code > 599) {
            mg_conf_error(cf, 0, "value \"%s\" must be between 300 and 599", a.data);
            return MG_CONF_ERROR;
        }
        mg_http_err_page_t *ep = mg_array_push(clcf->error_pages);
        ep->status = (mg_uint_t)code;
        ep->overwrite = overwrite;
        ep->value = cv;
        ep->args = args;
    }
    return MG_CONF_OK;
}

/* limit_rate, limit_rate_after: a size (k, m; not g, as nginx), or variables giving one per
 * request (write.c reads it) */
static const char *core_rate(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_complex_value_t **f = (mg_http_complex_value_t **)((char *)conf + cmd->offset);
    if (*f != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_http_script_variables_count(v) == 0 && mg_parse_size(v) < 0) {
        return "invalid value";
    }
    *f = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    return mg_http_compile_complex_value(cf, v, *f) == MG_OK ? MG_CONF_OK : MG_CONF_ERROR;
}

/* output_buffers number size */
static const char *core_output_buffers(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->output_buffers_num != MG_CONF_UNSET) {
        return "is duplicate";
    }
    return mg_conf_parse_bufs(cf, &clcf->output_buffers_num, &clcf->output_buffers_size);
}

/* open_file_cache off | max=N [inactive=time] */
static const char *core_open_file_cache(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->open_file_cache != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    int64_t max = 0, inactive = 60;
    int off = 0;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        if (a.len > 4 && strncmp(a.data, "max=", 4) == 0) {
            max = mg_atoi(a.data + 4, a.len - 4);
            if (max <= 0) {
                goto invalid;
            }
        } else if (a.len > 9 && strncmp(a.data, "inactive=", 9) == 0) {
            mg_str_t t = {a.len - 9, a.data + 9};
            inactive = mg_parse_time(t, 1);
            if (inactive < 0) {
                goto invalid;
            }
        } else if (mg_str_eq(a, "off")) {
            off = 1;
        } else {
        invalid:
            mg_conf_error(cf, 0, "invalid \"open_file_cache\" parameter \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
    }
    if (off) {
        clcf->open_file_cache = NULL;
        return MG_CONF_OK;
    }
    if (max == 0) {
        mg_conf_error(cf, 0, "\"open_file_cache\" must have the \"max\" parameter");
        return MG_CONF_ERROR;
    }
    clcf->open_file_cache = mg_http_file_cache_create(cf, (mg_uint_t)max, inactive * 1000);
    return MG_CONF_OK;
}

/* open_file_cache_valid: seconds (m, h ...), kept in msec */
static const char *core_set_sec(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_msec_t *f = (mg_msec_t *)((char *)conf + cmd->offset);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    int64_t v = mg_parse_time(cf->args[1], 1);
    if (v < 0) {
        return "invalid value";
    }
    *f = v * 1000;
    return MG_CONF_OK;
}

/* disable_symlinks off | on | if_not_owner [from=part] */
static const char *core_disable_symlinks(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->disable_symlinks != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_int_t mode = MG_CONF_UNSET;
    mg_str_t from = mg_null_string;
    for (size_t i = 1; i < cf->nargs; i++) {
        mg_str_t a = cf->args[i];
        mg_int_t m = mg_str_eq(a, "off")            ? MG_HTTP_SYMLINKS_OFF
                     : mg_str_eq(a, "on")           ? MG_HTTP_SYMLINKS_ON
                     : mg_str_eq(a, "if_not_owner") ? MG_HTTP_SYMLINKS_NOT_OWNER
                                                    : MG_CONF_UNSET;
        if (m != MG_CONF_UNSET) {
            if (mode != MG_CONF_UNSET) {
                mg_conf_error(cf, 0, "duplicate parameters \"%s %s\"", cf->args[1].data, a.data);
                return MG_CONF_ERROR;
            }
            mode = m;
        } else if (a.len >= 5 && strncmp(a.data, "from=", 5) == 0) {
            if (from.data) {
                mg_conf_error(cf, 0, "duplicate parameters \"%s %s\"", cf->args[1].data, a.data);
                return MG_CONF_ERROR;
            }
            from.data = a.data + 5;
            from.len = a.len - 5;
        } else {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", a.data);
            return MG_CONF_ERROR;
        }
    }
    if (mode == MG_CONF_UNSET) {
        mg_conf_error(cf, 0,
                      "\"disable_symlinks\" must have \"off\", \"on\" or "
                      "\"if_not_owner\" parameter");
        return MG_CONF_ERROR;
    }
    if (from.data && mode == MG_HTTP_SYMLINKS_OFF) {
        mg_conf_error(cf, 0, "\"from=\" cannot be used with \"off\" parameter");
        return MG_CONF_ERROR;
    }
    clcf->disable_symlinks = mode;
    clcf->disable_symlinks_from = NULL;
    if (from.len) {
        clcf->disable_symlinks_from = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        if (mg_http_compile_complex_value(cf, from, clcf->disable_symlinks_from) != MG_OK) {
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

/* aio off | on | threads[=pool]: "on" reads in the default pool's threads too (nginx's Linux
 * AIO needs O_DIRECT for every file; threads give the same without it) */
static const char *core_aio(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->aio != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "off")) {
        clcf->aio = MG_HTTP_AIO_OFF;
        return MG_CONF_OK;
    }
    mg_str_t name = mg_null_string;
    if (mg_str_eq(v, "on") || mg_str_eq(v, "threads")) {
        /* the default pool */
    } else if (v.len > 8 && strncmp(v.data, "threads=", 8) == 0) {
        name.data = v.data + 8;
        name.len = v.len - 8;
    } else {
        return "invalid value";
    }
    clcf->aio = MG_HTTP_AIO_THREADS;
    if (mg_http_script_variables_count(name)) {
        clcf->thread_pool_name = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
        return mg_http_compile_complex_value(cf, name, clcf->thread_pool_name) == MG_OK
                   ? MG_CONF_OK
                   : MG_CONF_ERROR;
    }
    clcf->thread_pool = mg_thread_pool_get(cf, name);
    return MG_CONF_OK;
}

/* directio size|off, directio_alignment size: offsets (k, m, g) */
static const char *core_directio(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    int64_t *f = (int64_t *)((char *)conf + cmd->offset);
    if (*f != MG_CONF_UNSET) {
        return "is duplicate";
    }
    if (cmd->post == NULL && mg_str_eq(cf->args[1], "off")) {
        *f = INT64_MAX;
        return MG_CONF_OK;
    }
    int64_t v = mg_parse_offset(cf->args[1]);
    if (v < 0) {
        return "invalid value";
    }
    *f = v;
    return MG_CONF_OK;
}

static const mg_conf_enum_t body_file_values[] = {
    {"off", MG_HTTP_BODY_FILE_OFF},
    {"on", MG_HTTP_BODY_FILE_ON},
    {"clean", MG_HTTP_BODY_FILE_CLEAN},
    {NULL, 0},
};

/* keepalive_disable none | browser ...: bits, added to by a second line as nginx does; "none"
 * is a bit of its own, so that it counts as given, and disables nothing (with other names
 * beside it, theirs apply) */
static const char *core_keepalive_disable(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    static const mg_conf_enum_t names[] = {
        {"none", MG_HTTP_KEEPALIVE_DISABLE_NONE},
        {"msie6", MG_HTTP_KEEPALIVE_DISABLE_MSIE6},
        {"safari", MG_HTTP_KEEPALIVE_DISABLE_SAFARI},
    };
    for (size_t i = 1; i < cf->nargs; i++) {
        size_t k = 0;
        while (k < mg_nelems(names) && !mg_str_caseeq(cf->args[i], names[k].name)) {
            k++;
        }
        if (k == mg_nelems(names)) {
            mg_conf_error(cf, 0, "invalid value \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        if (clcf->keepalive_disable & names[k].value) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "duplicate value \"%s\"", cf->args[i].data);
        }
        clcf->keepalive_disable |= names[k].value;
    }
    return MG_CONF_OK;
}

/* connection_pool_size, request_pool_size, http2_pool_size: a size with nginx's bounds for a
 * pool */
const char *mg_http_set_pool_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_size(cf, cmd, conf);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    size_t size = *(size_t *)((char *)conf + cmd->offset);
    if (size < 112) {
        mg_conf_error(cf, 0, "the pool size must be no less than 112");
        return MG_CONF_ERROR;
    }
    if (size % 16) {
        mg_conf_error(cf, 0, "the pool size must be a multiple of 16");
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

/* send_lowat, proxy_send_lowat, fastcgi_send_lowat: SO_SNDLOWAT cannot be set on Linux;
 * nginx says so and goes on */
const char *mg_http_set_send_lowat(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_size(cf, cmd, conf);
    if (rv != MG_CONF_OK) {
        return rv;
    }
    mg_conf_log(cf, MG_LOG_WARN, 0, "\"%s\" is not supported, ignored", cmd->name);
    *(size_t *)((char *)conf + cmd->offset) = 0;
    return MG_CONF_OK;
}

/* server_tokens on | off | build, or (NGINX Plus's) any other string, variables allowed: the
 * Server header's value and the error pages' signature, an empty one leaving the header out */
static const char *core_server_tokens(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->server_tokens != MG_CONF_UNSET) {
        return "is duplicate";
    }
    mg_str_t v = cf->args[1];
    static const mg_conf_enum_t names[] = {
        {"off", MG_HTTP_TOKENS_OFF}, {"on", MG_HTTP_TOKENS_ON}, {"build", MG_HTTP_TOKENS_BUILD}};
    for (size_t k = 0; k < mg_nelems(names); k++) {
        if (mg_str_caseeq(v, names[k].name)) {
            clcf->server_tokens = names[k].value;
            return MG_CONF_OK;
        }
    }
    clcf->server_tokens = MG_HTTP_TOKENS_STRING;
    clcf->server_tokens_string = mg_pcalloc(cf->pool, sizeof(mg_http_complex_value_t));
    return mg_http_compile_complex_value(cf, v, clcf->server_tokens_string) == MG_OK
               ? MG_CONF_OK
               : MG_CONF_ERROR;
}

static const mg_conf_enum_t lingering_values[] = {
    {"off", MG_HTTP_LINGERING_OFF},
    {"on", MG_HTTP_LINGERING_ON},
    {"always", MG_HTTP_LINGERING_ALWAYS},
    {NULL, 0},
};

static const mg_conf_enum_t satisfy_values[] = {
    {"all", MG_HTTP_SATISFY_ALL},
    {"any", MG_HTTP_SATISFY_ANY},
    {NULL, 0},
};

/* resolver address ... [valid=] [ipv4=] [ipv6=] [status_zone=] (core/resolver.c) */
static const char *core_resolver(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    mg_http_loc_conf_t *clcf = conf;
    if (clcf->resolver != MG_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    clcf->resolver = mg_resolver_conf(cf);
    return clcf->resolver ? MG_CONF_OK : MG_CONF_ERROR;
}

#define MAIN(f) MG_MAIN_CONF, offsetof(mg_http_main_conf_t, f)
#define SRV(f) MG_SRV_CONF, offsetof(mg_http_srv_conf_t, f)
#define LOC(f) MG_LOC_CONF, offsetof(mg_http_loc_conf_t, f)
#define ANY_LOC (MG_HTTP_ANY_LOC | MG_CTX_LIF)

static const mg_command_t core_commands[] = {
    {"server", MG_CTX_HTTP, MG_BLOCK | MG_ARGS(0, 0), core_server, MG_NO_CONF, 0, NULL},
    {"location", MG_CTX_SERVER | MG_CTX_LOCATION, MG_BLOCK | MG_ARGS(1, 2), core_location,
     LOC(name), NULL},
    {"listen", MG_CTX_SERVER, MG_ARGS(1, MG_MANY), core_listen, SRV(listen_seen), NULL},
    {"server_name", MG_CTX_SERVER, MG_ARGS(1, MG_MANY), core_server_name, SRV(server_names), NULL},
    {"root", ANY_LOC, MG_ARGS(1, 1), core_root, LOC(root), NULL},
    {"alias", MG_CTX_LOCATION, MG_ARGS(1, 1), core_root, LOC(root), NULL},
    {"types", MG_HTTP_ANY_LOC, MG_BLOCK | MG_ARGS(0, 0), core_types, LOC(types), NULL},
    {"types_hash_max_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num,
     LOC(types_hash_max_size), NULL},
    {"types_hash_bucket_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num,
     LOC(types_hash_bucket_size), NULL},
    {"server_names_hash_max_size", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_num,
     MAIN(server_names_hash_max_size), NULL},
    {"server_names_hash_bucket_size", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_num,
     MAIN(server_names_hash_bucket_size), NULL},
    {"variables_hash_max_size", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_num,
     MAIN(variables_hash_max_size), NULL},
    {"variables_hash_bucket_size", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_num,
     MAIN(variables_hash_bucket_size), NULL},
    {"default_type", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_str, LOC(default_type), NULL},
    {"internal", MG_CTX_LOCATION, MG_ARGS(0, 0), core_internal, LOC(internal), NULL},
    {"limit_except", MG_CTX_LOCATION, MG_BLOCK | MG_ARGS(1, MG_MANY), core_limit_except,
     LOC(limit_except), NULL},
    {"satisfy", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, LOC(satisfy), satisfy_values},
    {"client_header_buffer_size", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_size,
     SRV(client_header_buffer_size), NULL},
    {"large_client_header_buffers", MG_HTTP_SRV, MG_ARGS(2, 2), core_large_buffers,
     SRV(large_client_header_buffers_num), NULL},
    {"client_header_timeout", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_msec,
     SRV(client_header_timeout), NULL},
    {"merge_slashes", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, SRV(merge_slashes), NULL},
    {"underscores_in_headers", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, SRV(underscores_in_headers),
     NULL},
    {"ignore_invalid_headers", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, SRV(ignore_invalid_headers),
     NULL},
    {"client_max_body_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_off,
     LOC(client_max_body_size), NULL},
    {"client_body_buffer_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size,
     LOC(client_body_buffer_size), NULL},
    {"client_body_timeout", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec,
     LOC(client_body_timeout), NULL},
    {"client_body_temp_path", MG_HTTP_ANY_LOC, MG_ARGS(1, 4), mg_http_set_temp_path,
     LOC(client_body_temp_path), NULL},
    {"client_body_in_file_only", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum,
     LOC(client_body_in_file_only), body_file_values},
    {"client_body_in_single_buffer", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(client_body_in_single_buffer), NULL},
    /* in the core's conf: the fastcgi, uwsgi and scgi modules take them from there */
    {"fastcgi_temp_path", MG_HTTP_ANY_LOC, MG_ARGS(1, 4), mg_http_set_temp_path,
     LOC(fastcgi_temp_path), NULL},
    {"uwsgi_temp_path", MG_HTTP_ANY_LOC, MG_ARGS(1, 4), mg_http_set_temp_path, LOC(uwsgi_temp_path),
     NULL},
    {"scgi_temp_path", MG_HTTP_ANY_LOC, MG_ARGS(1, 4), mg_http_set_temp_path, LOC(scgi_temp_path),
     NULL},
    {"send_timeout", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec, LOC(send_timeout), NULL},
    {"keepalive_timeout", MG_HTTP_ANY_LOC, MG_ARGS(1, 2), core_keepalive, LOC(keepalive_timeout),
     NULL},
    {"keepalive_requests", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num, LOC(keepalive_requests),
     NULL},
    {"keepalive_time", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec, LOC(keepalive_time), NULL},
    {"lingering_time", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec, LOC(lingering_time), NULL},
    {"lingering_timeout", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec, LOC(lingering_timeout),
     NULL},
    {"lingering_close", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_enum, LOC(lingering_close),
     lingering_values},
    {"keepalive_disable", MG_HTTP_ANY_LOC, MG_ARGS(1, 2), core_keepalive_disable,
     LOC(keepalive_disable), NULL},
    {"reset_timedout_connection", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(reset_timedout_connection), NULL},
    {"send_lowat", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_http_set_send_lowat, LOC(send_lowat), NULL},
    {"connection_pool_size", MG_HTTP_SRV, MG_ARGS(1, 1), mg_http_set_pool_size,
     SRV(connection_pool_size), NULL},
    {"request_pool_size", MG_HTTP_SRV, MG_ARGS(1, 1), mg_http_set_pool_size, SRV(request_pool_size),
     NULL},
    {"server_tokens", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), core_server_tokens, LOC(server_tokens), NULL},
    {"chunked_transfer_encoding", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(chunked_transfer_encoding), NULL},
    {"absolute_redirect", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(absolute_redirect), NULL},
    {"port_in_redirect", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(port_in_redirect), NULL},
    {"server_name_in_redirect", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(server_name_in_redirect), NULL},
    {"msie_padding", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(msie_padding), NULL},
    {"msie_refresh", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(msie_refresh), NULL},
    {"log_subrequest", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(log_subrequest), NULL},
    {"auth_delay", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec, LOC(auth_delay), NULL},
    {"subrequest_output_buffer_size", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size,
     LOC(subrequest_output_buffer_size), NULL},
    {"log_not_found", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(log_not_found), NULL},
    {"tcp_nodelay", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(tcp_nodelay), NULL},
    {"sendfile", ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(sendfile), NULL},
    {"tcp_nopush", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(tcp_nopush), NULL},
    {"sendfile_max_chunk", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size,
     LOC(sendfile_max_chunk), NULL},
    {"postpone_output", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, LOC(postpone_output),
     NULL},
    {"read_ahead", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_size, LOC(read_ahead), NULL},
    {"aio", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), core_aio, LOC(aio), NULL},
    {"aio_write", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag, LOC(aio_write), NULL},
    {"directio", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), core_directio, LOC(directio), NULL},
    {"directio_alignment", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), core_directio, LOC(directio_alignment),
     "alignment"},
    {"open_file_cache", MG_HTTP_ANY_LOC, MG_ARGS(1, 2), core_open_file_cache, LOC(open_file_cache),
     NULL},
    {"open_file_cache_valid", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), core_set_sec,
     LOC(open_file_cache_valid), NULL},
    {"open_file_cache_min_uses", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_num,
     LOC(open_file_cache_min_uses), NULL},
    {"open_file_cache_errors", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(open_file_cache_errors), NULL},
    {"open_file_cache_events", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(open_file_cache_events), NULL},
    {"post_action", ANY_LOC, MG_ARGS(1, 1), mg_conf_set_str, LOC(post_action), NULL},
    {"disable_symlinks", MG_HTTP_ANY_LOC, MG_ARGS(1, 2), core_disable_symlinks,
     LOC(disable_symlinks), NULL},
    {"output_buffers", MG_HTTP_ANY_LOC, MG_ARGS(2, 2), core_output_buffers, LOC(output_buffers_num),
     NULL},
    {"limit_rate", ANY_LOC, MG_ARGS(1, 1), core_rate, LOC(limit_rate), NULL},
    {"limit_rate_after", ANY_LOC, MG_ARGS(1, 1), core_rate, LOC(limit_rate_after), NULL},
    {"error_page", ANY_LOC, MG_ARGS(2, MG_MANY), core_error_page, LOC(error_pages), NULL},
    {"recursive_error_pages", MG_HTTP_ANY_LOC, MG_FLAG, mg_conf_set_flag,
     LOC(recursive_error_pages), NULL},
    {"error_log", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), core_error_log, LOC(error_log), NULL},
    {"resolver", MG_HTTP_ANY_LOC, MG_ARGS(1, MG_MANY), core_resolver, LOC(resolver), NULL},
    {"resolver_timeout", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), mg_conf_set_msec, LOC(resolver_timeout),
     NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t core_defaults[] = {
    {"listen", "*:80 | *:8000"},
    {"server_name", "\"\""},
    {"root", "html"},
    {"types", "text/html html; image/gif gif; image/jpeg jpg;"},
    {"large_client_header_buffers", "4 8k"},
    {"client_body_temp_path", "client_body_temp"},
    {"fastcgi_temp_path", "fastcgi_temp"},
    {"uwsgi_temp_path", "uwsgi_temp"},
    {"scgi_temp_path", "scgi_temp"},
    {"keepalive_timeout", "75s"},
    {"keepalive_disable", "msie6"},
    {"send_lowat", "0"},
    {"connection_pool_size", "512"},
    {"request_pool_size", "4k"},
    {"server_tokens", "on"},
    {"aio", "off"},
    {"directio", "off"},
    {"directio_alignment", "512"},
    {"open_file_cache", "off"},
    {"open_file_cache_valid", "60s"},
    {"disable_symlinks", "off"},
    {"output_buffers", "2 32k"},
    {"limit_rate", "0"},
    {"limit_rate_after", "0"},
    {"error_log", "logs/error.log error"},
    {"server", MG_NO_DEFAULT},
    {"location", MG_NO_DEFAULT},
    {"alias", MG_NO_DEFAULT},
    {"internal", MG_NO_DEFAULT},
    {"limit_except", MG_NO_DEFAULT},
    {"error_page", MG_NO_DEFAULT},
    {"resolver", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_http_core_module = {
    .name = "http_core",
    .commands = core_commands,
    .defaults = core_defaults,
    .create_main_conf = core_create_main_conf,
    .init_main_conf = core_init_main_conf,
    .create_srv_conf = core_create_srv_conf,
    .merge_srv_conf = core_merge_srv_conf,
    .create_loc_conf = core_create_loc_conf,
    .merge_loc_conf = core_merge_loc_conf,
};
