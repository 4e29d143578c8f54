/*
 * speed_layer._hotpath: the speed layer's per-message work, in C.
 *
 * Why: a bare confluent consume() loop costs ~0.6 us a message here; the Python loop over
 * Message objects (accessors, JSON decode, dedup, fold) cost ~5 us a trade and ~1 us a
 * skipped order or quote. The targets (candles at >= 0.6x and noise at >= 0.8x the bare
 * loop) leave a few hundred nanoseconds, which only native code has.
 *
 * What is here, and what is not:
 *
 * - Scanner.scan walks a consume() batch and handles the common case of every message:
 *   a non-trade (the byte rule of candle_core/message_kind.py) is counted and skipped; a
 *   trade in the canonical shape is parsed, validated and folded into its open 1 s window.
 *   It stops and hands the message back to Python (SLOW) for anything else: a consumer
 *   error, a value that is not in the canonical shape (escapes, exponents, extra keys,
 *   non-ASCII, long numbers), anything the contract would reject, and every trade whose
 *   outcome is not "applied" (late, duplicate, conflict). Python's TradeParser and
 *   PartitionEngine then decide as they always did; the native parser accepts a strict
 *   subset and must agree with TradeParser on it (property-tested in
 *   tests/speed_layer/test_hotpath.py).
 * - WindowTable holds one partition's open 1 s windows (fold + the ids seen, for dedup)
 *   and its event-time position. Closing, rollups and the changelog stay in Python
 *   (speed_layer/engine.py): scan returns CLOSE as soon as the watermark reaches the
 *   earliest window end, so records are handled in offset order and a trade is late or
 *   not exactly as the pure-Python engine would say.
 *
 * Exactness: prices and sizes are fixed-point integers (<= 10^15 and <= 10^18), so a
 * trade's notional is < 10^33 < 2^110; notional sums are kept in 192 bits and volume in
 * 128, and both become Python ints when a window closes. Nothing can overflow.
 *
 * Message accessors are called through their method descriptors' C functions (public
 * CPython API: PyMethodDescrObject / PyMethodDef), never through confluent-kafka's
 * private struct layout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

#define BASE_US 1000000LL
#define MAX_TRADE_ID_DIGITS 18 /* < 2^63 - 1 for sure */
#define MAX_TS_US 4102444800000000LL
#define SCALE 100000000LL /* 10^8: price and size decimals */
#define MAX_PRICE_INT (10000000LL * SCALE)
#define MAX_SIZE_INT (10000000000LL * SCALE)
#define MAX_WHOLE_DIGITS 11
#define MAX_DECIMALS 8
#define MAX_SYMBOL_LEN 32
#define MAX_KIND_BYTES 32
#define MAX_KINDS 16
#define INTERN_SLOTS 4096
#define INTERN_MAX_LEN 32

enum { OUT_APPLIED = 0, OUT_DUPLICATE = 1, OUT_CONFLICT = 2, OUT_LATE = 3, CLOSE_DUE = 8 };
enum { STOP_END = 0, STOP_SLOW = 1, STOP_CLOSE = 2 };

/* ------------------------------------------------------------------------------------ */
/* Open 1 s windows of one partition                                                    */

typedef struct {
    int64_t id; /* -1: empty slot */
    int64_t ts, price, size;
    PyObject *venue, *side; /* owned, may be NULL for None */
} Seen;

typedef struct {
    PyObject *symbol; /* owned str */
    Py_hash_t symhash;
    int64_t start, first_offset;
    uint64_t seq; /* creation order, for a stable close order */
    int64_t open, high, low, close, first_ts, last_ts, first_id, last_id, count;
    u128 volume;
    u128 notional_lo;
    uint64_t notional_hi;
    Seen *seen;
    Py_ssize_t seen_cap, seen_len;
} Window;

typedef struct {
    PyObject_HEAD
    int64_t lateness_us, max_ts_us, watermark_us, next_close_us, next_rollup_close_us;
    int64_t processed; /* -1: none yet */
    int64_t replay_until;
    double last_seen;
    Window **items;
    Py_ssize_t len, cap;
    int32_t *slots; /* index + 1, 0 = empty */
    Py_ssize_t nslots;
    uint64_t next_seq;
    Py_ssize_t seen_hint; /* dedup slots of the last closed window: new windows start there */
} WindowTable;

static const int64_t NO_TIME = -(1LL << 62);
static const int64_t FAR_FUTURE = (1LL << 62);

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline int same_str(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    if (a == NULL || b == NULL) return 0;
    return PyUnicode_Compare(a, b) == 0;
}

static void window_free(Window *w) {
    for (Py_ssize_t i = 0; i < w->seen_cap; i++) {
        if (w->seen[i].id >= 0) {
            Py_XDECREF(w->seen[i].venue);
            Py_XDECREF(w->seen[i].side);
        }
    }
    PyMem_Free(w->seen);
    Py_DECREF(w->symbol);
    PyMem_Free(w);
}

#define MIN_SEEN_SLOTS 64
#define MAX_SEEN_HINT 4096

