/*
 * WindowTable: one partition's 1 s windows and event-time position.
 *
 * A window is open until the watermark reaches its end; then its candle is handed to
 * Python (close) and the window is kept, closed, for the dedup horizon: until the
 * watermark reaches end + horizon, a re-send of one of its trades is a duplicate (or a
 * conflict), never late. Whether a window is still kept is decided by that rule alone
 * (kept_window), never by when memory happens to be freed, so the outcome of a record
 * does not depend on the timing of evictions, and a replay after a crash rebuilds the
 * same ids (see docs/speed-layer.md, "State recovery").
 *
 * Windows are also linked in creation order. Records of a partition are handled in offset
 * order, so creation order is offset order, and the oldest window still held has the
 * smallest first offset: the low-water offset a restart must re-read from.
 *
 * A window closes into its candle (key and JSON, which candle.c writes as candle_core.codec
 * does) and into the rollups (rollup.c) in C, and the candles go into the Sink from C
 * (emit_candle, take_candles): a closed candle makes no Python object. The close finds
 * and orders the windows it ends in the open list alone (OpenWindow): with thousands of
 * symbols, touching every open window at each watermark step would be a cache miss per
 * window.
 *
 * Exactness: prices and sizes are fixed-point integers below 2^63, so a trade's notional
 * is below 2^126; notional sums are kept in 192 bits and volume in 128. Nothing can
 * overflow.
 */
#include "hotpath.h"

#include <string.h>

#define MIN_SEEN_SLOTS 4 /* a window of a quiet symbol holds a trade or two */
#define MAX_SEEN_HINT 4096
#define MAX_WINDOW_IDS (1 << 29) /* 2^30 slots, 48 GiB of ids: memory runs out first */
#define MIN_INDEX_SLOTS 128
#define PENDING_KEEP_BYTES (32 << 20) /* a batch's candles at 10,000 symbols: ~4 MiB */
#define PREFETCH_WINDOW 8 /* windows ahead in the close: the window itself */
#define PREFETCH_SLOTS 4  /* ... its rollups' index slots */
#define PREFETCH_PARTIALS 2 /* ... and the partials in those slots */

int as_int64(PyObject *obj, int64_t *out, const char *name) {
    long long v = PyLong_AsLongLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_OverflowError, "%s does not fit 64 bits", name);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- the (symbol, start) index ------------------------------------------------------ */

static int window_has_key(const void *item, PyObject *symbol, int64_t start) {
    const Window *w = item;
    return w->start == start && same_str(w->symbol, symbol);
}

static inline uint64_t window_key_hash(const Window *w) {
    return key_hash(w->symhash, w->start);
}

static Window *index_find(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start) {
    return keyindex_find(&t->index, key_hash(symhash, start), window_has_key, symbol, start);
}

static int index_insert(WindowTable *t, Window *w) {
    Py_ssize_t before = keyindex_bytes(&t->index);
    if (keyindex_reserve(&t->index, MIN_INDEX_SLOTS) < 0) return -1;
    t->bytes += keyindex_bytes(&t->index) - before;
    keyindex_put(&t->index, window_key_hash(w), w);
    return 0;
}

static void index_remove(WindowTable *t, Window *w) {
    keyindex_remove(&t->index, window_key_hash(w), w);
}

/* ---- the ids a window has seen ------------------------------------------------------ */

static void seen_release(Seen *e) {
    Py_XDECREF(e->venue);
    Py_XDECREF(e->side);
}

/* The block w->seen points to, back where it came from (not the entries' references) */
static void seen_block_free(WindowTable *t, Window *w) {
    if (w->seen_home == SEEN_POOLED) pool_free(&t->first_ids, w->seen);
    else if (w->seen_home == SEEN_HEAP) PyMem_RawFree(w->seen);
    w->seen = NULL;
    w->seen_home = SEEN_HEAP;
}

/* Heap bytes of a window's id slots (one id inside the window costs none of its own) */
static inline int64_t seen_bytes(const Window *w) {
    return w->seen_home == SEEN_INLINE ? 0 : (int64_t)sizeof(Seen) * w->seen_cap;
}

static void window_free(WindowTable *t, Window *w) {
    for (Py_ssize_t i = 0; i < w->seen_cap; i++)
        if (w->seen[i].id >= 0) seen_release(&w->seen[i]);
    t->bytes -= (int64_t)sizeof(Window) + seen_bytes(w);
    seen_block_free(t, w);
    Py_DECREF(w->symbol);
    pool_free(&t->windows, w);
}

static int seen_rehash(WindowTable *t, Window *w, Py_ssize_t cap) {
    if (cap < MIN_SEEN_SLOTS) cap = MIN_SEEN_SLOTS;
    int pooled = cap == MIN_SEEN_SLOTS;
    Seen *fresh = pooled ? pool_alloc(&t->first_ids) : PyMem_RawMalloc(sizeof(Seen) * cap);
    if (fresh == NULL) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < cap; i++) fresh[i].id = -1;
    uint64_t mask = (uint64_t)cap - 1;
    for (Py_ssize_t i = 0; i < w->seen_cap; i++) {
        if (w->seen[i].id < 0) continue;
        uint64_t h = mix64((uint64_t)w->seen[i].id) & mask;
        while (fresh[h].id >= 0) h = (h + 1) & mask;
        fresh[h] = w->seen[i];
    }
    t->bytes += (int64_t)sizeof(Seen) * (cap - w->seen_cap);
    seen_block_free(t, w);
    w->seen = fresh;
    w->seen_home = pooled ? SEEN_POOLED : SEEN_HEAP;
    w->seen_cap = (int32_t)cap;
    return 0;
}

static int cmp_seen(const void *a, const void *b) {
    int64_t x = ((const Seen *)a)->id, y = ((const Seen *)b)->id;
    return (x > y) - (x < y);
}

/* A closing window's ids become an array without empty slots: a kept window costs
 * sizeof(Seen) per id, and lookups (rare: re-sends after close) binary-search it. */
