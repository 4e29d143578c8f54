/*
 * Rollups in C: the partial candles of the larger intervals (10 s, 1 m, ...), exact merges
 * (candle_core.candle.merge) of the closed 1 s candles of their windows.
 *
 * Hierarchical: a closed 1 s candle merges into the smallest interval only, and a partial
 * that closes merges into the partials of the next larger intervals. Each interval has one
 * source, the largest smaller interval that divides it, or the 1 s base (rollups_link). A 1 s candle costs one
 * merge instead of one per interval, and a commit's state records hold mostly the smallest
 * interval's partials: an open partial holds the merges of its source's closed partials in
 * its window, not of the open ones (those reach it when they close).
 *
 * Per interval, an index (symbol, start) -> partial and a queue of partials by window end:
 * 1 s windows close in watermark order, so the rollup windows they create end in
 * non-decreasing order, and closing is popping the front while its end <= the watermark,
 * interval by interval from the smallest (a source's partial closes, and merges, first).
 *
 * State is written per commit, not per candle: the partials changed or emitted since the
 * last commit leave as binary state records (take_delta, chunked), and now and then all of
 * them as fresh records (snapshot) that make every earlier record obsolete; restore applies
 * the live records in order (speed_layer/changelog.py). The format is this file's: a
 * version byte (4), the rollup intervals it was written with (a count and the intervals,
 * uvarints), then entries (put_entry): op ('U' upsert / 'D' delete), interval, start,
 * symbol, and for an upsert a flags byte (1: closed, 2: direct), the revision and the fold,
 * in variable-length integers (varint.c). The state is most of what a commit writes beside
 * its candles, and the producer's thread and the broker pay for every byte.
 *
 * Older state still restores. Formats 1 and 2 (fixed little-endian fields; 1 without flags
 * and revision) and 3 (format 4's entries, no intervals) were written when every partial
 * took every closed 1 s candle of its window: their partials are restored "direct", and
 * keep taking the 1 s candles directly (and no merge from their source) until they close.
 * State written with another set of intervals is made direct the same way, each open
 * partial merged with the open partials below it as they were linked when written. Either
 * way the restore says so, and the next commit writes a snapshot in the current form.
 *
 * Revisions (a revision horizon > 0): a partial that closes is emitted and kept, closed,
 * until the watermark is more than the horizon past its end; a late trade inside the
 * horizon folds into the partials holding it that have already taken its 1 s window
 * (rollups_revise), and a closed one is emitted again, one revision higher. The revision
 * numbers of revised 1 s windows are kept the same way (revised_1s, entries of interval_us
 * = the base interval), because the replay after a restart rebuilds a 1 s window's fold
 * but cannot know how many times it was emitted.
 */
#include "hotpath.h"

#include <string.h>

#define FORMAT_VERSION 4
#define FLAG_CLOSED 1
#define FLAG_DIRECT 2

#define MIN_INDEX_SLOTS 256
#define PREFETCH_CHANGED 8 /* partials ahead, in a delta */

static int partial_has_key(const void *item, PyObject *symbol, int64_t start) {
    const Partial *p = item;
    return p->start == start && same_str(p->symbol, symbol);
}

static Partial *rollup_find(Rollup *r, PyObject *symbol, Py_hash_t symhash, int64_t start) {
    return keyindex_find(&r->index, key_hash(symhash, start), partial_has_key, symbol, start);
}

static void rollup_index_remove(Rollup *r, Partial *p) {
    keyindex_remove(&r->index, key_hash(p->symhash, p->start), p);
}

static int push(Partial ***items, Py_ssize_t *len, Py_ssize_t *cap, Partial *p);

static inline int64_t slot_us(const WindowTable *t, int slot) {
    return slot < 0 ? t->base_us : t->rollups[slot].us;
}

static inline Rollup *slot_rollup(WindowTable *t, int slot) {
    return slot < 0 ? &t->revised_1s : &t->rollups[slot];
}

static int push(Partial ***items, Py_ssize_t *len, Py_ssize_t *cap, Partial *p) {
    Partial **room = array_room(*items, *len, cap, sizeof(Partial *));
    if (room == NULL) return -1;
    *items = room;
    (*items)[(*len)++] = p;
    return 0;
}

/* Room for one more partial at the back of a queue: its live part moved to the front
 * when it reached the end, the array grown when full. 0, or -1 with MemoryError. */
static int sorted_room(Partial ***queue, Py_ssize_t *head, Py_ssize_t len, Py_ssize_t *cap) {
    if (*head > 0 && *head + len == *cap) {
        memmove(*queue, *queue + *head, sizeof(Partial *) * len);
        *head = 0;
    }
    Partial **room = array_room(*queue, *head + len, cap, sizeof(Partial *));
    if (room == NULL) return -1;
    *queue = room;
    return 0;
}

/* Into a queue kept sorted by end: at the back, except after a restore or for a late
 * trade's new partial (rare). */
