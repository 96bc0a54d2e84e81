/*
 * HTTP/2 connections (nginx's ngx_http_v2_module's directives and behaviour): a connection that
 * negotiated "h2" with ALPN, or whose first bytes on a plain address are the h2 preface, gets
 * an nghttp2 server session. Bytes read go to nghttp2, which calls back for streams, headers and
 * DATA (v2_stream.c makes each stream a request); what nghttp2 has to send is gathered into one
 * buffer and written. Draining (reload, upgrade, QUIT) sends a GOAWAY for every stream, a PING,
 * and once its ACK shows the client saw the first, the final GOAWAY naming the last stream taken;
 * the connection closes when its streams are done.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>

#include "server.h"
#include "ssl.h"
#include "stat.h"
#include "v2.h"
#include "variables.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_OBUF_SIZE 65536
#define H2_FEED_PIECE 8192 /* at most 482 PINGs: nghttp2's flood limit is 1000 unsent ACKs */
/* the drain's final GOAWAY waits this long for the PING's ACK at most */
#define H2_GOAWAY_WAIT 2000
/* an idle connection's frame buffer pages go back after this (v2.h): a busy one, whose next
 * stream comes sooner, pays no system call. The connection's own timer comes then (trim_due)
 * and is set again for the rest of the idle timeout: no timer of the trim's own (48 bytes) */
#define H2_TRIM_MSEC 1000
static const uint8_t drain_ping[8] = {'m', 'g', 'd', 'r', 'a', 'i', 'n', '0'};

static void conn_flush(mg_http_v2_conn_t *h2);

/* ---- configuration ---- */

static const char *v2_set_chunk_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_size(cf, cmd, conf);
    if (rv == MG_CONF_OK && ((mg_http_v2_loc_conf_t *)conf)->chunk_size == 0) {
        return "the http2 chunk size cannot be zero";
    }
    return rv;
}

static const char *v2_set_index_size(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    const char *rv = mg_conf_set_num(cf, cmd, conf);
    mg_int_t n = ((mg_http_v2_srv_conf_t *)conf)->streams_index_size;
    if (rv == MG_CONF_OK && (n <= 0 || (n & (n - 1)) != 0)) {
        return "must be a power of two";
    }
    return rv;
}

/* Directives nginx made obsolete, warned about as nginx does so that a config written for an
 * older nginx still starts: those 1.19.7 replaced (post: the one that took over), and server
 * push's, which 1.25.1 removed (post NULL; moongate's HTTP/2 follows nginx >= 1.25) */
static const char *v2_obsolete(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)conf;
    if (cmd->post) {
        mg_conf_log(cf, MG_LOG_WARN, 0,
                    "the \"%s\" directive is obsolete, use the \"%s\" directive instead", cmd->name,
                    (const char *)cmd->post);
    } else {
        mg_conf_log(cf, MG_LOG_WARN, 0, "the \"%s\" directive is obsolete, ignored", cmd->name);
    }
    return MG_CONF_OK;
}

static const mg_command_t v2_commands[] = {
    {"http2", MG_HTTP_SRV, MG_FLAG, mg_conf_set_flag, MG_SRV_CONF,
     offsetof(mg_http_v2_srv_conf_t, enable), NULL},
    {"http2_max_concurrent_streams", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_num, MG_SRV_CONF,
     offsetof(mg_http_v2_srv_conf_t, concurrent_streams), NULL},
    {"http2_body_preread_size", MG_HTTP_SRV, MG_ARGS(1, 1), mg_conf_set_size, MG_SRV_CONF,
     offsetof(mg_http_v2_srv_conf_t, preread_size), NULL},
    {"http2_pool_size", MG_HTTP_SRV, MG_ARGS(1, 1), mg_http_set_pool_size, MG_SRV_CONF,
     offsetof(mg_http_v2_srv_conf_t, pool_size), NULL},
    {"http2_streams_index_size", MG_HTTP_SRV, MG_ARGS(1, 1), v2_set_index_size, MG_SRV_CONF,
     offsetof(mg_http_v2_srv_conf_t, streams_index_size), NULL},
    {"http2_recv_buffer_size", MG_CTX_HTTP, MG_ARGS(1, 1), mg_conf_set_size, MG_MAIN_CONF,
     offsetof(mg_http_v2_main_conf_t, recv_buffer_size), NULL},
    {"http2_chunk_size", MG_HTTP_ANY_LOC | MG_CTX_LIF, MG_ARGS(1, 1), v2_set_chunk_size,
     MG_LOC_CONF, offsetof(mg_http_v2_loc_conf_t, chunk_size), NULL},
    {"http2_idle_timeout", MG_HTTP_SRV, MG_ARGS(1, 1), v2_obsolete, MG_SRV_CONF, 0,
     "keepalive_timeout"},
    {"http2_max_requests", MG_HTTP_SRV, MG_ARGS(1, 1), v2_obsolete, MG_SRV_CONF, 0,
     "keepalive_requests"},
    {"http2_max_field_size", MG_HTTP_SRV, MG_ARGS(1, 1), v2_obsolete, MG_SRV_CONF, 0,
     "large_client_header_buffers"},
    {"http2_max_header_size", MG_HTTP_SRV, MG_ARGS(1, 1), v2_obsolete, MG_SRV_CONF, 0,
     "large_client_header_buffers"},
    {"http2_recv_timeout", MG_HTTP_SRV, MG_ARGS(1, 1), v2_obsolete, MG_SRV_CONF, 0,
     "client_header_timeout"},
    {"http2_push", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), v2_obsolete, MG_LOC_CONF, 0, NULL},
    {"http2_push_preload", MG_HTTP_ANY_LOC, MG_ARGS(1, 1), v2_obsolete, MG_LOC_CONF, 0, NULL},
    {"http2_max_concurrent_pushes", MG_HTTP_SRV, MG_ARGS(1, 1), v2_obsolete, MG_SRV_CONF, 0, NULL},
    {0},
};

static void *v2_create_main_conf(mg_conf_t *cf)
{
    mg_http_v2_main_conf_t *m = mg_pcalloc(cf->pool, sizeof(*m));
    m->recv_buffer_size = MG_CONF_UNSET_SIZE;
    return m;
}

/* $http2: "h2" over TLS, "h2c" in cleartext, "" for HTTP/1. */
static mg_int_t var_http2(mg_request_t *r, mg_http_var_value_t *v, uintptr_t data)
{
    (void)data;
    const char *s = r->hc->stream ? (r->connection->ssl ? "h2" : "h2c") : "";
    v->value.data = (char *)s;
    v->value.len = strlen(s);
    v->valid = 1;
    v->not_found = 0;
    return MG_OK;
}

static int session_setup(mg_conf_t *cf, mg_http_v2_main_conf_t *m);

static const char *v2_init_main_conf(mg_conf_t *cf, void *conf)
{
    mg_http_variable_t *var = mg_http_add_variable(cf, (mg_str_t)mg_string("http2"), 0);
    if (var == NULL) {
        return MG_CONF_ERROR;
    }
    var->get_handler = var_http2;
    mg_http_v2_main_conf_t *m = conf;
    if (m->recv_buffer_size == MG_CONF_UNSET_SIZE) {
        m->recv_buffer_size = 256 * 1024;
    }
    if (m->recv_buffer_size <= 2 * 24) {
        return "value is too small"; /* nginx: at least twice the preface */
    }
    return session_setup(cf, m) == 0 ? MG_CONF_OK : MG_CONF_ERROR;
}

static void *v2_create_srv_conf(mg_conf_t *cf)
{
    mg_http_v2_srv_conf_t *s = mg_pcalloc(cf->pool, sizeof(*s));
    s->enable = MG_CONF_UNSET;
    s->concurrent_streams = MG_CONF_UNSET;
    s->preread_size = MG_CONF_UNSET_SIZE;
    s->pool_size = MG_CONF_UNSET_SIZE;
    s->streams_index_size = MG_CONF_UNSET;
    return s;
}

