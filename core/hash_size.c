/*
 * nginx's hash sizing replayed (hash_size.h): the keys are placed as ngx_hash_init places them,
 * size after size up to max_size, to give nginx's verdict on a configuration.
 */
#include <stdlib.h>

#include "hash_size.h"
#include "log.h"
#include "pool.h"
#include "str.h"

typedef struct {
    mg_str_t *labels;
    size_t n;
} label_list_t;

#define HASH_ELT_SIZE(len)                                                                         \
    (sizeof(void *) + (((len) + 2 + sizeof(void *) - 1) & ~(sizeof(void *) - 1)))

static uint64_t nginx_key(mg_str_t s)
{
    uint64_t k = 0;
    for (size_t i = 0; i < s.len; i++) {
        k = k * 31 + (unsigned char)mg_tolower(s.data[i]);
    }
    return k;
}

/* What nginx's hash builder says about n keys with these sizes: MG_ERROR after an emerg
 * (no size can work), else MG_OK, with a warning when it must give up on the bucket size. */
static mg_int_t hash_check(mg_conf_t *cf, const char *name, mg_str_t *keys, size_t n,
                           mg_int_t max_size, uint64_t bucket_size)
{
    if (max_size == 0) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0,
                     "could not build %s, you should increase %s_max_size: %ld", name, name,
                     (long)max_size);
        return MG_ERROR;
    }
    if (bucket_size > 65536 - MG_HASH_CACHELINE) {
        mg_log_error(MG_LOG_EMERG, cf->log, 0, "could not build %s, too large %s_bucket_size: %llu",
                     name, name, (unsigned long long)bucket_size);
        return MG_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        if (bucket_size < HASH_ELT_SIZE(keys[i].len) + sizeof(void *)) {
            mg_log_error(MG_LOG_EMERG, cf->log, 0,
                         "could not build %s, you should increase %s_bucket_size: %llu", name, name,
                         (unsigned long long)bucket_size);
            return MG_ERROR;
        }
    }
    size_t usable = (size_t)bucket_size - sizeof(void *);
    size_t start = n / (usable / (2 * sizeof(void *)));
    if (start == 0) {
        start = 1;
    }
    if (max_size > 10000 && n && (size_t)max_size / n < 100) {
        start = (size_t)max_size - 1000;
    }
    uint64_t *hashes = mg_alloc(n * sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        hashes[i] = nginx_key(keys[i]);
    }
    /* grown as the sizes are tried: nginx's own search allocates max_size at once */
    size_t cap = start;
    uint16_t *fill = mg_alloc(cap * sizeof(uint16_t));
    int found = 0;
    for (size_t size = start; size <= (size_t)max_size && !found; size++) {
        if (size > cap) {
            cap = mg_min(cap * 2, (size_t)max_size);
            fill = mg_realloc(fill, cap * sizeof(uint16_t));
        }
        memset(fill, 0, size * sizeof(uint16_t));
        found = 1;
        for (size_t i = 0; i < n; i++) {
            size_t b = hashes[i] % size;
            size_t len = fill[b] + HASH_ELT_SIZE(keys[i].len);
            if (len > usable) {
                found = 0;
                break;
            }
            fill[b] = (uint16_t)len;
        }
    }
    free(fill);
    free(hashes);
    if (!found) {
        mg_log_error(MG_LOG_WARN, cf->log, 0,
                     "could not build optimal %s, you should increase either "
                     "%s_max_size: %ld or %s_bucket_size: %llu; ignoring %s_bucket_size",
                     name, name, (long)max_size, name, (unsigned long long)bucket_size, name);
    }
    return MG_OK;
}

static int cmp_labels(const void *a, const void *b)
{
    const label_list_t *x = a, *y = b;
    for (size_t i = 0; i < x->n && i < y->n; i++) {
        size_t n = mg_min(x->labels[i].len, y->labels[i].len);
        int c = memcmp(x->labels[i].data, y->labels[i].data, n);
        if (c || x->labels[i].len != y->labels[i].len) {
            return c ? c : x->labels[i].len < y->labels[i].len ? -1 : 1;
        }
    }
    return x->n < y->n ? -1 : x->n > y->n;
}

