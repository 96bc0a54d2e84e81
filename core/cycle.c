/*
 * Building and freeing configuration generations: parse -g then the config file into a fresh
 * pool, let every module finish its top-level conf, open the generation's log files.
 */
#include <event2/event.h>
#include <fcntl.h>
#include <unistd.h>

#include "cycle.h"
#include "metrics.h"
#include "pool.h"
#include "shm.h"
#include "stat.h"
#include "str.h"
#include "syslog.h"

static mg_str_t dir_of(mg_pool_t *pool, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) + 1 : 0;
    return mg_pstr(pool, path, len);
}

static mg_str_t with_slash(mg_pool_t *pool, const char *s)
{
    size_t len = strlen(s);
    if (len && s[len - 1] == '/') {
        return mg_pstr(pool, s, len);
    }
    mg_str_t r = { len + 1, mg_pnalloc(pool, len + 2) };
    memcpy(r.data, s, len);
    r.data[len] = '/';
    r.data[len + 1] = '\0';
    return r;
}

mg_core_conf_t *mg_cycle_core_conf(mg_cycle_t *cycle)
{
    return cycle->conf[mg_core_module.index];
}

mg_open_file_t *mg_cycle_open_file(mg_cycle_t *cycle, mg_str_t name)
{
    mg_open_file_t **files = cycle->open_files.elts;
    for (size_t i = 0; i < cycle->open_files.nelts; i++) {
        if (strcmp(files[i]->name, name.data) == 0) {
            return files[i];
        }
    }
    mg_open_file_t *f = mg_pcalloc(cycle->pool, sizeof(mg_open_file_t));
    f->name = mg_pstrdup(cycle->pool, name.data, name.len);
    f->fd = -1;
    *(mg_open_file_t **)mg_array_push(&cycle->open_files) = f;
    return f;
}