static const char *v2_merge_srv_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    mg_http_v2_srv_conf_t *prev = parent, *conf = child;
    mg_conf_merge(conf->enable, prev->enable, 0);
    mg_conf_merge(conf->concurrent_streams, prev->concurrent_streams, 128);
    mg_conf_merge_size(conf->preread_size, prev->preread_size, 65536);
    mg_conf_merge_size(conf->pool_size, prev->pool_size, 4096);
    mg_conf_merge(conf->streams_index_size, prev->streams_index_size, 32);
    if (conf->preread_size > NGHTTP2_MAX_WINDOW_SIZE) {
        return "the http2_body_preread_size is too large";
    }
    return MG_CONF_OK;
}

static void *v2_create_loc_conf(mg_conf_t *cf)
{
    mg_http_v2_loc_conf_t *l = mg_pcalloc(cf->pool, sizeof(*l));
    l->chunk_size = MG_CONF_UNSET_SIZE;
    return l;
}

static const char *v2_merge_loc_conf(mg_conf_t *cf, void *parent, void *child)
{
    (void)cf;
    mg_http_v2_loc_conf_t *prev = parent, *conf = child;
    mg_conf_merge_size(conf->chunk_size, prev->chunk_size, 8192);
    return MG_CONF_OK;
}

/* The defaults nginx documents for the directives whose setter is this module's own (the
 * merge applies them; tools/docgen.c prints them in docs/directives.md). */
static const mg_conf_default_t v2_defaults[] = {
    {"http2_chunk_size", "8k"},
    {"http2_pool_size", "4k"},
    {"http2_streams_index_size", "32"},
    {"http2_idle_timeout", MG_NO_DEFAULT},
    {"http2_max_requests", MG_NO_DEFAULT},
    {"http2_max_field_size", MG_NO_DEFAULT},
    {"http2_max_header_size", MG_NO_DEFAULT},
    {"http2_recv_timeout", MG_NO_DEFAULT},
    {"http2_push", MG_NO_DEFAULT},
    {"http2_push_preload", MG_NO_DEFAULT},
    {"http2_max_concurrent_pushes", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_http_v2_module = {
    .name = "http2",
    .commands = v2_commands,
    .defaults = v2_defaults,
    .create_main_conf = v2_create_main_conf,
    .init_main_conf = v2_init_main_conf,
    .create_srv_conf = v2_create_srv_conf,
    .merge_srv_conf = v2_merge_srv_conf,
    .create_loc_conf = v2_create_loc_conf,
    .merge_loc_conf = v2_merge_loc_conf,
};

int mg_http_v2_srv_on(const mg_http_srv_conf_t *cscf)
{
    mg_http_v2_srv_conf_t *s = cscf->ctx->srv_conf[mg_http_v2_module.index];
    return s->enable == 1;
}

int mg_http_v2_enabled(mg_http_conn_t *hc, mg_http_srv_conf_t *cscf)
{
    return hc->addr_conf->http2 || mg_http_v2_srv_on(cscf);
}

/* ---- nghttp2's callbacks ---- */

/* The stream's user data, as nghttp2_session_get_stream_user_data finds it. */
static mg_http_v2_stream_t *stream_of(mg_http_v2_conn_t *h2, int32_t id)
{
    if (h2->hstream && h2->hstream->id == id) {
        return h2->hstream;
    }
    return nghttp2_session_get_stream_user_data(h2->session, id);
}

/* A stream refused alone (RST_STREAM REFUSED_STREAM), the client may send it again later; past
 * nginx's bound on refusals (the stream limit, at least 100) the connection ends instead, its
 * GOAWAY naming this stream: NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE either way (no stream). */
static int stream_refuse(nghttp2_session *session, mg_http_v2_conn_t *h2, int32_t sid)
{
    if (h2->refused++ > mg_max(h2->max_streams, 100)) {
        if (h2->c) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent too many refused streams");
        }
        nghttp2_session_terminate_session2(session, sid, NGHTTP2_NO_ERROR);
    } else {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, sid, NGHTTP2_REFUSED_STREAM);
    }
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *data)
{
    mg_http_v2_conn_t *h2 = data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    if (h2->nactive >= h2->max_streams) {
        if (h2->c) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "concurrent streams exceeded %lu",
                         (unsigned long)h2->max_streams);
        }
        return stream_refuse(session, h2, frame->hd.stream_id);
    }
    if (h2->new_streams++ >= 2 * h2->max_streams) {
        /* as nginx 1.22.1 (CVE-2023-44487): a stream reset as soon as sent frees its place at
         * once, yet its request runs; so a read event opens at most twice the limit */
        if (h2->c) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent too many streams at once");
        }
        return stream_refuse(session, h2, frame->hd.stream_id);
    }
    mg_http_v2_stream_t *st = mg_http_v2_stream_create(h2, frame->hd.stream_id);
    st->in_length = frame->hd.length - frame->headers.padlen -
                    (frame->hd.flags & NGHTTP2_FLAG_PRIORITY ? 5 : 0);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st);
    h2->hstream = st;
    st->counted = 1;
    h2->nactive++;
    st->nth = ++h2->requests;
    h2->priority_limit += h2->max_streams;
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *data)
{
    (void)flags;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
        return 0;
    }
    mg_http_v2_stream_t *st = stream_of(data, frame->hd.stream_id);
    if (st == NULL) {
        return 0;
    }
    int err = mg_http_v2_stream_header(st, name, namelen, value, valuelen);
    if (err) {
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, (uint32_t)err);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *data)
{
    mg_http_v2_conn_t *h2 = data;
    if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) && h2->notice &&
        !h2->goaway && memcmp(frame->ping.opaque_data, drain_ping, 8) == 0) {
        /* the client has seen the first GOAWAY: it starts no stream after it */
        event_active(h2->goaway_ev, EV_TIMEOUT, 1);
        return 0;
    }
    if (frame->hd.type == NGHTTP2_PRIORITY && --h2->priority_limit == 0) {
        /* nginx's bound on PRIORITY frames (CVE-2019-9513): 100 or the stream limit, and
         * as many more for each stream opened */
        if (h2->c) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent too many PRIORITY frames");
        }
        nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
        return 0;
    }
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
        mg_http_v2_stream_t *st = stream_of(h2, frame->hd.stream_id);
        if (st) {
            mg_http_v2_stream_client_reset(st, frame->rst_stream.error_code);
        }
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
        return 0;
    }
    mg_http_v2_stream_t *st = stream_of(h2, frame->hd.stream_id);
    if (st == NULL) {
        return 0;
    }
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        mg_http_v2_stream_eof(st);
    }
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        /* keepalive_requests: this stream is served, none after it */
        mg_http_srv_conf_t *cscf = h2->hc->srv;
        mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
        if (h2->requests >= (mg_uint_t)clcf->keepalive_requests && !h2->goaway) {
            h2->goaway = 1;
            nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR,
                                  NULL, 0);
        }
        mg_http_v2_stream_ready(st);
    }
    return 0;
}

/* A frame that ends the connection (or a stream), on the connection's log in nginx's words:
 * nghttp2 answers it (GOAWAY, RST_STREAM), nginx also says what was wrong. */