static int seen_compact(WindowTable *t, Window *w) {
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < w->seen_cap; i++)
        if (w->seen[i].id >= 0) w->seen[n++] = w->seen[i];
    /* Sorting waits for the first lookup (a re-send after close, which is rare): sorting
     * every closing window's ids cost most of the close for busy symbols (450 ids: ~50 us) */
    w->unsorted = n > 1;
    /* One id (most windows of a quiet symbol) goes into the window itself. More go into a
     * fresh block, not a shrinking realloc: that would leave the open window's larger
     * block split in the heap, a hole per window that the next open window (which wants
     * the larger size again) cannot use. Freed whole, the block is reused as it is. */
    Seen *exact = n <= 1 ? &w->one : PyMem_RawMalloc(sizeof(Seen) * n);
    if (exact != NULL) {
        memcpy(exact, w->seen, sizeof(Seen) * n);
        t->bytes -= seen_bytes(w);
        seen_block_free(t, w);
        w->seen = exact;
        w->seen_home = n <= 1 ? SEEN_INLINE : SEEN_HEAP;
        w->seen_cap = (int32_t)n;
        t->bytes += seen_bytes(w);
    } else { /* out of memory: keep the larger block; its first n entries are the ids */
        t->bytes -= seen_bytes(w);
        w->seen_cap = (int32_t)n;
        t->bytes += seen_bytes(w);
    }
    w->closed = 1;
    t->kept_ids += n;
    return 0;
}

/* A closed window's ids, sorted for binary search (once, on the first lookup). */
static void seen_sort(Window *w) {
    if (w->unsorted) {
        qsort(w->seen, w->seen_len, sizeof(Seen), cmp_seen);
        w->unsorted = 0;
    }
}

static Seen *seen_find(Window *w, int64_t id) {
    if (w->closed) {
        seen_sort(w);
        Py_ssize_t lo = 0, hi = w->seen_len;
        while (lo < hi) {
            Py_ssize_t mid = lo + (hi - lo) / 2;
            if (w->seen[mid].id < id) lo = mid + 1;
            else hi = mid;
        }
        return lo < w->seen_len && w->seen[lo].id == id ? &w->seen[lo] : NULL;
    }
    uint64_t mask = (uint64_t)w->seen_cap - 1;
    uint64_t h = mix64((uint64_t)id) & mask;
    while (w->seen[h].id >= 0) {
        if (w->seen[h].id == id) return &w->seen[h];
        h = (h + 1) & mask;
    }
    return NULL;
}

static void seen_fill(Seen *e, const Parsed *tr) {
    e->id = tr->trade_id;
    e->ts = tr->ts;
    e->price = tr->price;
    e->size = tr->size;
    Py_XINCREF(tr->venue);
    Py_XINCREF(tr->side);
    e->venue = tr->venue;
    e->side = tr->side;
}

static int seen_insert(WindowTable *t, Window *w, const Parsed *tr) {
    if (w->seen_len >= MAX_WINDOW_IDS) { /* its slots (int32) could not double again */
        PyErr_Format(PyExc_MemoryError, "a 1 s window holds %d trades, the most it can",
                     (int)MAX_WINDOW_IDS);
        return -1;
    }
    if (w->closed) {
        seen_sort(w);
        Seen *grown;
        if (w->seen_home == SEEN_HEAP) {
            grown = PyMem_RawRealloc(w->seen, sizeof(Seen) * (w->seen_len + 1));
        } else if ((grown = PyMem_RawMalloc(sizeof(Seen) * (w->seen_len + 1))) != NULL) {
            memcpy(grown, w->seen, sizeof(Seen) * w->seen_len); /* out of its old block */
            t->bytes += (int64_t)sizeof(Seen) * w->seen_len - seen_bytes(w);
            seen_block_free(t, w);
        }
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        w->seen = grown;
        w->seen_home = SEEN_HEAP;
        Py_ssize_t i = w->seen_len;
        while (i > 0 && w->seen[i - 1].id > tr->trade_id) {
            w->seen[i] = w->seen[i - 1];
            i--;
        }
        seen_fill(&w->seen[i], tr);
        w->seen_len++;
        w->seen_cap = w->seen_len;
        t->kept_ids++;
        t->bytes += (int64_t)sizeof(Seen);
        return 0;
    }
    if ((w->seen_len + 1) * 2 > w->seen_cap && seen_rehash(t, w, w->seen_cap * 2) < 0) return -1;
    uint64_t mask = (uint64_t)w->seen_cap - 1;
    uint64_t h = mix64((uint64_t)tr->trade_id) & mask;
    while (w->seen[h].id >= 0) h = (h + 1) & mask;
    seen_fill(&w->seen[h], tr);
    w->seen_len++;
    return 0;
}

/* ---- windows -------------------------------------------------------------------------- */

static inline int64_t window_end(const WindowTable *t, const Window *w) {
    return w->start + t->base_us;
}

/* w, open, listed for the close with its creation order (the close's tie-break) */
static int open_push(WindowTable *t, Window *w) {
    OpenWindow *open = array_room(t->open, t->n_open, &t->open_cap, sizeof(OpenWindow));
    if (open == NULL) return -1;
    t->open = open;
    t->open[t->n_open++] = (OpenWindow){window_end(t, w), t->next_seq++, w};
    return 0;
}

static int kept_push(WindowTable *t, Window *w) {
    if (t->kept_head > 0 && t->kept_head + t->kept_len == t->kept_cap) {
        memmove(t->kept, t->kept + t->kept_head, sizeof(Window *) * t->kept_len);
        t->kept_head = 0;
    }
    Py_ssize_t end = t->kept_head + t->kept_len;
    Window **kept = array_room(t->kept, end, &t->kept_cap, sizeof(Window *));
    if (kept == NULL) return -1;
    t->kept = kept;
    t->kept[end] = w;
    t->kept_len++;
    return 0;
}

static void unlink_window(WindowTable *t, Window *w) {
    if (w->older) w->older->newer = w->newer;
    else t->oldest = w->newer;
    if (w->newer) w->newer->older = w->older;
    else t->newest = w->older;
}

