/*
 * Temporary files as nginx makes them: the *_temp_path directives (a directory and up to three
 * levels of subdirectories named by the file number's last digits), the directories created
 * at start (mode 0700, owned by the worker user when the master is root), and per-request
 * files "PATH/L1/L2/0000000042" created on demand, closed and (unless kept) removed when the
 * request ends.
 */
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "metrics.h"

#define MAX_LEVELS 3
#define NUMBER_LEN 10

/* The one entry for a path name in the http{} block: the same directory with other levels
 * is nginx's error. `where` names the directive ("FILE:LINE"), NULL for a default. */
static mg_http_temp_path_t *register_path(mg_conf_t *cf, mg_http_temp_path_t *tp)
{
    mg_http_main_conf_t *cmcf = mg_http_conf_get_main(cf, mg_http_core_module);
    if (cmcf->temp_paths.elts == NULL) {
        mg_array_init(&cmcf->temp_paths, cf->pool, 8, sizeof(mg_http_temp_path_t *));
    }
    mg_http_temp_path_t **all = cmcf->temp_paths.elts;
    for (size_t i = 0; i < cmcf->temp_paths.nelts; i++) {
        if (!mg_str_eq_str(all[i]->name, tp->name)) {
            continue;
        }
        if (memcmp(all[i]->level, tp->level, sizeof(tp->level)) != 0) {
            if (tp->where == NULL || all[i]->where == NULL) {
                mg_log_error(MG_LOG_EMERG, cf->log, 0,
                             "the path name \"%s\" in %s has the same name as default path, but "
                             "the different levels, you need to define default path in http "
                             "section",
                             tp->name.data, tp->where ? tp->where : all[i]->where);
            } else {
                mg_log_error(MG_LOG_EMERG, cf->log, 0,
                             "the same path name \"%s\" in %s has the different levels than in %s",
                             tp->name.data, all[i]->where, tp->where);
            }
            return NULL;
        }
        return all[i];
    }
    *(mg_http_temp_path_t **)mg_array_push(&cmcf->temp_paths) = tp;
    return tp;
}

const char *mg_http_set_temp_path(mg_conf_t *cf, const mg_command_t *cmd, void *conf)
{
    mg_http_temp_path_t **f = (mg_http_temp_path_t **)((char *)conf + cmd->offset);
    if (*f) {
        return "is duplicate";
    }
    mg_http_temp_path_t *tp = mg_pcalloc(cf->pool, sizeof(mg_http_temp_path_t));
    mg_str_t name = cf->args[1];
    while (name.len > 1 && name.data[name.len - 1] == '/') {
        name.len--;
    }
    tp->name = mg_conf_full_name(cf->cycle, mg_pstr(cf->pool, name.data, name.len), 0);
    /* the levels' digits come from a 10-digit number: they cannot take more than that */
    size_t total = 0;
    for (size_t i = 2; i < cf->nargs; i++) {
        int64_t level = mg_atoi(cf->args[i].data, cf->args[i].len);
        if (level <= 0) {
            return "invalid value";
        }
        tp->level[i - 2] = (size_t)level;
        total += (size_t)level;
    }
    if (total > NUMBER_LEN) {
        return "invalid value";
    }
    const char *where = mg_conf_where(cf);
    tp->where = mg_pstr(cf->pool, where, strlen(where)).data;
    *f = register_path(cf, tp);
    return *f ? MG_CONF_OK : MG_CONF_ERROR;
}

mg_int_t mg_http_merge_temp_path(mg_conf_t *cf, mg_http_temp_path_t **conf,
                                 mg_http_temp_path_t *prev, const char *dflt)
{
    if (*conf) {
        return MG_OK;
    }
    if (prev) {
        *conf = prev;
        return MG_OK;
    }
    mg_http_temp_path_t *tp = mg_pcalloc(cf->pool, sizeof(mg_http_temp_path_t));
    mg_str_t name = {strlen(dflt), (char *)dflt};
    tp->name = mg_conf_full_name(cf->cycle, name, 0);
    *conf = register_path(cf, tp);
    return *conf ? MG_OK : MG_ERROR;
}

/* At start (and for -t, as nginx): every temp directory exists, is the worker user's when the
 * master is root, and is rwx for its owner. The levels' directories come with the files. */