static int on_invalid_frame(nghttp2_session *session, const nghttp2_frame *frame, int lib_error,
                            void *data)
{
    mg_http_v2_conn_t *h2 = data;
    mg_connection_t *c = h2->c;
    if (c == NULL) {
        return 0;
    }
    int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        if ((frame->hd.flags & NGHTTP2_FLAG_PRIORITY) && frame->headers.pri_spec.stream_id == id) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent HEADERS frame for stream %d with incorrect dependency",
                         (int)id);
        } else if (id == 0 || id % 2 == 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent HEADERS frame with incorrect identifier %d, the last was %d",
                         (int)id, (int)nghttp2_session_get_last_proc_stream_id(session));
        }
        break;
    case NGHTTP2_PRIORITY:
        if (frame->priority.pri_spec.stream_id == id) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent PRIORITY frame for stream %d with incorrect dependency",
                         (int)id);
        }
        break;
    case NGHTTP2_SETTINGS:
        if (id != 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent SETTINGS frame with incorrect identifier");
            break;
        }
        for (size_t i = 0; i < frame->settings.niv; i++) {
            const nghttp2_settings_entry *e = &frame->settings.iv[i];
            const char *name = e->settings_id == NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE &&
                                       e->value > NGHTTP2_MAX_WINDOW_SIZE
                                   ? "INITIAL_WINDOW_SIZE"
                               : e->settings_id == NGHTTP2_SETTINGS_MAX_FRAME_SIZE &&
                                       (e->value < (1u << 14) || e->value > (1u << 24) - 1)
                                   ? "MAX_FRAME_SIZE"
                               : e->settings_id == NGHTTP2_SETTINGS_ENABLE_PUSH && e->value > 1
                                   ? "ENABLE_PUSH"
                                   : NULL;
            if (name) {
                mg_log_error(MG_LOG_INFO, &c->log, 0,
                             "client sent SETTINGS frame with incorrect %s value %u", name,
                             (unsigned)e->value);
                break;
            }
        }
        break;
    case NGHTTP2_PING:
        if (id != 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent PING frame with incorrect identifier");
        }
        break;
    case NGHTTP2_RST_STREAM:
        if (id == 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent RST_STREAM frame with incorrect identifier");
        }
        break;
    case NGHTTP2_WINDOW_UPDATE:
        if (frame->window_update.window_size_increment == 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent WINDOW_UPDATE frame with incorrect window increment 0");
        } else if (lib_error == NGHTTP2_ERR_FLOW_CONTROL && id == 0) {
            /* past 2^31-1 (nghttp2's GOAWAY FLOW_CONTROL_ERROR): the window before it */
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client violated connection flow control: received WINDOW_UPDATE frame "
                         "with window increment %d not allowed for window %d",
                         (int)frame->window_update.window_size_increment,
                         (int)nghttp2_session_get_remote_window_size(session));
        } else if (lib_error == NGHTTP2_ERR_FLOW_CONTROL) {
            /* (its RST_STREAM FLOW_CONTROL_ERROR) */
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client violated flow control for stream %d: received WINDOW_UPDATE "
                         "frame with window increment %d not allowed for window %d",
                         (int)id, (int)frame->window_update.window_size_increment,
                         (int)nghttp2_session_get_stream_remote_window_size(session, id));
        }
        break;
    }
    return 0;
}

/* A CONTINUATION of a request's header block counts in its $request_length; the frame
 * header is kept for the words of a GOAWAY it may bring; a frame of an unknown type is
 * logged. */
static int on_begin_frame(nghttp2_session *session, const nghttp2_frame_hd *hd, void *data)
{
    (void)session;
    mg_http_v2_conn_t *h2 = data;
    h2->last_sid = hd->stream_id; /* for the log line of a GOAWAY it brings (goaway_logged) */
    if (hd->type == NGHTTP2_HEADERS && hd->stream_id % 2) {
        /* as nginx: a stream's HEADERS is its first, and opens a stream after the last one
         * (a request's trailers, a closed stream's HEADERS end the connection; nghttp2 would
         * take the trailers and ignore the other). nghttp2 stops here; conn_feed answers
         * the requests before it, then ends the connection. */
        if (hd->stream_id <= h2->last_hsid) {
            if (h2->c) {
                mg_log_error(MG_LOG_INFO, &h2->c->log, 0,
                             "client sent HEADERS frame with incorrect identifier %d, the last "
                             "was %d",
                             (int)hd->stream_id, (int)h2->last_hsid);
            }
            h2->hsid_bad = 1;
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        h2->last_hsid = hd->stream_id;
    }
    if (hd->type > NGHTTP2_CONTINUATION && h2->c) {
        /* skipped (by nghttp2 too), as nginx says */
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent frame with unknown type %u",
                     (unsigned)hd->type);
    }
    if (hd->type == NGHTTP2_CONTINUATION && h2->hstream && h2->hstream->id == hd->stream_id &&
        !h2->hstream->head_done) {
        h2->hstream->in_length += hd->length;
    }
    return 0;
}

/* A response's frames count in $bytes_sent as nginx counts a stream's: each frame's 9 bytes
 * and payload, the HEADERS (a trailing one too) in the head's size, so $body_bytes_sent is
 * the DATA bytes (v2_data.c counts a DATA frame's header) */
/* An unknown frame's payload (it was logged from its header): dropped. */
static int on_ext_chunk(nghttp2_session *session, const nghttp2_frame_hd *hd, const uint8_t *d,
                        size_t len, void *data)
{
    (void)session, (void)hd, (void)d, (void)len, (void)data;
    return 0;
}

static int on_ext_unpack(nghttp2_session *session, void **payload, const nghttp2_frame_hd *hd,
                         void *data)
{
    (void)session, (void)payload, (void)hd, (void)data;
    return NGHTTP2_ERR_CANCEL; /* no frame to receive: skipped */
}

/* A GOAWAY nghttp2 sends for a frame it found wrong in its own state machine (no
 * invalid-frame callback): nginx's line for it, from nghttp2's reason and the frame header; a
 * frame of a wrong length, which nghttp2 refuses before its header is given (FRAME_SIZE_ERROR,
 * no reason), from the walk's note of it (v2_hpack.c). */