static int seen_grow(Window *w, Py_ssize_t cap) {
    if (cap < MIN_SEEN_SLOTS) cap = MIN_SEEN_SLOTS;
    Seen *fresh = PyMem_Malloc(sizeof(Seen) * cap);
    if (fresh == NULL) {
        PyErr_NoMemory();
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
    PyMem_Free(w->seen);
    w->seen = fresh;
    w->seen_cap = cap;
    return 0;
}

static int table_rebuild_index(WindowTable *t, Py_ssize_t nslots) {
    int32_t *slots = PyMem_Calloc(nslots, sizeof(int32_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    uint64_t mask = (uint64_t)nslots - 1;
    for (Py_ssize_t i = 0; i < t->len; i++) {
        Window *w = t->items[i];
        uint64_t h = mix64((uint64_t)w->symhash ^ ((uint64_t)w->start * 0x9E3779B97F4A7C15ULL)) & mask;
        while (slots[h]) h = (h + 1) & mask;
        slots[h] = (int32_t)(i + 1);
    }
    PyMem_Free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

static Window *table_find(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start) {
    if (t->len == 0) return NULL;
    uint64_t mask = (uint64_t)t->nslots - 1;
    uint64_t h = mix64((uint64_t)symhash ^ ((uint64_t)start * 0x9E3779B97F4A7C15ULL)) & mask;
    for (;;) {
        int32_t s = t->slots[h];
        if (s == 0) return NULL;
        Window *w = t->items[s - 1];
        if (w->start == start && w->symhash == symhash && same_str(w->symbol, symbol)) return w;
        h = (h + 1) & mask;
    }
}

static Window *table_insert(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start,
                            int64_t offset) {
    if (t->len == t->cap) {
        Py_ssize_t cap = t->cap ? t->cap * 2 : 64;
        Window **items = PyMem_Realloc(t->items, sizeof(Window *) * cap);
        if (items == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        t->items = items;
        t->cap = cap;
    }
    Window *w = PyMem_Calloc(1, sizeof(Window));
    if (w == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_INCREF(symbol);
    w->symbol = symbol;
    w->symhash = symhash;
    w->start = start;
    w->first_offset = offset;
    w->seq = t->next_seq++;
    if (seen_grow(w, t->seen_hint) < 0) {
        Py_DECREF(symbol);
        PyMem_Free(w);
        return NULL;
    }
    t->items[t->len++] = w;
    if ((t->len) * 2 > t->nslots) {
        if (table_rebuild_index(t, t->nslots * 2) < 0) {
            t->len--;
            window_free(w);
            return NULL;
        }
    } else {
        uint64_t mask = (uint64_t)t->nslots - 1;
        uint64_t h = mix64((uint64_t)symhash ^ ((uint64_t)start * 0x9E3779B97F4A7C15ULL)) & mask;
        while (t->slots[h]) h = (h + 1) & mask;
        t->slots[h] = (int32_t)t->len;
    }
    if (start + BASE_US < t->next_close_us) t->next_close_us = start + BASE_US;
    return w;
}

/*
 * The fold of one valid trade: PartitionEngine.add's rules. Returns an OUT_* code, with
 * CLOSE_DUE added when the watermark moved to or past the earliest window or rollup end.
 * Nothing changes unless the trade is applied. venue/side are borrowed (NULL for None).
 * Returns -1 with an exception set on memory errors.
 */
static int table_add(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t trade_id,
                     int64_t ts, int64_t price, int64_t size, PyObject *venue, PyObject *side,
                     int64_t offset) {
    int64_t start = ts - ts % BASE_US;
    if (start + BASE_US <= t->watermark_us) return OUT_LATE;
    Window *w = table_find(t, symbol, symhash, start);
    if (w != NULL) {
        uint64_t mask = (uint64_t)w->seen_cap - 1;
        uint64_t h = mix64((uint64_t)trade_id) & mask;
        while (w->seen[h].id >= 0) {
            Seen *e = &w->seen[h];
            if (e->id == trade_id) {
                int same = e->ts == ts && e->price == price && e->size == size &&
                           same_str(e->venue, venue) && same_str(e->side, side);
                return same ? OUT_DUPLICATE : OUT_CONFLICT;
            }
            h = (h + 1) & mask;
        }
    } else {
        w = table_insert(t, symbol, symhash, start, offset);
        if (w == NULL) return -1;
    }
    if ((w->seen_len + 1) * 2 > w->seen_cap && seen_grow(w, w->seen_cap * 2) < 0) return -1;
    uint64_t mask = (uint64_t)w->seen_cap - 1;
    uint64_t h = mix64((uint64_t)trade_id) & mask;
    while (w->seen[h].id >= 0) h = (h + 1) & mask;
    Seen *e = &w->seen[h];
    e->id = trade_id;
    e->ts = ts;
    e->price = price;
    e->size = size;
    Py_XINCREF(venue);
    Py_XINCREF(side);
    e->venue = venue;
    e->side = side;
    w->seen_len++;
    /* CandleBuilder.add */
    if (w->count == 0) {
        w->open = w->high = w->low = w->close = price;
        w->first_ts = w->last_ts = ts;
        w->first_id = w->last_id = trade_id;
    } else {
        if (price > w->high) w->high = price;
        else if (price < w->low) w->low = price;
        if (ts < w->first_ts || (ts == w->first_ts && trade_id < w->first_id)) {
            w->open = price;
            w->first_ts = ts;
            w->first_id = trade_id;
        }
        if (ts > w->last_ts || (ts == w->last_ts && trade_id > w->last_id)) {
            w->close = price;
            w->last_ts = ts;
            w->last_id = trade_id;
        }
    }
    w->count++;
    w->volume += (u128)size;
    u128 product = (u128)price * (u128)size;
    u128 before = w->notional_lo;
    w->notional_lo += product;
    if (w->notional_lo < before) w->notional_hi++;
    int code = OUT_APPLIED;
    if (ts > t->max_ts_us) {
        t->max_ts_us = ts;
        int64_t wm = ts - t->lateness_us;
        if (wm > t->watermark_us) {
            t->watermark_us = wm;
            if (wm >= t->next_close_us || wm >= t->next_rollup_close_us) code |= CLOSE_DUE;
        }
    }
    return code;
}

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

/* (symbol, start, open, high, low, close, volume, notional, count, first_ts, last_ts,
 *  first_id, last_id): what candle_core.candle.folded_candle takes. */
static PyObject *window_fold(Window *w) {
    PyObject *volume = pylong_from_u128(w->volume);
    PyObject *notional = pylong_from_u192(w->notional_lo, w->notional_hi);
    if (volume == NULL || notional == NULL) {
        Py_XDECREF(volume);
        Py_XDECREF(notional);
        return NULL;
    }
    return Py_BuildValue("(OLLLLLNNLLLLL)", w->symbol, (long long)w->start, (long long)w->open,
                         (long long)w->high, (long long)w->low, (long long)w->close, volume,
                         notional, (long long)w->count, (long long)w->first_ts,
                         (long long)w->last_ts, (long long)w->first_id, (long long)w->last_id);
}

static int cmp_window(const void *a, const void *b) {
    const Window *x = *(Window *const *)a, *y = *(Window *const *)b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int WindowTable_init(WindowTable *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"allowed_lateness_us", NULL};
    long long lateness;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "L", kwlist, &lateness)) return -1;
    if (lateness < 0) {
        PyErr_SetString(PyExc_ValueError, "allowed_lateness_us must be >= 0");
        return -1;
    }
    self->lateness_us = lateness;
    self->max_ts_us = NO_TIME;
    self->watermark_us = NO_TIME;
    self->next_close_us = FAR_FUTURE;
    self->next_rollup_close_us = FAR_FUTURE;
    self->processed = -1;
    self->replay_until = -1;
    self->last_seen = 0.0;
    self->seen_hint = MIN_SEEN_SLOTS;
    if (self->slots == NULL && table_rebuild_index(self, 128) < 0) return -1;
    return 0;
}

static void WindowTable_dealloc(WindowTable *self) {
    for (Py_ssize_t i = 0; i < self->len; i++) window_free(self->items[i]);
    PyMem_Free(self->items);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t WindowTable_length(WindowTable *self) { return self->len; }

/* PyLong_AsLongLongAndOverflow walks the digits directly; PyLong_AsLongLong goes through
 * a byte array for every value above 2^30 (offsets, timestamps), several times slower. */
static inline int read_int64(PyObject *obj, long long *out) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow) return 0;
    if (v == -1 && PyErr_Occurred()) return -1;
    *out = v;
    return 1;
}

static int as_int64(PyObject *obj, int64_t *out, const char *name) {
    long long v = PyLong_AsLongLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_OverflowError, "%s does not fit 64 bits", name);
        return -1;
    }
    *out = v;
    return 0;
}

static PyObject *WindowTable_add(WindowTable *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "add(symbol, trade_id, ts_us, price, size, venue, side, offset)");
        return NULL;
    }
    PyObject *symbol = args[0];
    if (!PyUnicode_Check(symbol)) {
        PyErr_SetString(PyExc_TypeError, "symbol must be a str");
        return NULL;
    }
    int64_t trade_id, ts, price, size, offset;
    if (as_int64(args[1], &trade_id, "trade_id") < 0 || as_int64(args[2], &ts, "ts_us") < 0 ||
        as_int64(args[3], &price, "price") < 0 || as_int64(args[4], &size, "size") < 0 ||
        as_int64(args[7], &offset, "offset") < 0)
        return NULL;
    if (trade_id < 0 || ts < 0 || price <= 0 || size <= 0) {
        PyErr_SetString(PyExc_ValueError, "not a valid trade (negative id/ts, price or size <= 0)");
        return NULL;
    }
    Py_hash_t symhash = PyObject_Hash(symbol);
    if (symhash == -1) return NULL;
    PyObject *venue = args[5] == Py_None ? NULL : args[5];
    PyObject *side = args[6] == Py_None ? NULL : args[6];
    int code = table_add(self, symbol, symhash, trade_id, ts, price, size, venue, side, offset);
    if (code < 0) return NULL;
    return PyLong_FromLong(code);
}

