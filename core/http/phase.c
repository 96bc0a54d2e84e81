/*
 * The phase engine: a flat table of (checker, handler, answer) built once per http{} from the
 * handlers each module registered per phase, and the loop that runs a request through it.
 * A checker runs its entry; `answer` applies the phase's rules to a handler's return code
 * (next handler, next phase, suspend, or finalize with a status), whether the handler
 * returned it at once or later from an event (mg_http_phase_resume).
 */
#include <event2/event.h>

#include "conn.h"
#include "server.h"

void mg_http_run_phases(mg_request_t *r)
{
    r->hc->current = r;
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_phase_handler_t *ph = cmcf->phase_engine;
    while (ph[r->phase_handler].checker) {
        mg_int_t rc = ph[r->phase_handler].checker(r, &ph[r->phase_handler]);
        if (rc == MG_OK) {
            return; /* suspended or finished */
        }
    }
}

/* A phase's rules for a handler's answer (nginx's generic, rewrite and access checkers):
 * MG_AGAIN to run the next entry, MG_OK when the request waits or was finalized. They serve
 * both the engine's run and mg_http_phase_resume. */
static mg_int_t answer_generic(mg_request_t *r, mg_http_phase_handler_t *ph, mg_int_t rc)
{
    if (rc == MG_OK) {
        r->phase_handler = (mg_int_t)ph->next;
        return MG_AGAIN;
    }
    if (rc == MG_DECLINED) {
        r->phase_handler++;
        return MG_AGAIN;
    }
    if (rc == MG_AGAIN || rc == MG_DONE) {
        return MG_OK;
    }
    mg_http_finalize_request(r, rc);
    return MG_OK;
}

static mg_int_t answer_rewrite(mg_request_t *r, mg_http_phase_handler_t *ph, mg_int_t rc)
{
    (void)ph;
    if (rc == MG_DECLINED) {
        r->phase_handler++;
        return MG_AGAIN;
    }
    if (rc == MG_DONE) {
        return MG_OK;
    }
    mg_http_finalize_request(r, rc);
    return MG_OK;
}

/* A content-phase handler (index, autoindex, static) answered: anything but MG_DECLINED is
 * the response's outcome; when the last one declines, nothing served the request. */
static mg_int_t answer_content(mg_request_t *r, mg_http_phase_handler_t *ph, mg_int_t rc)
{
    if (rc != MG_DECLINED) {
        mg_http_finalize_request(r, rc);
        return MG_OK;
    }
    r->phase_handler++;
    if (ph[1].checker == NULL) {
        if (r->uri.len && r->uri.data[r->uri.len - 1] == '/') {
            mg_str_t path;
            size_t root_len;
            if (mg_http_map_uri_to_path(r, &path, &root_len, 0)) {
                mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                             "directory index of \"%s\" is forbidden", path.data);
            }
            mg_http_finalize_request(r, MG_HTTP_FORBIDDEN);
        } else {
            mg_http_finalize_request(r, MG_HTTP_NOT_FOUND);
        }
        return MG_OK;
    }
    return MG_AGAIN;
}

static mg_int_t check_handler(mg_request_t *r, mg_http_phase_handler_t *ph)
{
    mg_debug_http(&r->connection->log, "%s phase: %ld",
                  ph->answer == answer_rewrite ? "rewrite" : "generic", (long)r->phase_handler);
    return ph->answer(r, ph, ph->handler(r));
}

void mg_http_phase_resume(mg_request_t *r, mg_int_t rc)
{
    if (rc == MG_DONE) {
        return; /* the handler finished the request (which may be freed) or waits again */
    }
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    mg_http_phase_handler_t *ph = &cmcf->phase_engine[r->phase_handler];
    if (ph->answer == NULL) {
        /* the location's content handler, which check_content ran at the engine's end */
        mg_http_finalize_request(r, rc);
        return;
    }
    if (ph->answer(r, ph, rc) == MG_AGAIN) {
        mg_http_run_phases(r);
    }
}