static Window *window_new(WindowTable *t, const Parsed *tr, int64_t start, int64_t offset,
                          int closed) {
    Window *w = pool_alloc(&t->windows);
    if (w == NULL) return NULL;
    Py_INCREF(tr->symbol);
    w->symbol = tr->symbol;
    w->symhash = tr->symhash;
    w->start = start;
    w->first_offset = offset;
    w->closed = (uint8_t)closed;
    t->bytes += (int64_t)sizeof(Window);
    if (!closed && seen_rehash(t, w, t->seen_hint) < 0) {
        t->bytes -= (int64_t)sizeof(Window);
        Py_DECREF(w->symbol);
        pool_free(&t->windows, w);
        return NULL;
    }
    if (index_insert(t, w) < 0 ||
        (closed ? kept_push(t, w) : open_push(t, w)) < 0) {
        /* out of memory: leave the table as it was */
        if (keyindex_contains(&t->index, window_key_hash(w), w)) index_remove(t, w);
        window_free(t, w);
        return NULL;
    }
    w->older = t->newest;
    if (t->newest) t->newest->newer = w;
    else t->oldest = w;
    t->newest = w;
    if (!closed && window_end(t, w) < t->next_close_us) t->next_close_us = window_end(t, w);
    return w;
}

static inline int kept_window(const WindowTable *t, const Window *w) {
    return window_end(t, w) + t->horizon_us > t->watermark_us;
}

static inline int same_content(const Seen *e, const Parsed *tr) {
    return e->ts == tr->ts && e->price == tr->price && e->size == tr->size &&
           same_str(e->venue, tr->venue) && same_str(e->side, tr->side);
}

/* May a trade for the closed 1 s window at `start` still revise its candles? (late by no
 * more than the revision horizon) */
static inline int revisable(const WindowTable *t, int64_t start) {
    return t->revision_us > 0 && start + t->base_us + t->revision_us >= t->watermark_us;
}

/* The late trade just folded into the closed window w: emit its 1 s candle again (one
 * revision higher; revision 0 if no trade of it was on time) and revise the rollups. */
static int revise(WindowTable *t, Window *w, const Parsed *tr) {
    if (w->emitted) w->revision++;
    w->emitted = 1;
    /* Every id a revisable window holds is one of its trades: ids held but not folded (late
     * past the revision horizon) are only ever in windows no longer revisable, and the
     * watermark never moves back (WindowTable_advance). w is closed (table_add closes what
     * is due first), so its ids are compact. */
    Fold fold;
    fold_seen(&fold, w->seen, w->seen_len);
    if (emit_candle(t, w->symbol, 0, w->start, &fold, w->revision) < 0) return -1;
    if (w->revision > 0 && revised_1s_put(t, w->symbol, w->symhash, w->start, w->revision) < 0)
        return -1;
    Fold one = {0};
    fold_trade(&one, tr->price, tr->size, tr->ts, tr->trade_id);
    return rollups_revise(t, w->symbol, w->symhash, w->start, &one);
}

static int table_close(WindowTable *self, int64_t watermark);

/* Has the watermark reached the earliest end of an open window or of a rollup? */
static inline int close_is_due(const WindowTable *t, int64_t watermark) {
    return watermark >= t->next_close_us || watermark >= t->next_rollup_close_us;
}

/*
 * One valid trade at `offset` (PartitionEngine.add's rules). Returns an OUT_* code, with
 * CLOSE_DUE added when the watermark moved to or past the earliest window or rollup end;
 * -1 with an exception set when memory runs out (the table is then unchanged).
 */
int table_add(WindowTable *t, const Parsed *tr, int64_t offset, AddMode mode) {
    int64_t start = tr->ts - tr->ts % t->base_us;
    Window *w = index_find(t, tr->symbol, tr->symhash, start);
    if (start + t->base_us <= t->watermark_us) { /* its 1 s window has closed: late */
        /* The watermark passed a window or a rollup but no close has run since (the caller
         * closes at each CLOSE_DUE, so only after a close that failed): close what is due
         * first, so a late trade is only ever judged against, and folded into, closed
         * windows and rollups, as the contract's eager close would have it (a rollup that
         * a revision finds missing is made closed, and must not take a merge later). */
        if ((w != NULL && !w->closed) || close_is_due(t, t->watermark_us)) {
            if (table_close(t, t->watermark_us) < 0) return -1;
            w = index_find(t, tr->symbol, tr->symhash, start); /* gone if past the horizon */
        }
        if (start + t->base_us + t->horizon_us <= t->watermark_us) return OUT_LATE;
        if (w != NULL && !kept_window(t, w)) return OUT_LATE;
        Seen *e = w != NULL ? seen_find(w, tr->trade_id) : NULL;
        if (e != NULL) return same_content(e, tr) ? OUT_DUPLICATE : OUT_CONFLICT;
        if (mode == ADD_SCAN) return OUT_LATE;
        int created = w == NULL;
        if (created && (w = window_new(t, tr, start, offset, 1)) == NULL) return -1;
        if (seen_insert(t, w, tr) < 0) return -1;
        if (!revisable(t, start)) return OUT_LATE; /* remembered: its re-send is a duplicate */
        if (created) w->revision = revised_1s_find(t, w->symbol, w->symhash, w->start);
        if (mode == ADD_REPLAY) { /* emitted before the restart; the rollups were restored */
            w->emitted = 1;
            return OUT_REVISED;
        }
        return revise(t, w, tr) < 0 ? -1 : OUT_REVISED;
    }
    if (w != NULL) {
        Seen *e = seen_find(w, tr->trade_id);
        if (e != NULL) return same_content(e, tr) ? OUT_DUPLICATE : OUT_CONFLICT;
    } else if ((w = window_new(t, tr, start, offset, 0)) == NULL) {
        return -1;
    }
    if (seen_insert(t, w, tr) < 0) return -1;
    int code = OUT_APPLIED;
    if (mode != ADD_REPLAY && tr->ts > t->max_ts_us) {
        t->max_ts_us = tr->ts;
        int64_t wm = tr->ts - t->lateness_us;
        if (wm > t->watermark_us) {
            t->watermark_us = wm;
            if (close_is_due(t, wm)) code |= CLOSE_DUE;
        }
    }
    return code;
}

/* Free kept windows the horizon has passed (memory only: kept_window decides). */
static void evict(WindowTable *t) {
    while (t->kept_len > 0) {
        Window *w = t->kept[t->kept_head];
        if (kept_window(t, w)) break;
        t->kept_head++;
        t->kept_len--;
        t->kept_ids -= w->seen_len;
        index_remove(t, w);
        unlink_window(t, w);
        window_free(t, w);
    }
    if (t->kept_len == 0) t->kept_head = 0;
}

