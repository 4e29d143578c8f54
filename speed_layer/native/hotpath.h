/*
 * speed_layer._hotpath: the speed layer's per-message work in C (see docs/speed-layer.md).
 *
 * Parts, one file each:
 *   table.c   - WindowTable: one partition's 1 s windows (open ones, and closed ones kept
 *               for the dedup horizon), their dedup ids and the event-time position;
 *   keyindex.c - KeyIndex: the (symbol, start) index of windows and of rollup partials;
 *   cursor.c  - Cursor: one partition's Kafka bookkeeping (read position, replay bound);
 *   parser.c  - the canonical-shape trade parser and the contract's limits it enforces;
 *   scanner.c - Scanner.scan, which walks a consume() batch;
 *   sink.c    - Sink: candles and dead letters produced into the Producer's librdkafka;
 *   module.c  - the module and the WindowFold structure.
 *
 * No contract constant is written here: the window size, the bounds, the decimal scale,
 * the symbol alphabet and the non-trade byte rule arrive from candle_core when the objects
 * are constructed (candle_core/native_contract.py), so a changed bound reaches this code
 * or the construction fails.
 */
#ifndef SPEED_LAYER_HOTPATH_H
#define SPEED_LAYER_HOTPATH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef unsigned __int128 u128;

enum { OUT_APPLIED = 0, OUT_DUPLICATE = 1, OUT_CONFLICT = 2, OUT_LATE = 3, OUT_REVISED = 4,
       CLOSE_DUE = 8 };
enum { STOP_END = 0, STOP_SLOW = 1, STOP_CLOSE = 2 };

/* How table_add may change the table:
 * ADD_SCAN   - the batch scanner: only an applied trade changes anything; every other
 *              outcome is left for Python to decide and report;
 * ADD_LIVE   - Python's path: an applied trade is folded; a late trade inside the revision
 *              horizon revises its candles (emitted as emit_candle does); one later but inside
 *              the dedup horizon is remembered (so its re-send is a duplicate, not late again);
 * ADD_REPLAY - rebuilding state after a restart: as ADD_LIVE, but the event-time position
 *              never moves (it was restored) and nothing is emitted: a revising trade folds
 *              into its closed 1 s window only (the rollups were restored as they were). */
typedef enum { ADD_SCAN = 0, ADD_LIVE = 1, ADD_REPLAY = 2 } AddMode;

#define NO_TIME (-(1LL << 62))
#define FAR_FUTURE (1LL << 62)

/* (symbol, start) -> item (a Window or a Partial); see keyindex.c */
typedef struct {
    uint64_t hash; /* of the item's key */
    void *item;    /* NULL: an empty slot */
} IndexSlot;

typedef struct {
    IndexSlot *slots;
    Py_ssize_t nslots, n;
} KeyIndex;

/* Is item's key (symbol, start)? Called only when the hashes agree. */
typedef int (*KeyMatch)(const void *item, PyObject *symbol, int64_t start);

typedef struct {
    int64_t id; /* -1: an empty hash slot */
    int64_t ts, price, size;
    PyObject *venue, *side; /* owned, NULL for None */
} Seen;

/* A candle's fold: CandleBuilder's fields (a 1 s window's, or a rollup's merge of them) */
typedef struct {
    int64_t open, high, low, close, first_ts, last_ts, first_id, last_id, count;
    u128 volume;
    u128 notional_lo; /* notional = notional_hi * 2^128 + notional_lo */
    uint64_t notional_hi;
} Fold;

/* A growing byte buffer (rollup.c: buffer_put appends, doubling from 4 KiB) */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buffer;

int buffer_put(Buffer *b, const void *bytes, Py_ssize_t n); /* 0, or -1 with MemoryError */

/* LEB128 integers (varint.c): each put_ writes at `at` and returns the byte after it (at
 * most 10 bytes an int64, 19 a u128); each get_ reads from a reader that turns bad on
 * data that ends or overflows (and then reads 0). */
char *put_uvarint(char *at, uint64_t v);
char *put_svarint(char *at, int64_t v);                  /* zigzag */
char *put_delta(char *at, int64_t value, int64_t base);  /* value - base, modulo 2^64 */
char *put_u128(char *at, u128 v);
typedef struct {
    const char *at, *end;
    int bad;
} VarintReader;
uint64_t get_uvarint(VarintReader *r);
int64_t get_svarint(VarintReader *r);
int64_t get_delta(VarintReader *r, int64_t base);
u128 get_u128(VarintReader *r);

