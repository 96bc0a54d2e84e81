/*
 * Shared memory zones of a generation (see shm.h) and their hand-over to a new binary (the
 * lock is shmtx.c). Zones are malloc'ed, not pool memory: one zone may outlive the
 * generation that created it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cycle.h"
#include "module.h"
#include "pool.h"
#include "shm.h"

/* The first page of every mapping: what a new binary checks before it adopts the zone. */
#define HDR_SIZE 4096
#define HDR_MAGIC "MGSHMZN"

typedef struct {
    char magic[8];
    uint32_t layout; /* MG_SHM_LAYOUT of the binary that made the zone */
    uint32_t hdr_size;
    uint64_t size; /* the owner's bytes, after the header */
    uint64_t addr; /* where they are mapped in every process */
    char owner[64];
    char name[256];
} zone_hdr_t;

/* Zones handed over by the old binary (USR2), until the first configuration took them. */
typedef struct inherited_s {
    mg_shm_zone_t *zone; /* NULL: not mappable (error says why) */
    char name[256];
    char owner[64];
    char error[512];
    struct inherited_s *next;
} inherited_t;

static inherited_t *inherited;

mg_shm_zone_t *mg_shm_zone_find(mg_cycle_t *cycle, mg_str_t name)
{
    if (cycle == NULL || cycle->shm_zones.elts == NULL) {
        return NULL;
    }
    mg_shm_zone_t **zones = cycle->shm_zones.elts;
    for (size_t i = 0; i < cycle->shm_zones.nelts; i++) {
        if (strlen(zones[i]->name) == name.len &&
            memcmp(zones[i]->name, name.data, name.len) == 0) {
            return zones[i];
        }
    }
    return NULL;
}

static void zone_free(mg_shm_zone_t *zone)
{
    munmap((char *)zone->addr - HDR_SIZE, zone->size + HDR_SIZE);
    if (zone->fd >= 0) {
        close(zone->fd);
    }
    free(zone->name);
    free(zone);
}

/* A generation's pool cleanup: the other processes that mapped the zone keep their own
 * mapping, so unmapping here only ends this process's use of it. */
static void zone_release(void *data)
{
    mg_shm_zone_t *zone = data;
    if (--zone->refs > 0) {
        return;
    }
    zone_free(zone);
}

static mg_shm_zone_t *zone_attach(mg_cycle_t *cycle, mg_shm_zone_t *zone)
{
    zone->refs++;
    *(mg_shm_zone_t **)mg_array_push(&cycle->shm_zones) = zone;
    mg_pool_cleanup_add(cycle->pool, zone_release, zone);
    return zone;
}

static const char *owner_name(const void *tag)
{
    return ((const mg_module_t *)tag)->name;
}

static inherited_t *inherited_find(mg_str_t name)
{
    for (inherited_t *h = inherited; h; h = h->next) {
        if (strlen(h->name) == name.len && memcmp(h->name, name.data, name.len) == 0) {
            return h;
        }
    }
    return NULL;
}

mg_shm_zone_t *mg_shm_zone_previous(mg_conf_t *cf, mg_str_t name, const void *tag)
{
    mg_shm_zone_t *zone = mg_shm_zone_find(cf->cycle->old, name);
    if (zone && zone->tag == tag) {
        return zone;
    }
    inherited_t *h = inherited_find(name);
    if (h && h->zone && strcmp(h->owner, owner_name(tag)) == 0) {
        return h->zone;
    }
    return NULL;
}

void mg_shm_zone_keep(mg_conf_t *cf, mg_shm_zone_t *zone)
{
    for (inherited_t *h = inherited; h; h = h->next) {
        if (h->zone == zone) {
            /* the old binary's zone: the generation owns it now (not unmapped as untaken) */
            h->zone = NULL;
            h->name[0] = '\0';
        }
    }
    zone->refs++;
    mg_pool_cleanup_add(cf->cycle->pool, zone_release, zone);
}

static mg_shm_zone_t *zone_new(mg_conf_t *cf, mg_str_t name, size_t size, const void *tag)
{
    char fdname[300];
    snprintf(fdname, sizeof(fdname), "moongate:%.*s", (int)mg_min(name.len, 256), name.data);
    int fd = memfd_create(fdname, MFD_CLOEXEC);
    if (fd < 0) {
        mg_conf_error(cf, errno, "memfd_create(\"%s\") failed", fdname);
        return NULL;
    }
    if (ftruncate(fd, (off_t)(size + HDR_SIZE)) != 0) {
        mg_conf_error(cf, errno, "ftruncate() of shared memory zone \"%.*s\" to %zu failed",
                      (int)name.len, name.data, size + HDR_SIZE);
        close(fd);
        return NULL;
    }
    char *base = mmap(NULL, size + HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        mg_conf_error(cf, errno, "mmap(MAP_SHARED, %zu) failed", size + HDR_SIZE);
        close(fd);
        return NULL;
    }
    zone_hdr_t *hdr = (zone_hdr_t *)base;
    memcpy(hdr->magic, HDR_MAGIC, sizeof(hdr->magic));
    hdr->layout = MG_SHM_LAYOUT;
    hdr->hdr_size = HDR_SIZE;
    hdr->size = size;
    hdr->addr = (uint64_t)(uintptr_t)(base + HDR_SIZE);
    snprintf(hdr->owner, sizeof(hdr->owner), "%s", owner_name(tag));
    snprintf(hdr->name, sizeof(hdr->name), "%.*s", (int)mg_min(name.len, 255), name.data);

    mg_shm_zone_t *zone = mg_calloc(sizeof(mg_shm_zone_t));
    zone->name = mg_alloc(name.len + 1);
    memcpy(zone->name, name.data, name.len);
    zone->name[name.len] = '\0';
    zone->size = size;
    zone->addr = base + HDR_SIZE;
    zone->tag = tag;
    zone->fd = fd;
    return zone;
}

