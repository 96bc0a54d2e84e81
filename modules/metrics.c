/*
 * `metrics [prometheus|json]`: a content handler showing core/metrics.h's numbers in
 * Prometheus' text exposition format (0.0.4) or as one JSON object. What the master and the
 * workers count is read from the metrics zone; the upstream peers' list comes from the
 * configuration the request runs on, their state from the zone; the lua_shared_dict sizes
 * from the generation's metrics sources.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "http.h"
#include "metrics.h"
#include "mgtime.h"
#include "upstream.h"

mg_module_t mg_metrics_module;

typedef struct {
    mg_metrics_sink_t sink; /* first: the sources' samples come back through it */
    char *buf;
    size_t len, cap;
    int json;
    int nfamilies, nsamples;
    const char *family; /* the sources' family being shown */
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 4096;
        o->buf = mg_realloc(o->buf, o->cap);
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(out_t *o, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    put(o, tmp, (size_t)mg_min((size_t)n, sizeof(tmp) - 1));
}

/* A label value: Prometheus escapes \ " and newline; JSON also every control byte. */
static void put_escaped(out_t *o, mg_str_t v)
{
    for (size_t i = 0; i < v.len; i++) {
        unsigned char ch = (unsigned char)v.data[i];
        if (ch == '\\' || ch == '"') {
            char e[2] = {'\\', (char)ch};
            put(o, e, 2);
        } else if (ch == '\n') {
            put(o, "\\n", 2);
        } else if (o->json && (ch < 0x20 || ch == 0x7f)) {
            putf(o, "\\u%04x", ch);
        } else {
            put(o, (char *)&ch, 1);
        }
    }
}

static void family_begin(out_t *o, const char *name, const char *type, const char *help)
{
    if (o->json) {
        putf(o, "%s\"%s\":{\"type\":\"%s\",\"help\":\"", o->nfamilies ? "," : "{", name, type);
        put_escaped(o, (mg_str_t){strlen(help), (char *)help});
        puts_(o, "\",\"samples\":[");
    } else {
        putf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    }
    o->nfamilies++;
    o->nsamples = 0;
}

static void family_end(out_t *o)
{
    if (o->json) {
        puts_(o, "]}");
    }
}

static void put_labels(out_t *o, size_t n, const char *const *names, const mg_str_t *values,
                       const char *le)
{
    if (n == 0 && le == NULL) {
        if (o->json) {
            puts_(o, "\"labels\":{}");
        }
        return;
    }
    puts_(o, o->json ? "\"labels\":{" : "{");
    for (size_t i = 0; i < n; i++) {
        putf(o, o->json ? "%s\"%s\":\"" : "%s%s=\"", i ? "," : "", names[i]);
        put_escaped(o, values[i]);
        puts_(o, "\"");
    }
    if (le) {
        putf(o, o->json ? "%s\"le\":\"%s\"" : "%sle=\"%s\"", n ? "," : "", le);
    }
    puts_(o, "}");
}

/* One sample of the family begun last (suffix: "_bucket" etc. for a histogram's lines). */
static void sample_num(out_t *o, const char *family, const char *suffix, size_t n,
                       const char *const *names, const mg_str_t *values, const char *le,
                       const char *num)
{
    if (o->json) {
        puts_(o, o->nsamples ? ",{" : "{");
        put_labels(o, n, names, values, le);
        putf(o, ",\"value\":%s}", num);
    } else {
        putf(o, "%s%s", family, suffix);
        put_labels(o, n, names, values, le);
        putf(o, " %s\n", num);
    }
    o->nsamples++;
}

static void sample_int(out_t *o, const char *family, size_t n, const char *const *names,
                       const mg_str_t *values, int64_t v)
{
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)v);
    sample_num(o, family, "", n, names, values, NULL, num);
}

static void source_sample(mg_metrics_sink_t *sink, size_t n, const char *const *names,
                          const mg_str_t *values, double value)
{
    out_t *o = (out_t *)sink;
    char num[40];
    snprintf(num, sizeof(num), "%.17g", value);
    sample_num(o, o->family, "", n, names, values, NULL, num);
}

static void single(out_t *o, const char *name, const char *type, const char *help, int64_t v)
{
    family_begin(o, name, type, help);
    sample_int(o, name, 0, NULL, NULL, v);
    family_end(o);
}