/* Fixed-size blocks from large chunks (pool.c) */
typedef struct {
    size_t block;          /* bytes per block, a multiple of 16 */
    void *free;            /* freed blocks, linked through their first word */
    char *cursor, *limit;  /* the unused rest of the newest chunk */
    void *chunks;          /* every chunk, linked through its first word */
    size_t chunk_bytes;    /* held from the system */
    Py_ssize_t in_use;
} Pool;

void pool_init(Pool *p, size_t block);
void *pool_alloc(Pool *p); /* zeroed; NULL with MemoryError set */
void pool_free(Pool *p, void *block);
void pool_release(Pool *p); /* every chunk back to the system (blocks in use included) */

/* Where a window's ids live */
enum { SEEN_HEAP = 0, SEEN_POOLED = 1, SEEN_INLINE = 2 };

/* A 1 s window: 128 bytes, kept for the dedup horizon after it closes (1.4M of them in
 * the 10,000-symbol benchmark). It holds no fold: its ids hold every trade folded into it
 * (id, stamp, price, size), so the fold is made from them when the window closes or is
 * revised (fold_seen), and a kept window does not carry 112 bytes it no longer needs. The
 * one kind of id held but not folded, a late trade past the revision horizon, is only in
 * windows that can never be revised again (the watermark never moves back). */
typedef struct Window {
    PyObject *symbol; /* owned str */
    Py_hash_t symhash;
    int64_t start, first_offset;
    int64_t revision; /* of the last emission */
    Seen *seen;
    struct Window *older, *newer; /* creation order: the oldest holds the low-water offset */
    Seen one;         /* the id of a closed window that holds one (most, on a quiet market) */
    int32_t seen_cap, seen_len;
    uint8_t closed;   /* 0: open, ids in a hash; 1: closed, ids compact (kept for dedup) */
    uint8_t unsorted; /* closed, and its ids not sorted yet: sorted on the first lookup */
    uint8_t emitted;  /* its candle has been emitted (revision 0 at least) */
    uint8_t seen_home; /* SEEN_HEAP, SEEN_POOLED (an open window's first slots) or SEEN_INLINE */
} Window;

/* The candle's wire layout (candle_core.codec.native_candle_wire), in wire order */
enum { W_SYMBOL, W_INTERVAL, W_INTERVAL_US, W_START, W_END, W_OPEN, W_HIGH, W_LOW, W_CLOSE,
       W_VOLUME, W_NOTIONAL, W_VWAP, W_COUNT, W_FIRST_TS, W_LAST_TS, W_FIRST_ID, W_LAST_ID,
       W_FIELDS };
#define DEC_TEXT (-2)
#define DEC_INT (-1)
typedef struct {
    int field[W_FIELDS];
    int decimals[W_FIELDS]; /* DEC_TEXT, DEC_INT, or the places of a decimal string */
    char key_json[W_FIELDS][40];
    int key_len[W_FIELDS];
    char revision_json[40]; /* ,"revision": (written only when the revision is > 0) */
    int revision_len;
    char key_separator; /* of the message key: symbol|interval|start */
} CandleWire;

/* A larger interval's partial candle: the merge of the closed 1 s candles of its window */
typedef struct Partial {
    PyObject *symbol; /* owned str */
    Py_hash_t symhash;
    int64_t start, end;
    int slot;    /* which rollup (interval) */
    int changed; /* listed for the next delta */
    int dead;    /* past the revision horizon (or emitted, without revisions): awaiting the
                  * next delta's delete */
    int closed;  /* emitted, and kept for the revision horizon */
    int direct;  /* holds every closed 1 s candle of its window, not only its source's closed
                  * partials (restored from an older format or interval set; rollup.c) */
    int convert; /* while restoring: written under another interval set, made direct at the end */
    int64_t revision; /* of the last emission */
    Fold fold;
} Partial;

#define MAX_ROLLUPS 8
#define MAX_LABEL 16