const char *mg_http_create_temp_paths(mg_cycle_t *cycle, void *conf)
{
    (void)conf;
    if (cycle->http == NULL) {
        return MG_CONF_OK;
    }
    mg_http_main_conf_t *cmcf = cycle->http->main_conf[mg_http_core_module.index];
    mg_core_conf_t *ccf = mg_cycle_core_conf(cycle);
    uid_t uid = (uid_t)-1;
    if (geteuid() == 0 && ccf->user.len) {
        struct passwd *pw = getpwnam(ccf->user.data);
        if (pw) {
            uid = pw->pw_uid; /* an unknown user is the worker's error to report */
        }
    }
    mg_http_temp_path_t **all = cmcf->temp_paths.elts;
    for (size_t i = 0; i < cmcf->temp_paths.nelts; i++) {
        const char *name = all[i]->name.data;
        if (mkdir(name, 0700) != 0 && errno != EEXIST) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "mkdir() \"%s\" failed", name);
            return MG_CONF_ERROR;
        }
        if (uid == (uid_t)-1) {
            continue;
        }
        struct stat st;
        if (stat(name, &st) != 0) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "stat() \"%s\" failed", name);
            return MG_CONF_ERROR;
        }
        if (st.st_uid != uid && chown(name, uid, (gid_t)-1) != 0) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "chown(\"%s\", %d) failed", name,
                         (int)uid);
            return MG_CONF_ERROR;
        }
        if ((st.st_mode & S_IRWXU) != S_IRWXU && chmod(name, st.st_mode | S_IRWXU) != 0) {
            mg_log_error(MG_LOG_EMERG, cycle->log, errno, "chmod() \"%s\" failed", name);
            return MG_CONF_ERROR;
        }
    }
    return MG_CONF_OK;
}

/* "PATH/L1/L2/NNNNNNNNNN" for number n: the levels are the number's last digits */
static void make_name(const mg_http_temp_path_t *tp, char *out, uint32_t n)
{
    char num[NUMBER_LEN + 1];
    snprintf(num, sizeof(num), "%010u", n);
    char *p = out;
    memcpy(p, tp->name.data, tp->name.len);
    p += tp->name.len;
    size_t from = NUMBER_LEN;
    for (size_t i = 0; i < MAX_LEVELS && tp->level[i]; i++) {
        from -= tp->level[i];
        *p++ = '/';
        memcpy(p, num + from, tp->level[i]);
        p += tp->level[i];
    }
    *p++ = '/';
    memcpy(p, num, NUMBER_LEN);
    p[NUMBER_LEN] = '\0';
}

/* The levels' directories of `name` (everything after the temp path itself) */
static int create_levels(const mg_http_temp_path_t *tp, char *name)
{
    for (char *p = name + tp->name.len + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        int rc = mkdir(name, 0700);
        int err = errno;
        *p = '/';
        if (rc != 0 && err != EEXIST) {
            errno = err;
            return -1;
        }
    }
    return 0;
}

/* The next file number, as nginx's: one counter for every worker of the server (its
 * metrics zone, kept across a HUP as nginx keeps its own), from 1 on, one more per file; a
 * name found taken (EEXIST: a file left from before) moves the count on by a pseudo-random
 * step. A process without the zone (-t) counts alone. */
static uint32_t next_number(mg_connection_t *c, int collision)
{
    uint32_t add = collision ? ((uint32_t)mg_now.msec << 16) + (uint32_t)getpid() : 1;
    mg_metrics_shm_t *m = c->cycle ? c->cycle->metrics : NULL;
    if (m) {
        return (uint32_t)__atomic_add_fetch(&m->temp_number, add, __ATOMIC_RELAXED);
    }
    return __atomic_add_fetch(&c->server->temp_number, add, __ATOMIC_RELAXED);
}

static void temp_file_cleanup(void *data)
{
    mg_http_temp_file_t *tf = data;
    if (tf->fd >= 0) {
        close(tf->fd);
    }
    if (!tf->persistent && unlink(tf->name.data) != 0 && errno != ENOENT) {
        mg_log_error(MG_LOG_CRIT, tf->log, errno, "unlink() \"%s\" failed", tf->name.data);
    }
}