static mg_int_t check_find_config(mg_request_t *r, mg_http_phase_handler_t *ph)
{
    (void)ph;
    r->content_handler = NULL;
    r->uri_changed = 0;
    mg_int_t rc = mg_http_find_location(r);
    if (rc == MG_ERROR) {
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return MG_OK;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (!r->internal && clcf->internal) {
        mg_http_finalize_request(r, MG_HTTP_NOT_FOUND);
        return MG_OK;
    }
    mg_http_update_location_config(r);
    mg_http_keepalive_check(r);
    if (r->headers_in.content_length_n > 0 && clcf->client_max_body_size &&
        (size_t)r->headers_in.content_length_n > clcf->client_max_body_size) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "client intended to send too large body: %lld bytes",
                     (long long)r->headers_in.content_length_n);
        r->lingering_close = 1;
        r->expect_tested = 1; /* no "100 Continue" for a body we refuse */
        mg_http_finalize_request(r, MG_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return MG_OK;
    }
    if (rc == MG_DONE) {
        /* "location /dir/" asked for as "/dir": redirect to the slash form */
        mg_http_finalize_request(r, mg_http_redirect_to_slash(r));
        return MG_OK;
    }
    r->phase_handler++;
    return MG_AGAIN;
}

static mg_int_t check_post_rewrite(mg_request_t *r, mg_http_phase_handler_t *ph)
{
    (void)ph;
    mg_debug_http(&r->connection->log, "post rewrite phase: %ld", (long)r->phase_handler);
    if (!r->uri_changed) {
        r->phase_handler++;
        return MG_AGAIN;
    }
    mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
    if (--r->uri_changes == 0) {
        mg_log_error(MG_LOG_ERR, &r->connection->log, 0,
                     "rewrite or internal redirection cycle while processing \"%.*s\"",
                     (int)r->uri.len, r->uri.data);
        mg_http_finalize_request(r, MG_HTTP_INTERNAL_SERVER_ERROR);
        return MG_OK;
    }
    r->phase_handler = (mg_int_t)cmcf->find_config_index;
    return MG_AGAIN;
}

/* Drop the challenge a denying handler added: under "satisfy any" another one allowed. */
static void drop_www_authenticate(mg_request_t *r)
{
    mg_table_elt_t *h = r->headers_out.headers.elts;
    for (size_t i = 0; i < r->headers_out.headers.nelts; i++) {
        if (h[i].hash && h[i].key.len == 16 &&
            mg_strncasecmp(h[i].key.data, "www-authenticate", 16) == 0) {
            h[i].hash = 0;
        }
    }
}

/* auth_delay: a 401 from the access phase waits so long before it goes out (the same time
 * whatever the credentials, against timing attacks), the client's close still noticed. */
typedef struct {
    mg_request_t *r;
    struct event ev;
} auth_delay_t;

static void auth_delay_cancel(void *data)
{
    auth_delay_t *d = data;
    event_del(&d->ev);
}

static void auth_delay_aborted(mg_request_t *r)
{
    auth_delay_t *d = mg_pool_cleanup_find(r->pool, auth_delay_cancel);
    event_del(&d->ev);
    mg_http_finalize_request(r, MG_HTTP_CLIENT_CLOSED_REQUEST);
}

static const mg_http_abort_t auth_delay_watch = {auth_delay_aborted, NULL, NULL};

static void auth_delay_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    auth_delay_t *d = arg;
    mg_time_update();
    mg_http_unwatch_client(d->r, &auth_delay_watch);
    mg_http_finalize_request(d->r, MG_HTTP_UNAUTHORIZED);
}

