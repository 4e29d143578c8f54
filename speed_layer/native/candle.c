/*
 * Candles in C: the fold of a trade, the merge of two folds (a rollup), VWAP, and the
 * candle's JSON bytes, so that a closed window becomes the value of a `candles` message
 * without a Python object in between.
 *
 * The rules are candle_core's (candle.py: CandleBuilder.add, merge, vwap_of; fixed_point.py:
 * round_half_up_div, format_fixed); the wire layout (field names, order, which are decimal
 * strings at which scale) arrives from candle_core.codec.native_candle_wire() when a table
 * is built. tests/speed_layer/test_native_candles.py holds every byte to encode_candle.
 */
#include "hotpath.h"

#include <string.h>

/* CandleBuilder.add */
void fold_trade(Fold *f, int64_t price, int64_t size, int64_t ts, int64_t id) {
    if (f->count == 0) {
        f->open = f->high = f->low = f->close = price;
        f->first_ts = f->last_ts = ts;
        f->first_id = f->last_id = id;
    } else {
        if (price > f->high) f->high = price;
        else if (price < f->low) f->low = price;
        if (ts < f->first_ts || (ts == f->first_ts && id < f->first_id)) {
            f->open = price;
            f->first_ts = ts;
            f->first_id = id;
        }
        if (ts > f->last_ts || (ts == f->last_ts && id > f->last_id)) {
            f->close = price;
            f->last_ts = ts;
            f->last_id = id;
        }
    }
    f->count++;
    f->volume += (u128)size;
    u128 product = (u128)price * (u128)size;
    u128 before = f->notional_lo;
    f->notional_lo += product;
    if (f->notional_lo < before) f->notional_hi++;
}

void fold_seen(Fold *f, const Seen *slots, Py_ssize_t n) {
    *f = (Fold){0};
    for (Py_ssize_t i = 0; i < n; i++)
        if (slots[i].id >= 0)
            fold_trade(f, slots[i].price, slots[i].size, slots[i].ts, slots[i].id);
}

/* candle.merge, into `into` (an empty fold takes `from` whole) */
void fold_merge(Fold *into, const Fold *from) {
    if (from->count == 0) return;
    if (into->count == 0) {
        *into = *from;
        return;
    }
    if (from->first_ts < into->first_ts ||
        (from->first_ts == into->first_ts && from->first_id < into->first_id)) {
        into->open = from->open;
        into->first_ts = from->first_ts;
        into->first_id = from->first_id;
    }
    if (from->last_ts > into->last_ts ||
        (from->last_ts == into->last_ts && from->last_id > into->last_id)) {
        into->close = from->close;
        into->last_ts = from->last_ts;
        into->last_id = from->last_id;
    }
    if (from->high > into->high) into->high = from->high;
    if (from->low < into->low) into->low = from->low;
    into->count += from->count;
    into->volume += from->volume;
    u128 before = into->notional_lo;
    into->notional_lo += from->notional_lo;
    into->notional_hi += from->notional_hi + (into->notional_lo < before);
}

/* round_half_up_div(notional, volume): q + (2r >= volume); notional is 192 bits */
static u128 vwap_of(const Fold *f) {
    u128 v = f->volume;
    if (v == 0) return 0;
    /* Every trade at one price (most candles on a quiet market hold one trade): the
     * notional is that price times the volume, so the quotient is the price, exactly. */
    if (f->high == f->low && f->high >= 0) return (u128)f->high;
    u128 q, r;
    if (f->notional_hi == 0 && (f->notional_lo >> 64) == 0 && (v >> 64) == 0) {
        uint64_t n64 = (uint64_t)f->notional_lo, v64 = (uint64_t)v; /* a 64-bit division */
        q = n64 / v64;
        r = n64 - (uint64_t)q * v64;
    } else if (f->notional_hi == 0) {
        q = f->notional_lo / v;
        r = f->notional_lo - q * v; /* one division, not two */
    } else { /* binary long division, 192 bits by 128: only for sums beyond 2^128 */
        q = 0;
        r = 0;
        for (int bit = 191; bit >= 0; bit--) {
            u128 top = r >> 127;
            uint64_t b = bit >= 128 ? (f->notional_hi >> (bit - 128)) & 1
                                    : (uint64_t)((f->notional_lo >> bit) & 1);
            r = (r << 1) | b;
            q <<= 1;
            if (top || r >= v) {
                r -= v;
                q |= 1;
            }
        }
    }
    return r >= v - r ? q + 1 : q;
}