int64_t table_first_offset(WindowTable *t) {
    evict(t);
    return t->oldest ? t->oldest->first_offset : -1;
}

/* ---- the Python type ----------------------------------------------------------------- */

static PyObject *pylong_from_u128(u128 v) {
    unsigned char bytes[16];
    for (int i = 0; i < 16; i++) bytes[i] = (unsigned char)(v >> (8 * i));
    return _PyLong_FromByteArray(bytes, 16, 1, 0);
}

static PyObject *pylong_from_u192(u128 lo, uint64_t hi) {
    unsigned char bytes[24];
    for (int i = 0; i < 16; i++) bytes[i] = (unsigned char)(lo >> (8 * i));
    for (int i = 0; i < 8; i++) bytes[16 + i] = (unsigned char)(hi >> (8 * i));
    return _PyLong_FromByteArray(bytes, 24, 1, 0);
}

/* A WindowFold: what candle_core.candle.folded_candle takes, by name. */
static PyObject *fold_struct(PyObject *symbol, int64_t start, const Fold *f) {
    PyObject *fold = PyStructSequence_New(WindowFoldType);
    if (fold == NULL) return NULL;
    PyObject *items[13];
    Py_INCREF(symbol);
    items[0] = symbol;
    items[1] = PyLong_FromLongLong(start);
    items[2] = PyLong_FromLongLong(f->open);
    items[3] = PyLong_FromLongLong(f->high);
    items[4] = PyLong_FromLongLong(f->low);
    items[5] = PyLong_FromLongLong(f->close);
    items[6] = pylong_from_u128(f->volume);
    items[7] = pylong_from_u192(f->notional_lo, f->notional_hi);
    items[8] = PyLong_FromLongLong(f->count);
    items[9] = PyLong_FromLongLong(f->first_ts);
    items[10] = PyLong_FromLongLong(f->last_ts);
    items[11] = PyLong_FromLongLong(f->first_id);
    items[12] = PyLong_FromLongLong(f->last_id);
    int failed = 0;
    for (int i = 0; i < 13; i++) {
        if (items[i] == NULL) failed = 1;
        PyStructSequence_SET_ITEM(fold, i, items[i] ? items[i] : Py_NewRef(Py_None));
    }
    if (failed) {
        Py_DECREF(fold);
        return NULL;
    }
    return fold;
}

/* By end (every 1 s window is as long, so: by start), then by creation */
static int cmp_open(const void *a, const void *b) {
    const OpenWindow *x = a, *y = b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* intervals: ((interval_us, label), ...), the 1 s base first, then the larger ones */
static int intervals_from_tuple(WindowTable *self, PyObject *intervals) {
    if (!PyTuple_Check(intervals) || PyTuple_GET_SIZE(intervals) < 1 ||
        PyTuple_GET_SIZE(intervals) > MAX_ROLLUPS + 1) {
        PyErr_Format(PyExc_ValueError, "intervals: 1 to %d (interval_us, label) pairs, the "
                     "base first", MAX_ROLLUPS + 1);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(intervals); i++) {
        long long us;
        const char *label;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(intervals, i), "Ls", &us, &label)) return -1;
        if (strlen(label) >= MAX_LABEL || us <= 0 || us % self->base_us != 0 ||
            (i == 0 && us != self->base_us) ||
            (i > 0 && us <= (i == 1 ? self->base_us : self->rollups[i - 2].us))) {
            PyErr_SetString(PyExc_ValueError, "intervals: ascending multiples of the base, the "
                            "base first, labels of at most 15 characters");
            return -1;
        }
        if (i == 0) {
            strcpy(self->base_label, label);
        } else {
            self->rollups[i - 1].us = us;
            strcpy(self->rollups[i - 1].label, label);
        }
    }
    self->n_rollups = (int)PyTuple_GET_SIZE(intervals) - 1;
    rollups_link(self);
    return 0;
}

static int WindowTable_init(WindowTable *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"base_interval_us", "allowed_lateness_us", "dedup_horizon_us",
                             "intervals", "candle_wire", "revision_horizon_us", NULL};
    long long base, lateness, horizon = 0, revision = 0;
    PyObject *intervals = NULL, *wire = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "LL|LOOL", kwlist, &base, &lateness, &horizon,
                                     &intervals, &wire, &revision))
        return -1;
    if (base <= 0 || lateness < 0 || horizon < 0 || revision < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "base_interval_us must be > 0; lateness and horizons >= 0");
        return -1;
    }
    if (revision > 0 && revision >= horizon) {
        PyErr_SetString(PyExc_ValueError, "the revision horizon must be shorter than the dedup "
                        "horizon: a re-send inside it must be found as a duplicate");
        return -1;
    }
    if (self->initialised) {
        PyErr_SetString(PyExc_RuntimeError, "WindowTable is already initialised");
        return -1;
    }
    self->base_us = base;
    self->lateness_us = lateness;
    self->horizon_us = horizon;
    self->revision_us = revision;
    self->revised_1s.us = base;
    self->max_ts_us = NO_TIME;
    self->watermark_us = NO_TIME;
    self->next_close_us = FAR_FUTURE;
    self->next_rollup_close_us = FAR_FUTURE;
    self->seen_hint = MIN_SEEN_SLOTS;
    pool_init(&self->windows, sizeof(Window));
    pool_init(&self->first_ids, sizeof(Seen) * MIN_SEEN_SLOTS);
    strcpy(self->base_label, "1s");
    if (intervals != NULL && intervals != Py_None && intervals_from_tuple(self, intervals) < 0)
        return -1;
    if (wire != NULL && wire != Py_None) {
        if (candle_wire_from_list(&self->wire, wire) < 0) return -1;
        self->has_wire = 1;
    }
    self->initialised = 1;
    return 0;
}