static int64_t load(const int64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ---- the table's series ---- */

typedef struct {
    const mg_metrics_entry_t *e;
    int64_t v[MG_METRICS_VALUES];
    mg_str_t labels[4];
} series_t;

static int series_cmp(const void *a, const void *b)
{
    const series_t *x = a, *y = b;
    size_t n = mg_min(x->e->keylen, y->e->keylen);
    int c = memcmp(x->e->key, y->e->key, n);
    return c ? c : (int)x->e->keylen - (int)y->e->keylen;
}

/* The series of `metric`, sorted by labels, the (rare) duplicates of a series merged. */
static series_t *collect(mg_request_t *r, int metric, size_t nlabels, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < MG_METRICS_ENTRIES; i++) {
        const mg_metrics_entry_t *e = &r->connection->cycle->metrics->entries[i];
        n += __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == 2 && e->metric == metric;
    }
    series_t *s = mg_pcalloc(r->pool, (n ? n : 1) * sizeof(series_t));
    size_t k = 0;
    for (size_t i = 0; i < MG_METRICS_ENTRIES && k < n; i++) {
        const mg_metrics_entry_t *e = &r->connection->cycle->metrics->entries[i];
        if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != 2 || e->metric != metric) {
            continue;
        }
        s[k].e = e;
        for (size_t j = 0; j < MG_METRICS_VALUES; j++) {
            s[k].v[j] = load(&e->v[j]);
        }
        const char *p = e->key, *end = e->key + e->keylen;
        for (size_t j = 0; j < nlabels && p < end; j++) {
            size_t l = strnlen(p, (size_t)(end - p));
            s[k].labels[j] = (mg_str_t){l, (char *)p};
            p += l + 1;
        }
        k++;
    }
    qsort(s, k, sizeof(series_t), series_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && series_cmp(&s[m - 1], &s[i]) == 0) {
            for (size_t j = 0; j < MG_METRICS_VALUES; j++) {
                s[m - 1].v[j] = metric == MG_METRIC_PEER_DOWN ? mg_max(s[m - 1].v[j], s[i].v[j])
                                                              : s[m - 1].v[j] + s[i].v[j];
            }
            continue;
        }
        s[m++] = s[i];
    }
    *count = m;
    return s;
}

static void counters(mg_request_t *r, out_t *o, int metric, const char *name, const char *help,
                     size_t n, const char *const *names)
{
    size_t count;
    series_t *s = collect(r, metric, n, &count);
    family_begin(o, name, "counter", help);
    for (size_t i = 0; i < count; i++) {
        sample_int(o, name, n, names, s[i].labels, s[i].v[0]);
    }
    family_end(o);
}

static void histogram(mg_request_t *r, out_t *o)
{
    static const char *const names[] = {"upstream"};
    const char *name = "moongate_upstream_response_seconds";
    size_t count;
    series_t *s = collect(r, MG_METRIC_UPSTREAM_RESPONSE, 1, &count);
    family_begin(o, name, "histogram",
                 "Time from the start of an upstream try to the end of its response");
    for (size_t i = 0; i < count; i++) {
        char le[16], num[32];
        if (o->json) {
            puts_(o, o->nsamples ? ",{" : "{");
            put_labels(o, 1, names, s[i].labels, NULL);
            puts_(o, ",\"buckets\":{");
        }
        long long cum = 0; /* the zone keeps each bucket's own count */
        for (size_t b = 0; b <= MG_METRICS_BUCKETS; b++) {
            cum += (long long)s[i].v[b];
            if (b < MG_METRICS_BUCKETS) {
                snprintf(le, sizeof(le), "%g", (double)mg_metrics_bucket_ms[b] / 1000);
            } else {
                snprintf(le, sizeof(le), "+Inf");
            }
            if (o->json) {
                putf(o, "%s\"%s\":%lld", b ? "," : "", le, cum);
            } else {
                snprintf(num, sizeof(num), "%lld", cum);
                sample_num(o, name, "_bucket", 1, names, s[i].labels, le, num);
            }
        }
        double sum = (double)s[i].v[MG_METRICS_SUM] / 1000;
        if (o->json) {
            putf(o, "},\"sum\":%.3f,\"count\":%lld}", sum, (long long)s[i].v[MG_METRICS_COUNT]);
            o->nsamples++;
        } else {
            snprintf(num, sizeof(num), "%.3f", sum);
            sample_num(o, name, "_sum", 1, names, s[i].labels, NULL, num);
            snprintf(num, sizeof(num), "%lld", (long long)s[i].v[MG_METRICS_COUNT]);
            sample_num(o, name, "_count", 1, names, s[i].labels, NULL, num);
        }
    }
    family_end(o);
}

