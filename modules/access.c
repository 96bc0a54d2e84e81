/*
 * allow/deny (nginx's ngx_http_access_module) in the access phase: the rules of the nearest
 * level that has any, in order; the first one that covers the client's address decides, none
 * lets the request through. "all" covers every client, "unix:" the unix-domain ones, an
 * IPv4-mapped IPv6 client is checked as IPv4. A denial is 403 and "access forbidden by rule"
 * (logged by the post-access phase instead under "satisfy any", where another module may
 * still allow the request).
 */
#include <sys/socket.h>

#include "cidr.h"
#include "http.h"
#include "stream.h"

enum { RULE_CIDR, RULE_UNIX, RULE_ALL };

typedef struct {
    int kind;
    int deny;
    mg_cidr_t cidr;
} access_rule_t;

typedef struct {
    mg_array_t *rules; /* access_rule_t; NULL: none at this level, inherit */
} access_conf_t;

typedef struct {
    int used; /* some level has rules: register the phase handler */
} access_main_conf_t;

mg_module_t mg_access_module;

static void *access_create_main_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(access_main_conf_t));
}

static void *access_create_conf(mg_conf_t *cf)
{
    return mg_pcalloc(cf->pool, sizeof(access_conf_t));
}

static const char *access_merge_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    access_conf_t *prev = parent, *conf = child;
    if (conf->rules == NULL) {
        conf->rules = prev->rules;
    }
    return MG_CONF_OK;
}

static const char *access_rule(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    access_conf_t *ac = conf;
    access_rule_t rule = {.deny = cmd->name[0] == 'd'};
    mg_str_t v = cf->args[1];
    if (mg_str_eq(v, "all")) {
        rule.kind = RULE_ALL;
    } else if (mg_str_eq(v, "unix:")) {
        rule.kind = RULE_UNIX;
    } else {
        rule.kind = RULE_CIDR;
        mg_int_t rc = mg_cidr_parse(v, &rule.cidr);
        if (rc == MG_ERROR) {
            mg_conf_error(cf, 0, "invalid parameter \"%s\"", v.data);
            return MG_CONF_ERROR;
        }
        if (rc == MG_DONE) {
            mg_conf_log(cf, MG_LOG_WARN, 0, "low address bits of %s are meaningless", v.data);
        }
    }
    if (ac->rules == NULL) {
        ac->rules = mg_array_create(cf->pool, 4, sizeof(access_rule_t));
    }
    *(access_rule_t *)mg_array_push(ac->rules) = rule;
    access_main_conf_t *mc = mg_http_conf_get_main(cf, mg_access_module);
    mc->used = 1;
    return MG_CONF_OK;
}

/* MG_OK (allowed by a rule), MG_DECLINED (no rule covers it) or MG_ERROR (denied): the
 * http and stream layers' handlers share it */
static mg_int_t access_check(access_conf_t *ac, const struct sockaddr *sa)
{
    access_rule_t *rule = ac->rules->elts;
    for (size_t i = 0; i < ac->rules->nelts; i++, rule++) {
        int hit = rule->kind == RULE_ALL    ? 1
                  : rule->kind == RULE_UNIX ? sa->sa_family == AF_UNIX
                                            : mg_cidr_match(&rule->cidr, sa);
        if (hit) {
            return rule->deny ? MG_ERROR : MG_OK;
        }
    }
    return MG_DECLINED;
}

static mg_int_t access_handler(mg_request_t *r)
{
    access_conf_t *ac = mg_http_get_loc_conf(r, mg_access_module);
    if (ac->rules == NULL) {
        return MG_DECLINED;
    }
    mg_int_t rc = access_check(ac, r->connection->sockaddr);
    if (rc != MG_ERROR) {
        return rc;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->satisfy == MG_HTTP_SATISFY_ALL) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "access forbidden by rule");
    }
    return MG_HTTP_FORBIDDEN;
}

static mg_int_t access_init(mg_conf_t *cf)
{
    access_main_conf_t *mc = mg_http_conf_get_main(cf, mg_access_module);
    if (mc->used) {
        mg_http_add_phase_handler(cf, MG_HTTP_ACCESS_PHASE, access_handler);
    }
    return MG_OK;
}

/* stream{}: the same rules in the stream's access phase; a denial ends the session (403) */
static mg_int_t stream_access_handler(mg_stream_session_t *s)
{
    access_conf_t *ac = mg_stream_get_srv_conf(s, mg_access_module);
    if (ac->rules == NULL) {
        return MG_DECLINED;
    }
    mg_int_t rc = access_check(ac, s->connection->sockaddr);
    if (rc != MG_ERROR) {
        return rc;
    }
    mg_log_error(MG_LOG_ERR, &s->connection->log, 0, "access forbidden by rule");
    return 403;
}

static mg_int_t stream_access_init(mg_conf_t *cf)
{
    access_main_conf_t *mc = mg_stream_conf_get_main(cf, mg_access_module);
    if (mc->used) {
        mg_stream_add_handler(cf, MG_STREAM_ACCESS_PHASE, stream_access_handler);
    }
    return MG_OK;
}

static const mg_stream_module_t access_stream = {
    .create_main_conf = access_create_main_conf,
    .create_srv_conf = access_create_conf,
    .merge_srv_conf = access_merge_conf,
    .init = stream_access_init,
};

#define ACCESS_CTX (MG_HTTP_ANY_LOC | MG_CTX_LMT | MG_CTX_STREAM | MG_CTX_STREAM_SRV)

static const mg_command_t access_commands[] = {
    {"allow", ACCESS_CTX, MG_ARGS(1, 1), access_rule, MG_LOC_CONF, 0, NULL},
    {"deny", ACCESS_CTX, MG_ARGS(1, 1), access_rule, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t access_defaults[] = {
    {"allow", MG_NO_DEFAULT},
    {"deny", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_access_module = {
    .name = "access",
    .commands = access_commands,
    .defaults = access_defaults,
    .create_main_conf = access_create_main_conf,
    .create_loc_conf = access_create_conf,
    .merge_loc_conf = access_merge_conf,
    .stream = &access_stream,
    .init = access_init,
};
