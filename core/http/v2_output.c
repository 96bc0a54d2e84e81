/*
 * A stream's response head and end: the last header filter submits HEADERS (the fields
 * write.c's serializer would write, lowercase, without the connection's own) with the data
 * source of v2_data.c, which frames the body; add_trailer's fields follow as a trailing
 * HEADERS frame; the request's end ends the stream, or resets it.
 */
#include "v2.h"

static void nv_add(nghttp2_nv *nv, size_t *n, const char *name, size_t nlen, const char *value,
                   size_t vlen)
{
    nv[*n].name = (uint8_t *)name;
    nv[*n].namelen = nlen;
    nv[*n].value = (uint8_t *)value;
    nv[*n].valuelen = vlen;
    nv[*n].flags = NGHTTP2_NV_FLAG_NONE;
    (*n)++;
}

/* A field whose name is a lowercase literal: nghttp2 keeps the pointer (NO_COPY_NAME) instead of
 * copying and lowercasing it for each response; the value is copied (a pool's or the clock's). */
static void nv_add_lit(nghttp2_nv *nv, size_t *n, const char *name, size_t nlen, const char *value,
                       size_t vlen)
{
    nv_add(nv, n, name, nlen, value, vlen);
    nv[*n - 1].flags = NGHTTP2_NV_FLAG_NO_COPY_NAME;
}

/* Fields HTTP/2 forbids (RFC 9113 8.2.2): the connection's, not the response's. */
static int connection_specific(mg_str_t name)
{
    /* by length first: most fields are none of them */
    switch (name.len) {
    case 7:
        return mg_str_caseeq(name, "upgrade");
    case 10:
        return mg_str_caseeq(name, "connection") || mg_str_caseeq(name, "keep-alive");
    case 16:
        return mg_str_caseeq(name, "proxy-connection");
    case 17:
        return mg_str_caseeq(name, "transfer-encoding");
    default:
        return 0;
    }
}

mg_int_t mg_http_v2_send_header(mg_request_t *r, mg_str_t status_line, mg_str_t server,
                                mg_str_t location)
{
    (void)status_line;
    mg_http_v2_stream_t *st = r->hc->stream;
    mg_http_v2_conn_t *h2 = st->h2;
    mg_http_headers_out_t *ho = &r->headers_out;
    if (st->closed || h2->c == NULL) {
        r->connection->closed = 1;
        return MG_ERROR;
    }
    mg_table_elt_t *cl_line = mg_http_content_length_line(r); /* sent as the length's field */
    mg_table_elt_t *h = ho->headers.elts;
    nghttp2_nv *nv = mg_palloc(r->pool, (ho->headers.nelts + 8) * sizeof(nghttp2_nv));
    size_t n = 0;
    char *status = mg_pnalloc(r->pool, 3);
    mg_put_uint3(status, ho->status);
    nv_add_lit(nv, &n, ":status", 7, status, 3);
    int own_server = 0, own_date = 0;
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        own_server |= h[i].key.len == 6 && mg_str_caseeq(h[i].key, "server");
        own_date |= h[i].key.len == 4 && mg_str_caseeq(h[i].key, "date");
    }
    if (!own_server && server.len) {
        nv_add_lit(nv, &n, "server", 6, server.data, server.len);
    }
    if (!own_date) {
        nv_add_lit(nv, &n, "date", 4, mg_now.http, strlen(mg_now.http));
    }
    if (ho->content_type.len) {
        mg_str_t ct = ho->content_type;
        if (ho->charset.len) {
            char *p = mg_pnalloc(r->pool, ct.len + 10 + ho->charset.len);
            memcpy(p, ct.data, ct.len);
            memcpy(p + ct.len, "; charset=", 10);
            memcpy(p + ct.len + 10, ho->charset.data, ho->charset.len);
            ct.data = p;
            ct.len += 10 + ho->charset.len;
        }
        nv_add_lit(nv, &n, "content-type", 12, ct.data, ct.len);
    }
    if (ho->content_length_n >= 0) {
        char *p = mg_pnalloc(r->pool, 24);
        size_t len = (size_t)(mg_put_uint(p, (uint64_t)ho->content_length_n) - p);
        nv_add_lit(nv, &n, "content-length", 14, p, len);
    }
    if (ho->last_modified_time >= 0 && ho->last_modified == NULL) {
        char *p = mg_pnalloc(r->pool, 40);
        mg_time_http(p, ho->last_modified_time);
        nv_add_lit(nv, &n, "last-modified", 13, p, strlen(p));
    }
    if (location.len) {
        nv_add_lit(nv, &n, "location", 8, location.data, location.len);
    }
    if (r->gzip_vary) {
        nv_add_lit(nv, &n, "vary", 4, "Accept-Encoding", 15);
    }
    for (size_t i = 0; i < ho->headers.nelts; i++) {
        if (h[i].hash == 0 || &h[i] == ho->location || &h[i] == cl_line) {
            continue;
        }
        mg_str_t key = mg_http_safe_header_name(r, h[i].key);
        if (connection_specific(key)) {
            continue;
        }
        mg_str_t value = mg_http_safe_header_value(r, key, h[i].value);
        /* nghttp2 copies the name lowercased (h2 names are lowercase) */
        nv_add(nv, &n, key.data, key.len, value.data, value.len);
    }
    r->header_size = 0; /* the HEADERS frame's bytes, as it goes (v2.c's on_frame_send) */

    mg_http_v2_loc_conf_t *vlcf = mg_http_get_loc_conf(r, mg_http_v2_module);
    st->chunk_size = vlcf->chunk_size;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = mg_http_v2_data_read};
    int rv = nghttp2_submit_response(h2->session, st->id, nv, n, r->header_only ? NULL : &prd);
    if (rv != 0) {
        mg_log_error(MG_LOG_ALERT, &r->connection->log, 0, "nghttp2_submit_response() failed: %s",
                     nghttp2_strerror(rv));
        r->connection->closed = 1;
        return MG_ERROR;
    }
    st->submitted = 1;
    if (r->header_only) {
        st->out_eof = 1; /* HEADERS end the stream; what the writer gives is dropped */
        if (!st->in_eof) {
            nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
        }
        /* framed now, so the request's log line counts them (unless nghttp2 is the
         * caller's caller: a request with a body started from its HEADERS frame) */
        mg_http_v2_gather(h2);
    }
    mg_http_v2_schedule(h2);
    return MG_OK;
}