/* A denial: finalized now, or a 401 after auth_delay. */
static void access_denied(mg_request_t *r, mg_int_t rc)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (rc != MG_HTTP_UNAUTHORIZED || clcf->auth_delay == 0) {
        mg_http_finalize_request(r, rc);
        return;
    }
    mg_log_error(MG_LOG_INFO, &r->connection->log, 0, "delaying unauthorized request");
    auth_delay_t *d = mg_pcalloc(r->pool, sizeof(*d));
    d->r = r;
    evtimer_assign(&d->ev, r->connection->server->base, auth_delay_over, d);
    mg_pool_cleanup_add(r->pool, auth_delay_cancel, d);
    struct timeval tv = {(time_t)(clcf->auth_delay / 1000),
                         (suseconds_t)(clcf->auth_delay % 1000) * 1000};
    evtimer_add(&d->ev, &tv);
    mg_http_watch_client(r, &auth_delay_watch);
}

/* nginx's access phase: subrequests skip it; "satisfy all" needs every handler to allow (or
 * decline), "satisfy any" one allow, a denial (401 over 403) waiting in r->access_code for
 * the post-access phase until then. */
static mg_int_t answer_access(mg_request_t *r, mg_http_phase_handler_t *ph, mg_int_t rc)
{
    if (rc == MG_DECLINED) {
        r->phase_handler++;
        return MG_AGAIN;
    }
    if (rc == MG_AGAIN || rc == MG_DONE) {
        return MG_OK;
    }
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    if (clcf->satisfy == MG_HTTP_SATISFY_ALL) {
        if (rc == MG_OK) {
            r->phase_handler++;
            return MG_AGAIN;
        }
    } else {
        if (rc == MG_OK) {
            r->access_code = 0;
            drop_www_authenticate(r);
            r->phase_handler = (mg_int_t)ph->next;
            return MG_AGAIN;
        }
        if (rc == MG_HTTP_FORBIDDEN || rc == MG_HTTP_UNAUTHORIZED) {
            if (r->access_code != MG_HTTP_UNAUTHORIZED) {
                r->access_code = (mg_uint_t)rc;
            }
            r->phase_handler++;
            return MG_AGAIN;
        }
    }
    access_denied(r, rc);
    return MG_OK;
}

static mg_int_t check_access(mg_request_t *r, mg_http_phase_handler_t *ph)
{
    mg_debug_http(&r->connection->log, "access phase: %ld", (long)r->phase_handler);
    if (r->parent) {
        r->phase_handler = (mg_int_t)ph->next;
        return MG_AGAIN;
    }
    return answer_access(r, ph, ph->handler(r));
}

/* "satisfy any" where no access handler allowed: their denial. */
static mg_int_t check_post_access(mg_request_t *r, mg_http_phase_handler_t *ph)
{
    (void)ph;
    mg_debug_http(&r->connection->log, "post access phase: %ld", (long)r->phase_handler);
    mg_uint_t code = r->access_code;
    if (code) {
        r->access_code = 0;
        if (code == MG_HTTP_FORBIDDEN) {
            mg_log_error(MG_LOG_ERR, &r->connection->log, 0, "access forbidden by rule");
        }
        access_denied(r, (mg_int_t)code);
        return MG_OK;
    }
    r->phase_handler++;
    return MG_AGAIN;
}

static mg_int_t check_content(mg_request_t *r, mg_http_phase_handler_t *ph)
{
    mg_debug_http(&r->connection->log, "content phase: %ld", (long)r->phase_handler);
    if (r->content_handler) {
        mg_http_main_conf_t *cmcf = mg_http_get_main_conf(r, mg_http_core_module);
        mg_int_t self = r->phase_handler;
        r->phase_handler = (mg_int_t)cmcf->nphase_handlers;
        mg_int_t rc = r->content_handler(r);
        if (rc == MG_DECLINED) {
            /* as nginx: the content phase's handlers (index, static) get the request (flv and
             * mp4 leave "dir/" to them) */
            r->phase_handler = self;
        }
        mg_http_finalize_request(r, rc);
        return MG_OK;
    }
    return answer_content(r, ph, ph->handler(r));
}

static mg_int_t content_none(mg_request_t *r)
{
    (void)r;
    return MG_DECLINED;
}

