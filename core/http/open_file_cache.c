/*
 * Opening the files a response sends, as the location says: disable_symlinks (an openat()
 * walk with O_NOFOLLOW, or owner checks, from the root or from a trusted prefix on),
 * read_ahead, and open_file_cache: a per-process table of descriptors and file facts (and,
 * with open_file_cache_errors, failures), looked up by name, trusted for
 * open_file_cache_valid, dropped after `inactive` without use or when `max` is reached. An
 * entry a request uses stays open until that request's pool releases it.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "script.h"

#define MIN_READ_AHEAD (128 * 1024) /* smaller files are not worth the advice (nginx's) */
#define EXPIRE_PER_LOOKUP 8         /* bounded work for a lookup after a long idle time */

typedef struct cached_s cached_t;
struct cached_s {
    cached_t *hnext;       /* the hash bucket's chain */
    cached_t *prev, *next; /* most recently used first */
    char *name;            /* malloc'ed with the entry */
    size_t len;
    uint32_t hash;
    mg_http_open_file_t info; /* fd -1: not kept (a directory, an error, or too few uses) */
    int symlinks;             /* the disable_symlinks it was opened under */
    size_t from;
    mg_msec_t created, accessed;
    mg_uint_t uses;
    mg_uint_t count;      /* requests using its fd now */
    unsigned removed : 1; /* out of the table: freed when the last user lets go */
};

struct mg_http_file_cache_s {
    mg_uint_t max;
    mg_msec_t inactive;
    cached_t **buckets; /* malloc'ed on first use, in the process that serves */
    size_t nbuckets;
    cached_t *head, *tail;
    mg_uint_t current;
};

typedef struct {
    cached_t *entry;
    mg_http_file_cache_t *cache;
} release_t;

/* ---- opening ---- */

static void close_fd(void *data)
{
    close((int)(intptr_t)data);
}

/* nginx's if_not_owner: a link whose owner is not its target's owner is refused (ELOOP) */
static int owner_differs(int dir, const char *name, int fd)
{
    struct stat lst, st;
    if (fstatat(dir, name, &lst, AT_SYMLINK_NOFOLLOW) != 0 || fstat(fd, &st) != 0) {
        return 0; /* the open succeeded: nothing to refuse on */
    }
    return S_ISLNK(lst.st_mode) && lst.st_uid != st.st_uid;
}

/* open() the path, or walk it with openat() one name at a time from "/" (or from the trusted
 * prefix of `from` bytes) when symlinks are checked. Sets fd or err and failed. */