static PyObject *WindowTable_close(WindowTable *self, PyObject *arg) {
    int64_t watermark;
    if (as_int64(arg, &watermark, "watermark_us") < 0) return NULL;
    Py_ssize_t n_done = 0;
    for (Py_ssize_t i = 0; i < self->len; i++)
        if (self->items[i]->start + BASE_US <= watermark) n_done++;
    Window **done = PyMem_Malloc(sizeof(Window *) * (n_done ? n_done : 1));
    if (done == NULL) return PyErr_NoMemory();
    Py_ssize_t d = 0, keep = 0;
    int64_t next_close = FAR_FUTURE;
    for (Py_ssize_t i = 0; i < self->len; i++) {
        Window *w = self->items[i];
        if (w->start + BASE_US <= watermark) {
            done[d++] = w;
            self->seen_hint = w->seen_cap < MAX_SEEN_HINT ? w->seen_cap : MAX_SEEN_HINT;
        } else {
            self->items[keep++] = w;
            if (w->start + BASE_US < next_close) next_close = w->start + BASE_US;
        }
    }
    qsort(done, n_done, sizeof(Window *), cmp_window);
    PyObject *out = PyList_New(n_done);
    int failed = out == NULL;
    for (Py_ssize_t i = 0; i < n_done; i++) {
        if (!failed) {
            PyObject *fold = window_fold(done[i]);
            if (fold == NULL) failed = 1;
            else PyList_SET_ITEM(out, i, fold);
        }
        window_free(done[i]);
    }
    PyMem_Free(done);
    self->len = keep;
    self->next_close_us = next_close;
    Py_ssize_t nslots = 128;
    while (nslots < keep * 2) nslots *= 2;
    if (table_rebuild_index(self, nslots) < 0) failed = 1;
    if (failed) {
        Py_XDECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *WindowTable_folds(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyList_New(self->len);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < self->len; i++) {
        PyObject *fold = window_fold(self->items[i]);
        if (fold == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, fold);
    }
    return out;
}

static PyObject *WindowTable_first_offset(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    if (self->len == 0) Py_RETURN_NONE;
    int64_t low = self->items[0]->first_offset;
    for (Py_ssize_t i = 1; i < self->len; i++)
        if (self->items[i]->first_offset < low) low = self->items[i]->first_offset;
    return PyLong_FromLongLong(low);
}

static PyObject *WindowTable_seen_count(WindowTable *self, PyObject *Py_UNUSED(ignored)) {
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < self->len; i++) n += self->items[i]->seen_len;
    return PyLong_FromSsize_t(n);
}