static void goaway_logged(mg_http_v2_conn_t *h2, const nghttp2_goaway *g)
{
    mg_str_t why = {g->opaque_data_len, (char *)g->opaque_data};
    mg_connection_t *c = h2->c;
    if (c == NULL) {
        return;
    }
    if (h2->hstream && !h2->hstream->head_done) {
        /* the connection ends in a header block (HPACK, CONTINUATION): nginx logs its stream */
        mg_http_v2_stream_dropped(h2->hstream);
    }
    if (mg_str_eq(why, "depend on itself")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0,
                     "client sent PRIORITY frame for stream %d with incorrect dependency",
                     (int)h2->last_sid);
    } else if (mg_str_eq(why, "CONTINUATION: unexpected")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent unexpected CONTINUATION frame");
    } else if (mg_str_eq(why, "unexpected non-CONTINUATION frame or stream_id is invalid")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0,
                     h2->hwalk.cont_sid
                         ? "client sent CONTINUATION frame with incorrect identifier"
                         : "client sent inappropriate frame while CONTINUATION was expected");
    } else if (mg_str_eq(why, "PRIORITY: stream_id == 0")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0,
                     "client sent PRIORITY frame with incorrect identifier");
    } else if (mg_str_eq(why, "GOAWAY: stream_id != 0")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent GOAWAY frame with incorrect identifier");
    } else if (mg_str_eq(why, "DATA: stream_id == 0")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent DATA frame with incorrect identifier");
    } else if (mg_str_eq(why, "PUSH_PROMISE: push disabled")) {
        mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent PUSH_PROMISE frame");
    } else if ((mg_str_eq(why, "DATA: invalid padding") ||
                mg_str_eq(why, "HEADERS: invalid padding")) &&
               h2->hwalk.bad_padded) {
        const mg_http_v2_hwalk_t *w = &h2->hwalk;
        mg_log_error(MG_LOG_INFO, &c->log, 0,
                     "client sent padded %s frame with incorrect length: %u, padding: %u",
                     w->bad_type == NGHTTP2_DATA ? "DATA" : "HEADERS", (unsigned)w->bad_len,
                     (unsigned)w->bad_pad);
    } else if (g->error_code == NGHTTP2_FRAME_SIZE_ERROR && why.len == 0 && h2->hwalk.bad_type &&
               !h2->hwalk.bad_padded) {
        static const char *const type[] = {
            [NGHTTP2_PRIORITY] = "PRIORITY", [NGHTTP2_RST_STREAM] = "RST_STREAM",
            [NGHTTP2_SETTINGS] = "SETTINGS", [NGHTTP2_PING] = "PING",
            [NGHTTP2_GOAWAY] = "GOAWAY",     [NGHTTP2_WINDOW_UPDATE] = "WINDOW_UPDATE",
        };
        const mg_http_v2_hwalk_t *w = &h2->hwalk;
        if (w->bad_type == NGHTTP2_SETTINGS && (w->bad_flags & NGHTTP2_FLAG_ACK) && w->bad_len) {
            mg_log_error(MG_LOG_INFO, &c->log, 0,
                         "client sent SETTINGS frame with the ACK flag and nonzero length");
        } else {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent %s frame with incorrect length %u",
                         type[w->bad_type], (unsigned)w->bad_len);
        }
    }
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *data)
{
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
        goaway_logged(data, &frame->goaway);
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS) {
        return 0;
    }
    mg_http_v2_stream_t *st = stream_of(data, frame->hd.stream_id);
    if (st == NULL || st->fc == NULL || st->hc->r == NULL) {
        return 0;
    }
    size_t max = nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_FRAME_SIZE);
    size_t len = frame->hd.length;
    size_t frames = len > max && max ? (len + max - 1) / max : 1; /* with CONTINUATIONs */
    mg_request_t *r = st->hc->r;
    r->bytes_sent += 9 * frames + len;
    r->header_size += 9 * frames + len;
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *d, size_t len, void *data)
{
    (void)flags;
    /* the connection's window comes back at once; a stream's when its reader takes the bytes */
    nghttp2_session_consume_connection(session, len);
    mg_http_v2_stream_t *st = stream_of(data, stream_id);
    if (st) {
        mg_http_v2_stream_data(st, d, len);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *data)
{
    mg_http_v2_conn_t *h2 = data;
    mg_http_v2_stream_t *st = stream_of(h2, stream_id);
    if (h2->hstream && h2->hstream->id == stream_id) {
        h2->hstream = NULL; /* no longer the stream's user data */
    }
    if (st) {
        nghttp2_session_set_stream_user_data(session, stream_id, NULL);
        mg_http_v2_stream_closed(st, error_code);
    }
    return 0;
}

/* ---- the connection's I/O ---- */

static void conn_close(mg_http_v2_conn_t *h2)
{
    if (h2->c && !h2->c->closed) {
        mg_conn_close(h2->c);
    }
}

/* Whether a stream's request still runs (its connection is not freed yet). */
static int streams_running(const mg_http_v2_conn_t *h2)
{
    for (const mg_http_v2_stream_t *st = h2->streams; st; st = st->next) {
        if (st->fc) {
            return 1;
        }
    }
    return 0;
}

/* GOAWAY sent (or received) and no stream left: as nginx >= 1.19.7, the connection closes
 * lingering unless lingering_close is off, so a client's frames still in flight (a WINDOW_UPDATE,
 * a request the GOAWAY refused) do not reset it under the responses it has not read yet.
 * After a GOAWAY for an error (nghttp2 has no stream left then) while a request still runs,
 * nginx 1.22 keeps the connection, reading and writing nothing more, until that request ends
 * (the request learns its stream is gone, as from a reset): so does this connection (holding;
 * flush_one ends it once the last stream's request went). */
static void conn_end(mg_http_v2_conn_t *h2)
{
    mg_connection_t *c = h2->c;
    mg_http_srv_conf_t *cscf = h2->hc->srv;
    mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
    if (!h2->holding && c->fd >= 0 && streams_running(h2)) {
        h2->holding = 1;
        h2->failed = 1; /* no flush, gather or trim from now */
        mg_conn_read_off(c);
        mg_conn_timer_del(c);
        h2->trim_due = 0;
        h2->refs++; /* a request ended here may free the last stream */
        mg_http_v2_streams_abort(h2);
        mg_http_v2_release(h2);
        return;
    }
    if (clcf->lingering_close == MG_HTTP_LINGERING_OFF || h2->closing || c->fd < 0) {
        conn_close(h2);
        return;
    }
    h2->lingering = 1;
    h2->trim_due = 0;
    mg_http_conn_linger(c, clcf->lingering_timeout, clcf->lingering_time);
}

static void conn_fail(mg_http_v2_conn_t *h2)
{
    h2->failed = 1;
    conn_close(h2);
}

/* The wait with no stream: as nginx 1.22, a connection that has sent no request yet gets
 * client_header_timeout (the default server's: nginx's timer from accept, before SNI), one
 * between requests keepalive_timeout (the connection's server's). */
static mg_msec_t idle_timeout(const mg_http_v2_conn_t *h2)
{
    mg_http_srv_conf_t *cscf = h2->hc->srv;
    mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
    return h2->requests ? clcf->keepalive_timeout
                        : h2->hc->addr_conf->default_server->client_header_timeout;
}

static void conn_timers(mg_http_v2_conn_t *h2)
{
    mg_connection_t *c = h2->c;
    h2->trim_due = 0;
    if (h2->wblocked) {
        mg_http_srv_conf_t *cscf = h2->hc->srv;
        mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
        mg_conn_timer_set(c, clcf->send_timeout);
    } else if (h2->streams == NULL) {
        mg_msec_t idle = idle_timeout(h2);
        h2->trim_due = idle > H2_TRIM_MSEC; /* (a shorter wait ends the connection soon) */
        mg_conn_timer_set(c, h2->trim_due ? H2_TRIM_MSEC : idle);
    } else {
        mg_conn_timer_del(c);
    }
}

/* H2_TRIM_MSEC of the idle wait went by: nghttp2's buffers' pages go back, and the timer is
 * set for the rest of the wait */
static void conn_trim(mg_http_v2_conn_t *h2)
{
    h2->trim_due = 0;
    if (!h2->failed && h2->streams == NULL && !h2->wblocked && !h2->in_send && !h2->in_recv &&
        h2->obuf == NULL && !nghttp2_session_want_write(h2->session)) {
        mg_http_v2_mem_trim(h2);
    }
    mg_conn_timer_set(h2->c, idle_timeout(h2) - H2_TRIM_MSEC);
}

static void on_write(mg_connection_t *c)
{
    mg_http_v2_conn_t *h2 = ((mg_http_conn_t *)c->data)->v2;
    h2->wblocked = 0;
    conn_flush(h2);
}

/* nghttp2 refuses streams beyond its limit by ending the connection (RFC 9113 5.1.2 allows it);
 * nginx refuses the stream alone. So nghttp2 is given no limit and the client gets the real one:
 * it is written into the first frame, the server's SETTINGS, as it goes out. */
static void settings_patch(mg_http_v2_conn_t *h2, uint8_t *p, size_t n)
{
    h2->settings_sent = 1;
    size_t len = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
    if (n < 9 || p[3] != NGHTTP2_SETTINGS || (p[4] & NGHTTP2_FLAG_ACK) || len > n - 9) {
        return;
    }
    for (uint8_t *e = p + 9; e + 6 <= p + 9 + len; e += 6) {
        if ((e[0] << 8 | e[1]) == NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) {
            uint32_t v = (uint32_t)h2->max_streams;
            e[2] = (uint8_t)(v >> 24);
            e[3] = (uint8_t)(v >> 16);
            e[4] = (uint8_t)(v >> 8);
            e[5] = (uint8_t)v;
        }
    }
}

/* The output buffer is taken from the server's spare when there is something to gather and
 * given back once written, so a connection that waits for its client holds none (nginx's
 * output is the request's: 10 idle connections held 640 KiB here). */
static void obuf_take(mg_http_v2_conn_t *h2)
{
    if (h2->obuf == NULL) {
        h2->obuf = h2->server->h2_obuf ? h2->server->h2_obuf : mg_alloc(H2_OBUF_SIZE);
        h2->server->h2_obuf = NULL;
        h2->osize = H2_OBUF_SIZE;
    }
}

static void obuf_give(mg_http_v2_conn_t *h2)
{
    if (h2->obuf == NULL || h2->olast > h2->ostart) {
        return;
    }
    if (h2->server->h2_obuf == NULL && h2->osize == H2_OBUF_SIZE) {
        h2->server->h2_obuf = h2->obuf;
    } else {
        free(h2->obuf); /* grown for a large frame, or a spare is there */
    }
    h2->ogen++;
    h2->obuf = NULL;
    h2->osize = h2->ostart = h2->olast = 0;
}

/* What nghttp2 has, into the output buffer while it has room: 0, or -1 (h2->send_rv). */
static int conn_gather(mg_http_v2_conn_t *h2)
{
    obuf_take(h2);
    h2->dry = 0;
    /* want_write: whether mem_send has a frame to give (cheaper than asking it for none) */
    for (;;) {
        if (h2->send_rv != 0 || h2->olast >= h2->osize) {
            break;
        }
        if (!nghttp2_session_want_write(h2->session)) {
            h2->dry = 1;
            break;
        }
        const uint8_t *d;
        h2->in_send = 1;
        ssize_t n = nghttp2_session_mem_send(h2->session, &d);
        h2->in_send = 0;
        if (n < 0) {
            h2->send_rv = (int)n;
            break;
        }
        if (n == 0) {
            h2->dry = 1;
            break;
        }
        if ((size_t)n > h2->osize - h2->olast) {
            /* a frame larger than the room left: the buffer grows for it */
            h2->osize = h2->olast + (size_t)n;
            h2->obuf = mg_realloc(h2->obuf, h2->osize);
            h2->ogen++;
        }
        memcpy(h2->obuf + h2->olast, d, (size_t)n);
        if (!h2->settings_sent) {
            settings_patch(h2, (uint8_t *)h2->obuf + h2->olast, (size_t)n);
        }
        h2->olast += (size_t)n;
    }
    obuf_give(h2); /* nothing gathered */
    return h2->send_rv ? -1 : 0;
}

/* Write what the output buffer holds: > 0 written, else c->send's answer (errno). */
static ssize_t conn_write(mg_http_v2_conn_t *h2)
{
    mg_connection_t *c = h2->c;
    ssize_t n = c->send(c, h2->obuf + h2->ostart, h2->olast - h2->ostart);
    if (n > 0) {
        h2->ostart += (size_t)n;
        obuf_give(h2); /* when all went */
    }
    return n;
}

/* The socket is full: wait for it (send_timeout). */
static void conn_wait_write(mg_http_v2_conn_t *h2)
{
    h2->wblocked = 1;
    h2->c->write_handler = on_write;
    mg_conn_write_on(h2->c);
    conn_timers(h2);
}

void mg_http_v2_gather(mg_http_v2_conn_t *h2)
{
    mg_connection_t *c = h2->c;
    if (c == NULL || c->closed || h2->failed || h2->in_recv || h2->in_send) {
        return;
    }
    /* a full output is written at once, as nginx writes, so the writer's buffers (an
     * upstream's) are taken before its next read, not spooled to a file meanwhile; a full
     * socket is waited for as the flush waits, a failure is the scheduled flush's to act on */
    while (conn_gather(h2) == 0 && (h2->oblocked || h2->olast == h2->osize) && !h2->wblocked &&
           h2->olast > h2->ostart) {
        h2->oblocked = 0;
        ssize_t n = conn_write(h2);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_wait_write(h2);
        }
        if (n <= 0) {
            break;
        }
    }
}