mg_shm_zone_t *mg_shm_zone_add(mg_conf_t *cf, mg_str_t name, size_t size, const void *tag)
{
    mg_cycle_t *cycle = cf->cycle;
    mg_shm_zone_t *zone = mg_shm_zone_find(cycle, name);
    if (zone) {
        if (zone->tag != tag) {
            mg_conf_error(cf, 0,
                          "the shared memory zone \"%.*s\" is already declared for a "
                          "different use",
                          (int)name.len, name.data);
            return NULL;
        }
        if (zone->size != size) {
            mg_conf_error(cf, 0,
                          "the size %zu of shared memory zone \"%.*s\" conflicts with "
                          "already declared size %zu",
                          size, (int)name.len, name.data, zone->size);
            return NULL;
        }
        return zone;
    }
    zone = mg_shm_zone_find(cycle->old, name);
    if (zone && zone->tag == tag && zone->size == size) {
        return zone_attach(cycle, zone); /* a reload keeps the contents */
    }
    inherited_t *h = inherited_find(name);
    if (h && strcmp(h->owner, owner_name(tag)) == 0) {
        if (h->zone == NULL) {
            /* the old binary's contents cannot be read here: refuse rather than lose them */
            mg_conf_error(cf, 0, "%s, upgrade refused", h->error);
            return NULL;
        }
        if (h->zone->size == size) {
            h->zone->tag = tag;
            zone = h->zone;
            h->zone = NULL;
            h->name[0] = '\0'; /* taken: an upgrade keeps the contents */
            return zone_attach(cycle, zone);
        }
    }
    /* a new size (or a new name) gets fresh memory; the old zone stays with the workers of
     * the old generation until they are gone (its owner may copy its contents over) */
    zone = zone_new(cf, name, size, tag);
    return zone ? zone_attach(cycle, zone) : NULL;
}

void mg_shm_fds_text(mg_cycle_t *cycle, char *buf, size_t size, int for_exec)
{
    size_t len = 0;
    buf[0] = '\0';
    mg_shm_zone_t **zones = cycle->shm_zones.elts;
    for (size_t i = 0; i < cycle->shm_zones.nelts; i++) {
        int n = snprintf(buf + len, size - len, "%d;", zones[i]->fd);
        if (n < 0 || (size_t)n >= size - len) {
            break;
        }
        len += (size_t)n;
        if (for_exec) {
            fcntl(zones[i]->fd, F_SETFD, 0);
        }
    }
}

/* One handed-over zone: its header read and checked, mapped where it was. */
static void inherit_one(int fd)
{
    inherited_t *h = mg_calloc(sizeof(inherited_t));
    zone_hdr_t hdr;
    if (pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
        memcmp(hdr.magic, HDR_MAGIC, sizeof(hdr.magic)) != 0) {
        close(fd);
        free(h);
        return; /* not a zone: nothing to name it by, nothing to refuse */
    }
    hdr.owner[sizeof(hdr.owner) - 1] = '\0';
    hdr.name[sizeof(hdr.name) - 1] = '\0';
    memcpy(h->name, hdr.name, sizeof(h->name));
    memcpy(h->owner, hdr.owner, sizeof(h->owner));
    h->next = inherited;
    inherited = h;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (hdr.layout != MG_SHM_LAYOUT || hdr.hdr_size != HDR_SIZE) {
        snprintf(h->error, sizeof(h->error),
                 "shared memory zone \"%s\" from the old binary has layout %u, this binary "
                 "reads layout %u only",
                 h->name, hdr.layout, MG_SHM_LAYOUT);
        close(fd);
        return;
    }
    char *want = (char *)(uintptr_t)hdr.addr - HDR_SIZE;
    char *base = mmap(want, hdr.size + HDR_SIZE, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
    if (base != want) {
        if (base != MAP_FAILED) {
            munmap(base, hdr.size + HDR_SIZE);
        }
        snprintf(h->error, sizeof(h->error),
                 "shared memory zone \"%s\" from the old binary cannot be mapped at %p "
                 "(its pointers need that address)",
                 h->name, (void *)want);
        close(fd);
        return;
    }
    mg_shm_zone_t *zone = mg_calloc(sizeof(mg_shm_zone_t));
    zone->name = mg_strdup(h->name);
    zone->size = hdr.size;
    zone->addr = base + HDR_SIZE;
    zone->fd = fd;
    h->zone = zone;
}

void mg_shm_inherit(const char *fds)
{
    for (const char *p = fds; *p;) {
        char *end;
        long fd = strtol(p, &end, 10);
        if (end == p) {
            break;
        }
        if (fd > STDERR_FILENO && fd < INT_MAX) {
            inherit_one((int)fd);
        }
        p = *end == ';' ? end + 1 : end;
    }
}

void mg_shm_inherit_done(void)
{
    while (inherited) {
        inherited_t *h = inherited;
        inherited = h->next;
        if (h->zone) {
            zone_free(h->zone);
        }
        free(h);
    }
}