static void WindowTable_dealloc(WindowTable *self) {
    Window *w = self->oldest;
    while (w != NULL) {
        Window *next = w->newer;
        window_free(self, w);
        w = next;
    }
    rollups_free(self);
    pool_release(&self->windows);
    pool_release(&self->first_ids);
    Py_CLEAR(self->unsent);
    Py_CLEAR(self->sink);
    PyMem_Free(self->pending.data);
    PyMem_Free(self->open);
    PyMem_Free(self->kept);
    keyindex_free(&self->index);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t WindowTable_length(WindowTable *self) { return self->n_open; }

static int parsed_from_args(PyObject *const *args, Parsed *tr, int64_t *offset) {
    memset(tr, 0, sizeof(*tr));
    if (!PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "symbol must be a str");
        return -1;
    }
    tr->symbol = args[0];
    if (as_int64(args[1], &tr->trade_id, "trade_id") < 0 ||
        as_int64(args[2], &tr->ts, "ts_us") < 0 || as_int64(args[3], &tr->price, "price") < 0 ||
        as_int64(args[4], &tr->size, "size") < 0 || as_int64(args[7], offset, "offset") < 0)
        return -1;
    if (tr->trade_id < 0 || tr->ts < 0 || tr->price <= 0 || tr->size <= 0) {
        PyErr_SetString(PyExc_ValueError, "not a valid trade (negative id/ts, price or size <= 0)");
        return -1;
    }
    tr->symhash = PyObject_Hash(tr->symbol);
    if (tr->symhash == -1) return -1;
    tr->venue = args[5] == Py_None ? NULL : args[5];
    tr->side = args[6] == Py_None ? NULL : args[6];
    return 0;
}

static PyObject *add_with_mode(WindowTable *self, PyObject *const *args, Py_ssize_t nargs,
                               AddMode mode) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "(symbol, trade_id, ts_us, price, size, venue, side, offset)");
        return NULL;
    }
    Parsed tr;
    int64_t offset;
    if (parsed_from_args(args, &tr, &offset) < 0) return NULL;
    int code = table_add(self, &tr, offset, mode);
    if (code < 0) return NULL;
    return PyLong_FromLong(code);
}

static PyObject *WindowTable_add(WindowTable *self, PyObject *const *args, Py_ssize_t nargs) {
    return add_with_mode(self, args, nargs, ADD_LIVE);
}

static PyObject *WindowTable_replay(WindowTable *self, PyObject *const *args, Py_ssize_t nargs) {
    return add_with_mode(self, args, nargs, ADD_REPLAY);
}

/* A candle for Python to produce, after those already waiting */
static int unsent_put(WindowTable *t, const char *key, Py_ssize_t key_len, const char *value,
                      Py_ssize_t value_len) {
    if (t->unsent == NULL && (t->unsent = PyList_New(0)) == NULL) return -1;
    PyObject *pair = Py_BuildValue("(y#y#)", key, key_len, value, value_len);
    if (pair == NULL || PyList_Append(t->unsent, pair) < 0) {
        Py_XDECREF(pair);
        return -1;
    }
    Py_DECREF(pair);
    return 0;
}

/* A candle for the Sink, produced with the others at the next take_candles: in one tight
 * loop, not between closes (each message produced wakes the producer's thread, which on
 * two cores then competes with the loop for the lock of the partition's queue). */
static int pending_put(WindowTable *t, const char *key, Py_ssize_t key_len, const char *value,
                       Py_ssize_t value_len) {
    uint32_t lens[2] = {(uint32_t)key_len, (uint32_t)value_len};
    Py_ssize_t before = t->pending.len;
    if (buffer_put(&t->pending, lens, sizeof(lens)) < 0 ||
        buffer_put(&t->pending, key, key_len) < 0 ||
        buffer_put(&t->pending, value, value_len) < 0) {
        t->pending.len = before; /* out of memory: no part of the candle stays */
        return -1;
    }
    return 0;
}

/* The pending candles produced into the Sink, in order, up to the first it refuses; that
 * one and the rest go to unsent (counted into t->produced). 0, or -1 (Python error). */