static void conn_flush(mg_http_v2_conn_t *h2)
{
    mg_connection_t *c = h2->c;
    if (c == NULL || c->closed || h2->failed || h2->lingering || h2->in_recv || h2->in_send) {
        return;
    }
    for (;;) {
        if (conn_gather(h2) < 0) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "http2 session failed: %s",
                         nghttp2_strerror(h2->send_rv));
            conn_fail(h2);
            return;
        }
        if (h2->ostart == h2->olast) {
            break;
        }
        h2->oblocked = 0;
        ssize_t n = conn_write(h2);
        if (n > 0 && h2->dry && h2->ostart == h2->olast) {
            break; /* all written, and nghttp2 had nothing more (nothing asked it since) */
        }
        if (n > 0) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_wait_write(h2);
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        mg_log_error(MG_LOG_INFO, &c->log, n < 0 ? errno : 0, "send() failed");
        conn_fail(h2);
        return;
    }
    if (!nghttp2_session_want_read(h2->session) && !nghttp2_session_want_write(h2->session)) {
        conn_end(h2); /* GOAWAY sent (or received) and no stream left */
        return;
    }
    if (!h2->flush_pending) {
        conn_timers(h2); /* else the flush event's flush, later in this loop turn, sets them */
    }
}

/* A connection's turn in the server's flush event; its reference from mg_http_v2_schedule is
 * held until the end (the last stream freed, or the flush's close, may drop the last other) */
static void flush_one(mg_http_v2_conn_t *h2)
{
    h2->flush_pending = 0;
    mg_time_update();
    mg_http_v2_streams_reap(h2);
    if (h2->holding && h2->c && !h2->c->closed && !streams_running(h2)) {
        conn_end(h2); /* the requests the connection was held for are done */
    }
    conn_flush(h2);
    mg_http_v2_release(h2);
}

/* The server's flush event: the connections listed when it fired, in order (one scheduled
 * meanwhile starts a new list and fires it again, later in this turn, as its own event would) */
static void on_flush_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_server_t *srv = arg;
    mg_http_v2_conn_t *h2 = srv->h2_flush;
    srv->h2_flush = NULL;
    srv->h2_flush_tail = &srv->h2_flush;
    while (h2) {
        mg_http_v2_conn_t *next = h2->flush_next;
        flush_one(h2);
        h2 = next;
    }
}

void mg_http_v2_schedule(mg_http_v2_conn_t *h2)
{
    /* streams to free are freed after the connection went too */
    if (!h2->flush_pending && (h2->dead || (h2->c && !h2->c->closed))) {
        mg_server_t *srv = h2->server;
        h2->flush_pending = 1;
        h2->refs++; /* flush_one's */
        h2->flush_next = NULL;
        if (srv->h2_flush == NULL) {
            if (srv->h2_flush_ev == NULL) {
                srv->h2_flush_ev = event_new(srv->base, -1, 0, on_flush_ev, srv);
                if (srv->h2_flush_ev == NULL) {
                    abort(); /* out of memory, fatal as in mg_alloc */
                }
            }
            srv->h2_flush_tail = &srv->h2_flush;
            event_active(srv->h2_flush_ev, EV_TIMEOUT, 1);
        }
        *srv->h2_flush_tail = h2;
        srv->h2_flush_tail = &h2->flush_next;
    }
}

/* The header block walk stopped at a field nginx refuses as sent (v2_hpack.c): the connection
 * ends in nginx's words, naming the block's stream last (logged as nginx logs it). */