/* nginx builds a wildcard hash per level of labels: one hash of the distinct labels at
 * `depth` among lists[0..n) (sorted), and one per label for the lists that go deeper. */
static mg_int_t wildcard_check(mg_conf_t *cf, const char *name, label_list_t *lists, size_t n,
                               size_t depth, mg_int_t max_size, uint64_t bucket_size)
{
    mg_str_t *level = mg_alloc(n * sizeof(mg_str_t));
    size_t nlevel = 0;
    for (size_t i = 0; i < n;) {
        mg_str_t label = lists[i].labels[depth];
        size_t j = i;
        while (j < n && mg_str_eq_str(lists[j].labels[depth], label)) {
            j++;
        }
        size_t k = i;
        while (k < j && lists[k].n == depth + 1) {
            k++;
        }
        if (k < j &&
            wildcard_check(cf, name, lists + k, j - k, depth + 1, max_size, bucket_size) != MG_OK) {
            free(level);
            return MG_ERROR;
        }
        level[nlevel++] = label;
        i = j;
    }
    mg_int_t rc = hash_check(cf, name, level, nlevel, max_size, bucket_size);
    free(level);
    return rc;
}

/* The labels of a wildcard's fixed part, last first for a "*.x" or ".x" mask. */
static void push_labels(mg_conf_t *cf, mg_array_t *a, mg_str_t s, int reverse)
{
    size_t n = 1;
    for (size_t i = 0; i < s.len; i++) {
        n += s.data[i] == '.';
    }
    label_list_t *l = mg_array_push(a);
    l->labels = mg_palloc(cf->pool, n * sizeof(mg_str_t));
    l->n = n;
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.data[i] == '.') {
            mg_str_t part = {i - start, s.data + start};
            l->labels[reverse ? n - 1 - k : k] = part;
            k++;
            start = i + 1;
        }
    }
}

void mg_hash_keys_init(mg_hash_keys_t *k)
{
    mg_array_init(&k->exact, NULL, 16, sizeof(mg_str_t));
    mg_array_init(&k->head, NULL, 4, sizeof(label_list_t));
    mg_array_init(&k->tail, NULL, 4, sizeof(label_list_t));
}

void mg_hash_keys_free(mg_hash_keys_t *k)
{
    mg_array_free(&k->exact);
    mg_array_free(&k->head);
    mg_array_free(&k->tail);
}

void mg_hash_keys_add(mg_hash_keys_t *k, mg_str_t key)
{
    *(mg_str_t *)mg_array_push(&k->exact) = key;
}

void mg_hash_keys_add_head(mg_conf_t *cf, mg_hash_keys_t *k, mg_str_t suffix)
{
    push_labels(cf, &k->head, suffix, 1);
}

void mg_hash_keys_add_tail(mg_conf_t *cf, mg_hash_keys_t *k, mg_str_t prefix)
{
    push_labels(cf, &k->tail, prefix, 0);
}

mg_int_t mg_hash_keys_check(mg_conf_t *cf, mg_hash_keys_t *k, const char *name, mg_int_t max_size,
                            mg_int_t bucket_size)
{
    /* nginx rounds the bucket up to the cache line */
    uint64_t bucket =
        ((uint64_t)bucket_size + MG_HASH_CACHELINE - 1) & ~(uint64_t)(MG_HASH_CACHELINE - 1);
    if (k->exact.nelts &&
        hash_check(cf, name, k->exact.elts, k->exact.nelts, max_size, bucket) != MG_OK) {
        return MG_ERROR;
    }
    mg_array_t *wc[2] = {&k->head, &k->tail};
    for (int i = 0; i < 2; i++) {
        if (wc[i]->nelts == 0) {
            continue;
        }
        qsort(wc[i]->elts, wc[i]->nelts, sizeof(label_list_t), cmp_labels);
        if (wildcard_check(cf, name, wc[i]->elts, wc[i]->nelts, 0, max_size, bucket) != MG_OK) {
            return MG_ERROR;
        }
    }
    return MG_OK;
}