typedef struct {
    int64_t us;
    char label[MAX_LABEL];
    KeyIndex index; /* (symbol, start) -> partial */
    Partial **queue; /* open partials, by window end */
    Py_ssize_t head, len, cap;
    Partial **kept; /* closed partials kept for the revision horizon, by window end */
    Py_ssize_t kept_head, kept_len, kept_cap;
    int source;           /* the rollup whose closed partials merge into this one's; -1: the
                           * closed 1 s candles do (rollups_link) */
    Py_ssize_t n_direct;  /* open partials marked direct: while any, 1 s candles look for them */
} Rollup;

/* An open 1 s window as the close sees it: its end and creation order beside the pointer,
 * so finding and ordering the windows a watermark step ends never touches the others. */
typedef struct {
    int64_t end;
    uint64_t seq;
    Window *w;
} OpenWindow;

typedef struct {
    PyObject_HEAD
    int64_t base_us, lateness_us, horizon_us, revision_us;
    int64_t max_ts_us, watermark_us, next_close_us, next_rollup_close_us;
    OpenWindow *open;
    Py_ssize_t n_open, open_cap;
    Window **kept; /* closed windows, in the order they closed (FIFO) */
    Py_ssize_t kept_head, kept_len, kept_cap;
    KeyIndex index; /* (symbol, start) -> window */
    int initialised;
    Window *oldest, *newest;
    uint64_t next_seq;
    Py_ssize_t seen_hint;
    Py_ssize_t kept_ids;
    int64_t bytes; /* heap bytes held by windows, their ids, partials and the index */
    char base_label[MAX_LABEL];
    Rollup rollups[MAX_ROLLUPS];
    int n_rollups;
    Partial **changed, **graveyard;
    Py_ssize_t n_changed, changed_cap, n_graveyard, graveyard_cap;
    CandleWire wire;
    int has_wire;
    Pool windows, first_ids; /* Window blocks; the MIN_SEEN_SLOTS id slots a window opens with */
    long long emitted[MAX_ROLLUPS + 1]; /* candles closed, by interval (0: 1 s) */
    long long revised[MAX_ROLLUPS + 1]; /* revisions emitted, by interval (0: 1 s) */
    /* The revision numbers of revised 1 s windows, for the changelog (a 1 s window's fold
     * is rebuilt by the replay; its revision number cannot be): kept for the horizon like
     * a closed rollup, written and restored with the rollups' state records. */
    Rollup revised_1s;
    /* Where candles go, in the order they are emitted (closes and revisions alike). With
     * a Sink: into `pending`, as bytes, produced in one loop when Python takes them
     * (take_candles); a candle the Sink refuses and every one after it become (key,
     * value) bytes in `unsent` for Python. Without one: straight into `unsent`. */
    PyObject *sink;        /* a Sink, or NULL */
    PyObject *unsent;      /* list, or NULL (none) */
    Buffer pending;        /* per candle: key length, value length (uint32), key, value */
    Py_ssize_t produced;   /* candles produced into the Sink since the last take_candles */
} WindowTable;

typedef struct {
    PyObject_HEAD
    WindowTable *table; /* owned */
    int64_t position;     /* next offset to read (-1: not known yet) */
    int64_t replay_until; /* below this, records were processed before a restart (-1: none) */
    double last_seen;
} Cursor;

typedef struct {
    PyObject *symbol; /* new reference */
    Py_hash_t symhash;
    int64_t trade_id, ts, price, size;
    PyObject *venue, *side; /* new references or NULL */
} Parsed;

/* The contract's limits the parser enforces, from candle_core.native_contract. */
typedef struct {
    int64_t max_trade_id, max_ts_us, max_price_int, max_size_int, max_future_skew_us;
    int decimals, max_whole_digits, max_venue_len;
    Py_ssize_t max_symbol_len, max_record_bytes, max_kind_bytes;
    unsigned char symbol_first[256], symbol_rest[256];
    char type_prefix[32], trade_prefix[32];
    Py_ssize_t type_prefix_len, trade_prefix_len;
} Limits;

#define INTERN_MIN_SLOTS 4096
#define INTERN_MAX_SLOTS (1 << 18) /* beyond 128k distinct strings, new ones are not cached */
#define INTERN_MAX_LEN 32
#define MAX_KINDS 16
#define MAX_KIND_BYTES_CAP 64