static PyObject *WindowTable_get_processed(WindowTable *self, void *closure) {
    if (self->processed < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(self->processed);
}

static int WindowTable_set_processed(WindowTable *self, PyObject *value, void *closure) {
    if (value == NULL || value == Py_None) {
        self->processed = -1;
        return 0;
    }
    int64_t v;
    if (as_int64(value, &v, "processed") < 0) return -1;
    self->processed = v;
    return 0;
}

static PyMethodDef WindowTable_methods[] = {
    {"add", (PyCFunction)(void (*)(void))WindowTable_add, METH_FASTCALL,
     "add(symbol, trade_id, ts_us, price, size, venue, side, offset) -> outcome code "
     "(0 applied, 1 duplicate, 2 conflict, 3 late; +8 when a close is due)"},
    {"close", (PyCFunction)WindowTable_close, METH_O,
     "close(watermark_us) -> folds of the windows ending at or before it, by start"},
    {"folds", (PyCFunction)WindowTable_folds, METH_NOARGS, "folds of every open window"},
    {"first_offset", (PyCFunction)WindowTable_first_offset, METH_NOARGS,
     "the smallest first offset of any open window, or None"},
    {"seen_count", (PyCFunction)WindowTable_seen_count, METH_NOARGS,
     "trade ids held for dedup across open windows"},
    {NULL}};

static PyMemberDef WindowTable_members[] = {
    {"max_ts_us", T_LONGLONG, offsetof(WindowTable, max_ts_us), 0, NULL},
    {"watermark_us", T_LONGLONG, offsetof(WindowTable, watermark_us), 0, NULL},
    {"next_close_us", T_LONGLONG, offsetof(WindowTable, next_close_us), READONLY, NULL},
    {"next_rollup_close_us", T_LONGLONG, offsetof(WindowTable, next_rollup_close_us), 0, NULL},
    {"replay_until", T_LONGLONG, offsetof(WindowTable, replay_until), 0, NULL},
    {"last_seen", T_DOUBLE, offsetof(WindowTable, last_seen), 0, NULL},
    {"allowed_lateness_us", T_LONGLONG, offsetof(WindowTable, lateness_us), READONLY, NULL},
    {NULL}};

static PyGetSetDef WindowTable_getset[] = {
    {"processed", (getter)WindowTable_get_processed, (setter)WindowTable_set_processed,
     "next offset to process (None before the first record)", NULL},
    {NULL}};

static PySequenceMethods WindowTable_as_sequence = {.sq_length = (lenfunc)WindowTable_length};

static PyTypeObject WindowTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "speed_layer._hotpath.WindowTable",
    .tp_basicsize = sizeof(WindowTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Open 1 s windows and the event-time position of one partition.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)WindowTable_init,
    .tp_dealloc = (destructor)WindowTable_dealloc,
    .tp_methods = WindowTable_methods,
    .tp_members = WindowTable_members,
    .tp_getset = WindowTable_getset,
    .tp_as_sequence = &WindowTable_as_sequence,
};

/* ------------------------------------------------------------------------------------ */
/* The canonical-shape trade parser                                                     */

typedef struct {
    uint64_t hash;
    Py_ssize_t len;
    char bytes[INTERN_MAX_LEN];
    PyObject *str; /* owned */
} Interned;

typedef struct {
    Py_ssize_t len;
    char bytes[MAX_KIND_BYTES];
    long long count;
} KindCount;

typedef struct {
    PyObject_HEAD
    PyTypeObject *message_type;
    PyCFunction m_error, m_partition, m_offset, m_value, m_timestamp;
    int64_t max_future_skew_us;
    Interned *symbols, *venues;
    PyObject *buy, *sell;
    long long consumed, valid;
    KindCount kinds[MAX_KINDS];
    int n_kinds;
} Scanner;

typedef struct {
    PyObject *symbol; /* new reference */
    Py_hash_t symhash;
    int64_t trade_id, ts, price, size;
    PyObject *venue, *side; /* new references or NULL */
} Parsed;

static inline int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static inline const char *skip_ws(const char *p, const char *end) {
    while (p < end && is_ws(*p)) p++;
    return p;
}

/* A JSON string without escapes, of printable ASCII only. *p at the opening quote. */
static inline int read_plain_string(const char **p, const char *end, const char **s,
                                    Py_ssize_t *n) {
    const char *q = *p + 1;
    const char *begin = q;
    while (q < end) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *s = begin;
            *n = q - begin;
            *p = q + 1;
            return 1;
        }
        if (c == '\\' || c < 0x20 || c > 0x7e) return 0;
        q++;
    }
    return 0;
}