mg_int_t mg_http_v2_send_continue(mg_request_t *r)
{
    mg_http_v2_stream_t *st = r->hc->stream;
    if (st->closed || st->submitted || st->h2->c == NULL) {
        return MG_ERROR;
    }
    nghttp2_nv nv;
    size_t n = 0;
    nv_add(&nv, &n, ":status", 7, "100", 3);
    if (nghttp2_submit_headers(st->h2->session, NGHTTP2_FLAG_NONE, st->id, NULL, &nv, 1, NULL) !=
        0) {
        return MG_ERROR;
    }
    mg_http_v2_schedule(st->h2);
    return MG_OK;
}

void mg_http_v2_output_end(mg_http_v2_stream_t *st, int ok)
{
    mg_http_v2_conn_t *h2 = st->h2;
    mg_http_v2_data_drop(st); /* the writer's buffers go with the request */
    if ((st->out_eof || st->data_eof) && ok) {
        st->out_eof = 1;
        return;
    }
    if (ok && st->submitted) {
        st->out_eof = 1;
        if (st->deferred) {
            st->deferred = 0;
            nghttp2_session_resume_data(h2->session, st->id);
        }
    } else if (!st->closed && h2->c) {
        st->out_eof = 1;
        /* as nginx: PROTOCOL_ERROR when the client let send_timeout pass (a window kept shut) */
        uint32_t code =
            st->fc && st->fc->timedout ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_INTERNAL_ERROR;
        nghttp2_submit_rst_stream(h2->session, NGHTTP2_FLAG_NONE, st->id, code);
    }
    mg_http_v2_schedule(h2);
}

void mg_http_v2_set_trailers(mg_request_t *r)
{
    mg_http_v2_stream_t *st = r->hc->stream;
    mg_array_t *a = r->headers_out.trailers;
    if (a == NULL || st->trailers || st->out_eof || st->data_eof) {
        return;
    }
    mg_table_elt_t *t = a->elts;
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < a->nelts; i++) {
        if (t[i].hash && !connection_specific(t[i].key)) {
            n++;
            bytes += t[i].key.len + t[i].value.len;
        }
    }
    if (n == 0) {
        return;
    }
    nghttp2_nv *nv = mg_alloc(n * sizeof(nghttp2_nv) + bytes);
    char *p = (char *)(nv + n);
    size_t k = 0;
    for (size_t i = 0; i < a->nelts; i++) {
        if (!t[i].hash || connection_specific(t[i].key)) {
            continue;
        }
        mg_strlow(p, t[i].key.data, t[i].key.len); /* h2 field names are lowercase */
        memcpy(p + t[i].key.len, t[i].value.data, t[i].value.len);
        nv_add(nv, &k, p, t[i].key.len, p + t[i].key.len, t[i].value.len);
        p += t[i].key.len + t[i].value.len;
    }
    st->trailers = nv;
    st->ntrailers = n;
}
