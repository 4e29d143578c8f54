/*
 * KeyIndex: (symbol, window start) -> item, for the 1 s windows (table.c) and the rollup
 * partials (rollup.c). Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so probes stay short), at most half full.
 *
 * Each slot keeps the key's 64-bit hash next to the item pointer. A probe compares hashes
 * and touches an item only when they agree, which is almost only the item sought: with
 * thousands of symbols the items are spread over the heap and each touch is a cache miss.
 * Removal and growth never touch an item at all.
 */
#include "hotpath.h"

#include <string.h>

Py_ssize_t keyindex_bytes(const KeyIndex *x) {
    return x->nslots * (Py_ssize_t)sizeof(IndexSlot);
}

static int keyindex_resize(KeyIndex *x, Py_ssize_t nslots) {
    IndexSlot *slots = PyMem_Calloc(nslots, sizeof(IndexSlot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    uint64_t mask = (uint64_t)nslots - 1;
    for (Py_ssize_t i = 0; i < x->nslots; i++) {
        if (x->slots[i].item == NULL) continue;
        uint64_t h = x->slots[i].hash & mask;
        while (slots[h].item) h = (h + 1) & mask;
        slots[h] = x->slots[i];
    }
    PyMem_Free(x->slots);
    x->slots = slots;
    x->nslots = nslots;
    return 0;
}

int keyindex_reserve(KeyIndex *x, Py_ssize_t min_slots) {
    if ((x->n + 1) * 2 <= x->nslots) return 0;
    Py_ssize_t nslots = x->nslots ? x->nslots * 2 : min_slots;
    while ((x->n + 1) * 2 > nslots) nslots *= 2;
    return keyindex_resize(x, nslots);
}

void *keyindex_find(const KeyIndex *x, uint64_t hash, KeyMatch match, PyObject *symbol,
                    int64_t start) {
    if (x->nslots == 0) return NULL;
    uint64_t mask = (uint64_t)x->nslots - 1;
    for (uint64_t h = hash & mask;; h = (h + 1) & mask) {
        const IndexSlot *s = &x->slots[h];
        if (s->item == NULL) return NULL;
        if (s->hash == hash && match(s->item, symbol, start)) return s->item;
    }
}

void keyindex_put(KeyIndex *x, uint64_t hash, void *item) {
    uint64_t mask = (uint64_t)x->nslots - 1;
    uint64_t h = hash & mask;
    while (x->slots[h].item) h = (h + 1) & mask;
    x->slots[h].hash = hash;
    x->slots[h].item = item;
    x->n++;
}

int keyindex_contains(const KeyIndex *x, uint64_t hash, const void *item) {
    if (x->nslots == 0) return 0;
    uint64_t mask = (uint64_t)x->nslots - 1;
    for (uint64_t h = hash & mask; x->slots[h].item != NULL; h = (h + 1) & mask)
        if (x->slots[h].item == item) return 1;
    return 0;
}

void keyindex_remove(KeyIndex *x, uint64_t hash, const void *item) {
    uint64_t mask = (uint64_t)x->nslots - 1;
    uint64_t i = hash & mask;
    while (x->slots[i].item != item) i = (i + 1) & mask;
    x->slots[i].item = NULL;
    x->n--;
    for (uint64_t j = (i + 1) & mask; x->slots[j].item != NULL; j = (j + 1) & mask) {
        uint64_t k = x->slots[j].hash & mask;
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            x->slots[i] = x->slots[j];
            x->slots[j].item = NULL;
            i = j;
        }
    }
}

void keyindex_free(KeyIndex *x) {
    PyMem_Free(x->slots);
    x->slots = NULL;
    x->nslots = x->n = 0;
}