typedef struct {
    uint64_t hash;
    Py_ssize_t len;
    char bytes[INTERN_MAX_LEN];
    PyObject *str; /* owned */
} Interned;

/* The strs the parser made, by their bytes: a symbol's trades then share one str, whose
 * pointer the window index compares first. Grows (to INTERN_MAX_SLOTS) at half full. */
typedef struct {
    Interned *slots;
    Py_ssize_t cap, n;
} InternTable;

typedef struct {
    Py_ssize_t len;
    char bytes[MAX_KIND_BYTES_CAP];
    long long count;
} KindCount;

#define DLQ_HEADERS 6
#define PARTITION_PAIRS 1024

typedef struct {
    PyObject_HEAD
    PyTypeObject *message_type;
    PyCFunction m_error, m_partition, m_offset, m_value, m_timestamp, m_key, m_topic;
    Limits limits;
    /* dead letters the scanner makes itself (future-stamped trades), for Python to produce:
     * (value, key, headers) in offset order, taken before every stop is handled */
    PyObject *rejects;
    PyObject *sink; /* a Sink the dead letters go to directly, or NULL (see use_sink) */
    PyObject *header_names[DLQ_HEADERS]; /* candle_core.side_outputs.DLQ_HEADER_NAMES */
    PyObject *future_reason;             /* bytes */
    PyObject *future_reason_str;         /* str, the summary's key */
    char future_prefix_utf8[100], future_suffix_utf8[100]; /* around the milliseconds */
    PyObject *last_topic, *topic_pair, *reason_pair; /* shared header pairs */
    PyObject *partition_pairs[PARTITION_PAIRS];
    long long dead;
    InternTable symbols, venues;
    PyObject *buy, *sell;
    long long consumed, valid;
    KindCount kinds[MAX_KINDS];
    int n_kinds;
} Scanner;

extern PyTypeObject WindowTableType;
extern PyTypeObject CursorType;
extern PyTypeObject ScannerType;
extern PyTypeObject SinkType;
extern PyTypeObject *WindowFoldType;

/* table.c */
int table_add(WindowTable *t, const Parsed *trade, int64_t offset, AddMode mode);
int64_t table_first_offset(WindowTable *t);
int emit_candle(WindowTable *t, PyObject *symbol, int slot, int64_t start, const Fold *fold,
                int64_t revision);

/* arena_cache.c: emptied CPython arenas kept for reuse, up to max_bytes */
void arena_cache_install(size_t max_bytes);
Py_ssize_t arena_cache_held(void);

/* keyindex.c */
int keyindex_reserve(KeyIndex *x, Py_ssize_t min_slots); /* room for one more item */
void keyindex_put(KeyIndex *x, uint64_t hash, void *item); /* after keyindex_reserve */
void *keyindex_find(const KeyIndex *x, uint64_t hash, KeyMatch match, PyObject *symbol,
                    int64_t start);
int keyindex_contains(const KeyIndex *x, uint64_t hash, const void *item);
void keyindex_remove(KeyIndex *x, uint64_t hash, const void *item); /* item must be in it */
void keyindex_free(KeyIndex *x);
Py_ssize_t keyindex_bytes(const KeyIndex *x);

/* candle.c */
void fold_trade(Fold *f, int64_t price, int64_t size, int64_t ts, int64_t id);
void fold_merge(Fold *into, const Fold *from);
/* The fold of the ids in n slots (empty slots, id < 0, skipped) */
void fold_seen(Fold *f, const Seen *slots, Py_ssize_t n);
int candle_wire_from_list(CandleWire *w, PyObject *list);
#define CANDLE_JSON_MAX 1536 /* a symbol of at most 256 bytes, 17 fields and a revision */
#define CANDLE_KEY_MAX 400
Py_ssize_t write_candle_json(const CandleWire *w, PyObject *symbol, const char *label,
                             int64_t interval_us, int64_t start, const Fold *f,
                             int64_t revision, char *buffer);
Py_ssize_t write_candle_key(const CandleWire *w, PyObject *symbol, const char *label,
                            int64_t start, char *buffer);

/* rollup.c */
int rollups_fold(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start_1s,
                 const Fold *fold);