void mg_http_add_phase_handler(mg_conf_t *cf, mg_http_phase_e phase, mg_http_handler_pt h)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    *(mg_http_handler_pt *)mg_array_push(&cmcf->phases[phase]) = h;
}

static void add_front(mg_array_t *a, mg_http_handler_pt h)
{
    mg_array_push(a);
    mg_http_handler_pt *hs = a->elts;
    memmove(&hs[1], &hs[0], (a->nelts - 1) * sizeof(*hs));
    hs[0] = h;
}

/* The engine runs a phase's handlers last-registered first; the log phase, which
 * mg_http_request_done runs, goes in registration order (as nginx's log handlers). */
void mg_http_add_phase_handler_last(mg_conf_t *cf, mg_http_phase_e phase, mg_http_handler_pt h)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    if (phase == MG_HTTP_LOG_PHASE) {
        *(mg_http_handler_pt *)mg_array_push(&cmcf->phases[phase]) = h;
    } else {
        add_front(&cmcf->phases[phase], h);
    }
}

void mg_http_add_phase_handler_first(mg_conf_t *cf, mg_http_phase_e phase, mg_http_handler_pt h)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    if (phase == MG_HTTP_LOG_PHASE) {
        add_front(&cmcf->phases[phase], h);
    } else {
        *(mg_http_handler_pt *)mg_array_push(&cmcf->phases[phase]) = h;
    }
}

mg_int_t mg_http_init_phase_engine(mg_conf_t *cf)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    size_t n = 4; /* find_config, post_rewrite, post_access, sentinel */
    for (int p = 0; p < MG_HTTP_LOG_PHASE; p++) {
        n += cmcf->phases[p].nelts;
    }
    n += 1; /* a content entry even without content handlers */
    mg_http_phase_handler_t *ph = mg_pcalloc(cf->pool, (n + 1) * sizeof(*ph));
    cmcf->phase_engine = ph;
    size_t i = 0;
    for (int p = 0; p < MG_HTTP_LOG_PHASE; p++) {
        size_t first = i;
        mg_http_handler_pt *hs = cmcf->phases[p].elts;
        size_t nh = cmcf->phases[p].nelts;
        switch (p) {
        case MG_HTTP_FIND_CONFIG_PHASE:
            cmcf->find_config_index = i;
            ph[i++].checker = check_find_config;
            continue;
        case MG_HTTP_POST_REWRITE_PHASE:
            ph[i++].checker = check_post_rewrite;
            continue;
        case MG_HTTP_POST_ACCESS_PHASE:
            ph[i++].checker = check_post_access;
            continue;
        case MG_HTTP_SERVER_REWRITE_PHASE:
            cmcf->server_rewrite_index = i;
            break;
        case MG_HTTP_REWRITE_PHASE:
            cmcf->location_rewrite_index = i;
            break;
        case MG_HTTP_CONTENT_PHASE:
            cmcf->content_index = i;
            if (nh == 0) {
                ph[i].checker = check_content;
                ph[i].answer = answer_content;
                ph[i++].handler = content_none;
                continue;
            }
            break;
        }
        /* modules registered in list order; nginx runs the last registered first */
        for (size_t k = nh; k > 0; k--) {
            ph[i].handler = hs[k - 1];
            ph[i].answer = p == MG_HTTP_SERVER_REWRITE_PHASE || p == MG_HTTP_REWRITE_PHASE
                               ? answer_rewrite
                           : p == MG_HTTP_ACCESS_PHASE  ? answer_access
                           : p == MG_HTTP_CONTENT_PHASE ? answer_content
                                                        : answer_generic;
            ph[i].checker = p == MG_HTTP_CONTENT_PHASE  ? check_content
                            : p == MG_HTTP_ACCESS_PHASE ? check_access
                                                        : check_handler;
            i++;
        }
        for (size_t k = first; k < i; k++) {
            ph[k].next = i;
        }
    }
    cmcf->nphase_handlers = i;
    return MG_OK;
}