static int open_log_fd(const char *name)
{
    if (strcmp(name, "stderr") == 0) {
        return STDERR_FILENO;
    }
    return open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static void close_files(mg_cycle_t *cycle)
{
    mg_open_file_t **files = cycle->open_files.elts;
    for (size_t i = 0; i < cycle->open_files.nelts; i++) {
        if (files[i]->flush) {
            files[i]->flush(files[i]);
        }
        if (files[i]->fd > STDERR_FILENO) {
            close(files[i]->fd);
        }
        files[i]->fd = -1;
    }
}

void mg_cycle_reopen_files(mg_cycle_t *cycle)
{
    mg_open_file_t **files = cycle->open_files.elts;
    for (size_t i = 0; i < cycle->open_files.nelts; i++) {
        mg_open_file_t *f = files[i];
        if (f->flush) {
            f->flush(f); /* buffered lines belong to the old file */
        }
        if (f->fd == STDERR_FILENO) {
            continue;
        }
        int fd = open_log_fd(f->name);
        if (fd < 0) {
            mg_log_error(MG_LOG_ALERT, cycle->log, errno, "open() \"%s\" failed", f->name);
            continue;
        }
        /* dup2 keeps the fd number, so nothing that copied it needs telling */
        if (f->fd >= 0) {
            dup2(fd, f->fd);
            close(fd);
        } else {
            f->fd = fd;
        }
    }
}

const char *mg_log_set_from_conf(mg_conf_t *cf, mg_log_t **head)
{
    mg_str_t name = cf->args[1];
    /* "off" is a file of that name in nginx too */
    mg_log_t *log = mg_pcalloc(cf->pool, sizeof(mg_log_t));
    log->scope = &cf->cycle->log_scope;
    if (name.len >= 7 && memcmp(name.data, "syslog:", 7) == 0) {
        mg_str_t params = {name.len - 7, name.data + 7};
        log->wdata = mg_syslog_parse(cf, params);
        if (log->wdata == NULL) {
            return MG_CONF_ERROR;
        }
        log->writer = mg_syslog_writer;
    } else if (name.len >= 7 && memcmp(name.data, "memory:", 7) == 0) {
        mg_str_t size = {name.len - 7, name.data + 7};
        log->wdata = mg_log_memory_create(cf->cycle->pool, size, mg_conf_where(cf));
        if (log->wdata == NULL) {
            mg_conf_error(cf, 0, "invalid buffer size \"%s\"", size.data);
            return MG_CONF_ERROR;
        }
        log->writer = mg_log_memory_writer;
    } else {
        mg_str_t full = mg_str_eq(name, "stderr") ? mg_pstr(cf->pool, "stderr", 6)
                                                  : mg_conf_full_name(cf->cycle, name, 0);
        log->file = mg_cycle_open_file(cf->cycle, full);
    }
    /* nginx's rules: at most one level name; debug_<area> masks only among themselves; with
     * masks every level is written and debug lines of those areas only */
    static const char *debug_masks[] = { "debug_core", "debug_alloc", "debug_mutex", "debug_event",
                                         "debug_http", "debug_mail", "debug_stream", NULL };
    int level = 0;
    unsigned masks = 0;
    for (size_t i = 2; i < cf->nargs; i++) {
        int l = mg_log_level_by_name(cf->args[i]);
        if (l > 0) {
            if (level || masks) {
                mg_conf_error(cf, 0, "duplicate log level \"%s\"", cf->args[i].data);
                return MG_CONF_ERROR;
            }
            level = l;
            continue;
        }
        const char **d = debug_masks;
        while (*d && !mg_str_eq(cf->args[i], *d)) {
            d++;
        }
        if (*d == NULL || level) {
            mg_conf_error(cf, 0, "invalid log level \"%s\"", cf->args[i].data);
            return MG_CONF_ERROR;
        }
        masks |= MG_LOG_DEBUG_CORE << (d - debug_masks);
    }
    if (masks) {
        level = MG_LOG_DEBUG;
    } else if (level == 0) {
        level = MG_LOG_ERR;
    } else if (level == MG_LOG_DEBUG) {
        masks = MG_LOG_DEBUG_ALL;
    }
    log->level = level;
    log->debug_mask = masks;
    mg_log_debug_used |= masks;
    /* keep the chain ordered as written; nginx keeps the most verbose first, which only
     * matters for its in-memory buffers */
    mg_log_t **pp = head;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = log;
    /* each destination knows what debug lines the chain from it takes (mg_log_debugc) */
    for (mg_log_t *l = *head; l; l = l->next) {
        l->debug_any = 0;
        for (mg_log_t *m = l; m; m = m->next) {
            l->debug_any |= m->debug_mask;
        }
    }
    return MG_CONF_OK;
}

mg_cycle_t *mg_cycle_create(const mg_cycle_params_t *params, mg_cycle_t *old, mg_log_t *log)
{
    mg_modules_init();
    mg_pool_t *pool = mg_pool_create(16384);
    mg_cycle_t *cycle = mg_pcalloc(pool, sizeof(mg_cycle_t));
    cycle->pool = pool;
    cycle->log_scope.no_stderr = params->embed_log != NULL;
    cycle->log = log;
    cycle->test_config = params->test_config;
    cycle->signalling = params->signalling;
    cycle->prefix = with_slash(pool, params->prefix);
    cycle->conf_file = mg_pstr(pool, params->conf_file, strlen(params->conf_file));
    cycle->conf_prefix = dir_of(pool, params->conf_file);
    cycle->embed = params->embed;
    if (params->conf_param) {
        cycle->conf_param = mg_pstr(pool, params->conf_param, strlen(params->conf_param));
    }
    char host[256];
    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    mg_strlow(host, host, strlen(host));
    cycle->hostname = mg_pstr(pool, host, strlen(host));
    mg_array_init(&cycle->listening, pool, 8, sizeof(mg_listening_t *));
    mg_array_init(&cycle->open_files, pool, 8, sizeof(mg_open_file_t *));
    mg_array_init(&cycle->conf_dump, pool, 4, sizeof(mg_conf_dump_t));
    mg_array_init(&cycle->shm_zones, pool, 4, sizeof(mg_shm_zone_t *));
    mg_array_init(&cycle->metrics_sources, pool, 4, sizeof(mg_metrics_source_t));
    mg_array_init(&cycle->regexes, pool, 8, sizeof(mg_regex_t *));
    cycle->old = old;
    cycle->conf = mg_pcalloc(pool, mg_modules_n * sizeof(void *));
    for (size_t i = 0; i < mg_modules_n; i++) {
        if (mg_modules[i]->create_cycle_conf) {
            cycle->conf[i] = mg_modules[i]->create_cycle_conf(cycle);
        }
    }

    mg_conf_t cf = { 0 };
    cf.cycle = cycle;
    cf.pool = pool;
    cf.log = log;
    cf.ctx = MG_CTX_MAIN;
    if (cycle->conf_param.len &&
        mg_conf_parse_string(&cf, cycle->conf_param.data, cycle->conf_param.len) != MG_OK) {
        goto failed;
    }
    if (params->conf_string ? mg_conf_parse_text(&cf, cycle->conf_file.data, params->conf_string,
                                                 strlen(params->conf_string)) != MG_OK
                            : mg_conf_parse(&cf, cycle->conf_file.data) != MG_OK) {
        goto failed;
    }
    if (mg_metrics_init(&cf) != MG_OK) {
        goto failed;
    }
    for (size_t i = 0; i < mg_modules_n; i++) {
        if (mg_modules[i]->init_cycle_conf) {
            const char *rv = mg_modules[i]->init_cycle_conf(cycle, cycle->conf[i]);
            if (rv != MG_CONF_OK) {
                if (rv != MG_CONF_ERROR) {
                    mg_log_error(MG_LOG_EMERG, log, 0, "%s", rv);
                }
                goto failed;
            }
        }
    }
    if (cycle->error_log == NULL) {
        /* no main-level error_log: the default file (or -e) at "error" */
        const char *def = params->error_log ? params->error_log : MG_ERROR_LOG_PATH;
        mg_str_t name = { strlen(def), (char *)def };
        if (!mg_str_eq(name, "stderr")) {
            name = mg_conf_full_name(cycle, name, 0);
        }
        cycle->error_log = mg_pcalloc(pool, sizeof(mg_log_t));
        cycle->error_log->file = mg_cycle_open_file(cycle, name);
        cycle->error_log->level = MG_LOG_ERR;
        cycle->error_log->scope = &cycle->log_scope;
    }
    /* open every file now so a failure stops this generation, not a later request */
    mg_open_file_t **files = cycle->open_files.elts;
    for (size_t i = 0; i < cycle->open_files.nelts; i++) {
        files[i]->fd = open_log_fd(files[i]->name);
        if (files[i]->fd < 0) {
            mg_log_error(MG_LOG_EMERG, log, errno, "open() \"%s\" failed", files[i]->name);
            goto failed;
        }
    }
    if (params->embed_log) {
        mg_log_t **pp = &cycle->error_log;
        while (*pp) {
            pp = &(*pp)->next;
        }
        /* the embedding program's callback hears what the error log says */
        *pp = mg_palloc(pool, sizeof(mg_log_t));
        **pp = *params->embed_log;
        (*pp)->scope = &cycle->log_scope;
    }
    cycle->log = cycle->error_log;
    if (!cycle->test_config && !cycle->signalling && !params->embed_log) {
        /* nginx's word as each configuration takes over: libevent's first choice is the one
         * its bases use */
        mg_log_error(MG_LOG_NOTICE, cycle->log, 0, "using the \"%s\" event method",
                     event_get_supported_methods()[0]);
    }
    cycle->old = NULL; /* it may be freed before this one */
    return cycle;

failed:
    close_files(cycle);
    mg_pool_destroy(pool);
    return NULL;
}

void mg_cycle_destroy(mg_cycle_t *cycle)
{
    close_files(cycle);
    mg_pool_destroy(cycle->pool);
}

mg_log_t *mg_cycle_early_log(const mg_cycle_params_t *params)
{
    /* lives for the process: the early log is needed until the first cycle takes over and
     * again for every reload's errors */
    static mg_log_t log;
    static mg_open_file_t file;
    static char name[4096];
    const char *def = params->error_log ? params->error_log : MG_ERROR_LOG_PATH;
    log.level = MG_LOG_NOTICE;
    log.file = &file;
    if (strcmp(def, "stderr") == 0) {
        file.fd = STDERR_FILENO;
        snprintf(name, sizeof(name), "stderr");
        file.name = name;
        return &log;
    }
    if (def[0] == '/') {
        snprintf(name, sizeof(name), "%s", def);
    } else {
        size_t plen = strlen(params->prefix);
        snprintf(name, sizeof(name), "%s%s%s", params->prefix,
                 plen && params->prefix[plen - 1] == '/' ? "" : "/", def);
    }
    file.name = name;
    if (file.fd > STDERR_FILENO) {
        close(file.fd);
    }
    file.fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (file.fd < 0) {
        mg_log_stderr(errno, "[alert] could not open error log file: open() \"%s\" failed", name);
        file.fd = STDERR_FILENO;
    }
    return &log;
}