static void hblock_refused(mg_http_v2_conn_t *h2)
{
    static const char *const why[] = {
        [MG_HWALK_FIELD] = "client sent too large header field",
        [MG_HWALK_LENGTH] = "client sent header field with too long length value",
        [MG_HWALK_INDEX] = "client sent header block with too long header index value",
        [MG_HWALK_SIZE] = "client sent header block with too long size update value",
        [MG_HWALK_CUT_STRING] = "client sent header field with incorrect length",
        [MG_HWALK_CUT] = "client sent header block with incorrect length",
        [MG_HWALK_EMPTY] = "client sent HEADERS frame with empty header block",
        [MG_HWALK_DATA_PAD] = "client sent padded DATA frame with incorrect length: 0",
    };
    mg_http_v2_hwalk_t *w = &h2->hwalk;
    if (w->why == MG_HWALK_SHORT) {
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0,
                     "client sent HEADERS frame with incorrect length %u", (unsigned)w->pre);
    } else if (w->why == MG_HWALK_INDEX0) {
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent invalid hpack table index 0");
    } else if (w->why == MG_HWALK_BOUND) {
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent out of bound hpack table index: %u",
                     (unsigned)w->value - 62); /* how far past the static table's 61 */
    } else if (w->why == MG_HWALK_TABLE_SIZE) {
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "client sent invalid table size update: %u",
                     (unsigned)w->value);
    } else {
        mg_log_error(MG_LOG_INFO, &h2->c->log, 0, "%s", why[w->why]);
    }
    if (h2->hstream && h2->hstream->id == w->sid && !h2->hstream->head_done) {
        mg_http_v2_stream_dropped(h2->hstream);
    }
    /* the frames queued meanwhile go first (a field before this one reset the stream: its
     * RST_STREAM, as nginx sends it), nghttp2 sends none after its GOAWAY */
    conn_gather(h2);
    if (w->why >= MG_HWALK_EMPTY) {
        /* nginx has not opened the stream (for DATA: it is not a block's): the last one
         * named is the last opened */
        nghttp2_session_terminate_session(h2->session, NGHTTP2_FRAME_SIZE_ERROR);
        return;
    }
    nghttp2_session_terminate_session2(h2->session, w->sid,
                                       w->why == MG_HWALK_FIELD        ? NGHTTP2_ENHANCE_YOUR_CALM
                                       : w->why >= MG_HWALK_CUT_STRING ? NGHTTP2_FRAME_SIZE_ERROR
                                                                       : NGHTTP2_COMPRESSION_ERROR);
}

enum { FRAME_FED, FRAME_DROPPED, FRAME_ENDS };

/* The frame whose start is p (mg_http_v2_hwalk_gated), where nghttp2 would take it otherwise
 * than nginx: FRAME_DROPPED before nghttp2 reads it (h2->hwalk.skip is its size), FRAME_ENDS
 * when the connection ends for it (logged, its GOAWAY queued), or FRAME_FED. DATA for a stream
 * whose request ended (END_STREAM) resets that stream (STREAM_CLOSED); DATA, RST_STREAM and
 * WINDOW_UPDATE for a stream never opened are ignored (nghttp2 ends the connection with
 * PROTOCOL_ERROR or STREAM_CLOSED for both), as is a GOAWAY; a WINDOW_UPDATE of 0 for a closed
 * stream ends the connection (nghttp2 ignores it). A WINDOW_UPDATE of 0 for a stream open or
 * never opened, or a frame of the wrong length, goes on to nghttp2, which ends the stream or
 * the connection as nginx does. */
static int frame_gate(mg_http_v2_conn_t *h2, const uint8_t *p)
{
    uint32_t len = mg_http_v2_frame_len(p);
    int32_t sid = mg_http_v2_frame_sid(p);
    if (p[3] == NGHTTP2_GOAWAY) {
        /* nginx takes no action on a GOAWAY it gets: the streams finish, new ones are served
         * (nghttp2 takes no new stream after one, and ends the connection once the open ones
         * end; one naming a client's stream as the last is a PROTOCOL_ERROR to it) */
        if (len < 8) {
            return FRAME_FED;
        }
        h2->hwalk.skip = 9 + len;
        return FRAME_DROPPED;
    }
    nghttp2_stream *stream = nghttp2_session_find_stream(h2->session, sid);
    int idle = (stream == NULL || nghttp2_stream_get_state(stream) == NGHTTP2_STREAM_STATE_IDLE) &&
               (sid % 2 == 0 || sid > h2->last_hsid);
    int zero_wu = p[3] == NGHTTP2_WINDOW_UPDATE && len == 4 && (p[9] & 0x7f) == 0 && !p[10] &&
                  !p[11] && !p[12];
    if (zero_wu && stream == NULL && !idle) {
        if (h2->c) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0,
                         "client sent WINDOW_UPDATE frame with incorrect window increment 0");
        }
        conn_gather(h2); /* the responses framed meanwhile go first, as nginx's */
        nghttp2_session_terminate_session(h2->session, NGHTTP2_PROTOCOL_ERROR);
        return FRAME_ENDS;
    }
    int remote_closed = stream && nghttp2_session_get_stream_remote_close(h2->session, sid) == 1;
    if (p[3] == NGHTTP2_DATA && stream && !idle && !remote_closed && h2->c) {
        /* nghttp2 resets the stream (FLOW_CONTROL_ERROR) once its bytes pass the stream's
         * window, and says nothing: nginx's line, from the frame's length (its padding too) */
        int32_t window = nghttp2_session_get_stream_local_window_size(h2->session, sid);
        if (window >= 0 && len > (uint32_t)window) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0,
                         "client violated flow control for stream %d: received DATA frame "
                         "length %u, available window %d",
                         (int)sid, (unsigned)len, (int)window);
        }
    }
    if (p[3] == NGHTTP2_DATA && stream && !idle && remote_closed) {
        if (h2->c) {
            mg_log_error(MG_LOG_INFO, &h2->c->log, 0,
                         "client sent DATA frame for half-closed stream %d", (int)sid);
        }
        nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, sid, NGHTTP2_STREAM_CLOSED);
    } else if (!idle || (p[3] != NGHTTP2_DATA && (len != 4 || zero_wu))) {
        return FRAME_FED;
    }
    h2->hwalk.skip = 9 + len;
    return FRAME_DROPPED;
}

/* Of the next avail bytes p, those that complete the frame's start held (h2->held) as far as
 * the gate looks at it: how many were taken. */
static size_t frame_hold(mg_http_v2_conn_t *h2, const uint8_t *p, size_t avail)
{
    size_t took = 0;
    for (;;) {
        size_t need = mg_http_v2_hwalk_need(&h2->hwalk, h2->held, h2->nheld);
        size_t k = mg_min(need - h2->nheld, avail - took);
        if (k == 0) {
            return took;
        }
        memcpy(h2->held + h2->nheld, p + took, k);
        h2->nheld += (uint8_t)k;
        took += k;
    }
}

/* Hand bytes to nghttp2: MG_OK, or MG_ERROR (the connection is to close once the GOAWAY nghttp2
 * queued for it went out). */