static inline int token_ends(const char *p, const char *end) {
    return p < end && (is_ws(*p) || *p == ',' || *p == '}');
}

/* A non-negative JSON integer of at most max_digits digits, no leading zero. */
static inline int read_uint(const char **p, const char *end, int max_digits, int64_t *out) {
    const char *q = *p;
    if (q >= end || *q < '0' || *q > '9') return 0;
    if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9') return 0;
    int64_t v = 0;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        if (++digits > max_digits) return 0;
        v = v * 10 + (*q - '0');
        q++;
    }
    if (!token_ends(q, end)) return 0;
    *out = v;
    *p = q;
    return 1;
}

/* candle_core.parsing._plain_fixed: "123.45" or 123.45, 1-11 whole digits, 0-8 decimals,
 * 0 < value <= maximum. A JSON number must also be valid JSON (no leading zeros). */
static inline int read_fixed(const char **p, const char *end, int64_t maximum, int64_t *out) {
    const char *q = *p;
    int quoted = q < end && *q == '"';
    if (quoted) q++;
    const char *whole = q;
    uint64_t v = 0; /* at most 11 + 8 digits: < 10^19 < 2^64 */
    while (q < end && *q >= '0' && *q <= '9') {
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
    }
    Py_ssize_t whole_digits = q - whole;
    if (whole_digits < 1 || whole_digits > MAX_WHOLE_DIGITS) return 0;
    if (!quoted && whole_digits > 1 && *whole == '0') return 0;
    int decimals = 0;
    if (q < end && *q == '.') {
        q++;
        while (q < end && *q >= '0' && *q <= '9') {
            if (++decimals > MAX_DECIMALS) return 0;
            v = v * 10 + (uint64_t)(*q - '0');
            q++;
        }
        if (decimals == 0) return 0;
    }
    for (int i = decimals; i < MAX_DECIMALS; i++) v *= 10;
    if (quoted) {
        if (q >= end || *q != '"') return 0;
        q++;
    }
    if (!token_ends(q, end)) return 0;
    if (v == 0 || v > (uint64_t)maximum) return 0;
    *out = (int64_t)v;
    *p = q;
    return 1;
}

/* Any JSON number, validated by the grammar (msgspec rejects what this rejects). */
static inline int skip_number(const char **p, const char *end) {
    const char *q = *p;
    if (q < end && *q == '-') q++;
    if (q >= end || *q < '0' || *q > '9') return 0;
    if (*q == '0') q++;
    else while (q < end && *q >= '0' && *q <= '9') q++;
    if (q < end && *q == '.') {
        const char *frac = ++q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == frac) return 0;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-')) q++;
        const char *exp = q;
        while (q < end && *q >= '0' && *q <= '9') q++;
        if (q == exp) return 0;
    }
    if (!token_ends(q, end)) return 0;
    *p = q;
    return 1;
}

/* The value of a key the trade does not have (``type``, ``recv_ts``, ...): a scalar is
 * skipped; an object or array is left to Python. */
static inline int skip_scalar(const char **p, const char *end) {
    const char *q = *p;
    if (*q == '"') {
        const char *s;
        Py_ssize_t n;
        return read_plain_string(p, end, &s, &n);
    }
    static const char *const words[] = {"null", "true", "false"};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if ((size_t)(end - q) >= len && memcmp(q, words[i], len) == 0) {
            if (!token_ends(q + len, end)) return 0;
            *p = q + len;
            return 1;
        }
    }
    return skip_number(p, end);
}

static uint64_t fnv1a(const char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The str for these ASCII bytes: from the cache, or made (and cached when there is room).
 * Returns a new reference. */
static PyObject *intern_str(Interned *cache, const char *s, Py_ssize_t n) {
    if (n > INTERN_MAX_LEN) return PyUnicode_FromStringAndSize(s, n);
    uint64_t h = fnv1a(s, n);
    uint64_t mask = INTERN_SLOTS - 1;
    uint64_t i = h & mask;
    for (int probe = 0; probe < 8; probe++, i = (i + 1) & mask) {
        Interned *e = &cache[i];
        if (e->str == NULL) {
            PyObject *str = PyUnicode_FromStringAndSize(s, n);
            if (str == NULL) return NULL;
            e->hash = h;
            e->len = n;
            memcpy(e->bytes, s, n);
            e->str = str;
            Py_INCREF(str);
            return str;
        }
        if (e->hash == h && e->len == n && memcmp(e->bytes, s, n) == 0) {
            Py_INCREF(e->str);
            return e->str;
        }
    }
    return PyUnicode_FromStringAndSize(s, n);
}

static inline int symbol_ok(const char *s, Py_ssize_t n) {
    if (n < 1 || n > MAX_SYMBOL_LEN) return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (i > 0) ok = ok || c == '.' || c == '_' || c == '-';
        if (!ok) return 0;
    }
    return 1;
}

enum { F_SYMBOL = 1, F_ID = 2, F_TS = 4, F_PRICE = 8, F_SIZE = 16, F_VENUE = 32, F_SIDE = 64,
       F_OTHER = 128, F_REQUIRED = 31 };

static void parsed_clear(Parsed *t) {
    Py_CLEAR(t->symbol);
    Py_CLEAR(t->venue);
    Py_CLEAR(t->side);
}

/*
 * Parse one value in the canonical shape into *t. Returns 1 on success (t holds new
 * references), 0 when the value is not in the shape or would be rejected (nothing held),
 * -1 on a Python error.
 */
