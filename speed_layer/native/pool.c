/*
 * Pool: fixed-size blocks carved from large chunks, for the objects a WindowTable makes
 * and drops by the million (a window, an open window's first id slots).
 *
 * Why: on a market of thousands of symbols trading a few times a second nearly every
 * trade opens a 1 s window, and the dedup horizon keeps every window for ten minutes
 * (1.4M of them in the 10,000-symbol benchmark). Through malloc each window cost a
 * calloc, a malloc and two frees of its own. Here a block comes from a 4 MiB chunk or the
 * free list, and a freed one is reused as it is. Memory comes back to the system only
 * when the table goes. (Advising the chunks for transparent huge pages was measured and
 * left out: the kernel then zeroes 2 MiB at each fault, which cost more than the TLB
 * misses it saves: docs/benchmarks.md.)
 *
 * Built with AddressSanitizer (scripts/check-sanitizers), every block is its own malloc,
 * so a use after free is still found.
 */
#include "hotpath.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES ((size_t)4 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define POOL_PLAIN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_PLAIN_MALLOC 1
#endif
#endif

void pool_init(Pool *p, size_t block) {
    memset(p, 0, sizeof(*p));
    p->block = (block + 15) & ~(size_t)15;
}

#ifdef POOL_PLAIN_MALLOC

void *pool_alloc(Pool *p) {
    void *b = calloc(1, p->block);
    if (b == NULL) return PyErr_NoMemory();
    p->in_use++;
    return b;
}

void pool_free(Pool *p, void *block) {
    free(block);
    p->in_use--;
}

void pool_release(Pool *p) {}

#else

/* A chunk's first block holds the link to the previous chunk. */
static int pool_grow(Pool *p) {
    void *chunk = malloc(CHUNK_BYTES);
    if (chunk == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *(void **)chunk = p->chunks;
    p->chunks = chunk;
    p->cursor = (char *)chunk + p->block;
    p->limit = (char *)chunk + CHUNK_BYTES;
    p->chunk_bytes += CHUNK_BYTES;
    return 0;
}

void *pool_alloc(Pool *p) {
    void *b = p->free;
    if (b != NULL) {
        p->free = *(void **)b;
    } else {
        if (p->cursor == NULL || p->cursor + p->block > p->limit) {
            if (pool_grow(p) < 0) return NULL;
        }
        b = p->cursor;
        p->cursor += p->block;
    }
    memset(b, 0, p->block);
    p->in_use++;
    return b;
}

void pool_free(Pool *p, void *block) {
    *(void **)block = p->free;
    p->free = block;
    p->in_use--;
}

void pool_release(Pool *p) {
    void *chunk = p->chunks;
    while (chunk != NULL) {
        void *previous = *(void **)chunk;
        free(chunk);
        chunk = previous;
    }
    size_t block = p->block;
    pool_init(p, block);
}

#endif
