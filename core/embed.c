/*
 * The embedding API (moongate.h) over the runtime: a server is an mg_server_t inside an
 * embed_server_t that adds what a program needs around it. Its loop is moongate's (run, or
 * a thread of its own) or the program's event base (attach). Other threads reach the loop
 * through a pipe: stop sets a flag and writes a byte; post, reload and Lua chunks queue a call
 * the loop thread makes. Building a generation (create, reload) is serialized process-wide:
 * the module table is set up once per process, and config parsing is not reentrant.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "embed.h"
#include "listen.h"
#include "log.h"
#include "mgtime.h"
#include "module.h"
#include "pool.h"
#include "resolver.h"
#include "server.h"
#include "str.h"
#include "upgrade.h"

_Static_assert(MOONGATE_VERSION_NUMBER == 100, "moongate.h and mg.h disagree on the version");

typedef struct post_s post_t;
struct post_s {
    void (*fn)(void *data);
    void *data;
    post_t *next;
};

typedef struct {
    mg_server_t srv; /* first: moongate_server_t is the mg_server_t */
    mg_embed_t reg;
    moongate_log_pt log;
    void *log_data;
    mg_log_t cb_log;            /* the callback, at the end of every generation's error log */
    mg_log_scope_t early_scope; /* cb_log's as the early log: no stderr copies */
    char *conf_string;
    int wake[2];
    struct event *wake_ev, *done_ev;
    pthread_mutex_t lock; /* posts, stopped */
    post_t *posts, **posts_last;
    int stop_req; /* 1 graceful, 2 fast (atomic) */
    pthread_t loop_thread, thread;
    int thread_rc;
    unsigned running : 1, attached : 1, threaded : 1, stopped : 1;
} embed_server_t;

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

const char *moongate_version(void)
{
    return MOONGATE_VERSION;
}

int moongate_version_number(void)
{
    return MOONGATE_VERSION_NUMBER;
}

static embed_server_t *es_of(mg_server_t *srv)
{
    return (embed_server_t *)srv;
}

static char *abs_path(const char *prefix, const char *path)
{
    if (path[0] == '/') {
        return mg_strdup(path);
    }
    size_t n = strlen(prefix) + strlen(path) + 2;
    char *p = mg_alloc(n);
    snprintf(p, n, "%s%s%s", prefix, prefix[strlen(prefix) - 1] == '/' ? "" : "/", path);
    return p;
}

static void log_writer(mg_log_t *log, int level, const char *buf, size_t len)
{
    embed_server_t *es = log->wdata;
    es->log(es->log_data, level, buf, len);
}

const moongate_handler_t *mg_embed_handler(mg_cycle_t *cycle, const char *name, size_t len)
{
    mg_embed_t *reg = cycle->embed;
    for (moongate_handler_t *h = reg ? reg->handlers : NULL; h && h->name; h++) {
        if (strlen(h->name) == len && memcmp(h->name, name, len) == 0) {
            return h;
        }
    }
    return NULL;
}

const moongate_filter_t *mg_embed_filter(mg_cycle_t *cycle, const char *name, size_t len)
{
    mg_embed_t *reg = cycle->embed;
    for (moongate_filter_t *f = reg ? reg->filters : NULL; f && f->name; f++) {
        if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
            return f;
        }
    }
    return NULL;
}

static void copy_registry(embed_server_t *es, const moongate_options_t *opts)
{
    size_t n = 0;
    while (opts->handlers && opts->handlers[n].name) {
        n++;
    }
    es->reg.handlers = mg_calloc((n + 1) * sizeof(moongate_handler_t));
    for (size_t i = 0; i < n; i++) {
        es->reg.handlers[i] = opts->handlers[i];
        es->reg.handlers[i].name = mg_strdup(opts->handlers[i].name);
    }
    n = 0;
    while (opts->filters && opts->filters[n].name) {
        n++;
    }
    es->reg.filters = mg_calloc((n + 1) * sizeof(moongate_filter_t));
    for (size_t i = 0; i < n; i++) {
        es->reg.filters[i] = opts->filters[i];
        es->reg.filters[i].name = mg_strdup(opts->filters[i].name);
    }
    n = 0;
    while (opts->lua_modules && opts->lua_modules[n].name) {
        n++;
    }
    es->reg.lua_modules = mg_calloc((n + 1) * sizeof(moongate_lua_module_t));
    for (size_t i = 0; i < n; i++) {
        es->reg.lua_modules[i] = opts->lua_modules[i];
        es->reg.lua_modules[i].name = mg_strdup(opts->lua_modules[i].name);
        if (opts->lua_modules[i].source) {
            es->reg.lua_modules[i].source = mg_strdup(opts->lua_modules[i].source);
        }
    }
}