static int sorted_insert(Partial ***queue, Py_ssize_t *head, Py_ssize_t *len, Py_ssize_t *cap,
                         Partial *p) {
    if (sorted_room(queue, head, *len, cap) < 0) return -1;
    (*queue)[*head + *len] = p;
    (*len)++;
    Partial **q = *queue;
    Py_ssize_t i = *head + *len - 1;
    while (i > *head && q[i - 1]->end > p->end) {
        q[i] = q[i - 1];
        i--;
    }
    q[i] = p;
    return 0;
}

static int queue_insert(Rollup *r, Partial *p) {
    return sorted_insert(&r->queue, &r->head, &r->len, &r->cap, p);
}

static int kept_insert(Rollup *r, Partial *p) {
    return sorted_insert(&r->kept, &r->kept_head, &r->kept_len, &r->kept_cap, p);
}

/* Take p out of a queue wherever it is (rare: a restore's delete, a late trade's partial) */
static void queue_remove(Partial **queue, Py_ssize_t head, Py_ssize_t *len, Partial *p) {
    for (Py_ssize_t k = 0; k < *len; k++) {
        if (queue[head + k] == p) {
            memmove(queue + head + k, queue + head + k + 1, sizeof(Partial *) * (*len - k - 1));
            (*len)--;
            return;
        }
    }
}