static mg_int_t conn_feed(mg_http_v2_conn_t *h2, const char *buf, size_t len)
{
    /* In pieces, with what they produced written in between: nghttp2 counts the ACKs it
     * queued but not yet handed out (1000 close the connection as a flood), so a client that
     * reads may send many PINGs or SETTINGS at once, as nginx allows; one that does not read
     * fills the socket, then the output buffer, and is cut off. */
    ssize_t rv = 0;
    int gate = FRAME_FED;
    h2->refs++; /* a flush may close the connection */
    for (size_t off = 0; off < len && rv >= 0;) {
        mg_http_v2_hwalk_t *w = &h2->hwalk;
        if (w->skip) {
            size_t k = mg_min(len - off, (size_t)w->skip);
            w->skip -= (unsigned)k;
            off += k;
            continue;
        }
        const uint8_t *p = (const uint8_t *)buf + off;
        size_t n = mg_min(len - off, H2_FEED_PIECE);
        int held = h2->nheld || (n < sizeof(h2->held) && n < mg_http_v2_hwalk_need(w, p, n));
        if (held) {
            /* a frame's start the read cut (a header a byte at a time too): the gate looks
             * at it once it is whole, then nghttp2 reads it (a few bytes), or not */
            off += frame_hold(h2, p, len - off);
            if (h2->nheld < mg_http_v2_hwalk_need(w, h2->held, h2->nheld)) {
                break; /* the next read brings the rest */
            }
            p = h2->held;
            n = h2->nheld;
            h2->nheld = 0;
        }
        gate = mg_http_v2_hwalk_gated(w, p, n) ? frame_gate(h2, p) : FRAME_FED;
        if (gate == FRAME_ENDS) {
            break;
        }
        if (gate == FRAME_DROPPED) {
            w->skip -= held ? (unsigned)n : 0; /* those are taken already */
            continue;
        }
        /* nghttp2 takes the bytes up to a field nginx refuses as sent, so the fields before
         * it are taken (and checked) first, as nginx takes them */
        size_t take = mg_http_v2_hwalk(w, p, n);
        /* a length refused as too large keeps its last octet from nghttp2, which refuses one
         * over 64 KiB itself (COMPRESSION_ERROR, unlogged; nginx's is ENHANCE_YOUR_CALM); so
         * do an index 0 and a table size update too large (nghttp2 would end the connection
         * unlogged, as nginx with its line), a block cut in a field (nghttp2: COMPRESSION_ERROR)
         * and an empty one's HEADERS (nghttp2 would open its stream) */
        size_t feed = take - (w->why == MG_HWALK_FIELD || w->why >= MG_HWALK_INDEX0);
        h2->in_recv = 1;
        rv = nghttp2_session_mem_recv(h2->session, p, feed);
        h2->in_recv = 0;
        /* the requests whose header block came, outside nghttp2: their responses are framed as
         * they are made (a client's RST_STREAM is fed after them: the walk stops before it) */
        mg_http_v2_streams_start(h2);
        if (!held) {
            off += w->why ? n : take; /* a held start is one frame's, walked whole */
        }
        if (rv < 0 || h2->c == NULL || h2->c->closed) {
            break;
        }
        if (take < n && !w->why) {
            /* the walk stopped at a second request's HEADERS: the answers of those before it
             * are taken from nghttp2 now, so they go ahead of a GOAWAY that block may bring
             * (nghttp2 sends nothing after one for an error) */
            conn_gather(h2);
            continue;
        }
        if (w->why) {
            /* unless the connection ends already (a GOAWAY for an earlier field); it then
             * ends as after a field nghttp2 gave (the GOAWAY written, lingering) */
            if (nghttp2_session_want_read(h2->session)) {
                hblock_refused(h2);
            }
            break;
        }
        if (off < len) {
            conn_flush(h2);
        }
    }
    mg_int_t closed = h2->c == NULL || h2->c->closed;
    mg_http_v2_release(h2);
    if (closed) {
        return MG_OK; /* the callers see the connection closed */
    }
    if (gate == FRAME_ENDS) {
        return MG_ERROR;
    }
    if (rv < 0 && h2->hsid_bad) {
        /* the responses framed meanwhile go first, as nginx's (on_begin_frame) */
        conn_gather(h2);
        nghttp2_session_terminate_session2(h2->session, h2->last_hsid, NGHTTP2_PROTOCOL_ERROR);
        return MG_ERROR;
    }
    if (rv < 0) {
        mg_connection_t *c = h2->c;
        if (c && !c->closed) {
            mg_log_error(MG_LOG_INFO, &c->log, 0, "client sent invalid http2 data: %s",
                         nghttp2_strerror((int)rv));
        }
        if (rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC && rv != NGHTTP2_ERR_FLOODED) {
            nghttp2_session_terminate_session(h2->session, NGHTTP2_PROTOCOL_ERROR);
        }
        return MG_ERROR;
    }
    return MG_OK;
}

/* The bytes fed were refused (conn_feed's MG_ERROR): the GOAWAY nghttp2 queued goes, then the
 * connection closes, unless conn_end holds it for the requests still running. */
static void conn_refuse(mg_http_v2_conn_t *h2)
{
    h2->closing = 1;
    conn_flush(h2);
    if (!h2->holding) {
        conn_close(h2);
    }
}

/* Read into buf and feed nghttp2 until the socket is drained: 1, or 0 when the connection
 * closed or is to close. */
static int conn_read(mg_connection_t *c, mg_http_v2_conn_t *h2, char *buf, size_t size)
{
    for (;;) {
        ssize_t n = c->recv(c, buf, size);
        if (n > 0) {
            if (conn_feed(h2, buf, (size_t)n) != MG_OK) {
                conn_refuse(h2);
                return 0;
            }
            if (c->closed) {
                return 0;
            }
            if ((size_t)n < size) {
                return 1; /* the socket is drained: more comes as an event */
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 1;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (h2->streams || n < 0) {
            mg_log_error(MG_LOG_INFO, &c->log, n < 0 ? errno : 0,
                         n < 0 ? "recv() failed" : "client prematurely closed connection");
        }
        conn_fail(h2);
        return 0;
    }
}

static void on_read(mg_connection_t *c)
{
    mg_http_v2_conn_t *h2 = ((mg_http_conn_t *)c->data)->v2;
    mg_server_t *srv = h2->server;
    size_t size = h2->rsize;
    /* the server's input buffer (nghttp2 copies what it keeps): a read within another's
     * (none is known) or of another generation's size gets one of its own */
    char *buf = srv->h2_rbuf;
    srv->h2_rbuf = NULL;
    if (buf == NULL || srv->h2_rsize != size) {
        free(buf);
        buf = mg_alloc(size);
    }
    int stays = conn_read(c, h2, buf, size);
    if (srv->h2_rbuf == NULL) {
        srv->h2_rbuf = buf;
        srv->h2_rsize = size;
    } else {
        free(buf);
    }
    if (stays) {
        /* streams are counted a read event, as nginx's; those of the bytes read with the
         * preface (mg_http_v2_init) count with the first event's, as nginx reads on there */
        h2->new_streams = 0;
        conn_flush(h2);
    }
}

static void on_timeout(mg_connection_t *c)
{
    mg_http_v2_conn_t *h2 = ((mg_http_conn_t *)c->data)->v2;
    if (h2->trim_due) {
        conn_trim(h2);
        return;
    }
    if (h2->wblocked) {
        c->timedout = 1;
        mg_log_error(MG_LOG_INFO, &c->log, ETIMEDOUT, "client timed out");
        conn_fail(h2);
        return;
    }
    /* keepalive_timeout (client_header_timeout before a first stream) without a stream:
     * GOAWAY, then close */
    nghttp2_submit_goaway(h2->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h2->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
    h2->goaway = 1;
    h2->closing = 1;
    conn_flush(h2);
    conn_close(h2);
}

/* ---- draining ---- */

static void on_goaway_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mg_http_v2_conn_t *h2 = arg;
    mg_time_update();
    if (h2->goaway || h2->c == NULL || h2->c->closed) {
        return;
    }
    h2->goaway = 1;
    nghttp2_submit_goaway(h2->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h2->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
    conn_flush(h2);
}

/* The server drains or quits: a GOAWAY for all streams and a PING; its ACK (or a bounded wait)
 * brings the final GOAWAY, so no stream the client sent meanwhile is lost. */
static void on_quit(mg_server_hook_t *hook)
{
    mg_http_v2_conn_t *h2 = (mg_http_v2_conn_t *)((char *)hook - offsetof(mg_http_v2_conn_t, hook));
    mg_server_hook_del(hook);
    if (h2->goaway || h2->notice || h2->c == NULL || h2->c->closed) {
        return;
    }
    h2->goaway_ev = event_new(h2->server->base, -1, 0, on_goaway_ev, h2);
    if (h2->goaway_ev == NULL) {
        on_goaway_ev(-1, 0, h2); /* no memory to wait with: the final GOAWAY at once */
        return;
    }
    h2->notice = 1;
    nghttp2_submit_shutdown_notice(h2->session);
    nghttp2_submit_ping(h2->session, NGHTTP2_FLAG_NONE, drain_ping);
    struct timeval tv = {H2_GOAWAY_WAIT / 1000, (H2_GOAWAY_WAIT % 1000) * 1000};
    event_add(h2->goaway_ev, &tv);
    conn_flush(h2);
}

/* ---- life ---- */

void mg_http_v2_release(mg_http_v2_conn_t *h2)
{
    if (--h2->refs) {
        return;
    }
    for (mg_http_v2_stream_t *st = h2->streams, *next; st; st = next) {
        next = st->next;
        mg_http_v2_stream_free(st);
    }
    if (h2->goaway_ev) {
        event_free(h2->goaway_ev);
    }
    nghttp2_session_del(h2->session);
    mg_http_v2_mem_conn_free(h2);
    if (h2->tls) {
        mg_ssl_free(h2->tls);
    }
    if (h2->term_hooked) {
        mg_server_hook_del(&h2->hook);
    }
    free(h2->obuf);
    free(h2);
}

static void on_terminate(mg_server_hook_t *hook)
{
    mg_http_v2_conn_t *h2 = (mg_http_v2_conn_t *)((char *)hook - offsetof(mg_http_v2_conn_t, hook));
    mg_http_v2_streams_close(h2);
}

/* The connection's pool is going (it was closed): each stream's request learns it as a reset
 * and ends as a request whose client went away (logged, as nginx's); the streams' connections
 * keep the TLS state they share until the last of them goes. */
static void conn_gone(void *data)
{
    mg_http_v2_conn_t *h2 = data;
    mg_server_hook_del(&h2->hook); /* the quit hook: the term hook may take its place below */
    /* a flush still listed stays: it frees the streams' request connections (and flushes
     * nothing now) */
    if (h2->goaway_ev) {
        event_del(h2->goaway_ev);
    }
    mg_connection_t *c = h2->c;
    h2->c = NULL;
    h2->failed = 1;
    h2->refs++; /* a request ended here may free the last stream */
    int terminating = h2->server->terminating;
    if (terminating) {
        mg_http_v2_streams_close(h2);
    } else {
        mg_http_v2_streams_abort(h2);
    }
    if (h2->refs - h2->flush_pending > 2) { /* (a listed flush holds one too) */
        /* streams' connections are left (each holds a reference): they share c's TLS state,
         * which goes with the last of them, and a request among them may run on (a quitting
         * worker waits for it: each stream's connection holds the server; a terminating one
         * closes it). Else the TLS state stays c's, freed after c's pool (whose cleanups,
         * after this one, may still touch the SSL object: Lua's handshake state) */
        h2->tls = c->ssl;
        c->ssl = NULL;
        if (!terminating) {
            h2->term_hooked = 1;
            h2->hook.handler = on_terminate;
            mg_server_term_hook_add(h2->server, &h2->hook);
        }
    }
    mg_http_v2_release(h2);
    mg_http_v2_release(h2);
}

static void session_setup_free(void *data)
{
    mg_http_v2_main_conf_t *m = data;
    nghttp2_session_callbacks_del(m->callbacks);
    nghttp2_option_del(m->options);
}

/* The callbacks and options of every session of the configuration m (for its cycle's life). */
static int session_setup(mg_conf_t *cf, mg_http_v2_main_conf_t *m)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        return -1;
    }
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return -1;
    }
    m->callbacks = cb;
    m->options = opt;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
    nghttp2_session_callbacks_set_on_extension_chunk_recv_callback(cb, on_ext_chunk);
    nghttp2_session_callbacks_set_unpack_extension_callback(cb, on_ext_unpack);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_send_data_callback(cb, mg_http_v2_send_data);
    /* a stream's window opens as its reader takes the body (backpressure per stream) */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    /* requests are checked as nginx checks them (v2_stream.c): nghttp2 would reset streams
     * nginx answers 400 (bad pseudo-headers) or serves (connection-specific fields) */
    nghttp2_option_set_no_http_messaging(opt, 1);
    /* a closed stream goes at once: with no limit of nghttp2's own (below) it would keep
     * every one (224 bytes) for the priority tree until the connection closes, 26 MiB over
     * 110,000 streams; a frame for a closed stream is then ignored, as nginx ignores it */
    nghttp2_option_set_no_closed_streams(opt, 1);
    /* frames of types nginx does not know are given to on_begin_frame (which logs them, as
     * nginx) instead of being skipped unseen; no extension callback: their payload is dropped */
    for (int t = NGHTTP2_CONTINUATION + 1; t < 256; t++) {
        nghttp2_option_set_user_recv_extension_type(opt, (uint8_t)t);
    }
    mg_pool_cleanup_add(cf->pool, session_setup_free, m);
    return 0;
}

