/*
 * ArenaCache: CPython's small-object allocator, made to keep the arenas it frees.
 *
 * Why: each batch the loop consumes is ten thousand Message objects with their keys and
 * values, a few MiB of small objects that CPython carves from 1 MiB arenas and, once the
 * batch is dropped, gives back to the system (munmap) as each arena empties. The next
 * batch maps fresh ones, and the kernel zeroes every page again at its first touch. On
 * a virtual machine whose memory the host backs lazily, a page the guest has handed back
 * costs 20-30 us at its next first touch instead of about 1 (docs/benchmarks.md). A batch
 * of small objects allocated again after the last was dropped: 6,524 page faults without
 * this cache, 105 with (tests/speed_layer/test_allocator.py).
 *
 * Here an emptied arena goes onto a stack, up to a bound, and the next arena CPython asks
 * for comes from it: the same pages, already mapped. Beyond the bound, and for any size
 * other than the one cached, the allocator that was installed before does the work (it
 * mapped every arena the process already holds, so it can also unmap any of them).
 * CPython calls the arena allocator with the GIL held: no lock here.
 */
#include "hotpath.h"

#define MAX_CACHED 1024

typedef struct {
    PyObjectArenaAllocator previous;
    size_t size;      /* the arena size seen first: the only one cached */
    size_t max_bytes; /* at most this much held back */
    Py_ssize_t n;
    void *stack[MAX_CACHED];
} ArenaCache;

static ArenaCache cache; /* installed once cache.previous.alloc is set */

static void *cached_alloc(void *ctx, size_t size) {
    ArenaCache *c = ctx;
    if (c->n > 0 && size == c->size) return c->stack[--c->n];
    return c->previous.alloc(c->previous.ctx, size);
}

static void cached_free(void *ctx, void *ptr, size_t size) {
    ArenaCache *c = ctx;
    if (c->size == 0) c->size = size;
    if (ptr != NULL && size == c->size && c->n < MAX_CACHED &&
        (size_t)(c->n + 1) * size <= c->max_bytes) {
        c->stack[c->n++] = ptr;
        return;
    }
    c->previous.free(c->previous.ctx, ptr, size);
}

void arena_cache_install(size_t max_bytes) {
    if (cache.previous.alloc != NULL) {
        cache.max_bytes = max_bytes; /* a smaller bound applies to arenas freed from now on */
        return;
    }
    if (max_bytes == 0) return; /* nothing to keep: CPython's own stays */
    PyObject_GetArenaAllocator(&cache.previous);
    cache.max_bytes = max_bytes;
    PyObjectArenaAllocator mine = {&cache, cached_alloc, cached_free};
    PyObject_SetArenaAllocator(&mine);
}

Py_ssize_t arena_cache_held(void) {
    return cache.n; /* 0 until installed */
}