/* ---- decimal text --------------------------------------------------------------------- */

#define TEN19 10000000000000000000ULL

static const char DIGIT_PAIRS[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes v's digits backwards ending at `end`, two a division; `width` digits at least
 * (zero-padded); returns the new start. */
static char *put_digits_back(char *end, uint64_t v, int width) {
    char *p = end;
    while (v >= 100) {
        uint64_t pair = v % 100;
        v /= 100;
        p -= 2;
        memcpy(p, DIGIT_PAIRS + 2 * pair, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, DIGIT_PAIRS + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    while (end - p < width) *--p = '0';
    return p;
}

/* The decimal digits of hi * 2^128 + lo, most significant first; returns the length.
 *
 * Base 10^19 chunks, least significant first, each from one division of the remaining
 * 64-bit limbs by 10^19. A limb step whose remainder so far is 0 is a 64-bit division
 * (a multiplication, by the constant); the others divide 128 bits by 64 with a quotient
 * below 2^64, a libgcc call of ~40 ns. A notional beyond 2^64 (common: price x size at
 * twice the decimal places) takes one such call, not the three per chunk of a plain
 * long division. */
static int u192_digits(uint64_t hi, u128 lo, char *out) {
    char text[64];
    char *end = text + sizeof(text), *p = end;
    uint64_t limbs[3] = {hi, (uint64_t)(lo >> 64), (uint64_t)lo};
    int first = 0;
    while (first < 2 && limbs[first] == 0) first++;
    while (first < 2) { /* more than 64 bits left */
        uint64_t rem = 0;
        for (int i = first; i < 3; i++) {
            if (rem == 0) {
                rem = limbs[i] % TEN19;
                limbs[i] /= TEN19;
            } else {
                u128 cur = ((u128)rem << 64) | limbs[i];
                uint64_t q = (uint64_t)(cur / TEN19);
                rem = limbs[i] - q * TEN19; /* mod 2^64: the true remainder is below 10^19 */
                limbs[i] = q;
            }
        }
        p = put_digits_back(p, rem, 19);
        while (first < 2 && limbs[first] == 0) first++;
    }
    p = put_digits_back(p, limbs[2], 0); /* not 0 after a chunk: the value was >= 2^64 */
    int n = (int)(end - p);
    memcpy(out, p, n);
    return n;
}

static const uint64_t POW10[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, TEN19};

/* v's decimal digits at p, without an intermediate buffer; returns their end */
static char *put_u64(char *p, uint64_t v) {
    int n = 1;
    while (n < 20 && v >= POW10[n]) n++;
    put_digits_back(p + n, v, n);
    return p + n;
}

/* format_fixed: the shortest exact decimal text of a non-negative fixed-point value */
static char *put_fixed(char *p, uint64_t hi, u128 lo, int decimals) {
    if (hi == 0 && (lo >> 64) == 0 && decimals < 20) { /* most values: 64 bits, no division
                                                        * beyond 64 bits, no copy */
        uint64_t v = (uint64_t)lo, scale = POW10[decimals];
        uint64_t whole = v / scale, fraction = v % scale;
        p = put_u64(p, whole);
        if (fraction == 0) return p;
        int width = decimals;
        while (fraction % 10 == 0) {
            fraction /= 10;
            width--;
        }
        *p++ = '.';
        put_digits_back(p + width, fraction, width);
        return p + width;
    }
    char digits[64];
    int n = u192_digits(hi, lo, digits);
    if (n <= decimals) { /* 0.000ddd */
        int pad = decimals - n;
        int end = n;
        while (end > 0 && digits[end - 1] == '0') end--;
        *p++ = '0';
        if (end == 0) return p;
        *p++ = '.';
        for (int i = 0; i < pad; i++) *p++ = '0';
        memcpy(p, digits, end);
        return p + end;
    }
    int whole = n - decimals;
    memcpy(p, digits, whole);
    p += whole;
    int end = n;
    while (end > whole && digits[end - 1] == '0') end--;
    if (end > whole) {
        *p++ = '.';
        memcpy(p, digits + whole, end - whole);
        p += end - whole;
    }
    return p;
}

static char *put_int(char *p, int64_t v) {
    if (v < 0) {
        *p++ = '-';
        return put_fixed(p, 0, (u128)(-(v + 1)) + 1, 0);
    }
    return put_fixed(p, 0, (u128)v, 0);
}

char *put_decimal(char *p, int64_t v) {
    return put_int(p, v);
}

/* ---- the wire layout ---------------------------------------------------------------- */

static const char *const WIRE_NAMES[W_FIELDS] = {
    "symbol", "interval", "interval_us", "window_start_us", "window_end_us", "open", "high",
    "low", "close", "volume", "notional", "vwap", "trade_count", "first_ts_us", "last_ts_us",
    "first_trade_id", "last_trade_id"};

/* candle_core.codec.native_candle_wire(): [(name, "str" | "int" | decimals), ...], then
 * (revision name, "revision") and (key separator, "key_separator") */
int candle_wire_from_list(CandleWire *w, PyObject *list) {
    if (!PyList_Check(list) || PyList_GET_SIZE(list) != W_FIELDS + 2) {
        PyErr_Format(PyExc_ValueError, "the candle wire layout must list the %d fields the "
                     "native encoder knows, then the revision field and the key separator "
                     "(candle_core.codec.native_candle_wire)", W_FIELDS);
        return -1;
    }
    const char *revision_name, *revision_kind, *separator, *separator_kind;
    if (!PyArg_ParseTuple(PyList_GET_ITEM(list, W_FIELDS), "ss", &revision_name,
                          &revision_kind) ||
        !PyArg_ParseTuple(PyList_GET_ITEM(list, W_FIELDS + 1), "ss", &separator,
                          &separator_kind) ||
        strcmp(revision_kind, "revision") != 0 || strcmp(separator_kind, "key_separator") != 0 ||
        strlen(separator) != 1 || strlen(revision_name) > 30) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "the candle wire layout must end with (name, "
                        "\"revision\") and a one-character (separator, \"key_separator\")");
        return -1;
    }
    w->revision_len = snprintf(w->revision_json, sizeof(w->revision_json), ",\"%s\":",
                               revision_name);
    w->key_separator = separator[0];
    int seen[W_FIELDS] = {0};
    for (Py_ssize_t i = 0; i < W_FIELDS; i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        const char *name;
        PyObject *kind;
        if (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "sO", &name, &kind)) {
            PyErr_SetString(PyExc_ValueError, "wire fields are (name, kind) pairs");
            return -1;
        }
        int field = -1;
        for (int f = 0; f < W_FIELDS; f++)
            if (strcmp(WIRE_NAMES[f], name) == 0) field = f;
        if (field < 0 || seen[field]) {
            PyErr_Format(PyExc_ValueError, "candle field %s is unknown to the native encoder "
                         "(or given twice): teach speed_layer/native/candle.c", name);
            return -1;
        }
        seen[field] = 1;
        int decimals;
        int is_text = field == W_SYMBOL || field == W_INTERVAL;
        if (PyUnicode_Check(kind)) {
            const char *k = PyUnicode_AsUTF8(kind);
            if (k == NULL) return -1;
            if (strcmp(k, "str") == 0 && is_text) decimals = DEC_TEXT;
            else if (strcmp(k, "int") == 0 && !is_text) decimals = DEC_INT;
            else decimals = -99;
        } else if (PyLong_Check(kind) && !is_text) {
            decimals = (int)PyLong_AsLong(kind);
            if (decimals < 0 || decimals > 40) decimals = -99;
        } else {
            decimals = -99;
        }
        if (decimals == -99) {
            PyErr_Format(PyExc_ValueError, "candle field %s: kind not supported natively", name);
            return -1;
        }
        w->field[i] = field;
        w->decimals[i] = decimals;
        w->key_len[i] = snprintf(w->key_json[i], sizeof(w->key_json[i]), "%s\"%s\":",
                                 i == 0 ? "{" : ",", name);
    }
    return 0;
}