static Partial *partial_new(WindowTable *t, Rollup *r, int slot, PyObject *symbol,
                            Py_hash_t symhash, int64_t start, int closed) {
    if (keyindex_reserve(&r->index, MIN_INDEX_SLOTS) < 0) return NULL;
    Partial *p = PyMem_RawCalloc(1, sizeof(Partial));
    if (p == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    p->symbol = Py_NewRef(symbol);
    p->symhash = symhash;
    p->start = start;
    p->end = start + r->us;
    p->slot = slot;
    p->closed = closed;
    if ((closed ? kept_insert(r, p) : queue_insert(r, p)) < 0) {
        Py_DECREF(p->symbol);
        PyMem_RawFree(p);
        return NULL;
    }
    keyindex_put(&r->index, key_hash(symhash, start), p);
    t->bytes += (int64_t)sizeof(Partial);
    return p;
}

static void partial_free(WindowTable *t, Partial *p) {
    Py_DECREF(p->symbol);
    PyMem_RawFree(p);
    t->bytes -= (int64_t)sizeof(Partial);
}

/* A partial's closed and direct flags. The open direct ones are counted, so that closed
 * 1 s candles look for them (rollups_fold). */
static void set_flags(Rollup *r, Partial *p, int closed, int direct) {
    r->n_direct += (!closed && direct) - (!p->closed && p->direct);
    p->closed = closed;
    p->direct = direct;
}

static int mark_changed(WindowTable *t, Partial *p) {
    if (p->changed) return 0;
    p->changed = 1;
    return push(&t->changed, &t->n_changed, &t->changed_cap, p);
}

/* Ahead of rollups_fold for the same window: with `items` 0, the index slots its partials
 * hash to come into the cache; with 1 (a step later, when those slots are there), the
 * partials they point to. On thousands of symbols each is a miss that the close would
 * otherwise wait for, four intervals a candle. */
void rollups_prefetch(WindowTable *t, Py_hash_t symhash, int64_t start_1s, int items) {
    for (int i = 0; i < t->n_rollups; i++) {
        const KeyIndex *x = &t->rollups[i].index;
        if (x->nslots == 0 || (t->rollups[i].source >= 0 && t->rollups[i].n_direct == 0))
            continue;
        uint64_t hash = key_hash(symhash, start_1s - start_1s % t->rollups[i].us);
        const IndexSlot *s = &x->slots[hash & ((uint64_t)x->nslots - 1)];
        if (!items) {
            __builtin_prefetch(s);
        } else if (s->item != NULL && s->hash == hash) {
            prefetch_item(s->item);
        }
    }
}

/* Each rollup's source: the largest smaller interval dividing it (1 m: 10 s; 5 m: 1 m), or
 * the 1 s base (-1). Intervals are ascending, so a source always comes first. */
static int source_of(const int64_t *us, int i) {
    for (int k = i - 1; k >= 0; k--)
        if (us[i] % us[k] == 0) return k;
    return -1;
}

void rollups_link(WindowTable *t) {
    int64_t us[MAX_ROLLUPS];
    for (int i = 0; i < t->n_rollups; i++) us[i] = t->rollups[i].us;
    for (int i = 0; i < t->n_rollups; i++) t->rollups[i].source = source_of(us, i);
}

/* The partial of rollup i holding the window at `start_below` (made when missing). */
static Partial *partial_holding(WindowTable *t, int i, PyObject *symbol, Py_hash_t symhash,
                                int64_t start_below) {
    Rollup *r = &t->rollups[i];
    int64_t start = start_below - start_below % r->us;
    Partial *p = rollup_find(r, symbol, symhash, start);
    return p != NULL ? p : partial_new(t, r, i, symbol, symhash, start, 0);
}

/* A closed 1 s candle goes into the partials of the rollups whose source is the base, and
 * into any direct partial holding it. */
int rollups_fold(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start_1s,
                 const Fold *fold) {
    for (int i = 0; i < t->n_rollups; i++) {
        Rollup *r = &t->rollups[i];
        if (r->source >= 0 && r->n_direct == 0) continue;
        int64_t start = start_1s - start_1s % r->us;
        Partial *p = rollup_find(r, symbol, symhash, start);
        if (r->source >= 0 && (p == NULL || !p->direct || p->closed)) continue;
        if (p == NULL && (p = partial_new(t, r, i, symbol, symhash, start, 0)) == NULL) return -1;
        fold_merge(&p->fold, fold);
        if (mark_changed(t, p) < 0) return -1;
    }
    return 0;
}

int64_t rollups_next_close(WindowTable *t) {
    int64_t next = FAR_FUTURE;
    for (int i = 0; i < t->n_rollups; i++) {
        Rollup *r = &t->rollups[i];
        if (r->len && r->queue[r->head]->end < next) next = r->queue[r->head]->end;
    }
    return next;
}

static int bury(WindowTable *t, Rollup *r, Partial *p) {
    rollup_index_remove(r, p);
    p->dead = 1;
    return push(&t->graveyard, &t->n_graveyard, &t->graveyard_cap, p);
}

/* Emit the candle of every partial the watermark has passed, from the smallest interval
 * up (a source's partial closes first), each merged into the partials of the rollups it
 * is the source of; with a revision horizon, each is kept, closed, for it, else buried.
 * What can fail comes before the emission (the partials merged into are made; the changed
 * list, and the kept list or the graveyard, have room), so a failure leaves the partial to
 * close again, and no merge is ever made twice. */
int rollups_close(WindowTable *t, int64_t watermark) {
    for (int i = 0; i < t->n_rollups; i++) {
        Rollup *r = &t->rollups[i];
        while (r->len && r->queue[r->head]->end <= watermark) {
            Partial *p = r->queue[r->head], *into[MAX_ROLLUPS];
            int n_into = 0;
            for (int j = i + 1; j < t->n_rollups; j++) {
                if (t->rollups[j].source != i) continue;
                Partial *q = partial_holding(t, j, p->symbol, p->symhash, p->start);
                if (q == NULL) return -1;
                if (!q->direct) into[n_into++] = q;
            }
            Partial **room = array_room(t->changed, t->n_changed + MAX_ROLLUPS,
                                        &t->changed_cap, sizeof(Partial *));
            if (room == NULL) return -1;
            t->changed = room;
            if (t->revision_us > 0) { /* room to keep it, or to bury it */
                if (sorted_room(&r->kept, &r->kept_head, r->kept_len, &r->kept_cap) < 0)
                    return -1;
            } else {
                room = array_room(t->graveyard, t->n_graveyard, &t->graveyard_cap,
                                  sizeof(Partial *));
                if (room == NULL) return -1;
                t->graveyard = room;
            }
            if (emit_candle(t, p->symbol, i + 1, p->start, &p->fold, 0) < 0) return -1;
            for (int k = 0; k < n_into; k++) {
                fold_merge(&into[k]->fold, &p->fold);
                (void)mark_changed(t, into[k]); /* cannot fail: room was made above */
            }
            r->head++;
            r->len--;
            set_flags(r, p, 1, p->direct);
            if (t->revision_us > 0) { /* none of these can fail: room was made above */
                (void)kept_insert(r, p);
                (void)mark_changed(t, p);
            } else {
                (void)bury(t, r, p);
            }
        }
        if (r->len == 0) r->head = 0;
    }
    return 0;
}

/* Drop what the revision horizon has passed: closed partials and revised 1 s entries whose
 * window ended more than the horizon before the watermark (no trade can revise them). */
static int evict_kept(WindowTable *t, Rollup *r) {
    while (r->kept_len && r->kept[r->kept_head]->end + t->revision_us < t->watermark_us) {
        Partial *p = r->kept[r->kept_head];
        r->kept_head++;
        r->kept_len--;
        if (bury(t, r, p) < 0) return -1;
    }
    if (r->kept_len == 0) r->kept_head = 0;
    return 0;
}

void rollups_evict(WindowTable *t) {
    for (int i = 0; i < t->n_rollups; i++)
        if (evict_kept(t, &t->rollups[i]) < 0) PyErr_Clear(); /* out of memory: next time */
    if (evict_kept(t, &t->revised_1s) < 0) PyErr_Clear();
}

/*
 * A late trade (folded as `trade`) revises the partials holding its closed 1 s window that
 * have taken it: those whose source is the base, those whose source's partial has closed
 * (and merged), and direct ones. An open partial just takes it (its first emission will
 * hold it); a closed one takes it and is emitted again, one revision higher; a missing one
 * (no trade of its window was on time) is made, and emitted as revision 0 if its window
 * has closed. A partial whose source's partial is still open gets the trade when that one
 * closes.
 */
int rollups_revise(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start_1s,
                   const Fold *trade) {
    int closed[MAX_ROLLUPS]; /* rollup i's partial holding the trade is closed */
    for (int i = 0; i < t->n_rollups; i++) {
        Rollup *r = &t->rollups[i];
        int64_t start = start_1s - start_1s % r->us;
        Partial *p = rollup_find(r, symbol, symhash, start);
        if (r->source >= 0 && !closed[r->source] && (p == NULL || !p->direct)) {
            closed[i] = p != NULL && p->closed; /* its source's is open: so is it */
            continue;
        }
        if (p == NULL) {
            int window_closed = start + r->us <= t->watermark_us;
            if ((p = partial_new(t, r, i, symbol, symhash, start, window_closed)) == NULL)
                return -1;
            fold_merge(&p->fold, trade);
            if (mark_changed(t, p) < 0) return -1;
            if (window_closed && emit_candle(t, symbol, i + 1, start, &p->fold, 0) < 0)
                return -1;
            closed[i] = window_closed;
            continue;
        }
        fold_merge(&p->fold, trade);
        if (mark_changed(t, p) < 0) return -1;
        if (p->closed) {
            p->revision++;
            if (emit_candle(t, symbol, i + 1, start, &p->fold, p->revision) < 0) return -1;
        }
        closed[i] = p->closed;
    }
    return 0;
}

/* The revision number of a revised 1 s window (0 when it was never revised). */
int64_t revised_1s_find(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start) {
    Partial *p = rollup_find(&t->revised_1s, symbol, symhash, start);
    return p == NULL ? 0 : p->revision;
}

int revised_1s_put(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start,
                   int64_t revision) {
    Rollup *r = &t->revised_1s;
    Partial *p = rollup_find(r, symbol, symhash, start);
    if (p == NULL && (p = partial_new(t, r, -1, symbol, symhash, start, 1)) == NULL) return -1;
    p->revision = revision;
    return mark_changed(t, p);
}

/* Open partials (candles in progress); closed ones kept for revisions are not counted. */
Py_ssize_t rollups_count(WindowTable *t) {
    Py_ssize_t n = 0;
    for (int i = 0; i < t->n_rollups; i++) n += t->rollups[i].len;
    return n;
}

/* Everything the state records hold: open and closed partials, revised 1 s entries. */
Py_ssize_t rollups_state_count(WindowTable *t) {
    Py_ssize_t n = t->revised_1s.index.n;
    for (int i = 0; i < t->n_rollups; i++) n += t->rollups[i].index.n;
    return n;
}

static void rollup_free(WindowTable *t, Rollup *r) {
    for (Py_ssize_t k = 0; k < r->len; k++) partial_free(t, r->queue[r->head + k]);
    for (Py_ssize_t k = 0; k < r->kept_len; k++) partial_free(t, r->kept[r->kept_head + k]);
    PyMem_Free(r->queue);
    PyMem_Free(r->kept);
    keyindex_free(&r->index);
    int64_t us = r->us;
    int source = r->source;
    memset(r, 0, sizeof(*r));
    r->us = us;
    r->source = source;
}

void rollups_free(WindowTable *t) {
    for (int i = 0; i < t->n_rollups; i++) rollup_free(t, &t->rollups[i]);
    rollup_free(t, &t->revised_1s);
    for (Py_ssize_t k = 0; k < t->n_graveyard; k++) partial_free(t, t->graveyard[k]);
    PyMem_Free(t->graveyard);
    PyMem_Free(t->changed);
    t->graveyard = t->changed = NULL;
    t->n_graveyard = t->n_changed = t->graveyard_cap = t->changed_cap = 0;
}

/* ---- the binary state ----------------------------------------------------------------- */

int buffer_put(Buffer *b, const void *bytes, Py_ssize_t n) {
    if (b->len + n > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        char *fresh = PyMem_Realloc(b->data, cap);
        if (fresh == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = fresh;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    return 0;
}

/* One entry, formats 3 and 4: op ('U' upsert / 'D' delete), the interval (uvarint), the
 * start as quotient and remainder by it (svarints: one byte for an aligned start's
 * remainder), the symbol (length byte, bytes); an upsert then has a flags byte (1: closed;
 * 2: direct, format 4 only), the revision
 * (svarint) and the fold: open (svarint), high, low and close as differences from open,
 * first_ts from start, last_ts from first_ts, first_id (svarint), last_id from first_id,
 * count (svarint), volume and the notional's low 128 bits (u128 varints) and its high 64
 * (uvarint). About 45 bytes an upsert where the fixed layout of format 2 took 146. */
#define ENTRY_MAX (1 + 10 + 10 + 10 + 1 + 255 + 1 + 10 + 9 * 10 + 19 + 19 + 10)

static int put_entry(Buffer *b, char op, const Partial *p, int64_t interval_us) {
    Py_ssize_t symbol_len;
    const char *symbol = PyUnicode_AsUTF8AndSize(p->symbol, &symbol_len);
    if (symbol == NULL) return -1;
    if (symbol_len > 255) {
        PyErr_SetString(PyExc_ValueError, "a symbol longer than 255 bytes");
        return -1;
    }
    char entry[ENTRY_MAX], *at = entry;
    *at++ = op;
    at = put_uvarint(at, (uint64_t)interval_us);
    at = put_svarint(at, p->start / interval_us);
    at = put_svarint(at, p->start % interval_us);
    *at++ = (char)symbol_len;
    memcpy(at, symbol, symbol_len);
    at += symbol_len;
    if (op == 'U') {
        const Fold *f = &p->fold;
        *at++ = (char)((p->closed ? FLAG_CLOSED : 0) | (p->direct ? FLAG_DIRECT : 0));
        at = put_svarint(at, p->revision);
        at = put_svarint(at, f->open);
        at = put_delta(at, f->high, f->open);
        at = put_delta(at, f->low, f->open);
        at = put_delta(at, f->close, f->open);
        at = put_delta(at, f->first_ts, p->start);
        at = put_delta(at, f->last_ts, f->first_ts);
        at = put_svarint(at, f->first_id);
        at = put_delta(at, f->last_id, f->first_id);
        at = put_svarint(at, f->count);
        at = put_u128(at, f->volume);
        at = put_u128(at, f->notional_lo);
        at = put_uvarint(at, f->notional_hi);
    }
    return buffer_put(b, entry, at - entry);
}

/* Entries go into chunks of at most about max_bytes, each a valid state record: the
 * version and the rollup intervals, then entries. */
typedef struct {
    Buffer buffer;
    Py_ssize_t header_len;
    PyObject *chunks; /* list of bytes */
    Py_ssize_t max_bytes;
} Chunker;

static int chunk_flush(Chunker *c) {
    if (c->buffer.len <= c->header_len) return 0; /* no entry */
    PyObject *chunk = PyBytes_FromStringAndSize(c->buffer.data, c->buffer.len);
    if (chunk == NULL || PyList_Append(c->chunks, chunk) < 0) {
        Py_XDECREF(chunk);
        return -1;
    }
    Py_DECREF(chunk);
    c->buffer.len = c->header_len;
    return 0;
}

static int chunk_start(Chunker *c, const WindowTable *t, Py_ssize_t max_bytes) {
    memset(c, 0, sizeof(*c));
    c->max_bytes = max_bytes < 1024 ? 1024 : max_bytes;
    c->chunks = PyList_New(0);
    char header[1 + 10 * (MAX_ROLLUPS + 1)], *at = header;
    *at++ = FORMAT_VERSION;
    at = put_uvarint(at, (uint64_t)t->n_rollups);
    for (int i = 0; i < t->n_rollups; i++) at = put_uvarint(at, (uint64_t)t->rollups[i].us);
    c->header_len = at - header;
    if (c->chunks == NULL || buffer_put(&c->buffer, header, c->header_len) < 0) {
        Py_XDECREF(c->chunks);
        return -1;
    }
    return 0;
}

static int chunk_entry(Chunker *c, char op, const Partial *p, int64_t interval_us) {
    if (put_entry(&c->buffer, op, p, interval_us) < 0) return -1;
    return c->buffer.len >= c->max_bytes ? chunk_flush(c) : 0;
}

static PyObject *chunk_finish(Chunker *c, int failed) {
    if (!failed && chunk_flush(c) < 0) failed = 1;
    PyMem_Free(c->buffer.data);
    if (failed) {
        Py_XDECREF(c->chunks);
        return NULL;
    }
    return c->chunks;
}

/* The partials changed or emitted since the last call, as state records of at most about
 * max_bytes each (an empty list when nothing changed). */
PyObject *rollups_take_delta(WindowTable *t, Py_ssize_t max_bytes) {
    Chunker c;
    if (chunk_start(&c, t, max_bytes) < 0) return NULL;
    int failed = 0;
    for (Py_ssize_t k = 0; k < t->n_changed; k++) {
        if (k + PREFETCH_CHANGED < t->n_changed) /* tens of thousands, spread over the heap */
            prefetch_item(t->changed[k + PREFETCH_CHANGED]);
        Partial *p = t->changed[k];
        p->changed = 0;
        if (!p->dead && !failed) failed = chunk_entry(&c, 'U', p, slot_us(t, p->slot)) < 0;
    }
    for (Py_ssize_t k = 0; k < t->n_graveyard; k++) {
        Partial *p = t->graveyard[k];
        if (!failed) failed = chunk_entry(&c, 'D', p, slot_us(t, p->slot)) < 0;
        partial_free(t, p);
    }
    t->n_changed = t->n_graveyard = 0;
    return chunk_finish(&c, failed);
}

/* Every live partial as upserts (after take_delta: these records replace every earlier one). */
PyObject *rollups_snapshot(WindowTable *t, Py_ssize_t max_bytes) {
    Chunker c;
    if (chunk_start(&c, t, max_bytes) < 0) return NULL;
    int failed = 0;
    for (int i = -1; i < t->n_rollups && !failed; i++) {
        Rollup *r = slot_rollup(t, i);
        for (Py_ssize_t k = 0; k < r->len && !failed; k++)
            failed = chunk_entry(&c, 'U', r->queue[r->head + k], r->us) < 0;
        for (Py_ssize_t k = 0; k < r->kept_len && !failed; k++)
            failed = chunk_entry(&c, 'U', r->kept[r->kept_head + k], r->us) < 0;
    }
    return chunk_finish(&c, failed);
}

/* A window a trade can have: it starts at or after 0 and its end is an int64. */
static inline int window_start_possible(int64_t start, int64_t interval_us) {
    return interval_us > 0 && start >= 0 && start <= INT64_MAX - interval_us;
}

/* One entry of a state record, as read */
typedef struct {
    char op;
    int64_t interval_us, start;
    const char *symbol;
    unsigned char symbol_len;
    int closed, direct;
    int64_t revision;
    Fold fold;
} Entry;

/* Formats 1 and 2: fixed little-endian fields (format 1 has no flags and no revision).
 * 1 read, 0 at the end, -1 truncated. */
static int read_fixed(const char *data, Py_ssize_t n, Py_ssize_t *at, int version, Entry *e) {
    Py_ssize_t i = *at, upsert = (version == 1 ? 0 : 9) + (Py_ssize_t)sizeof(Fold);
    if (i >= n) return 0;
    if (i + 18 > n) return -1;
    e->op = data[i];
    memcpy(&e->interval_us, data + i + 1, 8);
    memcpy(&e->start, data + i + 9, 8);
    e->symbol_len = (unsigned char)data[i + 17];
    i += 18;
    if ((e->op != 'U' && e->op != 'D') || i + e->symbol_len + (e->op == 'U' ? upsert : 0) > n)
        return -1;
    if (!window_start_possible(e->start, e->interval_us)) return -1;
    e->symbol = data + i;
    i += e->symbol_len;
    e->closed = 0;
    e->direct = 1; /* written when every partial took every closed 1 s candle */
    e->revision = 0;
    if (e->op == 'U') {
        if (version > 1) {
            e->closed = (data[i] & FLAG_CLOSED) != 0;
            memcpy(&e->revision, data + i + 1, 8);
            i += 9;
        }
        memcpy(&e->fold, data + i, sizeof(Fold));
        i += sizeof(Fold);
    }
    *at = i;
    return 1;
}

/* Formats 3 and 4 (put_entry). 1 read, 0 at the end, -1 truncated or corrupt. */
static int read_compact(const char *data, Py_ssize_t n, Py_ssize_t *at, int version, Entry *e) {
    if (*at >= n) return 0;
    VarintReader r = {data + *at, data + n, 0};
    e->op = *r.at++;
    e->interval_us = (int64_t)get_uvarint(&r);
    int64_t quotient = get_svarint(&r), remainder = get_svarint(&r);
    if (r.bad || (e->op != 'U' && e->op != 'D') || r.at >= r.end) return -1;
    e->start = (int64_t)((uint64_t)quotient * (uint64_t)e->interval_us + (uint64_t)remainder);
    if (!window_start_possible(e->start, e->interval_us)) return -1;
    e->symbol_len = (unsigned char)*r.at++;
    if (r.end - r.at < e->symbol_len) return -1;
    e->symbol = r.at;
    r.at += e->symbol_len;
    e->closed = 0;
    e->direct = version < 4; /* format 3: every partial took every closed 1 s candle */
    e->revision = 0;
    if (e->op == 'U') {
        Fold *f = &e->fold;
        if (r.at >= r.end) return -1;
        int flags = (unsigned char)*r.at++;
        e->closed = (flags & FLAG_CLOSED) != 0;
        if (version >= 4) e->direct = (flags & FLAG_DIRECT) != 0;
        e->revision = get_svarint(&r);
        f->open = get_svarint(&r);
        f->high = get_delta(&r, f->open);
        f->low = get_delta(&r, f->open);
        f->close = get_delta(&r, f->open);
        f->first_ts = get_delta(&r, e->start);
        f->last_ts = get_delta(&r, f->first_ts);
        f->first_id = get_svarint(&r);
        f->last_id = get_delta(&r, f->first_id);
        f->count = get_svarint(&r);
        f->volume = get_u128(&r);
        f->notional_lo = get_u128(&r);
        f->notional_hi = get_uvarint(&r);
        if (r.bad) return -1;
    }
    *at = r.at - data;
    return 1;
}

/* What a restore learns across its records. State written with other rollup intervals
 * (format 4) keeps, until the end, the partials of the intervals no longer configured
 * (`dropped`): an open one holds closed partials of its source that no larger interval,
 * still configured, has taken yet. */
typedef struct {
    int other;   /* a record of an older format or of other intervals: rewrite the state */
    int convert; /* format-4 records of other intervals: make the open partials direct */
    int64_t written[MAX_ROLLUPS];
    int n_written;
    Rollup dropped[MAX_ROLLUPS]; /* by index in `written`, for intervals not configured */
} Restore;

/* The rollup that holds the partials of `interval_us` while restoring: a configured one
 * (*slot its index, -1 for revised 1 s entries), one kept for a conversion, or NULL. */
static Rollup *restore_target(WindowTable *t, Restore *rs, int64_t interval_us, int *slot) {
    if (interval_us == t->base_us) {
        *slot = -1;
        return &t->revised_1s;
    }
    for (int i = 0; i < t->n_rollups; i++)
        if (t->rollups[i].us == interval_us) {
            *slot = i;
            return &t->rollups[i];
        }
    for (int k = 0; rs->convert && k < rs->n_written; k++)
        if (rs->written[k] == interval_us) {
            *slot = -1; /* never written: freed at the end of the restore */
            return &rs->dropped[k];
        }
    return NULL; /* an interval no longer configured: its partials are dropped */
}

/* Out of its queue (the kept one when closed), wherever it is. */
static void queue_take(Rollup *r, Partial *p) {
    if (p->closed) queue_remove(r->kept, r->kept_head, &r->kept_len, p);
    else queue_remove(r->queue, r->head, &r->len, p);
}

static int apply_entry(WindowTable *t, Restore *rs, const Entry *e, int convert) {
    int slot;
    Rollup *r = restore_target(t, rs, e->interval_us, &slot);
    if (r == NULL) return 0;
    PyObject *symbol = PyUnicode_FromStringAndSize(e->symbol, e->symbol_len);
    if (symbol == NULL) return -1;
    Py_hash_t symhash = PyObject_Hash(symbol);
    Partial *p = rollup_find(r, symbol, symhash, e->start);
    int failed = 0;
    if (e->op == 'D') {
        if (p != NULL) {
            queue_take(r, p);
            set_flags(r, p, 1, 0); /* no longer counted */
            rollup_index_remove(r, p);
            partial_free(t, p);
        }
    } else {
        if (p != NULL && p->closed != e->closed) { /* it closed since the earlier record */
            queue_take(r, p);
            set_flags(r, p, e->closed, p->direct);
            failed = (e->closed ? kept_insert(r, p) : queue_insert(r, p)) < 0;
        }
        if (!failed && p == NULL &&
            (p = partial_new(t, r, slot, symbol, symhash, e->start, e->closed)) == NULL)
            failed = 1;
        if (!failed) {
            p->fold = e->fold;
            p->revision = e->revision;
            set_flags(r, p, p->closed, e->direct && r != &t->revised_1s);
            p->convert = convert && !e->direct;
        }
    }
    Py_DECREF(symbol);
    return failed ? -1 : 0;
}

/* A format-4 record's intervals: the same as configured (0), other ones (1, noted in rs;
 * records of two different sets are refused), or -1 with an exception. */
static int read_intervals(const WindowTable *t, Restore *rs, VarintReader *r) {
    uint64_t n = get_uvarint(r);
    if (r->bad || n > MAX_ROLLUPS) return -1;
    int64_t written[MAX_ROLLUPS];
    for (uint64_t k = 0; k < n; k++) {
        written[k] = (int64_t)get_uvarint(r);
        if (r->bad || written[k] <= t->base_us || written[k] % t->base_us ||
            (k > 0 && written[k] <= written[k - 1]))
            return -1;
    }
    int same = (int)n == t->n_rollups;
    for (int k = 0; same && k < (int)n; k++) same = written[k] == t->rollups[k].us;
    if (same) return 0;
    if (rs->convert && (rs->n_written != (int)n ||
                        memcmp(rs->written, written, sizeof(int64_t) * n) != 0)) {
        PyErr_SetString(PyExc_ValueError, "rollup state records written with two different "
                        "sets of intervals");
        return -2;
    }
    rs->convert = 1;
    rs->n_written = (int)n;
    memcpy(rs->written, written, sizeof(int64_t) * n);
    for (int k = 0; k < rs->n_written; k++) rs->dropped[k].us = written[k];
    return 1;
}

/* Apply one state record (written by this file, format 1 to 4) to the partials. */
static int restore_record(WindowTable *t, Restore *rs, const char *data, Py_ssize_t n) {
    int version = n ? data[0] : -1;
    if (version < 1 || version > FORMAT_VERSION) {
        PyErr_Format(PyExc_ValueError, "rollup state of format %d: this build reads 1 to %d",
                     version, FORMAT_VERSION);
        return -1;
    }
    Py_ssize_t at = 1;
    int convert = 0;
    if (version == FORMAT_VERSION) {
        VarintReader r = {data + 1, data + n, 0};
        convert = read_intervals(t, rs, &r);
        if (convert == -2) return -1;
        at = r.at - data;
    }
    if (convert < 0) {
        PyErr_SetString(PyExc_ValueError, "rollup state is truncated or corrupt");
        return -1;
    }
    if (version < FORMAT_VERSION || convert) rs->other = 1;
    for (;;) {
        Entry e;
        int read = version >= 3 ? read_compact(data, n, &at, version, &e)
                                : read_fixed(data, n, &at, version, &e);
        if (read == 0) return 0;
        if (read < 0) {
            PyErr_SetString(PyExc_ValueError, "rollup state is truncated or corrupt");
            return -1;
        }
        if (apply_entry(t, rs, &e, convert) < 0) return -1;
    }
}

/* State written with other intervals, made direct: from the smallest written interval up,
 * each open partial to convert takes the open partials of its written source (converted
 * before it), made when missing; then it is direct. Partials of intervals no longer
 * configured take part, and are then dropped. */
static int convert_to_direct(WindowTable *t, Restore *rs) {
    for (int w = 0; w < rs->n_written; w++) {
        int slot;
        Rollup *r = restore_target(t, rs, rs->written[w], &slot);
        int source = source_of(rs->written, w);
        if (source >= 0) {
            int source_slot;
            Rollup *c = restore_target(t, rs, rs->written[source], &source_slot);
            for (Py_ssize_t k = 0; k < c->len; k++) {
                Partial *below = c->queue[c->head + k];
                int64_t start = below->start - below->start % r->us;
                Partial *p = rollup_find(r, below->symbol, below->symhash, start);
                if (p == NULL) {
                    p = partial_new(t, r, slot, below->symbol, below->symhash, start, 0);
                    if (p == NULL) return -1;
                    p->convert = 1;
                }
                if (p->convert) fold_merge(&p->fold, &below->fold);
            }
        }
        for (Py_ssize_t k = 0; k < r->len; k++) {
            Partial *p = r->queue[r->head + k];
            if (p->convert) {
                set_flags(r, p, p->closed, 1);
                if (slot >= 0 && r == &t->rollups[slot] && mark_changed(t, p) < 0) return -1;
            }
            p->convert = 0;
        }
        for (Py_ssize_t k = 0; k < r->kept_len; k++) r->kept[r->kept_head + k]->convert = 0;
    }
    return 0;
}

/* restore_rollups(records): apply the live state records in order; 1 when the state must
 * be written again in the current form (an older format, other intervals), 0 when not,
 * -1 with an exception. */
int rollups_restore(WindowTable *t, PyObject *records) {
    PyObject *seq = PySequence_Fast(records, "records: a sequence of state records (bytes)");
    if (seq == NULL) return -1;
    Restore rs;
    memset(&rs, 0, sizeof(rs));
    int failed = 0;
    for (Py_ssize_t k = 0; !failed && k < PySequence_Fast_GET_SIZE(seq); k++) {
        Py_buffer view;
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, k), &view, PyBUF_SIMPLE) < 0) {
            failed = 1;
            break;
        }
        failed = restore_record(t, &rs, view.buf, view.len) < 0;
        PyBuffer_Release(&view);
    }
    Py_DECREF(seq);
    if (!failed && rs.convert) failed = convert_to_direct(t, &rs) < 0;
    for (int k = 0; k < rs.n_written; k++) rollup_free(t, &rs.dropped[k]);
    return failed ? -1 : rs.other;
}

/* One partial, whole (the changelog's previous format restores this way). */
int rollups_put(WindowTable *t, int64_t interval_us, PyObject *symbol, int64_t start,
                const Fold *fold) {
    for (int i = 0; i < t->n_rollups; i++) {
        Rollup *r = &t->rollups[i];
        if (r->us != interval_us) continue;
        if (!window_start_possible(start, interval_us)) {
            PyErr_Format(PyExc_ValueError, "a partial starting at %lld: no trade's window",
                         (long long)start);
            return -1;
        }
        Py_hash_t symhash = PyObject_Hash(symbol);
        if (symhash == -1) return -1;
        Partial *p = rollup_find(r, symbol, symhash, start);
        if (p == NULL && (p = partial_new(t, r, i, symbol, symhash, start, 0)) == NULL) return -1;
        p->fold = *fold;
        set_flags(r, p, p->closed, 1); /* that format's partials took every closed 1 s candle */
        return 0;
    }
    return 0; /* an interval no longer configured */
}