static int parse_trade(Scanner *sc, const char *p, Py_ssize_t n, int64_t kafka_ts_us,
                       Parsed *t) {
    const char *end = p + n;
    memset(t, 0, sizeof(*t));
    int fields = 0;
    p = skip_ws(p, end);
    if (p >= end || *p != '{') return 0;
    p = skip_ws(p + 1, end);
    for (;;) {
        if (p >= end || *p != '"') goto reject;
        const char *key;
        Py_ssize_t klen;
        if (!read_plain_string(&p, end, &key, &klen)) goto reject;
        p = skip_ws(p, end);
        if (p >= end || *p != ':') goto reject;
        p = skip_ws(p + 1, end);
        if (p >= end) goto reject;
        int field = 0;
        if (klen == 6 && memcmp(key, "symbol", 6) == 0) field = F_SYMBOL;
        else if (klen == 8 && memcmp(key, "trade_id", 8) == 0) field = F_ID;
        else if (klen == 2 && memcmp(key, "ts", 2) == 0) field = F_TS;
        else if (klen == 5 && memcmp(key, "price", 5) == 0) field = F_PRICE;
        else if (klen == 4 && memcmp(key, "size", 4) == 0) field = F_SIZE;
        else if (klen == 5 && memcmp(key, "venue", 5) == 0) field = F_VENUE;
        else if (klen == 4 && memcmp(key, "side", 4) == 0) field = F_SIDE;
        else {
            /* a key the trade does not have: msgspec ignores it, and so does this, when
             * its value is a scalar. Keys are never repeated in JSON from our producers;
             * a repeated unknown key is harmless (ignored either way). */
            if (!skip_scalar(&p, end)) goto reject;
            field = F_OTHER;
        }
        if (field != F_OTHER) {
            if (fields & field) goto reject; /* a repeated field: left to Python */
            fields |= field;
        }
        const char *s;
        Py_ssize_t slen;
        switch (field) {
        case F_SYMBOL:
            if (*p != '"' || !read_plain_string(&p, end, &s, &slen) || !symbol_ok(s, slen))
                goto reject;
            t->symbol = intern_str(sc->symbols, s, slen);
            if (t->symbol == NULL) goto error;
            t->symhash = PyObject_Hash(t->symbol);
            if (t->symhash == -1) goto error;
            break;
        case F_ID:
            if (!read_uint(&p, end, MAX_TRADE_ID_DIGITS, &t->trade_id)) goto reject;
            break;
        case F_TS:
            if (!read_uint(&p, end, 16, &t->ts) || t->ts >= MAX_TS_US) goto reject;
            break;
        case F_PRICE:
            if (!read_fixed(&p, end, MAX_PRICE_INT, &t->price)) goto reject;
            break;
        case F_SIZE:
            if (!read_fixed(&p, end, MAX_SIZE_INT, &t->size)) goto reject;
            break;
        case F_VENUE:
        case F_SIDE:
            if (*p == 'n') {
                if (end - p < 4 || memcmp(p, "null", 4) != 0) goto reject;
                p += 4;
                if (!token_ends(p, end)) goto reject;
                break;
            }
            if (*p != '"' || !read_plain_string(&p, end, &s, &slen)) goto reject;
            if (field == F_VENUE) {
                t->venue = intern_str(sc->venues, s, slen);
                if (t->venue == NULL) goto error;
            } else {
                if (slen == 3 && memcmp(s, "buy", 3) == 0) t->side = sc->buy;
                else if (slen == 4 && memcmp(s, "sell", 4) == 0) t->side = sc->sell;
                else goto reject;
                Py_INCREF(t->side);
            }
            break;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') break;
        goto reject;
    }
    p = skip_ws(p + 1, end);
    if (p != end || (fields & F_REQUIRED) != F_REQUIRED) goto reject;
    if (t->ts > kafka_ts_us + sc->max_future_skew_us) goto reject;
    return 1;
reject:
    parsed_clear(t);
    return 0;
error:
    parsed_clear(t);
    return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Scanner                                                                              */

static const char TYPE_PREFIX[] = "{\"type\":\"";
static const char TRADE_PREFIX[] = "{\"type\":\"trade\"";
#define TYPE_PREFIX_LEN 9
#define TRADE_PREFIX_LEN 15

static PyCFunction method_of(PyTypeObject *type, const char *name) {
    PyObject *descr = PyObject_GetAttrString((PyObject *)type, name);
    if (descr == NULL) return NULL;
    PyCFunction fn = NULL;
    if (Py_IS_TYPE(descr, &PyMethodDescr_Type) &&
        (((PyMethodDescrObject *)descr)->d_method->ml_flags & ~METH_COEXIST) == METH_NOARGS)
        fn = ((PyMethodDescrObject *)descr)->d_method->ml_meth;
    else
        PyErr_Format(PyExc_TypeError, "%s.%s is not a C method without arguments; this "
                     "confluent-kafka is not supported by speed_layer._hotpath",
                     type->tp_name, name);
    Py_DECREF(descr);
    return fn;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"message_type", "max_future_skew_us", NULL};
    PyObject *type;
    long long skew;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!L", kwlist, &PyType_Type, &type, &skew))
        return -1;
    Py_INCREF(type);
    Py_XSETREF(self->message_type, (PyTypeObject *)type);
    self->max_future_skew_us = skew;
    if (!(self->m_error = method_of(self->message_type, "error"))) return -1;
    if (!(self->m_partition = method_of(self->message_type, "partition"))) return -1;
    if (!(self->m_offset = method_of(self->message_type, "offset"))) return -1;
    if (!(self->m_value = method_of(self->message_type, "value"))) return -1;
    if (!(self->m_timestamp = method_of(self->message_type, "timestamp"))) return -1;
    if (self->symbols == NULL) {
        self->symbols = PyMem_Calloc(INTERN_SLOTS, sizeof(Interned));
        self->venues = PyMem_Calloc(INTERN_SLOTS, sizeof(Interned));
        if (self->symbols == NULL || self->venues == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (self->buy == NULL) {
        self->buy = PyUnicode_InternFromString("buy");
        self->sell = PyUnicode_InternFromString("sell");
        if (self->buy == NULL || self->sell == NULL) return -1;
    }
    return 0;
}

static void free_interned(Interned *cache) {
    if (cache == NULL) return;
    for (int i = 0; i < INTERN_SLOTS; i++) Py_XDECREF(cache[i].str);
    PyMem_Free(cache);
}

static void Scanner_dealloc(Scanner *self) {
    Py_XDECREF(self->message_type);
    free_interned(self->symbols);
    free_interned(self->venues);
    Py_XDECREF(self->buy);
    Py_XDECREF(self->sell);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Count a non-trade message; 0 when Python must do it (a kind that is not plain ASCII,
 * or more distinct kinds than the table holds). */
static int count_kind(Scanner *sc, const char *value, Py_ssize_t n) {
    const char *kind = value + TYPE_PREFIX_LEN;
    Py_ssize_t limit = n - TYPE_PREFIX_LEN;
    if (limit > MAX_KIND_BYTES + 1) limit = MAX_KIND_BYTES + 1;
    const char *quote = memchr(kind, '"', limit);
    Py_ssize_t len;
    if (quote == NULL || quote == kind) {
        kind = "other";
        len = 5;
    } else {
        len = quote - kind;
        for (Py_ssize_t i = 0; i < len; i++)
            if ((unsigned char)kind[i] > 0x7e || (unsigned char)kind[i] < 0x20) return 0;
    }
    for (int i = 0; i < sc->n_kinds; i++) {
        KindCount *k = &sc->kinds[i];
        if (k->len == len && memcmp(k->bytes, kind, len) == 0) {
            k->count++;
            return 1;
        }
    }
    if (sc->n_kinds == MAX_KINDS) return 0;
    KindCount *k = &sc->kinds[sc->n_kinds++];
    k->len = len;
    memcpy(k->bytes, kind, len);
    k->count = 1;
    return 1;
}

static PyObject *stop(Py_ssize_t index, int why, long partition) {
    return Py_BuildValue("(nil)", index, why, partition);
}

/*
 * scan(messages, start, tables, now) -> (index, why, partition)
 *
 * why = END (0): every message from start on was handled; index = len(messages).
 * why = SLOW (1): messages[index] is for Python (nothing of it was applied or counted).
 * why = CLOSE (2): messages[index - 1] moved partition's watermark to a window end;
 *                  Python closes what is due, then scans on from index.
 */
static PyObject *Scanner_scan(Scanner *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_Check(args[0]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "scan(messages: list, start: int, tables: dict, now)");
        return NULL;
    }
    PyObject *messages = args[0], *tables = args[2];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    double now = PyFloat_AsDouble(args[3]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(messages);
    int looked_up = 0;
    long last_number = -1;
    WindowTable *table = NULL;
    for (Py_ssize_t i = start; i < n; i++) {
        PyObject *m = PyList_GET_ITEM(messages, i);
        if (Py_TYPE(m) != self->message_type) return stop(i, STOP_SLOW, -1);
        PyObject *err = self->m_error(m, NULL);
        if (err == NULL) return NULL;
        Py_DECREF(err);
        if (err != Py_None) return stop(i, STOP_SLOW, -1);
        PyObject *part = self->m_partition(m, NULL);
        if (part == NULL) return NULL;
        long number = PyLong_AsLong(part);
        if (number == -1 && PyErr_Occurred()) {
            Py_DECREF(part);
            return NULL;
        }
        if (!looked_up || number != last_number) {
            PyObject *found = PyDict_GetItemWithError(tables, part); /* the int is the key */
            Py_DECREF(part);
            if (found == NULL && PyErr_Occurred()) return NULL;
            if (found != NULL && !Py_IS_TYPE(found, &WindowTableType)) {
                PyErr_SetString(PyExc_TypeError, "tables must map partition -> WindowTable");
                return NULL;
            }
            table = (WindowTable *)found;
            looked_up = 1;
            last_number = number;
        } else {
            Py_DECREF(part);
        }
        if (table == NULL) continue; /* revoked while this batch was in flight */
        PyObject *off = self->m_offset(m, NULL);
        if (off == NULL) return NULL;
        long long offset = 0;
        int read = read_int64(off, &offset);
        Py_DECREF(off);
        if (read < 0) return NULL;
        if (read == 0) return stop(i, STOP_SLOW, -1);
        PyObject *value = self->m_value(m, NULL);
        if (value == NULL) return NULL;
        if (!PyBytes_Check(value)) {
            Py_DECREF(value);
            return stop(i, STOP_SLOW, -1);
        }
        const char *bytes = PyBytes_AS_STRING(value);
        Py_ssize_t size = PyBytes_GET_SIZE(value);
        if (size >= TYPE_PREFIX_LEN && memcmp(bytes, TYPE_PREFIX, TYPE_PREFIX_LEN) == 0 &&
            !(size >= TRADE_PREFIX_LEN && memcmp(bytes, TRADE_PREFIX, TRADE_PREFIX_LEN) == 0)) {
            /* an order or quote: skipped, never decoded */
            if (offset >= table->replay_until) {
                if (!count_kind(self, bytes, size)) {
                    Py_DECREF(value);
                    return stop(i, STOP_SLOW, -1);
                }
                self->consumed++;
                table->processed = offset + 1;
            }
            Py_DECREF(value);
            continue;
        }
        PyObject *stamp = self->m_timestamp(m, NULL);
        if (stamp == NULL) {
            Py_DECREF(value);
            return NULL;
        }
        long long stamp_ms = -1;
        int stamp_ok = PyTuple_Check(stamp) && PyTuple_GET_SIZE(stamp) == 2;
        if (stamp_ok) {
            PyObject *ms = PyTuple_GET_ITEM(stamp, 1);
            stamp_ok = PyLong_Check(ms) && read_int64(ms, &stamp_ms) == 1;
            PyErr_Clear();
        }
        Py_DECREF(stamp);
        if (!stamp_ok || stamp_ms > (1LL << 50) || stamp_ms < -(1LL << 50)) {
            Py_DECREF(value);
            return stop(i, STOP_SLOW, -1);
        }
        Parsed t;
        int ok = parse_trade(self, bytes, size, stamp_ms * 1000, &t);
        Py_DECREF(value);
        if (ok < 0) return NULL;
        if (!ok) return stop(i, STOP_SLOW, -1);
        int replaying = offset < table->replay_until;
        int code = table_add(table, t.symbol, t.symhash, t.trade_id, t.ts, t.price, t.size,
                             t.venue, t.side, offset);
        parsed_clear(&t);
        if (code < 0) return NULL;
        if (!replaying) {
            /* late, duplicate, conflict: nothing changed; Python decides and reports */
            if ((code & ~CLOSE_DUE) != OUT_APPLIED) return stop(i, STOP_SLOW, -1);
            self->consumed++;
            self->valid++;
            table->processed = offset + 1;
            table->last_seen = now;
        }
        if (code & CLOSE_DUE) return stop(i + 1, STOP_CLOSE, number);
    }
    return stop(n, STOP_END, -1);
}

static PyObject *Scanner_drain(Scanner *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *kinds = PyDict_New();
    if (kinds == NULL) return NULL;
    for (int i = 0; i < self->n_kinds; i++) {
        KindCount *k = &self->kinds[i];
        PyObject *name = PyUnicode_FromStringAndSize(k->bytes, k->len);
        PyObject *count = PyLong_FromLongLong(k->count);
        if (name == NULL || count == NULL || PyDict_SetItem(kinds, name, count) < 0) {
            Py_XDECREF(name);
            Py_XDECREF(count);
            Py_DECREF(kinds);
            return NULL;
        }
        Py_DECREF(name);
        Py_DECREF(count);
    }
    PyObject *out = Py_BuildValue("(LLN)", self->consumed, self->valid, kinds);
    if (out == NULL) return NULL;
    self->consumed = self->valid = 0;
    self->n_kinds = 0;
    return out;
}

static PyObject *Scanner_parse(Scanner *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "parse(value: bytes, kafka_ts_us: int)");
        return NULL;
    }
    int64_t kafka_ts_us;
    if (as_int64(args[1], &kafka_ts_us, "kafka_ts_us") < 0) return NULL;
    if (kafka_ts_us > (1LL << 60) || kafka_ts_us < -(1LL << 60)) Py_RETURN_NONE;
    Parsed t;
    int ok = parse_trade(self, PyBytes_AS_STRING(args[0]), PyBytes_GET_SIZE(args[0]),
                         kafka_ts_us, &t);
    if (ok < 0) return NULL;
    if (!ok) Py_RETURN_NONE;
    PyObject *out = Py_BuildValue("(OLLLLOO)", t.symbol, (long long)t.trade_id, (long long)t.ts,
                                  (long long)t.price, (long long)t.size,
                                  t.venue ? t.venue : Py_None, t.side ? t.side : Py_None);
    parsed_clear(&t);
    return out;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)(void (*)(void))Scanner_scan, METH_FASTCALL,
     "scan(messages, start, tables, now) -> (index, why, partition)"},
    {"drain", (PyCFunction)Scanner_drain, METH_NOARGS,
     "drain() -> (consumed, valid, skipped by type) since the last drain"},
    {"parse", (PyCFunction)(void (*)(void))Scanner_parse, METH_FASTCALL,
     "parse(value, kafka_ts_us) -> (symbol, trade_id, ts_us, price, size, venue, side) or None"},
    {NULL}};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "speed_layer._hotpath.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Handles the common case of every message in a consume() batch.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef hotpath_module = {
    PyModuleDef_HEAD_INIT, "speed_layer._hotpath",
    "The speed layer's per-message work in C (see the file's header comment).", -1, NULL};

PyMODINIT_FUNC PyInit__hotpath(void) {
    if (PyType_Ready(&WindowTableType) < 0 || PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&hotpath_module);
    if (m == NULL) return NULL;
    Py_INCREF(&WindowTableType);
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "WindowTable", (PyObject *)&WindowTableType) < 0 ||
        PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddIntConstant(m, "APPLIED", OUT_APPLIED) < 0 ||
        PyModule_AddIntConstant(m, "DUPLICATE", OUT_DUPLICATE) < 0 ||
        PyModule_AddIntConstant(m, "CONFLICT", OUT_CONFLICT) < 0 ||
        PyModule_AddIntConstant(m, "LATE", OUT_LATE) < 0 ||
        PyModule_AddIntConstant(m, "CLOSE_DUE", CLOSE_DUE) < 0 ||
        PyModule_AddIntConstant(m, "END", STOP_END) < 0 ||
        PyModule_AddIntConstant(m, "SLOW", STOP_SLOW) < 0 ||
        PyModule_AddIntConstant(m, "CLOSE", STOP_CLOSE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