static int pending_flush(WindowTable *t) {
    Buffer *b = &t->pending;
    Py_ssize_t at = 0;
    /* candles already waiting for Python (a call that failed) go first: none may pass them */
    int refused = t->unsent != NULL && PyList_GET_SIZE(t->unsent) > 0;
    while (at < b->len) {
        uint32_t lens[2];
        memcpy(lens, b->data + at, sizeof(lens));
        const char *key = b->data + at + sizeof(lens), *value = key + lens[0];
        if (!refused && sink_candle(t->sink, key, lens[0], value, lens[1]) == 0) {
            t->produced++;
        } else {
            refused = 1;
            if (unsent_put(t, key, lens[0], value, lens[1]) < 0) {
                /* out of memory: the rest wait for the next call (after unsent) */
                memmove(b->data, b->data + at, b->len - at);
                b->len -= at;
                return -1;
            }
        }
        at += (Py_ssize_t)sizeof(lens) + lens[0] + lens[1];
    }
    b->len = 0;
    if (b->cap > PENDING_KEEP_BYTES) { /* a burst (the end of input, say): let it go */
        PyMem_Free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
    return 0;
}

/* One candle, its key and JSON, to the Sink (pending) or to Python (unsent), counted by
 * interval: a first emission (revision 0) or a revision. */
int emit_candle(WindowTable *t, PyObject *symbol, int slot, int64_t start, const Fold *fold,
                int64_t revision) {
    if (!t->has_wire) {
        PyErr_SetString(PyExc_RuntimeError, "this WindowTable was built without candle_wire: "
                        "it cannot close windows into candles");
        return -1;
    }
    const char *label = slot == 0 ? t->base_label : t->rollups[slot - 1].label;
    int64_t interval_us = slot == 0 ? t->base_us : t->rollups[slot - 1].us;
    char value[CANDLE_JSON_MAX], key[CANDLE_KEY_MAX];
    Py_ssize_t value_len = write_candle_json(&t->wire, symbol, label, interval_us, start, fold,
                                             revision, value);
    Py_ssize_t key_len = value_len < 0 ? -1 : write_candle_key(&t->wire, symbol, label, start, key);
    if (key_len < 0) return -1;
    if ((t->sink != NULL ? pending_put : unsent_put)(t, key, key_len, value, value_len) < 0)
        return -1;
    if (revision > 0) t->revised[slot]++;
    else t->emitted[slot]++;
    return 0;
}

/*
 * close(watermark) -> [(candle key, candle bytes), ...]: nothing unless close_is_due;
 * then every 1 s window ending at or before the watermark closes (by start, then creation), is folded into the rollups and
 * kept (closed) for the dedup horizon; then every rollup the watermark has passed closes.
 */
/* Emit the candles of the 1 s windows ending at or before `watermark` (each kept, closed,
 * for the dedup horizon), then of the rollups it passed; 0, or -1 with an exception. */
static int table_close(WindowTable *self, int64_t watermark) {
    if (!close_is_due(self, watermark)) {
        evict(self);
        rollups_evict(self);
        return 0;
    }
    Py_ssize_t n_done = 0;
    for (Py_ssize_t i = 0; i < self->n_open; i++)
        if (self->open[i].end <= watermark) n_done++;
    OpenWindow *done = PyMem_Malloc(sizeof(OpenWindow) * (n_done ? n_done : 1));
    if (done == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t d = 0, keep = 0;
    int64_t next_close = FAR_FUTURE;
    for (Py_ssize_t i = 0; i < self->n_open; i++) {
        OpenWindow o = self->open[i];
        if (o.end <= watermark) {
            done[d++] = o;
        } else {
            self->open[keep++] = o;
            if (o.end < next_close) next_close = o.end;
        }
    }
    self->n_open = keep;
    self->next_close_us = next_close;
    qsort(done, n_done, sizeof(OpenWindow), cmp_open);
    int failed = 0;
    for (Py_ssize_t i = 0; i < n_done; i++) {
        /* Windows untouched for a second are out of the caches, and so are their rollups'
         * partials: each comes in a few windows ahead (the window, then its partials' index
         * slots, then the partials themselves). */
        if (i + PREFETCH_WINDOW < n_done) prefetch_item(done[i + PREFETCH_WINDOW].w);
        if (i + PREFETCH_SLOTS < n_done) {
            const Window *ahead = done[i + PREFETCH_SLOTS].w;
            rollups_prefetch(self, ahead->symhash, ahead->start, 0);
        }
        if (i + PREFETCH_PARTIALS < n_done) {
            const Window *ahead = done[i + PREFETCH_PARTIALS].w;
            rollups_prefetch(self, ahead->symhash, ahead->start, 1);
        }
        Window *w = done[i].w;
        w->emitted = 1;
        self->seen_hint = w->seen_cap < MAX_SEEN_HINT ? w->seen_cap : MAX_SEEN_HINT;
        seen_compact(self, w); /* its ids without gaps: the fold is made from them */
        if (!failed) {
            Fold fold;
            fold_seen(&fold, w->seen, w->seen_len);
            if (emit_candle(self, w->symbol, 0, w->start, &fold, 0) < 0 ||
                rollups_fold(self, w->symbol, w->symhash, w->start, &fold) < 0)
                failed = 1;
        }
        if (kept_push(self, w) < 0) failed = 1; /* it stays indexed and linked: evicted later */
    }
    PyMem_Free(done);
    if (!failed && rollups_close(self, watermark) < 0) failed = 1;
    self->next_rollup_close_us = rollups_next_close(self);
    evict(self);
    rollups_evict(self);
    return failed ? -1 : 0;
}

static PyObject *WindowTable_close(WindowTable *self, PyObject *arg) {
    int64_t watermark;
    if (as_int64(arg, &watermark, "watermark_us") < 0) return NULL;
    if (table_close(self, watermark) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *WindowTable_folds(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyList_New(self->n_open);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < self->n_open; i++) {
        const Window *w = self->open[i].w;
        Fold f;
        fold_seen(&f, w->seen, w->seen_cap);
        PyObject *fold = fold_struct(w->symbol, w->start, &f);
        if (fold == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, fold);
    }
    return out;
}

/* Event time only moves forward. A window's fold is made from its ids (fold_seen), and a
 * late id past the revision horizon is held (its re-send is a duplicate) but not folded:
 * that is exact only because such a window can never become revisable again, which a
 * watermark moved back would allow. So Python cannot write the watermark: it advances it,
 * or restores it once, on an empty table, before the replay. */
static PyObject *WindowTable_advance(WindowTable *self, PyObject *arg) {
    int64_t watermark;
    if (as_int64(arg, &watermark, "watermark_us") < 0) return NULL;
    if (watermark > self->watermark_us) self->watermark_us = watermark;
    Py_RETURN_NONE;
}

static PyObject *WindowTable_restore_position(WindowTable *self, PyObject *args) {
    long long max_ts, watermark;
    if (!PyArg_ParseTuple(args, "LL:restore_position", &max_ts, &watermark)) return NULL;
    if (self->oldest != NULL || self->max_ts_us != NO_TIME || self->watermark_us != NO_TIME) {
        PyErr_SetString(PyExc_ValueError,
                        "restore_position: this table's event time has already moved; the "
                        "position is restored once, on a new table, before any trade");
        return NULL;
    }
    self->max_ts_us = max_ts;
    self->watermark_us = watermark;
    Py_RETURN_NONE;
}

static PyObject *WindowTable_first_offset(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    int64_t first = table_first_offset(self);
    if (first < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(first);
}

static PyObject *WindowTable_seen_count(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    Py_ssize_t n = self->kept_ids;
    for (Py_ssize_t i = 0; i < self->n_open; i++) n += self->open[i].w->seen_len;
    return PyLong_FromSsize_t(n);
}

static PyObject *WindowTable_kept(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    evict(self);
    return Py_BuildValue("(nn)", self->kept_len, self->kept_ids);
}

/* What a pool holds from the system: its chunks (every block, in use or free) */
static int64_t pool_bytes(const Pool *p) {
    return p->chunk_bytes ? (int64_t)p->chunk_bytes : (int64_t)(p->block * p->in_use);
}

static PyObject *WindowTable_memory_bytes(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    int64_t arrays = (int64_t)(sizeof(OpenWindow) * self->open_cap +
                               sizeof(Window *) * self->kept_cap);
    /* self->bytes counts each live window and pooled id block; the pools hold more */
    int64_t pooled = (int64_t)(sizeof(Window) * self->windows.in_use +
                               self->first_ids.block * self->first_ids.in_use);
    return PyLong_FromLongLong(self->bytes - pooled + pool_bytes(&self->windows) +
                               pool_bytes(&self->first_ids) + arrays);
}

static PyObject *WindowTable_take_rollup_delta(WindowTable *self, PyObject *arg) {
    Py_ssize_t max_bytes = PyLong_AsSsize_t(arg);
    if (max_bytes == -1 && PyErr_Occurred()) return NULL;
    return rollups_take_delta(self, max_bytes);
}

static PyObject *WindowTable_rollup_snapshot(WindowTable *self, PyObject *arg) {
    Py_ssize_t max_bytes = PyLong_AsSsize_t(arg);
    if (max_bytes == -1 && PyErr_Occurred()) return NULL;
    return rollups_snapshot(self, max_bytes);
}

static PyObject *WindowTable_restore_rollups(WindowTable *self, PyObject *records) {
    if (PyObject_CheckBuffer(records)) {
        PyErr_SetString(PyExc_TypeError, "restore_rollups takes the list of live state "
                        "records, not one record");
        return NULL;
    }
    int rewrite = rollups_restore(self, records);
    self->next_rollup_close_us = rollups_next_close(self);
    if (rewrite < 0) return NULL;
    return PyBool_FromLong(rewrite);
}

static PyObject *WindowTable_rollup_count(WindowTable *self, PyObject *Py_UNUSED(x)) {
    return PyLong_FromSsize_t(rollups_count(self));
}

static PyObject *WindowTable_state_count(WindowTable *self, PyObject *Py_UNUSED(x)) {
    return PyLong_FromSsize_t(rollups_state_count(self));
}

static PyObject *WindowTable_rollup_folds(WindowTable *self, PyObject *Py_UNUSED(x)) {
    PyObject *out = PyList_New(0);
    for (int i = 0; out != NULL && i < self->n_rollups; i++) {
        Rollup *r = &self->rollups[i];
        for (Py_ssize_t k = 0; k < r->len; k++) {
            Partial *p = r->queue[r->head + k];
            PyObject *fold = fold_struct(p->symbol, p->start, &p->fold);
            PyObject *item = fold ? Py_BuildValue("(LN)", (long long)r->us, fold) : NULL;
            if (item == NULL || PyList_Append(out, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(item);
        }
    }
    return out;
}

static int u128_from_long(PyObject *value, u128 *lo, uint64_t *hi, const char *name) {
    unsigned char bytes[24];
    if (!PyLong_Check(value) || _PyLong_AsByteArray((PyLongObject *)value, bytes, 24, 1, 0) < 0) {
        if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s must be an int", name);
        return -1;
    }
    u128 low = 0;
    uint64_t high = 0;
    for (int i = 15; i >= 0; i--) low = (low << 8) | bytes[i];
    for (int i = 23; i >= 16; i--) high = (high << 8) | bytes[i];
    if (hi == NULL && high != 0) {
        PyErr_Format(PyExc_OverflowError, "%s does not fit 128 bits", name);
        return -1;
    }
    *lo = low;
    if (hi != NULL) *hi = high;
    return 0;
}

/* put_partial(interval_us, symbol, start, open, high, low, close, volume, notional,
 *             trade_count, first_ts, last_ts, first_id, last_id): a partial from the
 * changelog's previous format (one candle per partial) */
static PyObject *WindowTable_put_partial(WindowTable *self, PyObject *args) {
    long long interval_us, start;
    PyObject *symbol, *volume, *notional;
    Fold f = {0};
    long long v[9];
    if (!PyArg_ParseTuple(args, "LULLLLLOOLLLLL", &interval_us, &symbol, &start, &v[0], &v[1],
                          &v[2], &v[3], &volume, &notional, &v[4], &v[5], &v[6], &v[7], &v[8]))
        return NULL;
    f.open = v[0];
    f.high = v[1];
    f.low = v[2];
    f.close = v[3];
    f.count = v[4];
    f.first_ts = v[5];
    f.last_ts = v[6];
    f.first_id = v[7];
    f.last_id = v[8];
    if (u128_from_long(volume, &f.volume, NULL, "volume") < 0 ||
        u128_from_long(notional, &f.notional_lo, &f.notional_hi, "notional") < 0)
        return NULL;
    if (rollups_put(self, interval_us, symbol, start, &f) < 0) return NULL;
    self->next_rollup_close_us = rollups_next_close(self);
    Py_RETURN_NONE;
}

static PyObject *drain_counts(WindowTable *self, long long *counts) {
    PyObject *out = PyDict_New();
    for (int i = 0; out != NULL && i <= self->n_rollups; i++) {
        if (!counts[i]) continue;
        PyObject *count = PyLong_FromLongLong(counts[i]);
        const char *label = i == 0 ? self->base_label : self->rollups[i - 1].label;
        if (count == NULL || PyDict_SetItemString(out, label, count) < 0) {
            Py_XDECREF(count);
            Py_CLEAR(out);
            break;
        }
        Py_DECREF(count);
        counts[i] = 0;
    }
    return out;
}

static PyObject *WindowTable_drain_emitted(WindowTable *self, PyObject *Py_UNUSED(x)) {
    return drain_counts(self, self->emitted);
}

static PyObject *WindowTable_drain_revised(WindowTable *self, PyObject *Py_UNUSED(x)) {
    return drain_counts(self, self->revised);
}

/* (the candles waiting for Python, in order, [] when none; how many were produced into
 * the Sink since the last call) */
static PyObject *WindowTable_take_candles(WindowTable *self, PyObject *Py_UNUSED(x)) {
    if (self->pending.len > 0 && pending_flush(self) < 0) return NULL;
    PyObject *list = self->unsent != NULL ? Py_NewRef(self->unsent) : PyList_New(0);
    if (list == NULL) return NULL;
    PyObject *out = Py_BuildValue("(Nn)", list, self->produced); /* takes our reference */
    if (out == NULL) return NULL; /* nothing taken: the next call returns it all */
    Py_CLEAR(self->unsent);
    self->produced = 0;
    return out;
}

static PyObject *WindowTable_use_sink(WindowTable *self, PyObject *sink) {
    if (sink_from_arg(sink, &sink) < 0) return NULL;
    if (self->pending.len > 0 || self->unsent != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "use_sink() with candles waiting: take them first");
        return NULL;
    }
    Py_XSETREF(self->sink, Py_XNewRef(sink));
    Py_RETURN_NONE;
}

static PyMethodDef WindowTable_methods[] = {
    {"take_rollup_delta", (PyCFunction)WindowTable_take_rollup_delta, METH_O,
     "take_rollup_delta(max_bytes) -> the rollup partials changed or emitted since the last "
     "call, as state records of about max_bytes at most ([] when none)"},
    {"rollup_snapshot", (PyCFunction)WindowTable_rollup_snapshot, METH_O,
     "rollup_snapshot(max_bytes) -> every live rollup partial as state records (after "
     "take_rollup_delta, they make every earlier record obsolete)"},
    {"restore_rollups", (PyCFunction)WindowTable_restore_rollups, METH_O,
     "restore_rollups(records) -> bool: apply the live state records, in order, to the rollup "
     "partials; True when they were written by an older build or with other intervals (the "
     "next commit should write a snapshot)"},
    {"rollup_count", (PyCFunction)WindowTable_rollup_count, METH_NOARGS,
     "live rollup partials"},
    {"state_count", (PyCFunction)WindowTable_state_count, METH_NOARGS,
     "entries the state records hold: open and closed (kept) partials, revised 1 s windows"},
    {"rollup_folds", (PyCFunction)WindowTable_rollup_folds, METH_NOARGS,
     "[(interval_us, WindowFold), ...] of the live rollup partials"},
    {"put_partial", (PyCFunction)WindowTable_put_partial, METH_VARARGS,
     "put_partial(interval_us, symbol, start, open, high, low, close, volume, notional, "
     "trade_count, first_ts, last_ts, first_id, last_id): restore one rollup partial"},
    {"drain_emitted", (PyCFunction)WindowTable_drain_emitted, METH_NOARGS,
     "candles closed (first emissions) since the last call, by interval label"},
    {"drain_revised", (PyCFunction)WindowTable_drain_revised, METH_NOARGS,
     "revisions emitted since the last call, by interval label"},
    {"take_candles", (PyCFunction)WindowTable_take_candles, METH_NOARGS,
     "take_candles() -> ([(candle key, candle JSON)] for Python to produce, in order; the "
     "number produced into the Sink) since the last call: what closes emitted and what late "
     "trades inside the revision horizon emitted again, one revision higher"},
    {"use_sink", (PyCFunction)WindowTable_use_sink, METH_O,
     "use_sink(sink): produce candles straight into this Sink while none wait for Python "
     "(None: every candle waits for take_candles)"},
    {"add", (PyCFunction)(void (*)(void))WindowTable_add, METH_FASTCALL,
     "add(symbol, trade_id, ts_us, price, size, venue, side, offset) -> outcome code "
     "(0 applied, 1 duplicate, 2 conflict, 3 late, 4 revised; +8 when a close is due)"},
    {"replay", (PyCFunction)(void (*)(void))WindowTable_replay, METH_FASTCALL,
     "replay(...): as add, for a record processed before a restart; never moves time"},
    {"close", (PyCFunction)WindowTable_close, METH_O,
     "close(watermark_us): emit the candles of the 1 s windows ending at or before it "
     "(kept, closed, for the dedup horizon), then of the rollups it passed"},
    {"folds", (PyCFunction)WindowTable_folds, METH_NOARGS, "folds of every open window"},
    {"advance", (PyCFunction)WindowTable_advance, METH_O,
     "advance(watermark_us): move the watermark forward to it (a lower one is ignored); "
     "close() then emits what it passed"},
    {"restore_position", (PyCFunction)WindowTable_restore_position, METH_VARARGS,
     "restore_position(max_ts_us, watermark_us): the event-time position read from the "
     "changelog, on a table that holds no window yet"},
    {"first_offset", (PyCFunction)WindowTable_first_offset, METH_NOARGS,
     "the first offset of the oldest window held (open or kept), or None"},
    {"seen_count", (PyCFunction)WindowTable_seen_count, METH_NOARGS,
     "trade ids held for dedup, open and kept windows"},
    {"kept", (PyCFunction)WindowTable_kept, METH_NOARGS,
     "(closed windows kept for the dedup horizon, the ids they hold)"},
    {"memory_bytes", (PyCFunction)WindowTable_memory_bytes, METH_NOARGS,
     "heap bytes held by windows (their pools' chunks), ids, partials and the index"},
    {NULL}};

#include <structmember.h>
static PyMemberDef WindowTable_members[] = {
    {"max_ts_us", T_LONGLONG, offsetof(WindowTable, max_ts_us), READONLY, NULL},
    {"watermark_us", T_LONGLONG, offsetof(WindowTable, watermark_us), READONLY, NULL},
    {"next_close_us", T_LONGLONG, offsetof(WindowTable, next_close_us), READONLY, NULL},
    {"next_rollup_close_us", T_LONGLONG, offsetof(WindowTable, next_rollup_close_us), READONLY,
     NULL},
    {"allowed_lateness_us", T_LONGLONG, offsetof(WindowTable, lateness_us), READONLY, NULL},
    {"dedup_horizon_us", T_LONGLONG, offsetof(WindowTable, horizon_us), READONLY, NULL},
    {"revision_horizon_us", T_LONGLONG, offsetof(WindowTable, revision_us), READONLY, NULL},
    {"base_interval_us", T_LONGLONG, offsetof(WindowTable, base_us), READONLY, NULL},
    {NULL}};

static PySequenceMethods WindowTable_as_sequence = {.sq_length = (lenfunc)WindowTable_length};

PyTypeObject WindowTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "speed_layer._hotpath.WindowTable",
    .tp_basicsize = sizeof(WindowTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One partition's 1 s windows (open, and closed ones kept for the dedup "
              "horizon) and its event-time position. len() is the number of open windows.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)WindowTable_init,
    .tp_dealloc = (destructor)WindowTable_dealloc,
    .tp_methods = WindowTable_methods,
    .tp_members = WindowTable_members,
    .tp_as_sequence = &WindowTable_as_sequence,
};