#define MEMO_NUMBERS 4

static int plain_json_text(const char *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) return 0;
    }
    return 1;
}

/*
 * The candle's JSON, as candle_core.codec.encode_candle writes it, into buffer (at least
 * CANDLE_JSON_MAX bytes); its length, or -1 with an exception set (a symbol that would
 * need JSON escapes, which the contract's symbols never do).
 */
Py_ssize_t write_candle_json(const CandleWire *w, PyObject *symbol, const char *label,
                             int64_t interval_us, int64_t start, const Fold *f,
                             int64_t revision, char *buffer) {
    Py_ssize_t symbol_len;
    const char *symbol_utf8 = PyUnicode_AsUTF8AndSize(symbol, &symbol_len);
    if (symbol_utf8 == NULL) return -1;
    if (symbol_len > 256 || !plain_json_text(symbol_utf8, symbol_len)) {
        PyErr_Format(PyExc_ValueError, "symbol %R needs JSON escapes", symbol);
        return -1;
    }
    char *p = buffer;
    u128 vwap = vwap_of(f);
    /* The texts of the last numbers written: a candle of one trade (most, on a quiet
     * market) repeats its price four times and in its VWAP, its time and its id twice,
     * and each repeat is copied instead of formatted again. */
    struct {
        u128 value;
        uint64_t hi;
        int decimals;
        const char *text;
        int len;
    } written[MEMO_NUMBERS];
    int n_written = 0;
    for (int i = 0; i < W_FIELDS; i++) {
        memcpy(p, w->key_json[i], w->key_len[i]);
        p += w->key_len[i];
        int64_t value = 0;
        uint64_t hi = 0;
        u128 wide = 0;
        int is_wide = 0;
        switch (w->field[i]) {
        case W_SYMBOL:
            *p++ = '"';
            memcpy(p, symbol_utf8, symbol_len);
            p += symbol_len;
            *p++ = '"';
            continue;
        case W_INTERVAL: {
            size_t n = strlen(label);
            *p++ = '"';
            memcpy(p, label, n);
            p += n;
            *p++ = '"';
            continue;
        }
        case W_INTERVAL_US: value = interval_us; break;
        case W_START: value = start; break;
        case W_END: value = start + interval_us; break;
        case W_OPEN: value = f->open; break;
        case W_HIGH: value = f->high; break;
        case W_LOW: value = f->low; break;
        case W_CLOSE: value = f->close; break;
        case W_VOLUME: wide = f->volume; is_wide = 1; break;
        case W_NOTIONAL: wide = f->notional_lo; hi = f->notional_hi; is_wide = 1; break;
        case W_VWAP: wide = vwap; is_wide = 1; break;
        case W_COUNT: value = f->count; break;
        case W_FIRST_TS: value = f->first_ts; break;
        case W_LAST_TS: value = f->last_ts; break;
        case W_FIRST_ID: value = f->first_id; break;
        case W_LAST_ID: value = f->last_id; break;
        }
        int decimals = w->decimals[i];
        if (!is_wide && value < 0) { /* an integer field only; not memoised */
            if (decimals != DEC_INT) { /* fixed-point values of candles are never negative */
                PyErr_SetString(PyExc_ValueError, "a negative fixed-point candle value");
                return -1;
            }
            p = put_int(p, value);
            continue;
        }
        if (decimals != DEC_INT) *p++ = '"';
        if (!is_wide) wide = (u128)value;
        int k = 0;
        while (k < n_written && (written[k].value != wide || written[k].hi != hi ||
                                 written[k].decimals != decimals))
            k++;
        if (k < n_written) {
            memcpy(p, written[k].text, written[k].len);
            p += written[k].len;
        } else {
            char *text = p;
            p = put_fixed(p, hi, wide, decimals == DEC_INT ? 0 : decimals);
            int slot = n_written < MEMO_NUMBERS ? n_written++ : i % MEMO_NUMBERS;
            written[slot].value = wide;
            written[slot].hi = hi;
            written[slot].decimals = decimals;
            written[slot].text = text;
            written[slot].len = (int)(p - text);
        }
        if (decimals != DEC_INT) *p++ = '"';
    }
    if (revision > 0) {
        memcpy(p, w->revision_json, w->revision_len);
        p += w->revision_len;
        p = put_int(p, revision);
    }
    *p++ = '}';
    return p - buffer;
}

/* The candle's message key, as candle_core.codec.candle_message_key writes it, into
 * buffer (at least CANDLE_KEY_MAX bytes); its length, or -1 with an exception set. */
Py_ssize_t write_candle_key(const CandleWire *w, PyObject *symbol, const char *label,
                            int64_t start, char *buffer) {
    Py_ssize_t symbol_len;
    const char *symbol_utf8 = PyUnicode_AsUTF8AndSize(symbol, &symbol_len);
    if (symbol_utf8 == NULL) return -1;
    size_t label_len = strlen(label);
    if (symbol_len > 256 || label_len > 64) {
        PyErr_SetString(PyExc_ValueError, "a symbol or label too long for a candle key");
        return -1;
    }
    char *p = buffer;
    memcpy(p, symbol_utf8, symbol_len);
    p += symbol_len;
    *p++ = w->key_separator;
    memcpy(p, label, label_len);
    p += label_len;
    *p++ = w->key_separator;
    p = put_int(p, start);
    return p - buffer;
}