moongate_server_t *moongate_server_create(const moongate_options_t *opts, char *error,
                                          size_t error_size)
{
    char local[1024];
    if (error == NULL || error_size == 0) {
        error = local;
        error_size = sizeof(local);
    }
    error[0] = '\0';
    /* writev and sendfile to a closed peer raise it; a program that kept the default would die */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        signal(SIGPIPE, SIG_IGN);
    }
    embed_server_t *es = mg_calloc(sizeof(embed_server_t));
    mg_server_t *srv = &es->srv;
    es->wake[0] = es->wake[1] = -1;
    pthread_mutex_init(&es->lock, NULL);
    es->posts_last = &es->posts;
    copy_registry(es, opts);
    const char *prefix = opts->prefix ? opts->prefix : MG_PREFIX;
    srv->params.prefix = mg_strdup(prefix);
    srv->params.conf_file = abs_path(prefix, opts->conf_file     ? opts->conf_file
                                             : opts->conf_string ? "moongate.conf"
                                                                 : MG_CONF_PATH);
    srv->params.conf_param = opts->directives ? mg_strdup(opts->directives) : NULL;
    srv->params.error_log = opts->error_log ? mg_strdup(opts->error_log) : NULL;
    if (opts->conf_string) {
        es->conf_string = mg_strdup(opts->conf_string);
        srv->params.conf_string = es->conf_string;
    }
    srv->params.embed = &es->reg;
    mg_log_t *early = NULL;
    if (opts->log) {
        es->log = opts->log;
        es->log_data = opts->log_data;
        es->cb_log.level = opts->log_level ? opts->log_level : MG_LOG_NOTICE;
        es->cb_log.writer = log_writer;
        es->cb_log.wdata = es;
        es->early_scope.no_stderr = 1;
        es->cb_log.scope = &es->early_scope;
        srv->params.embed_log = &es->cb_log;
        early = &es->cb_log; /* the program hears the early errors instead of a file */
    }
    if (pipe2(es->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(error, error_size, "pipe2() failed (%d: %s)", errno, strerror(errno));
        moongate_server_destroy(srv);
        return NULL;
    }

    pthread_mutex_lock(&build_lock);
    mg_log_capture(error, error_size);
    if (early == NULL) {
        early = mg_cycle_early_log(&srv->params);
    }
    mg_cycle_t *cycle = mg_cycle_create(&srv->params, NULL, early);
    if (cycle) {
        cycle->server = srv;
        const char *inherited = mg_upgrade_inherited();
        if (inherited) {
            mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "using inherited sockets from \"%s\"",
                         inherited);
            mg_listen_inherit(cycle, inherited, mg_upgrade_inherited_var());
        }
        if (mg_listen_open_all(cycle, NULL) != MG_OK) {
            mg_cycle_destroy(cycle);
            cycle = NULL;
        }
    }
    mg_log_capture(NULL, 0);
    pthread_mutex_unlock(&build_lock);
    if (cycle == NULL) {
        moongate_server_destroy(srv);
        return NULL;
    }
    srv->cycle = cycle;
    srv->log = cycle->log;
    cycle->refs = 1;
    return srv;
}

static void run_posts(embed_server_t *es)
{
    pthread_mutex_lock(&es->lock);
    post_t *p = es->posts;
    es->posts = NULL;
    es->posts_last = &es->posts;
    pthread_mutex_unlock(&es->lock);
    while (p) {
        post_t *next = p->next;
        p->fn(p->data);
        free(p);
        p = next;
    }
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    embed_server_t *es = arg;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
        /* drained: one turn serves every byte */
    }
    mg_time_update();
    int stop = __atomic_exchange_n(&es->stop_req, 0, __ATOMIC_ACQ_REL);
    if (stop == 2) {
        mg_server_terminate(&es->srv);
    } else if (stop == 1 && !es->srv.quitting) {
        mg_server_quit(&es->srv);
    }
    run_posts(es);
}

static void start_serving(embed_server_t *es)
{
    mg_server_t *srv = &es->srv;
    es->wake_ev = event_new(srv->base, es->wake[0], EV_READ | EV_PERSIST, on_wake, es);
    event_add(es->wake_ev, NULL);
    pthread_mutex_lock(&es->lock); /* on_loop reads both from other threads */
    es->loop_thread = pthread_self();
    es->running = 1;
    pthread_mutex_unlock(&es->lock);
    mg_modules_init_worker(srv->cycle);
    mg_server_accept_on(srv);
}

/* The server stopped serving: what is still queued runs (a reload waiting for its verdict gets
 * it), later posts are refused. */
static void stop_serving(embed_server_t *es)
{
    mg_modules_exit_worker(es->srv.cycle);
    event_del(es->wake_ev);
    pthread_mutex_lock(&es->lock);
    es->stopped = 1;
    es->running = 0;
    pthread_mutex_unlock(&es->lock);
    run_posts(es);
}