/* Every peer of every group of this configuration: down in the configuration, or failed
 * (max_fails within fail_timeout) as the last worker to use it saw, or else as this one does. */
static void peers_up(mg_request_t *r, out_t *o)
{
    static const char *const names[] = {"upstream", "peer"};
    const char *name = "moongate_upstream_peer_up";
    family_begin(o, name, "gauge", "Whether an upstream peer may be chosen (1) or not (0)");
    void *umcf = mg_http_get_main_conf(r, mg_upstream_module);
    mg_msec_t now = mg_now.monotonic;
    mg_upstream_group_t *g;
    for (size_t i = 0; umcf && (g = mg_upstream_group_at(umcf, i)) != NULL; i++) {
        mg_array_t *lists[2] = {&g->peers, &g->backup};
        for (size_t l = 0; l < 2; l++) {
            mg_upstream_peer_t *peers = lists[l]->elts;
            for (size_t p = 0; p < lists[l]->nelts; p++) {
                mg_upstream_peer_t *peer = &peers[p];
                if (peer->name.len == 0) {
                    continue; /* a "resolve" slot without an address yet */
                }
                mg_str_t labels[2] = {g->name, peer->name};
                mg_metrics_entry_t *e =
                    mg_metrics_entry(r->connection->cycle->metrics, MG_METRIC_PEER_DOWN, 2, labels);
                int up;
                if (peer->down) {
                    up = 0;
                } else if (e) {
                    up = load(&e->v[0]) < now;
                } else {
                    up = !(peer->max_fails && peer->fails >= (mg_uint_t)peer->max_fails &&
                           now - peer->checked <= peer->fail_timeout);
                }
                sample_int(o, name, 2, names, labels, up);
            }
        }
    }
    family_end(o);
}

static void sources(mg_request_t *r, out_t *o)
{
    mg_cycle_t *cycle = r->connection->cycle;
    mg_metrics_source_t *src = cycle->metrics_sources.elts;
    for (size_t i = 0; i < cycle->metrics_sources.nelts; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++) {
            seen |= strcmp(src[j].family, src[i].family) == 0;
        }
        if (seen) {
            continue; /* shown with the first source of its family */
        }
        family_begin(o, src[i].family, "gauge", src[i].help);
        for (size_t j = i; j < cycle->metrics_sources.nelts; j++) {
            if (strcmp(src[j].family, src[i].family) == 0) {
                o->family = src[i].family;
                src[j].read(src[j].data, &o->sink);
            }
        }
        family_end(o);
    }
}

static void show(mg_request_t *r, out_t *o)
{
    static const char *const result[] = {"result"};
    static const char *const state[] = {"state"};
    mg_metrics_shm_t *m = r->connection->cycle->metrics;
    mg_str_t ok = mg_string("ok"), failed = mg_string("failed");

    single(o, "moongate_generation", "gauge",
           "The configuration generation serving (+1 per reload, on across upgrades)",
           load(&m->generation));
    family_begin(o, "moongate_reloads_total", "counter", "Reloads (HUP) by outcome");
    sample_int(o, "moongate_reloads_total", 1, result, &ok, load(&m->reloads_ok));
    sample_int(o, "moongate_reloads_total", 1, result, &failed, load(&m->reloads_failed));
    family_end(o);
    family_begin(o, "moongate_upgrades_total", "counter",
                 "Binary upgrades (USR2) by outcome: ok once the old master left the new one "
                 "serving, failed when the new binary exited first");
    sample_int(o, "moongate_upgrades_total", 1, result, &ok, load(&m->upgrades_ok));
    sample_int(o, "moongate_upgrades_total", 1, result, &failed, load(&m->upgrades_failed));
    family_end(o);
    single(o, "moongate_worker_restarts_total", "counter",
           "Worker processes started again after one exited unasked", load(&m->worker_restarts));
    int64_t draining = 0;
    for (size_t i = 0; i < MG_METRICS_MASTERS; i++) {
        if (__atomic_load_n(&m->masters[i].pid, __ATOMIC_ACQUIRE) != 0) {
            draining += load(&m->masters[i].draining_workers);
        }
    }
    single(o, "moongate_draining_workers", "gauge",
           "Worker processes told to stop (reload, upgrade, WINCH, QUIT) that are still running",
           draining);
    single(o, "moongate_draining_connections", "gauge",
           "Client connections still open in draining worker processes",
           mg_stat_get(r->connection->cycle, MG_STAT_DRAINING));

    static const struct {
        const char *name;
        int which;
    } conns[] = {{"active", MG_STAT_ACTIVE},
                 {"reading", MG_STAT_READING},
                 {"writing", MG_STAT_WRITING},
                 {"waiting", MG_STAT_WAITING}};
    family_begin(o, "moongate_connections", "gauge",
                 "Client connections by state, as stub_status counts them");
    for (size_t i = 0; i < mg_nelems(conns); i++) {
        mg_str_t v = {strlen(conns[i].name), (char *)conns[i].name};
        sample_int(o, "moongate_connections", 1, state, &v,
                   mg_stat_get(r->connection->cycle, conns[i].which));
    }
    family_end(o);
    single(o, "moongate_connections_accepted_total", "counter", "Client connections accepted",
           mg_stat_get(r->connection->cycle, MG_STAT_ACCEPTED));
    single(o, "moongate_connections_handled_total", "counter", "Client connections handled",
           mg_stat_get(r->connection->cycle, MG_STAT_HANDLED));

    static const char *const server_code[] = {"server", "code"};
    counters(r, o, MG_METRIC_HTTP_REQUESTS, "moongate_http_requests_total",
             "HTTP requests by server (its first server_name) and status", 2, server_code);
    peers_up(r, o);
    static const char *const upstream[] = {"upstream"};
    counters(r, o, MG_METRIC_UPSTREAM_REQUESTS, "moongate_upstream_requests_total",
             "Tries sent to an upstream group (a retry counts again)", 1, upstream);
    histogram(r, o);
    sources(r, o);
    single(o, "moongate_lua_errors_total", "counter",
           "Lua code that failed (runtime errors of every phase, timer and light thread)",
           load(&m->lua_errors));
    single(o, "moongate_metrics_series_dropped_total", "counter",
           "Counts lost because the metrics table had no room for a new series", load(&m->dropped));
    if (o->json) {
        puts_(o, "}\n");
    }
}

