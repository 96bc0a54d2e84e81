/*
 * ngx_stream_return_module: "return VALUE" sends the value (with variables) to the client
 * and ends the session; and ngx_stream_set_module's "set $name VALUE" in the preaccess phase.
 */
#include "stream.h"

extern mg_module_t mg_stream_return_module;

typedef struct {
    mg_stream_complex_t *text;
    mg_array_t *sets; /* ret_set_t, in order; NULL: none */
} ret_conf_t;

typedef struct {
    mg_str_t name;
    mg_stream_complex_t value;
} ret_set_t;

typedef struct {
    mg_str_t out;
    size_t pos;
} ret_state_t;

static void ret_write(mg_connection_t *c)
{
    mg_stream_session_t *s = c->data;
    ret_state_t *st = s->ctx[mg_stream_return_module.index];
    while (st->pos < st->out.len) {
        ssize_t n = c->send(c, st->out.data + st->pos, st->out.len - st->pos);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            mg_conn_write_on(c);
            return;
        }
        if (n <= 0) {
            mg_log_error(MG_LOG_INFO, &c->log, errno, "send() failed");
            mg_stream_finalize_session(s, 200);
            return;
        }
        st->pos += (size_t)n;
        s->sent += n;
    }
    mg_stream_finalize_session(s, 200);
}

static void ret_timeout(mg_connection_t *c)
{
    mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
    mg_stream_finalize_session(c->data, 200);
}

static void ret_handler(mg_stream_session_t *s)
{
    ret_conf_t *rc = mg_stream_get_srv_conf(s, mg_stream_return_module);
    mg_connection_t *c = s->connection;
    ret_state_t *st = mg_pcalloc(s->pool, sizeof(ret_state_t));
    st->out = mg_stream_complex_value(s, rc->text);
    s->ctx[mg_stream_return_module.index] = st;
    c->write_handler = ret_write;
    c->timeout_handler = ret_timeout;
    mg_conn_timer_set(c, 60000);
    ret_write(c);
}

static mg_int_t set_handler(mg_stream_session_t *s)
{
    ret_conf_t *rc = mg_stream_get_srv_conf(s, mg_stream_return_module);
    if (rc->sets == NULL) {
        return MG_DECLINED;
    }
    if (s->variables.elts == NULL) {
        mg_array_init(&s->variables, s->pool, rc->sets->nelts, sizeof(mg_stream_set_var_t));
    }
    ret_set_t *set = rc->sets->elts;
    for (size_t i = 0; i < rc->sets->nelts; i++) {
        /* the value first: it may read the variable's earlier value ("set $x a$x") */
        mg_str_t value = mg_stream_complex_value(s, &set[i].value);
        mg_stream_set_var_t *v = mg_array_push(&s->variables);
        v->name = set[i].name;
        v->value = value;
    }
    return MG_DECLINED;
}

static void *ret_create_srv_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(ret_conf_t));
}

static const char *ret_return(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    ret_conf_t *rc = conf;
    mg_stream_srv_conf_t *cscf = mg_stream_conf_get_srv(cf, mg_stream_core_module);
    if (rc->text) {
        return "is duplicate";
    }
    /* as nginx's: beside proxy_pass, the later of the two is the server's handler */
    cscf->handler = ret_handler;
    rc->text = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
    return mg_stream_complex_compile(cf, cf->args[1], rc->text);
}

static mg_str_t v_set(mg_stream_session_t *s, uintptr_t data)
{
    (void)s;
    (void)data;
    return (mg_str_t)mg_string(""); /* a "set" variable not set yet in this session */
}

static const char *ret_set(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    ret_conf_t *rc = conf;
    mg_str_t name = cf->args[1];
    if (name.len < 2 || name.data[0] != '$') {
        mg_conf_error(cf, 0, "invalid variable name \"%s\"", name.data);
        return MG_CONF_ERROR;
    }
    name.data++;
    name.len--;
    if (rc->sets == NULL) {
        rc->sets = mg_array_create(cf->pool, 2, sizeof(ret_set_t));
    }
    ret_set_t *set = mg_array_push(rc->sets);
    set->name = name;
    if (!mg_stream_variable_known(cf, name)) {
        mg_stream_variable_add(cf, name.data, v_set, 0);
        /* the name is not NUL-terminated in the conf's args: give it its own copy */
        mg_stream_main_conf_t *cmcf = mg_stream_conf_get_main(cf, mg_stream_core_module);
        mg_stream_var_t *v = cmcf->variables.elts;
        v[cmcf->variables.nelts - 1].name = mg_pstr(cf->pool, name.data, name.len);
    }
    return mg_stream_complex_compile(cf, cf->args[2], &set->value);
}

static mg_int_t ret_init(mg_conf_t *cf)
{
    mg_stream_add_handler(cf, MG_STREAM_PREACCESS_PHASE, set_handler);
    return MG_OK;
}

#define STREAM_SRV (MG_CTX_STREAM | MG_CTX_STREAM_SRV)

static const mg_command_t ret_commands[] = {
    {"return", MG_CTX_STREAM_SRV, MG_ARGS(1, 1), ret_return, MG_SRV_CONF, 0, NULL},
    {"set", MG_CTX_STREAM_SRV, MG_ARGS(2, 2), ret_set, MG_SRV_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t ret_stream = {
    .create_srv_conf = ret_create_srv_conf,
    .init = ret_init,
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t ret_defaults[] = {
    {"return", MG_NO_DEFAULT},
    {"set", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_return_module = {
    .name = "stream_return",
    .commands = ret_commands,
    .defaults = ret_defaults,
    .stream = &ret_stream,
};