int moongate_server_run(moongate_server_t *srv)
{
    embed_server_t *es = es_of(srv);
    if (srv->base == NULL) {
        srv->base = mg_server_event_base(srv->cycle);
        if (srv->base == NULL) {
            return -1;
        }
    }
    start_serving(es);
    mg_int_t rc = mg_server_loop(srv);
    stop_serving(es);
    return rc == MG_OK ? 0 : -1;
}

static int finished(mg_server_t *srv)
{
    return srv->terminating || (srv->quitting && srv->nconnections == 0 && srv->nheld == 0);
}

static void on_attached_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    embed_server_t *es = arg;
    if (es->running && finished(&es->srv)) {
        stop_serving(es);
    }
}

/* Called by server.c where its own loop would break: finish from the base's next turn (a
 * connection being closed is still on the stack). */
static void attached_done(mg_server_t *srv)
{
    embed_server_t *es = es_of(srv);
    if (finished(srv)) {
        event_active(es->done_ev, EV_TIMEOUT, 0);
    }
}

int moongate_server_attach(moongate_server_t *srv, struct event_base *base)
{
    embed_server_t *es = es_of(srv);
    if (srv->base || es->running) {
        return -1;
    }
    srv->base = base;
    es->attached = 1;
    srv->on_done = attached_done;
    es->done_ev = event_new(base, -1, 0, on_attached_done, es);
    mg_time_update();
    start_serving(es);
    return 0;
}

int moongate_server_stopped(moongate_server_t *srv)
{
    embed_server_t *es = es_of(srv);
    pthread_mutex_lock(&es->lock);
    int stopped = es->stopped;
    pthread_mutex_unlock(&es->lock);
    return stopped;
}

static void *thread_main(void *arg)
{
    embed_server_t *es = arg;
    es->thread_rc = moongate_server_run(&es->srv);
    return NULL;
}

int moongate_server_start_thread(moongate_server_t *srv)
{
    embed_server_t *es = es_of(srv);
    if (srv->base || es->running || es->threaded) {
        return -1;
    }
    /* the base is made here: an event backend given by `use` fails now, not on the thread */
    srv->base = mg_server_event_base(srv->cycle);
    if (srv->base == NULL) {
        return -1;
    }
    if (pthread_create(&es->thread, NULL, thread_main, es) != 0) {
        return -1;
    }
    es->threaded = 1;
    return 0;
}

int moongate_server_join(moongate_server_t *srv)
{
    embed_server_t *es = es_of(srv);
    if (!es->threaded) {
        return -1;
    }
    pthread_join(es->thread, NULL);
    es->threaded = 0;
    return es->thread_rc;
}

static void wake(embed_server_t *es)
{
    if (write(es->wake[1], "", 1) < 0) {
        /* full: a wake-up is pending anyway */
    }
}