static void open_walk(const char *path, size_t len, int symlinks, size_t from,
                      mg_http_open_file_t *of)
{
    int fd;
    if (symlinks == MG_HTTP_SYMLINKS_OFF || from >= len) {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            of->err = errno;
            of->failed = "open()";
            return;
        }
        of->fd = fd;
        return;
    }
    int nofollow = symlinks == MG_HTTP_SYMLINKS_ON ? O_NOFOLLOW : 0;
    char *copy = strndup(path, len);
    int dir;
    if (from) {
        copy[from] = '\0';
        dir = open(copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
        copy[from] = '/';
        if (dir < 0) {
            of->err = errno;
            of->failed = "open()";
            free(copy);
            return;
        }
    } else {
        dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    char *p = copy + from;
    for (;;) {
        while (*p == '/') {
            p++;
        }
        char *slash = strchr(p, '/');
        while (slash && slash[1] == '/') {
            slash++; /* "a//b": the empty names between are nothing */
        }
        int last = slash == NULL || slash[1] == '\0';
        if (slash) {
            *slash = '\0';
        }
        fd = last ? openat(dir, p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | nofollow)
                  : openat(dir, p, O_PATH | O_DIRECTORY | O_CLOEXEC | nofollow);
        if (fd >= 0 && symlinks == MG_HTTP_SYMLINKS_NOT_OWNER && owner_differs(dir, p, fd)) {
            close(fd);
            fd = -1;
            errno = ELOOP;
        }
        int err = errno;
        close(dir);
        if (fd < 0) {
            of->err = err;
            of->failed = "openat()";
            break;
        }
        if (last) {
            of->fd = fd;
            break;
        }
        dir = fd;
        p = slash + 1;
    }
    free(copy);
}

/* Open and describe: of gets fd (-1 for a directory) and the file's facts, or err/failed */
static void open_and_stat(const char *path, size_t len, int symlinks, size_t from,
                          size_t read_ahead, mg_http_open_file_t *of)
{
    memset(of, 0, sizeof(*of));
    of->fd = -1;
    open_walk(path, len, symlinks, from, of);
    if (of->fd < 0) {
        return;
    }
    struct stat st;
    if (fstat(of->fd, &st) != 0) {
        of->err = errno;
        of->failed = "fstat()";
        close(of->fd);
        of->fd = -1;
        return;
    }
    of->size = st.st_size;
    of->mtime = st.st_mtime;
    of->dev = st.st_dev;
    of->ino = st.st_ino;
    of->is_dir = S_ISDIR(st.st_mode) != 0;
    of->is_file = S_ISREG(st.st_mode) != 0;
    if (!of->is_file) {
        close(of->fd); /* directories and the rest are described, never read */
        of->fd = -1;
    } else if (read_ahead && of->size > MIN_READ_AHEAD) {
        /* as nginx on Linux: the size is not used, the kernel reads ahead sequentially */
        posix_fadvise(of->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
}

/* ---- the cache ---- */

static uint32_t name_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    }
    return h;
}

static void lru_unlink(mg_http_file_cache_t *c, cached_t *e)
{
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static void lru_front(mg_http_file_cache_t *c, cached_t *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head) {
        c->head->prev = e;
    } else {
        c->tail = e;
    }
    c->head = e;
}

static void entry_free(cached_t *e)
{
    if (e->info.fd >= 0) {
        close(e->info.fd);
    }
    free(e);
}

/* Out of the table; its fd closes now, or when the last request using it lets go */
static void entry_remove(mg_http_file_cache_t *c, cached_t *e)
{
    cached_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    lru_unlink(c, e);
    c->current--;
    if (e->count) {
        e->removed = 1;
    } else {
        entry_free(e);
    }
}

static void expire(mg_http_file_cache_t *c)
{
    for (int n = 0; n < EXPIRE_PER_LOOKUP && c->tail; n++) {
        if (mg_now.monotonic - c->tail->accessed < c->inactive) {
            break;
        }
        entry_remove(c, c->tail);
    }
}

static cached_t *find(mg_http_file_cache_t *c, const char *name, size_t len, uint32_t hash)
{
    if (c->buckets == NULL) {
        return NULL;
    }
    for (cached_t *e = c->buckets[hash & (c->nbuckets - 1)]; e; e = e->hnext) {
        if (e->hash == hash && e->len == len && memcmp(e->name, name, len) == 0) {
            return e;
        }
    }
    return NULL;
}

static cached_t *insert(mg_http_file_cache_t *c, const char *name, size_t len, uint32_t hash)
{
    if (c->buckets == NULL) {
        c->nbuckets = 64;
        while (c->nbuckets < c->max && c->nbuckets < 65536) {
            c->nbuckets <<= 1;
        }
        c->buckets = mg_calloc(c->nbuckets * sizeof(cached_t *));
    }
    if (c->current >= c->max) {
        entry_remove(c, c->tail); /* the least recently used makes room */
    }
    cached_t *e = mg_calloc(sizeof(cached_t) + len + 1);
    e->name = (char *)(e + 1);
    memcpy(e->name, name, len);
    e->len = len;
    e->hash = hash;
    e->info.fd = -1;
    cached_t **b = &c->buckets[hash & (c->nbuckets - 1)];
    e->hnext = *b;
    *b = e;
    lru_front(c, e);
    c->current++;
    return e;
}

static void release(void *data)
{
    cached_t *e = data;
    if (--e->count == 0 && e->removed) {
        entry_free(e);
    }
}

static void cache_destroy(void *data)
{
    mg_http_file_cache_t *c = data;
    while (c->head) {
        cached_t *e = c->head;
        c->head = e->next;
        entry_free(e); /* no request of this generation is left to use it */
    }
    free(c->buckets);
}

mg_http_file_cache_t *mg_http_file_cache_create(mg_conf_t *cf, mg_uint_t max, mg_msec_t inactive)
{
    mg_http_file_cache_t *c = mg_pcalloc(cf->pool, sizeof(mg_http_file_cache_t));
    c->max = max;
    c->inactive = inactive;
    mg_pool_cleanup_add(cf->pool, cache_destroy, c);
    return c;
}

/* ---- the request's way in ---- */

/* disable_symlinks from=: the length of the path's trusted prefix (0: none) */
static size_t trusted_prefix(mg_request_t *r, mg_http_loc_conf_t *clcf, mg_str_t path)
{
    if (clcf->disable_symlinks == MG_HTTP_SYMLINKS_OFF || clcf->disable_symlinks_from == NULL) {
        return 0;
    }
    mg_str_t from = mg_http_complex_value(r, clcf->disable_symlinks_from);
    while (from.len > 1 && from.data[from.len - 1] == '/') {
        from.len--;
    }
    if (from.len == 0 || from.len > path.len || memcmp(from.data, path.data, from.len) != 0 ||
        (from.len < path.len && path.data[from.len] != '/')) {
        return 0;
    }
    return from.len;
}

mg_int_t mg_http_open_file(mg_request_t *r, mg_str_t path, mg_http_open_file_t *of)
{
    mg_http_loc_conf_t *clcf = mg_http_get_loc_conf(r, mg_http_core_module);
    int symlinks = (int)clcf->disable_symlinks;
    size_t from = trusted_prefix(r, clcf, path);
    mg_http_file_cache_t *c = clcf->open_file_cache;
    if (c == NULL) {
        open_and_stat(path.data, path.len, symlinks, from, clcf->read_ahead, of);
        if (of->fd >= 0) {
            mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)of->fd);
        }
        return of->failed ? MG_ERROR : MG_OK;
    }
    expire(c);
    uint32_t hash = name_hash(path.data, path.len);
    cached_t *e = find(c, path.data, path.len, hash);
    mg_uint_t uses = 1;
    if (e && e->symlinks == symlinks && e->from == from &&
        mg_now.monotonic - e->created < clcf->open_file_cache_valid &&
        (e->info.fd >= 0 || !e->info.is_file) &&
        (e->info.failed == NULL || clcf->open_file_cache_errors)) {
        /* trusted as it is, whatever became of the file meanwhile */
        e->uses++;
        e->accessed = mg_now.monotonic;
        lru_unlink(c, e);
        lru_front(c, e);
        *of = e->info;
        if (of->fd >= 0) {
            e->count++;
            mg_pool_cleanup_add(r->pool, release, e);
        }
        return of->failed ? MG_ERROR : MG_OK;
    }
    if (e) {
        uses = e->uses + 1; /* looked at again: the uses go on counting */
        entry_remove(c, e);
    }
    open_and_stat(path.data, path.len, symlinks, from, clcf->read_ahead, of);
    if (of->failed && !clcf->open_file_cache_errors) {
        return MG_ERROR;
    }
    e = insert(c, path.data, path.len, hash);
    e->symlinks = symlinks;
    e->from = from;
    e->created = e->accessed = mg_now.monotonic;
    e->uses = uses;
    e->info = *of;
    e->info.fd = -1;
    if (of->fd >= 0) {
        if (uses >= (mg_uint_t)clcf->open_file_cache_min_uses) {
            e->info.fd = of->fd; /* the cache's from now on */
            e->count++;
            mg_pool_cleanup_add(r->pool, release, e);
        } else {
            mg_pool_cleanup_add(r->pool, close_fd, (void *)(intptr_t)of->fd);
        }
    }
    return of->failed ? MG_ERROR : MG_OK;
}