static mg_int_t metrics_handler(mg_request_t *r, int json)
{
    if (r->method != MG_HTTP_GET && r->method != MG_HTTP_HEAD) {
        return MG_HTTP_NOT_ALLOWED;
    }
    mg_int_t rc = mg_http_discard_request_body(r);
    if (rc != MG_OK) {
        return rc;
    }
    if (r->connection->cycle->metrics == NULL) {
        return MG_HTTP_INTERNAL_SERVER_ERROR; /* no zone: cannot happen once serving */
    }
    out_t o = {.sink = {.sample = source_sample}, .json = json};
    show(r, &o);
    mg_str_t body = {o.len, mg_palloc(r->pool, o.len ? o.len : 1)};
    memcpy(body.data, o.buf, o.len);
    free(o.buf);
    mg_str_t ct = json ? (mg_str_t)mg_string("application/json")
                       : (mg_str_t)mg_string("text/plain; version=0.0.4; charset=utf-8");
    return mg_http_send_response(r, MG_HTTP_OK, &ct, &body);
}

static mg_int_t prometheus_handler(mg_request_t *r)
{
    return metrics_handler(r, 0);
}

static mg_int_t json_handler(mg_request_t *r)
{
    return metrics_handler(r, 1);
}

/* metrics [prometheus|json]: Prometheus' text format unless json is asked for. */
static const char *metrics_directive(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    (void)cmd;
    (void)conf;
    mg_http_loc_conf_t *clcf = mg_http_conf_get_loc(cf, mg_http_core_module);
    mg_str_t fmt = cf->nargs > 1 ? cf->args[1] : (mg_str_t)mg_string("prometheus");
    if (mg_str_eq(fmt, "prometheus")) {
        clcf->handler = prometheus_handler;
    } else if (mg_str_eq(fmt, "json")) {
        clcf->handler = json_handler;
    } else {
        mg_conf_error(cf, 0,
                      "invalid value \"%.*s\" in \"metrics\" directive, it must be "
                      "\"prometheus\" or \"json\"",
                      (int)fmt.len, fmt.data);
        return MG_CONF_ERROR;
    }
    return MG_CONF_OK;
}

static const mg_command_t metrics_commands[] = {
    {"metrics", MG_CTX_LOCATION, MG_ARGS(0, 1), metrics_directive, MG_LOC_CONF, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

/* The directives whose setter is this module's own: nginx's documented default, or
 * MG_NO_DEFAULT where it documents none (tools/docgen.c). */
static const mg_conf_default_t metrics_defaults[] = {
    {"metrics", MG_NO_DEFAULT},
    {0},
};

mg_module_t mg_metrics_module = {
    .name = "metrics",
    .commands = metrics_commands,
    .defaults = metrics_defaults,
};