void moongate_server_stop(moongate_server_t *srv, int graceful)
{
    embed_server_t *es = es_of(srv);
    int want = graceful ? 1 : 2, cur = 0;
    /* fast wins over graceful */
    while (!__atomic_compare_exchange_n(&es->stop_req, &cur, cur > want ? cur : want, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
    wake(es);
}

int moongate_server_post(moongate_server_t *srv, void (*fn)(void *data), void *data)
{
    embed_server_t *es = es_of(srv);
    post_t *p = mg_calloc(sizeof(post_t));
    p->fn = fn;
    p->data = data;
    pthread_mutex_lock(&es->lock);
    if (es->stopped) {
        pthread_mutex_unlock(&es->lock);
        free(p);
        return -1;
    }
    *es->posts_last = p;
    es->posts_last = &p->next;
    pthread_mutex_unlock(&es->lock);
    wake(es);
    return 0;
}

/* A call made on the loop thread while the caller's thread waits for its result. */
typedef struct {
    embed_server_t *es;
    int (*fn)(embed_server_t *es, const void *arg, char *error, size_t size);
    const void *arg;
    char *error;
    size_t size;
    int rc;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} sync_call_t;

static void sync_call_run(void *data)
{
    sync_call_t *sc = data;
    int rc = sc->fn(sc->es, sc->arg, sc->error, sc->size);
    pthread_mutex_lock(&sc->lock);
    sc->rc = rc;
    sc->done = 1;
    pthread_cond_signal(&sc->cond);
    pthread_mutex_unlock(&sc->lock);
}

static int on_loop(embed_server_t *es,
                   int (*fn)(embed_server_t *es, const void *arg, char *error, size_t size),
                   const void *arg, char *error, size_t size)
{
    char local[1024];
    if (error == NULL || size == 0) {
        error = local;
        size = sizeof(local);
    }
    error[0] = '\0';
    pthread_mutex_lock(&es->lock);
    int elsewhere = es->running && !pthread_equal(es->loop_thread, pthread_self());
    pthread_mutex_unlock(&es->lock);
    if (!elsewhere) {
        return fn(es, arg, error, size);
    }
    sync_call_t sc = {.es = es, .fn = fn, .arg = arg, .error = error, .size = size};
    pthread_mutex_init(&sc.lock, NULL);
    pthread_cond_init(&sc.cond, NULL);
    int rc;
    if (moongate_server_post(&es->srv, sync_call_run, &sc) != 0) {
        /* stopped meanwhile: its thread no longer touches the server */
        rc = fn(es, arg, error, size);
    } else {
        pthread_mutex_lock(&sc.lock);
        while (!sc.done) {
            pthread_cond_wait(&sc.cond, &sc.lock);
        }
        pthread_mutex_unlock(&sc.lock);
        rc = sc.rc;
    }
    pthread_cond_destroy(&sc.cond);
    pthread_mutex_destroy(&sc.lock);
    return rc;
}

static int do_reload(embed_server_t *es, const void *arg, char *error, size_t size)
{
    mg_server_t *srv = &es->srv;
    if (arg) {
        free(es->conf_string);
        es->conf_string = mg_strdup(arg);
        srv->params.conf_string = es->conf_string;
    }
    mg_time_update();
    pthread_mutex_lock(&build_lock);
    mg_log_capture(error, size);
    mg_int_t rc = mg_server_reload(srv);
    mg_log_capture(NULL, 0);
    pthread_mutex_unlock(&build_lock);
    if (rc != MG_OK && error[0] == '\0') {
        snprintf(error, size, "reload failed");
    }
    return rc == MG_OK ? 0 : -1;
}

int moongate_server_reload(moongate_server_t *srv, char *error, size_t error_size)
{
    return on_loop(es_of(srv), do_reload, NULL, error, error_size);
}

int moongate_server_reload_string(moongate_server_t *srv, const char *conf_string, char *error,
                                  size_t error_size)
{
    if (es_of(srv)->conf_string == NULL) {
        if (error && error_size) {
            snprintf(error, error_size, "the server was not created from a string");
        }
        return -1;
    }
    return on_loop(es_of(srv), do_reload, conf_string, error, error_size);
}

static int do_lua(embed_server_t *es, const void *arg, char *error, size_t size)
{
    mg_time_update();
    return mg_lua_embed_run(es->srv.cycle, arg, error, size) == MG_OK ? 0 : -1;
}

int moongate_server_lua(moongate_server_t *srv, const char *chunk, char *error, size_t error_size)
{
    return on_loop(es_of(srv), do_lua, chunk, error, error_size);
}

void moongate_server_destroy(moongate_server_t *srv)
{
    embed_server_t *es = es_of(srv);
    if (es->threaded) {
        moongate_server_stop(srv, 0);
        moongate_server_join(srv);
    }
    if (es->running) {
        /* attached and never stopped: close everything now */
        mg_server_terminate(srv);
        stop_serving(es);
    }
    if (srv->base) {
        /* deferred frees of closed connections first: they release their cycle reference */
        event_base_loop(srv->base, EVLOOP_NONBLOCK);
    }
    if (srv->cycle) {
        mg_listen_close_unused(srv->cycle, NULL);
        mg_cycle_destroy(srv->cycle);
    }
    for (size_t i = 0; i < srv->nsignals; i++) {
        event_free(srv->signals[i]);
    }
    if (srv->shutdown_timer) {
        event_free(srv->shutdown_timer);
    }
    mg_resolver_server_free(srv);
    mg_server_buffers_free(srv);
    if (srv->lua_vms) {
        srv->lua_vms_free(srv->lua_vms); /* after the cycle: its pool threads are joined */
    }
    if (es->wake_ev) {
        event_free(es->wake_ev);
    }
    if (es->done_ev) {
        event_free(es->done_ev);
    }
    if (srv->base && !es->attached) {
        event_base_free(srv->base);
    }
    if (es->wake[0] >= 0) {
        close(es->wake[0]);
        close(es->wake[1]);
    }
    for (post_t *p = es->posts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    pthread_mutex_destroy(&es->lock);
    for (moongate_handler_t *h = es->reg.handlers; h && h->name; h++) {
        free((void *)h->name);
    }
    free(es->reg.handlers);
    for (moongate_filter_t *f = es->reg.filters; f && f->name; f++) {
        free((void *)f->name);
    }
    free(es->reg.filters);
    for (moongate_lua_module_t *m = es->reg.lua_modules; m && m->name; m++) {
        free((void *)m->name);
        free((void *)m->source);
    }
    free(es->reg.lua_modules);
    free(es->conf_string);
    free((void *)srv->params.prefix);
    free((void *)srv->params.conf_file);
    free((void *)srv->params.conf_param);
    free((void *)srv->params.error_log);
    free(es);
}
