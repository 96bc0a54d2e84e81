/*
 * An allocator over one fixed region, for shared memory zones: no malloc, no growth, bounded
 * time per call. Blocks carry their size in a header word (and, while free, at their end), so
 * a freed block merges with free neighbours at once; free blocks sit in size-class lists
 * (four classes per power of two), so a fitting block is found without walking the heap.
 * It keeps no lock: its callers serialize access (see mg_shmtx_t).
 */
#ifndef MG_SLAB_H
#define MG_SLAB_H

#include "mg.h"

typedef struct mg_slab_s mg_slab_t;

/* Build an allocator in [addr, addr + size) (its state included); NULL if size is too small
 * to hold it. Pointers it hands out are 16-byte aligned and valid in every process that maps
 * the region at the same address. */
mg_slab_t *mg_slab_init(void *addr, size_t size);
/* size bytes, or NULL when no free block is large enough. */
void *mg_slab_alloc(mg_slab_t *slab, size_t size);
void mg_slab_free(mg_slab_t *slab, void *p);
/* Bytes in free blocks (what allocations of that total could use, headers included). */
size_t mg_slab_free_space(const mg_slab_t *slab);
/* Bytes of the largest block mg_slab_alloc could ever return (the region, less its state). */
size_t mg_slab_max_alloc(const mg_slab_t *slab);

#endif
