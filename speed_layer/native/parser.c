/*
 * The canonical-shape trade parser: a strict subset of what candle_core.parsing.TradeParser
 * accepts, giving the identical trade for each value it accepts (property-tested in
 * tests/speed_layer/test_hotpath.py). The shape: one JSON object of plain ASCII strings
 * without escapes, integer trade_id and ts, price and size as 123.45 or "123.45", any
 * other key only with a scalar value, no repeated trade field. Anything else, and anything
 * the contract would reject, returns 0: the caller hands the record to Python, which
 * names the reason.
 *
 * Every bound comes from candle_core (candle_core/native_contract.py) through
 * limits_from_dict; an unknown or missing name there fails the construction.
 */
#include "hotpath.h"

#include <string.h>

/* ---- the contract's limits ---------------------------------------------------------- */

static const char *const LIMIT_NAMES[] = {
    "max_trade_id", "max_ts_us", "max_price_int", "max_size_int", "max_future_skew_us",
    "decimals", "max_whole_digits", "max_venue_len", "max_symbol_len", "max_record_bytes",
    "max_kind_bytes", "symbol_first", "symbol_rest", "type_prefix", "trade_prefix", NULL};

static int limit_int(PyObject *dict, const char *name, int64_t low, int64_t high, int64_t *out) {
    PyObject *value = PyDict_GetItemString(dict, name);
    if (value == NULL || !PyLong_Check(value)) {
        PyErr_Format(PyExc_ValueError, "contract limit %s: missing or not an int", name);
        return -1;
    }
    if (as_int64(value, out, name) < 0) return -1;
    if (*out < low || *out > high) {
        PyErr_Format(PyExc_ValueError,
                     "contract limit %s = %lld is outside what the native path can hold "
                     "[%lld, %lld]: change speed_layer/native or the contract",
                     name, (long long)*out, (long long)low, (long long)high);
        return -1;
    }
    return 0;
}

static int limit_alphabet(PyObject *dict, const char *name, unsigned char table[256]) {
    PyObject *value = PyDict_GetItemString(dict, name);
    if (value == NULL || !PyUnicode_Check(value)) {
        PyErr_Format(PyExc_ValueError, "contract limit %s: missing or not a str", name);
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(value, &n);
    if (s == NULL) return -1;
    memset(table, 0, 256);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
            PyErr_Format(PyExc_ValueError, "contract limit %s: only printable ASCII other "
                         "than quote and backslash is supported natively", name);
            return -1;
        }
        table[c] = 1;
    }
    return 0;
}

static int limit_prefix(PyObject *dict, const char *name, char *out, Py_ssize_t *len) {
    PyObject *value = PyDict_GetItemString(dict, name);
    if (value == NULL || !PyBytes_Check(value) || PyBytes_GET_SIZE(value) >= 32 ||
        PyBytes_GET_SIZE(value) == 0) {
        PyErr_Format(PyExc_ValueError, "contract limit %s: missing, not bytes, or not 1-31 "
                     "bytes long", name);
        return -1;
    }
    *len = PyBytes_GET_SIZE(value);
    memcpy(out, PyBytes_AS_STRING(value), *len);
    return 0;
}

int limits_from_dict(Limits *l, PyObject *dict) {
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "limits must be a dict (candle_core.native_contract)");
        return -1;
    }
    Py_ssize_t known = 0;
    for (const char *const *name = LIMIT_NAMES; *name; name++) known++;
    if (PyDict_GET_SIZE(dict) != known) {
        PyErr_Format(PyExc_ValueError, "the contract passes %zd limits, the native path knows "
                     "%zd: a limit was added or removed in candle_core without teaching "
                     "speed_layer/native", PyDict_GET_SIZE(dict), known);
        return -1;
    }
    int64_t v;
    /* a fixed-point value of max_whole_digits + decimals digits is read into 64 bits */
    if (limit_int(dict, "decimals", 0, 18, &v) < 0) return -1;
    l->decimals = (int)v;
    if (limit_int(dict, "max_whole_digits", 1, 19 - l->decimals, &v) < 0) return -1;
    l->max_whole_digits = (int)v;
    if (limit_int(dict, "max_trade_id", 0, INT64_MAX, &l->max_trade_id) < 0 ||
        limit_int(dict, "max_ts_us", 1, INT64_MAX / 2, &l->max_ts_us) < 0 ||
        limit_int(dict, "max_price_int", 1, INT64_MAX, &l->max_price_int) < 0 ||
        limit_int(dict, "max_size_int", 1, INT64_MAX, &l->max_size_int) < 0 ||
        limit_int(dict, "max_future_skew_us", 0, 1LL << 50, &l->max_future_skew_us) < 0)
        return -1;
    if (limit_int(dict, "max_venue_len", 0, 1 << 20, &v) < 0) return -1;
    l->max_venue_len = (int)v;
    if (limit_int(dict, "max_symbol_len", 1, 1 << 20, &v) < 0) return -1;
    l->max_symbol_len = (Py_ssize_t)v;
    if (limit_int(dict, "max_record_bytes", 64, PY_SSIZE_T_MAX, &v) < 0) return -1;
    l->max_record_bytes = (Py_ssize_t)v;
    if (limit_int(dict, "max_kind_bytes", 1, MAX_KIND_BYTES_CAP, &v) < 0) return -1;
    l->max_kind_bytes = (Py_ssize_t)v;
    if (limit_alphabet(dict, "symbol_first", l->symbol_first) < 0 ||
        limit_alphabet(dict, "symbol_rest", l->symbol_rest) < 0 ||
        limit_prefix(dict, "type_prefix", l->type_prefix, &l->type_prefix_len) < 0 ||
        limit_prefix(dict, "trade_prefix", l->trade_prefix, &l->trade_prefix_len) < 0)
        return -1;
    return 0;
}