void mg_http_v2_init(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    mg_http_srv_conf_t *cscf = hc->srv;
    mg_http_v2_srv_conf_t *s = cscf->ctx->srv_conf[mg_http_v2_module.index];
    mg_http_v2_main_conf_t *m = cscf->ctx->main_conf[mg_http_v2_module.index];
    mg_http_v2_conn_t *h2 = mg_calloc(sizeof(*h2));
    h2->c = c;
    h2->hc = hc;
    h2->server = c->server;
    h2->refs = 1;
    h2->max_streams = (mg_uint_t)s->concurrent_streams;
    h2->priority_limit = mg_max(h2->max_streams, 100);
    h2->ssl = c->ssl != NULL;
    h2->rsize = m->recv_buffer_size;
    mg_http_v2_hwalk_init(&h2->hwalk, cscf->large_client_header_buffers_size);
    hc->v2 = h2;
    h2->ready_tail = &h2->ready;
    mg_pool_cleanup_add(c->pool, conn_gone, h2);

    nghttp2_mem mem; /* copied by nghttp2 */
    mg_http_v2_mem_conn(&mem, h2);
    nghttp2_session_server_new3(&h2->session, m->callbacks, h2, m->options, &mem);

    /* nginx's three: the stream limit, the window, and frames up to the largest (a client may
     * send 16 MB DATA frames; the header list's bound is large_client_header_buffers, said
     * by no setting, as nginx) */
    nghttp2_settings_entry iv[] = {
        /* nghttp2's own limit: none (settings_patch gives the client the real one) */
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, UINT32_MAX},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)s->preread_size},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, (1u << 24) - 1},
    };
    nghttp2_submit_settings(h2->session, NGHTTP2_FLAG_NONE, iv, mg_nelems(iv));
    /* the connection's window: streams bound what they hold, the connection need not */
    nghttp2_session_set_local_window_size(h2->session, NGHTTP2_FLAG_NONE, 0,
                                          NGHTTP2_MAX_WINDOW_SIZE);

    /* frames of several streams leave as they come: Nagle would hold the small ones; as
     * nginx, from the start and by the tcp_nodelay of the connection's server (the default
     * one, or SNI's), whatever a stream's location says */
    mg_http_loc_conf_t *clcf = cscf->ctx->loc_conf[mg_http_core_module.index];
    mg_http_tcp_nodelay(c, clcf->tcp_nodelay);
    c->log.action = "processing HTTP/2 connection"; /* nginx's context for the connection */
    c->read_handler = on_read;
    c->write_handler = on_write;
    c->timeout_handler = on_timeout;
    mg_server_conn_reusable(c, 0);
    mg_stat_state(c->server, &hc->stat, MG_STAT_NONE);
    h2->hook.handler = on_quit;
    mg_server_hook_add(c->server, &h2->hook);
    if (c->server->quitting) {
        on_quit(&h2->hook);
    }
    /* HTTP/1's head buffer and field list go (h2 reads into the server's buffer): 2 KiB of an
     * idle h2 connection's heap; the bytes read with the preface (plain h2) are taken out first,
     * so the log context does not take them for a request line */
    char *head = hc->buf;
    size_t start = hc->start, n = hc->last - hc->start;
    hc->buf = NULL;
    hc->size = hc->start = hc->last = 0;
    mg_http_conn_head_free(hc);
    if (n) {
        mg_int_t rc = conn_feed(h2, head + start, n);
        free(head);
        if (c->closed) {
            return;
        }
        if (rc != MG_OK) {
            conn_refuse(h2);
            return;
        }
    } else {
        free(head);
    }
    mg_conn_read_on(c);
    conn_flush(h2);
}

mg_int_t mg_http_v2_preface(mg_connection_t *c)
{
    mg_http_conn_t *hc = c->data;
    size_t have = hc->last - hc->start, want = sizeof(H2_PREFACE) - 1;
    if (memcmp(hc->buf + hc->start, H2_PREFACE, mg_min(have, want)) != 0) {
        return MG_DECLINED;
    }
    if (have < want) {
        return MG_AGAIN;
    }
    mg_conn_timer_del(c);
    mg_http_v2_init(c);
    return MG_OK;
}
