/*
 * ngx_stream_pass_module (nginx 1.25.5): "pass ADDRESS" hands the accepted connection to
 * another listening socket of this generation (http's, or another stream server's) as if that
 * socket had accepted it: the bytes read so far after a PROXY protocol header are read again
 * by the new owner, whose handler then owns the connection. The stream session ends there,
 * unlogged (as nginx's: only a pass that fails finalizes it, and so logs it).
 */
#include "listen.h"
#include "server.h"
#include "stream.h"

extern mg_module_t mg_stream_pass_module;

#define PASS_MAX 10 /* hand-overs of one connection: one more is a loop of passes */

typedef struct {
    struct sockaddr_storage sockaddr; /* the address, when it has no variables */
    socklen_t socklen;
    mg_stream_complex_t *value; /* else its text */
} pass_conf_t;

/* The TCP listening socket serving sa: one bound to it, else a wildcard one of its port. */
static mg_listening_t *find_listening(mg_cycle_t *cycle, const struct sockaddr *sa)
{
    mg_listening_t **ls = cycle->listening.elts;
    for (int wildcard = 0; wildcard < 2; wildcard++) {
        for (size_t i = 0; i < cycle->listening.nelts; i++) {
            const struct sockaddr *la = (const struct sockaddr *)&ls[i]->sockaddr;
            if (ls[i]->udp || ls[i]->fd < 0 || (unsigned)ls[i]->wildcard != (unsigned)wildcard) {
                continue;
            }
            if (wildcard ? la->sa_family == sa->sa_family && sa->sa_family != AF_UNIX &&
                               mg_sockaddr_port(la) == mg_sockaddr_port(sa)
                         : mg_sockaddr_equal(la, sa, 1)) {
                return ls[i];
            }
        }
    }
    return NULL;
}

/* whether an address's text names a port: the listen parser would take 80 for none */
static int has_port(mg_str_t text)
{
    const char *end = text.data + text.len;
    const char *p = text.len && text.data[0] == '[' ? memchr(text.data, ']', text.len) : text.data;
    return p && memchr(p, ':', (size_t)(end - p)) != NULL;
}

static void pass_handler(mg_stream_session_t *s)
{
    pass_conf_t *pc = mg_stream_get_srv_conf(s, mg_stream_pass_module);
    mg_connection_t *c = s->connection;
    c->log.action = "passing connection to port";
    if (c->listening->udp) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "cannot pass udp connection");
        mg_stream_finalize_session(s, 500);
        return;
    }
    struct sockaddr_storage ss = pc->sockaddr;
    socklen_t len = pc->socklen;
    mg_str_t text = {0, NULL};
    if (pc->value) {
        text = mg_stream_complex_value(s, pc->value);
        int wildcard;
        const char *err = mg_listen_parse_addr(text, &ss, &len, &wildcard);
        if (err) {
            mg_log_error(MG_LOG_ERR, &c->log, 0, "%s in pass \"%.*s\"", err, (int)text.len,
                         text.data);
            mg_stream_finalize_session(s, 500);
            return;
        }
        if (ss.ss_family != AF_UNIX &&
            (!has_port(text) || mg_sockaddr_port((struct sockaddr *)&ss) == 0)) {
            mg_log_error(MG_LOG_ERR, &c->log, 0, "no port in pass \"%.*s\"", (int)text.len,
                         text.data);
            mg_stream_finalize_session(s, 500);
            return;
        }
    }
    if (c->passes >= PASS_MAX) {
        mg_log_error(MG_LOG_ERR, &c->log, 0, "stream pass cycle");
        mg_stream_finalize_session(s, 500);
        return;
    }
    mg_listening_t *ls = find_listening(c->cycle, (struct sockaddr *)&ss);
    if (ls == NULL) {
        char buf[128];
        mg_sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf), 1);
        mg_log_error(MG_LOG_ERR, &c->log, 0, "port not found for \"%s\"", buf);
        mg_stream_finalize_session(s, 200); /* nginx's status for it, unlike the others' */
        return;
    }
    mg_debug_stream(&c->log, "stream pass to %s", ls->addr_text);
    /* the connection starts anew under its new listening socket: the session's handlers,
     * deadline and log context go; its memory stays in the pool until the close */
    c->passes++;
    mg_conn_timer_del(c);
    mg_conn_read_off(c);
    mg_conn_write_off(c);
    c->read_handler = c->write_handler = c->timeout_handler = NULL;
    c->data = NULL;
    s->finalized = 1;
    mg_log_t log = *c->cycle->log;
    log.connection = c->number;
    log.debug = c->log.debug;
    log.debug_any = log.debug ? MG_LOG_DEBUG_ALL : log.debug_any;
    c->log = log;
    c->listening = ls;
    if (s->preread_len) {
        mg_conn_unread(c, s->preread, s->preread_len);
    }
    mg_server_conn_reusable(c, 1);
    ls->handler(c);
    mg_conn_unread_wake(c);
}

static void *pass_create_srv_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(pass_conf_t));
}

static const char *pass_directive(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    pass_conf_t *pc = conf;
    mg_stream_srv_conf_t *cscf = mg_stream_conf_get_srv(cf, mg_stream_core_module);
    if (cscf->handler) {
        return "is duplicate";
    }
    cscf->handler = pass_handler;
    mg_str_t v = cf->args[1];
    if (memchr(v.data, '$', v.len)) {
        pc->value = mg_palloc(cf->pool, sizeof(mg_stream_complex_t));
        return mg_stream_complex_compile(cf, v, pc->value);
    }
    int wildcard;
    const char *err = mg_listen_parse_addr(v, &pc->sockaddr, &pc->socklen, &wildcard);
    if (err == NULL && pc->sockaddr.ss_family != AF_UNIX &&
        (!has_port(v) || mg_sockaddr_port((struct sockaddr *)&pc->sockaddr) == 0)) {
        return "has no port"; /* nginx's words */
    }
    if (err) {
        mg_conf_error(cf, 0, "%s in \"%s\" of the \"pass\" directive", err, v.data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const mg_command_t pass_commands[] = {
    {"pass", MG_CTX_STREAM_SRV, MG_ARGS(1, 1), pass_directive, MG_SRV_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const mg_stream_module_t pass_stream = {
    .create_srv_conf = pass_create_srv_conf,
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t pass_defaults[] = {
    {"pass", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_stream_pass_module = {
    .name = "stream_pass",
    .commands = pass_commands,
    .defaults = pass_defaults,
    .stream = &pass_stream,
};