void rollups_prefetch(WindowTable *t, Py_hash_t symhash, int64_t start_1s, int items);
int64_t rollups_next_close(WindowTable *t);
int rollups_close(WindowTable *t, int64_t watermark);
Py_ssize_t rollups_count(WindowTable *t);
Py_ssize_t rollups_state_count(WindowTable *t);
void rollups_free(WindowTable *t);
PyObject *rollups_take_delta(WindowTable *t, Py_ssize_t max_bytes);
PyObject *rollups_snapshot(WindowTable *t, Py_ssize_t max_bytes);
void rollups_link(WindowTable *t);
int rollups_restore(WindowTable *t, PyObject *records);
int rollups_put(WindowTable *t, int64_t interval_us, PyObject *symbol, int64_t start,
                const Fold *fold);
int rollups_revise(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start_1s,
                   const Fold *trade);
void rollups_evict(WindowTable *t);
int64_t revised_1s_find(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start);
int revised_1s_put(WindowTable *t, PyObject *symbol, Py_hash_t symhash, int64_t start,
                   int64_t revision);

/* sink.c: one dead letter produced into the Sink's producer, its n headers as C strings;
 * 0, or the librdkafka error code (nothing was produced) */
int sink_dead_letter(PyObject *sink, const char *value, Py_ssize_t value_len,
                     const char *key, Py_ssize_t key_len, const char *const *names,
                     const Py_ssize_t *name_lens, const char *const *values,
                     const Py_ssize_t *value_lens, int n);
/* sink.c: one candle produced into the Sink's producer; 0, or the librdkafka error code */
int sink_candle(PyObject *sink, const char *key, Py_ssize_t key_len, const char *value,
                Py_ssize_t value_len);
/* use_sink()'s argument: None (*sink = NULL) or a Sink whose __init__ succeeded (*sink,
 * borrowed); -1 with TypeError otherwise */
int sink_from_arg(PyObject *arg, PyObject **sink);

/* candle.c: v's decimal text at p, as str(v) (at most 20 bytes); returns its end */
char *put_decimal(char *p, int64_t v);

/* parser.c */
int limits_from_dict(Limits *limits, PyObject *dict);
int intern_init(InternTable *x); /* 0, or -1 with MemoryError */
void intern_free(InternTable *x);
/* 1: a trade, t holds it; 2: a valid trade but for its future stamp (t holds it: the
 * caller dead-letters it); 0: not native (t empty); -1: a Python error */
enum { PARSE_ERROR = -1, PARSE_NOT_NATIVE = 0, PARSE_TRADE = 1, PARSE_FUTURE = 2 };
int parse_trade(Scanner *sc, const char *p, Py_ssize_t n, int64_t kafka_ts_us, Parsed *t);
void parsed_clear(Parsed *t);
int is_non_trade(const Limits *limits, const char *bytes, Py_ssize_t size);

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The hash of a (symbol, window start) key, for KeyIndex */
static inline uint64_t key_hash(Py_hash_t symhash, int64_t start) {
    return mix64((uint64_t)symhash ^ ((uint64_t)start * 0x9E3779B97F4A7C15ULL));
}

static inline int same_str(PyObject *a, PyObject *b) {
    if (a == b) return 1;
    if (a == NULL || b == NULL) return 0;
    return PyUnicode_Compare(a, b) == 0;
}

/* A growing array with room for item `len`: `items` itself, or moved (doubled, from 64
 * items), with *cap updated; NULL with MemoryError set (the array is then unchanged). */
static inline void *array_room(void *items, Py_ssize_t len, Py_ssize_t *cap, size_t size) {
    if (len < *cap) return items;
    Py_ssize_t grown = *cap ? *cap * 2 : 64;
    void *fresh = PyMem_Realloc(items, size * (size_t)grown);
    if (fresh == NULL) return PyErr_NoMemory();
    *cap = grown;
    return fresh;
}

/* The first three cache lines of a window or a partial, asked for ahead of their use */
static inline void prefetch_item(const void *item) {
    const char *at = item;
    __builtin_prefetch(at);
    __builtin_prefetch(at + 64);
    __builtin_prefetch(at + 128);
}

/* int64 attribute helpers shared by the types */
int as_int64(PyObject *obj, int64_t *out, const char *name);

#endif