/* candle_core.message_kind's byte rule: starts with the type prefix, not the trade one. */
int is_non_trade(const Limits *l, const char *bytes, Py_ssize_t size) {
    return size >= l->type_prefix_len && memcmp(bytes, l->type_prefix, l->type_prefix_len) == 0 &&
           !(size >= l->trade_prefix_len &&
             memcmp(bytes, l->trade_prefix, l->trade_prefix_len) == 0);
}

/* ---- tokens --------------------------------------------------------------------------- */

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

/* A non-negative JSON integer <= maximum, no leading zero, at most 19 digits. */
static inline int read_uint(const char **p, const char *end, int64_t maximum, int64_t *out) {
    const char *q = *p;
    if (q >= end || *q < '0' || *q > '9') return 0;
    if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9') return 0;
    uint64_t v = 0;
    int digits = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        if (++digits > 19) return 0; /* 19 digits < 2^64: no overflow below */
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
    }
    if (!token_ends(q, end) || v > (uint64_t)maximum) return 0;
    *out = (int64_t)v;
    *p = q;
    return 1;
}

/* candle_core.parsing._plain_fixed: "123.45" or 123.45, 1 to max_whole_digits whole
 * digits, 0 to decimals decimals, 0 < value <= maximum. A JSON number must also be valid
 * JSON (no leading zeros). */