mg_http_temp_file_t *mg_http_temp_file_create(mg_request_t *r, const mg_http_temp_path_t *tp,
                                              int persistent)
{
    size_t len = tp->name.len + 1 + NUMBER_LEN + 1;
    for (size_t i = 0; i < MAX_LEVELS; i++) {
        len += tp->level[i] ? tp->level[i] + 1 : 0;
    }
    char *name = mg_pnalloc(r->pool, len);
    uint32_t n = next_number(r->connection, 0);
    int levels_made = 0;
    for (;;) {
        make_name(tp, name, n);
        int fd = open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0) {
            mg_http_temp_file_t *tf = mg_pcalloc(r->pool, sizeof(mg_http_temp_file_t));
            tf->fd = fd;
            tf->name.data = name;
            tf->name.len = strlen(name);
            tf->persistent = (unsigned)persistent;
            tf->log = &r->connection->log;
            mg_pool_cleanup_add(r->pool, temp_file_cleanup, tf);
            return tf;
        }
        int err = errno;
        if (err == EEXIST) {
            n = next_number(r->connection, 1);
            continue;
        }
        if (err == ENOENT && !levels_made && tp->level[0]) {
            levels_made = 1;
            if (create_levels(tp, name) == 0) {
                continue;
            }
            err = errno;
            mg_log_error(MG_LOG_CRIT, &r->connection->log, err, "mkdir() \"%s\" failed", name);
            return NULL;
        }
        mg_log_error(MG_LOG_CRIT, &r->connection->log, err, "open() \"%s\" failed", name);
        return NULL;
    }
}

mg_http_temp_file_t *mg_http_temp_file_open(mg_request_t *r, const char *name, int clean,
                                            const char **what)
{
    struct stat st;
    if (stat(name, &st) != 0) {
        *what = "stat()";
        return NULL;
    }
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *what = "open()";
        return NULL;
    }
    mg_http_temp_file_t *tf = mg_pcalloc(r->pool, sizeof(mg_http_temp_file_t));
    tf->fd = fd;
    tf->name.len = strlen(name);
    tf->name.data = mg_pnalloc(r->pool, tf->name.len + 1);
    memcpy(tf->name.data, name, tf->name.len + 1);
    tf->offset = st.st_size;
    tf->persistent = !clean;
    tf->log = &r->connection->log;
    mg_pool_cleanup_add(r->pool, temp_file_cleanup, tf);
    return tf;
}

mg_int_t mg_http_temp_file_write(mg_http_temp_file_t *tf, const char *data, size_t len)
{
    while (len) {
        ssize_t n = pwrite(tf->fd, data, len, tf->offset);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            mg_log_error(MG_LOG_CRIT, tf->log, n < 0 ? errno : ENOSPC, "pwrite() \"%s\" failed",
                         tf->name.data);
            return MG_ERROR;
        }
        tf->offset += n;
        data += n;
        len -= (size_t)n;
    }
    return MG_OK;
}

/* Across file systems (rename() said EXDEV): a copy under a name beside the target, renamed
 * over it, so a reader never sees half a file. */
mg_int_t mg_http_temp_file_copy(mg_request_t *r, mg_http_temp_file_t *tf, const char *to, int mode,
                                time_t mtime)
{
    mg_log_t *log = &r->connection->log;
    char *tmp = mg_psprintf(r->pool, "%s.XXXXXX", to);
    int out = mkstemp(tmp);
    if (out < 0) {
        mg_log_error(MG_LOG_CRIT, log, errno, "open() \"%s\" failed", tmp);
        return MG_ERROR;
    }
    int in = open(tf->name.data, O_RDONLY | O_CLOEXEC);
    int ok = in >= 0;
    if (!ok) {
        mg_log_error(MG_LOG_CRIT, log, errno, "open() \"%s\" failed", tf->name.data);
    }
    char buf[65536];
    for (ssize_t n; ok && (n = read(in, buf, sizeof(buf))) != 0;) {
        if (n < 0) {
            ok = errno == EINTR;
            if (!ok) {
                mg_log_error(MG_LOG_CRIT, log, errno, "read() \"%s\" failed", tf->name.data);
            }
            continue;
        }
        for (char *p = buf; ok && n > 0;) {
            ssize_t w = write(out, p, (size_t)n);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                mg_log_error(MG_LOG_CRIT, log, w < 0 ? errno : ENOSPC, "write() \"%s\" failed",
                             tmp);
                ok = 0;
                break;
            }
            p += w;
            n -= w;
        }
    }
    if (in >= 0) {
        close(in);
    }
    if (ok && mode >= 0 && fchmod(out, (mode_t)mode) == -1) {
        mg_log_error(MG_LOG_CRIT, log, errno, "fchmod() \"%s\" failed", tmp);
    }
    if (ok && mtime >= 0) {
        struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
        (void)futimens(out, ts);
    }
    close(out);
    if (ok && rename(tmp, to) == -1) {
        mg_log_error(MG_LOG_CRIT, log, errno, "rename() \"%s\" to \"%s\" failed", tmp, to);
        ok = 0;
    }
    if (!ok) {
        unlink(tmp);
        return MG_ERROR;
    }
    return MG_OK;
}