static inline int read_fixed(const Limits *l, const char **p, const char *end, int64_t maximum,
                             int64_t *out) {
    const char *q = *p;
    int quoted = q < end && *q == '"';
    if (quoted) q++;
    const char *whole = q;
    uint64_t v = 0; /* at most 19 digits (limits_from_dict): < 2^64 */
    while (q < end && *q >= '0' && *q <= '9') {
        if (q - whole >= l->max_whole_digits) return 0;
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
    }
    Py_ssize_t whole_digits = q - whole;
    if (whole_digits < 1) return 0;
    if (!quoted && whole_digits > 1 && *whole == '0') return 0;
    int decimals = 0;
    if (q < end && *q == '.') {
        q++;
        while (q < end && *q >= '0' && *q <= '9') {
            if (++decimals > l->decimals) return 0;
            v = v * 10 + (uint64_t)(*q - '0');
            q++;
        }
        if (decimals == 0) return 0;
    }
    for (int i = decimals; i < l->decimals; i++) v *= 10;
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

/* ---- interned strings ------------------------------------------------------------------ */

static uint64_t fnv1a(const char *s, Py_ssize_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int intern_init(InternTable *x) {
    x->slots = PyMem_Calloc(INTERN_MIN_SLOTS, sizeof(Interned));
    if (x->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    x->cap = INTERN_MIN_SLOTS;
    x->n = 0;
    return 0;
}

void intern_free(InternTable *x) {
    if (x->slots == NULL) return;
    for (Py_ssize_t i = 0; i < x->cap; i++) Py_XDECREF(x->slots[i].str);
    PyMem_Free(x->slots);
    x->slots = NULL;
    x->cap = x->n = 0;
}

/* Twice the slots; on failure the table stays as it is (it is only a cache). */
static void intern_grow(InternTable *x) {
    Py_ssize_t cap = x->cap * 2;
    Interned *fresh = PyMem_Calloc((size_t)cap, sizeof(Interned));
    if (fresh == NULL) return;
    uint64_t mask = (uint64_t)cap - 1;
    for (Py_ssize_t k = 0; k < x->cap; k++) {
        if (x->slots[k].str == NULL) continue;
        uint64_t i = x->slots[k].hash & mask;
        while (fresh[i].str != NULL) i = (i + 1) & mask;
        fresh[i] = x->slots[k];
    }
    PyMem_Free(x->slots);
    x->slots = fresh;
    x->cap = cap;
}

/* The str for these ASCII bytes: from the cache, or made (and cached while the cache may
 * still grow). Returns a new reference. */
static PyObject *intern_str(InternTable *x, const char *s, Py_ssize_t n) {
    if (n > INTERN_MAX_LEN) return PyUnicode_FromStringAndSize(s, n);
    uint64_t h = fnv1a(s, n);
    uint64_t mask = (uint64_t)x->cap - 1;
    uint64_t i = h & mask;
    for (;; i = (i + 1) & mask) { /* never full: at most half the slots are used */
        Interned *e = &x->slots[i];
        if (e->str == NULL) break;
        if (e->hash == h && e->len == n && memcmp(e->bytes, s, n) == 0) {
            Py_INCREF(e->str);
            return e->str;
        }
    }
    PyObject *str = PyUnicode_FromStringAndSize(s, n);
    if (str == NULL) return NULL;
    if ((x->n + 1) * 2 > x->cap) {
        if (x->cap >= INTERN_MAX_SLOTS) return str;
        intern_grow(x);
        if ((x->n + 1) * 2 > x->cap) return str; /* could not grow */
        mask = (uint64_t)x->cap - 1;
        for (i = h & mask; x->slots[i].str != NULL; i = (i + 1) & mask) {
        }
    }
    Interned *e = &x->slots[i];
    e->hash = h;
    e->len = n;
    memcpy(e->bytes, s, n);
    e->str = Py_NewRef(str);
    x->n++;
    return str;
}

static inline int symbol_ok(const Limits *l, const char *s, Py_ssize_t n) {
    if (n < 1 || n > l->max_symbol_len) return 0;
    if (!l->symbol_first[(unsigned char)s[0]]) return 0;
    for (Py_ssize_t i = 1; i < n; i++)
        if (!l->symbol_rest[(unsigned char)s[i]]) return 0;
    return 1;
}

/* ---- the trade ------------------------------------------------------------------------- */

enum { F_SYMBOL = 1, F_ID = 2, F_TS = 4, F_PRICE = 8, F_SIZE = 16, F_VENUE = 32, F_SIDE = 64,
       F_OTHER = 128, F_REQUIRED = 31 };

void parsed_clear(Parsed *t) {
    Py_CLEAR(t->symbol);
    Py_CLEAR(t->venue);
    Py_CLEAR(t->side);
}

/*
 * Parse one value in the canonical shape into *t. Returns PARSE_TRADE (t holds new
 * references), PARSE_FUTURE (the same, but the trade is stamped too far ahead of its
 * Kafka timestamp), PARSE_NOT_NATIVE when the value is not in the shape or would be
 * rejected for another reason (nothing held), PARSE_ERROR on a Python error.
 */
int parse_trade(Scanner *sc, const char *p, Py_ssize_t n, int64_t kafka_ts_us, Parsed *t) {
    const Limits *l = &sc->limits;
    const char *end = p + n;
    memset(t, 0, sizeof(*t));
    if (n > l->max_record_bytes) return 0;
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
            /* a key the trade does not have: ignored by the contract, and here, when its
             * value is a scalar (a repeated unknown key is ignored either way) */
            if (!skip_scalar(&p, end)) goto reject;
            field = F_OTHER;
        }
        if (field != F_OTHER) {
            if (fields & field) goto reject; /* a repeated field: Python rejects it */
            fields |= field;
        }
        const char *s;
        Py_ssize_t slen;
        switch (field) {
        case F_SYMBOL:
            if (*p != '"' || !read_plain_string(&p, end, &s, &slen) || !symbol_ok(l, s, slen))
                goto reject;
            t->symbol = intern_str(&sc->symbols, s, slen);
            if (t->symbol == NULL) goto error;
            t->symhash = PyObject_Hash(t->symbol);
            if (t->symhash == -1) goto error;
            break;
        case F_ID:
            if (!read_uint(&p, end, l->max_trade_id, &t->trade_id)) goto reject;
            break;
        case F_TS:
            if (!read_uint(&p, end, l->max_ts_us - 1, &t->ts)) goto reject;
            break;
        case F_PRICE:
            if (!read_fixed(l, &p, end, l->max_price_int, &t->price)) goto reject;
            break;
        case F_SIZE:
            if (!read_fixed(l, &p, end, l->max_size_int, &t->size)) goto reject;
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
                if (slen > l->max_venue_len) goto reject;
                t->venue = intern_str(&sc->venues, s, slen);
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
    if (t->ts > kafka_ts_us + l->max_future_skew_us) return PARSE_FUTURE;
    return PARSE_TRADE;
reject:
    parsed_clear(t);
    return 0;
error:
    parsed_clear(t);
    return -1;
}
