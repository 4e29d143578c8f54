/*
 * Scanner.scan walks a consume() batch and handles the common case of every message: a
 * non-trade (the byte rule of candle_core/message_kind.py) is counted and skipped; a trade
 * in the canonical shape (parser.c) is folded into its open 1 s window. It stops and hands
 * the message back to Python (SLOW) for anything else: a consumer error, a value outside
 * the shape, anything the contract would reject, and every trade whose outcome is not
 * "applied" (late, duplicate, conflict). One rejection it makes itself, because a flood of
 * them is what a producer with a clock ahead sends: a trade in the canonical shape that is
 * only too far ahead of its Kafka timestamp becomes a dead letter (value, key, headers)
 * built exactly as the Python path builds it; Python produces them, in order, before it
 * handles the next stop. It also stops (CLOSE) as soon as a trade moves
 * the watermark to a window end, so Python closes windows exactly where a per-record
 * engine would: a batched scan cannot change which trades are late.
 *
 * Message accessors are called through their method descriptors' C functions (public
 * CPython API: PyMethodDescrObject / PyMethodDef), never through confluent-kafka's private
 * struct layout.
 */
#include "hotpath.h"

#include <stdio.h>
#include <string.h>

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

/* str(n).encode(), as the Python path writes coordinates into headers */
static PyObject *decimal_bytes(long long n) {
    char text[32];
    int len = snprintf(text, sizeof(text), "%lld", n);
    return PyBytes_FromStringAndSize(text, len);
}

static inline PyObject *pair(PyObject *name, PyObject *value) {
    if (value == NULL) return NULL;
    PyObject *tuple = PyTuple_New(2);
    if (tuple == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    PyTuple_SET_ITEM(tuple, 0, Py_NewRef(name));
    PyTuple_SET_ITEM(tuple, 1, value);
    return tuple;
}

/* candle_core.parsing.native_dead_letters(): header names, reason, detail template. */
static int dead_letters_from_dict(Scanner *self, PyObject *dict) {
    PyObject *names = PyDict_GetItemString(dict, "header_names");
    PyObject *reason = PyDict_GetItemString(dict, "future_reason");
    PyObject *detail = PyDict_GetItemString(dict, "future_detail");
    if (PyDict_GET_SIZE(dict) != 3 || names == NULL || !PyTuple_Check(names) ||
        PyTuple_GET_SIZE(names) != DLQ_HEADERS || reason == NULL || !PyUnicode_Check(reason) ||
        detail == NULL || !PyTuple_Check(detail) || PyTuple_GET_SIZE(detail) != 2 ||
        !PyUnicode_Check(PyTuple_GET_ITEM(detail, 0)) ||
        !PyUnicode_Check(PyTuple_GET_ITEM(detail, 1))) {
        PyErr_SetString(PyExc_ValueError, "dead_letters must be candle_core.parsing."
                        "native_dead_letters(): 6 header names, a reason, a detail template");
        return -1;
    }
    for (int i = 0; i < DLQ_HEADERS; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "DLQ header names must be str");
            return -1;
        }
        Py_INCREF(name);
        Py_XSETREF(self->header_names[i], name);
    }
    Py_XSETREF(self->future_reason, PyUnicode_AsUTF8String(reason));
    if (self->future_reason == NULL) return -1;
    Py_XSETREF(self->reason_pair, pair(self->header_names[0], Py_NewRef(self->future_reason)));
    if (self->reason_pair == NULL) return -1;
    Py_INCREF(reason);
    Py_XSETREF(self->future_reason_str, reason);
    const char *parts[2];
    for (int i = 0; i < 2; i++) {
        Py_ssize_t len;
        parts[i] = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(detail, i), &len);
        if (parts[i] == NULL) return -1;
        if (len >= 100) {
            PyErr_SetString(PyExc_ValueError, "the future detail's text is too long");
            return -1;
        }
    }
    strcpy(self->future_prefix_utf8, parts[0]);
    strcpy(self->future_suffix_utf8, parts[1]);
    if (self->rejects == NULL && (self->rejects = PyList_New(0)) == NULL) return -1;
    return 0;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"message_type", "limits", "dead_letters", NULL};
    PyObject *type, *limits, *dead_letters;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!", kwlist, &PyType_Type, &type,
                                     &PyDict_Type, &limits, &PyDict_Type, &dead_letters))
        return -1;
    if (limits_from_dict(&self->limits, limits) < 0) return -1;
    if (dead_letters_from_dict(self, dead_letters) < 0) return -1;
    Py_INCREF(type);
    Py_XSETREF(self->message_type, (PyTypeObject *)type);
    if (!(self->m_error = method_of(self->message_type, "error"))) return -1;
    if (!(self->m_partition = method_of(self->message_type, "partition"))) return -1;
    if (!(self->m_offset = method_of(self->message_type, "offset"))) return -1;
    if (!(self->m_value = method_of(self->message_type, "value"))) return -1;
    if (!(self->m_timestamp = method_of(self->message_type, "timestamp"))) return -1;
    if (!(self->m_key = method_of(self->message_type, "key"))) return -1;
    if (!(self->m_topic = method_of(self->message_type, "topic"))) return -1;
    if (self->symbols.slots == NULL && intern_init(&self->symbols) < 0) return -1;
    if (self->venues.slots == NULL && intern_init(&self->venues) < 0) return -1;
    if (self->buy == NULL) {
        self->buy = PyUnicode_InternFromString("buy");
        self->sell = PyUnicode_InternFromString("sell");
        if (self->buy == NULL || self->sell == NULL) return -1;
    }
    return 0;
}

static void Scanner_dealloc(Scanner *self) {
    Py_XDECREF(self->message_type);
    intern_free(&self->symbols);
    intern_free(&self->venues);
    Py_XDECREF(self->buy);
    Py_XDECREF(self->sell);
    Py_XDECREF(self->rejects);
    Py_XDECREF(self->sink);
    for (int i = 0; i < DLQ_HEADERS; i++) Py_XDECREF(self->header_names[i]);
    Py_XDECREF(self->future_reason);
    Py_XDECREF(self->future_reason_str);
    Py_XDECREF(self->last_topic);
    Py_XDECREF(self->topic_pair);
    Py_XDECREF(self->reason_pair);
    for (int i = 0; i < PARTITION_PAIRS; i++) Py_XDECREF(self->partition_pairs[i]);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Count a non-trade message; 0 when Python must do it (a kind that is not plain ASCII,
 * or more distinct kinds than the table holds). */
static int count_kind(Scanner *sc, const char *value, Py_ssize_t n) {
    const Limits *l = &sc->limits;
    const char *kind = value + l->type_prefix_len;
    Py_ssize_t limit = n - l->type_prefix_len;
    if (limit > l->max_kind_bytes + 1) limit = l->max_kind_bytes + 1;
    const char *quote = limit > 0 ? memchr(kind, '"', limit) : NULL;
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

/* The (name, value) header pairs that repeat (reason, topic, partition) are built once
 * and shared by every dead letter: tuples are immutable. */
static PyObject *topic_pair(Scanner *sc, PyObject *m) {
    PyObject *topic = sc->m_topic(m, NULL);
    if (topic == NULL) return NULL;
    if (sc->topic_pair == NULL || !PyUnicode_Check(topic) ||
        PyUnicode_Compare(topic, sc->last_topic) != 0) {
        PyObject *encoded = PyUnicode_Check(topic) ? PyUnicode_AsUTF8String(topic)
                                                   : PyBytes_FromStringAndSize("", 0);
        PyObject *made = pair(sc->header_names[2], encoded);
        if (made == NULL) {
            Py_DECREF(topic);
            return NULL;
        }
        Py_XSETREF(sc->last_topic, Py_NewRef(topic));
        Py_XSETREF(sc->topic_pair, made);
        for (int i = 0; i < PARTITION_PAIRS; i++) Py_CLEAR(sc->partition_pairs[i]);
    }
    Py_DECREF(topic);
    return Py_NewRef(sc->topic_pair);
}

static PyObject *partition_pair(Scanner *sc, long number) {
    if (number < 0 || number >= PARTITION_PAIRS)
        return pair(sc->header_names[3], decimal_bytes(number));
    if (sc->partition_pairs[number] == NULL) {
        sc->partition_pairs[number] = pair(sc->header_names[3], decimal_bytes(number));
        if (sc->partition_pairs[number] == NULL) return NULL;
    }
    return Py_NewRef(sc->partition_pairs[number]);
}

/*
 * A future-stamped trade's dead letter, as candle_core.side_outputs.dlq_headers and the
 * parser's FUTURE_DETAIL make it in Python: (value, key, headers), appended to rejects.
 */
/*
 * The same dead letter produced straight into the scanner's Sink, without a Python object:
 * 1 when done; 0 when it must take the Python path (no sink, dead letters already waiting
 * there, whose order must be kept, or the producer refused: a full queue, which Python's
 * path waits out, or an error, which it raises); -1 on a Python error.
 */
static int sink_future_reject(Scanner *sc, PyObject *m, PyObject *value, long number,
                              long long offset, long long stamp_ms, const char *detail,
                              int detail_len) {
    if (sc->sink == NULL || PyList_GET_SIZE(sc->rejects) != 0) return 0;
    PyObject *key = sc->m_key(m, NULL);
    if (key == NULL) return -1;
    PyObject *topic = sc->m_topic(m, NULL);
    if (topic == NULL) {
        Py_DECREF(key);
        return -1;
    }
    const char *names[DLQ_HEADERS], *values[DLQ_HEADERS], *topic_utf8 = "";
    Py_ssize_t name_lens[DLQ_HEADERS], value_lens[DLQ_HEADERS], topic_len = 0;
    char numbers[3][24];
    int done = -1;
    if (PyUnicode_Check(topic) && (topic_utf8 = PyUnicode_AsUTF8AndSize(topic, &topic_len)) == NULL)
        goto out;
    for (int i = 0; i < DLQ_HEADERS; i++)
        if ((names[i] = PyUnicode_AsUTF8AndSize(sc->header_names[i], &name_lens[i])) == NULL)
            goto out;
    values[0] = PyBytes_AS_STRING(sc->future_reason);
    value_lens[0] = PyBytes_GET_SIZE(sc->future_reason);
    values[1] = detail;
    value_lens[1] = detail_len;
    values[2] = topic_utf8;
    value_lens[2] = topic_len;
    long long coordinates[3] = {number, offset, stamp_ms};
    for (int i = 0; i < 3; i++) {
        values[3 + i] = numbers[i];
        value_lens[3 + i] = put_decimal(numbers[i], coordinates[i]) - numbers[i];
    }
    int keyed = PyBytes_Check(key);
    done = sink_dead_letter(sc->sink, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value),
                            keyed ? PyBytes_AS_STRING(key) : NULL,
                            keyed ? PyBytes_GET_SIZE(key) : 0, names, name_lens, values,
                            value_lens, DLQ_HEADERS) == 0;
out:
    Py_DECREF(topic);
    Py_DECREF(key);
    return done;
}

static int add_future_reject(Scanner *sc, PyObject *m, PyObject *value, long number,
                             long long offset, long long stamp_ms, int64_t ahead_us) {
    char detail[256]; /* the prefix and the suffix are at most 99 bytes each */
    char *end = stpcpy(detail, sc->future_prefix_utf8);
    end = stpcpy(put_decimal(end, ahead_us / 1000), sc->future_suffix_utf8);
    int detail_len = (int)(end - detail);
    int sunk = sink_future_reject(sc, m, value, number, offset, stamp_ms, detail, detail_len);
    if (sunk != 0) {
        if (sunk > 0) sc->dead++;
        return sunk > 0 ? 0 : -1;
    }
    PyObject *key = sc->m_key(m, NULL);
    PyObject *headers = PyList_New(DLQ_HEADERS);
    PyObject *items[DLQ_HEADERS] = {
        Py_NewRef(sc->reason_pair),
        pair(sc->header_names[1], PyBytes_FromStringAndSize(detail, detail_len)),
        topic_pair(sc, m), partition_pair(sc, number),
        pair(sc->header_names[4], decimal_bytes(offset)),
        pair(sc->header_names[5], decimal_bytes(stamp_ms))};
    int ok = key != NULL && headers != NULL;
    for (int i = 0; i < DLQ_HEADERS; i++) ok = ok && items[i] != NULL;
    if (!ok) {
        for (int i = 0; i < DLQ_HEADERS; i++) Py_XDECREF(items[i]);
        Py_XDECREF(key);
        Py_XDECREF(headers);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "could not build a dead letter");
        return -1;
    }
    for (int i = 0; i < DLQ_HEADERS; i++) PyList_SET_ITEM(headers, i, items[i]);
    PyObject *entry = PyTuple_New(3);
    if (entry == NULL) {
        Py_DECREF(key);
        Py_DECREF(headers);
        return -1;
    }
    PyTuple_SET_ITEM(entry, 0, Py_NewRef(value));
    PyTuple_SET_ITEM(entry, 1, key);
    PyTuple_SET_ITEM(entry, 2, headers);
    int appended = PyList_Append(sc->rejects, entry);
    Py_DECREF(entry);
    if (appended < 0) return -1;
    sc->dead++;
    return 0;
}

static PyObject *stop(Py_ssize_t index, int why, long partition) {
    return Py_BuildValue("(nil)", index, why, partition);
}

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

/*
 * scan(messages, start, cursors, now) -> (index, why, partition)
 *
 * why = END (0): every message from start on was handled; index = len(messages).
 * why = SLOW (1): messages[index] is for Python (nothing of it was applied or counted).
 * why = CLOSE (2): messages[index - 1] moved partition's watermark to a window end;
 *                  Python closes what is due, then scans on from index.
 */
static PyObject *Scanner_scan(Scanner *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_Check(args[0]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "scan(messages: list, start: int, cursors: dict, now)");
        return NULL;
    }
    PyObject *messages = args[0], *cursors = args[2];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    double now = PyFloat_AsDouble(args[3]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(messages);
    int looked_up = 0;
    long last_number = -1;
    Cursor *cursor = NULL;
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
            PyObject *found = PyDict_GetItemWithError(cursors, part); /* the int is the key */
            Py_DECREF(part);
            if (found == NULL && PyErr_Occurred()) return NULL;
            if (found != NULL && !Py_IS_TYPE(found, &CursorType)) {
                PyErr_SetString(PyExc_TypeError, "cursors must map partition -> Cursor");
                return NULL;
            }
            cursor = (Cursor *)found;
            looked_up = 1;
            last_number = number;
        } else {
            Py_DECREF(part);
        }
        if (cursor == NULL) continue; /* revoked while this batch was in flight */
        WindowTable *table = cursor->table;
        PyObject *off = self->m_offset(m, NULL);
        if (off == NULL) return NULL;
        long long offset = 0;
        int read = read_int64(off, &offset);
        Py_DECREF(off);
        if (read < 0) return NULL;
        if (read == 0 || offset < 0) return stop(i, STOP_SLOW, -1);
        int replaying = offset < cursor->replay_until;
        PyObject *value = self->m_value(m, NULL);
        if (value == NULL) return NULL;
        if (!PyBytes_Check(value)) {
            Py_DECREF(value);
            return stop(i, STOP_SLOW, -1);
        }
        const char *bytes = PyBytes_AS_STRING(value);
        Py_ssize_t size = PyBytes_GET_SIZE(value);
        if (is_non_trade(&self->limits, bytes, size)) { /* an order or quote: never decoded */
            if (!replaying) {
                if (!count_kind(self, bytes, size)) {
                    Py_DECREF(value);
                    return stop(i, STOP_SLOW, -1);
                }
                self->consumed++;
            }
            cursor->position = offset + 1;
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
        if (ok == PARSE_FUTURE) { /* valid but for its stamp: a dead letter, made here */
            int64_t ahead_us = t.ts - stamp_ms * 1000;
            parsed_clear(&t);
            int failed = !replaying &&
                         add_future_reject(self, m, value, number, offset, stamp_ms, ahead_us) < 0;
            Py_DECREF(value);
            if (failed) return NULL;
            if (!replaying) self->consumed++;
            cursor->position = offset + 1;
            continue;
        }
        Py_DECREF(value);
        if (ok < 0) return NULL;
        if (!ok) return stop(i, STOP_SLOW, -1);
        int code = table_add(table, &t, offset, replaying ? ADD_REPLAY : ADD_SCAN);
        parsed_clear(&t);
        if (code < 0) return NULL;
        if (!replaying) {
            /* late, duplicate, conflict: nothing changed; Python decides and reports */
            if ((code & ~CLOSE_DUE) != OUT_APPLIED) return stop(i, STOP_SLOW, -1);
            self->consumed++;
            self->valid++;
            cursor->last_seen = now;
        }
        cursor->position = offset + 1;
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
    PyObject *dead = PyDict_New();
    if (dead == NULL) {
        Py_DECREF(kinds);
        return NULL;
    }
    if (self->dead) {
        PyObject *count = PyLong_FromLongLong(self->dead);
        if (count == NULL || PyDict_SetItem(dead, self->future_reason_str, count) < 0) {
            Py_XDECREF(count);
            Py_DECREF(kinds);
            Py_DECREF(dead);
            return NULL;
        }
        Py_DECREF(count);
    }
    PyObject *out = Py_BuildValue("(LLNN)", self->consumed, self->valid, kinds, dead);
    if (out == NULL) return NULL;
    self->consumed = self->valid = self->dead = 0;
    self->n_kinds = 0;
    return out;
}

static PyObject *Scanner_use_sink(Scanner *self, PyObject *sink) {
    if (sink_from_arg(sink, &sink) < 0) return NULL;
    Py_XSETREF(self->sink, Py_XNewRef(sink));
    Py_RETURN_NONE;
}

static PyObject *Scanner_take_rejects(Scanner *self, PyObject *Py_UNUSED(ignored)) {
    if (PyList_GET_SIZE(self->rejects) == 0) Py_RETURN_NONE;
    PyObject *taken = self->rejects;
    self->rejects = PyList_New(0);
    if (self->rejects == NULL) {
        self->rejects = taken;
        return NULL;
    }
    return taken;
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
    if (ok != PARSE_TRADE) {
        parsed_clear(&t);
        Py_RETURN_NONE;
    }
    PyObject *out = Py_BuildValue("(OLLLLOO)", t.symbol, (long long)t.trade_id, (long long)t.ts,
                                  (long long)t.price, (long long)t.size,
                                  t.venue ? t.venue : Py_None, t.side ? t.side : Py_None);
    parsed_clear(&t);
    return out;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)(void (*)(void))Scanner_scan, METH_FASTCALL,
     "scan(messages, start, cursors, now) -> (index, why, partition)"},
    {"drain", (PyCFunction)Scanner_drain, METH_NOARGS,
     "drain() -> (consumed, valid, skipped by type, dead letters by reason) since the last "
     "drain"},
    {"use_sink", (PyCFunction)Scanner_use_sink, METH_O,
     "use_sink(sink): produce the dead letters the scan makes straight into this Sink "
     "(None: hand them all to take_rejects)"},
    {"take_rejects", (PyCFunction)Scanner_take_rejects, METH_NOARGS,
     "the dead letters made since the last call, as (value, key, headers), or None"},
    {"parse", (PyCFunction)(void (*)(void))Scanner_parse, METH_FASTCALL,
     "parse(value, kafka_ts_us) -> (symbol, trade_id, ts_us, price, size, venue, side) or None"},
    {NULL}};

PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "speed_layer._hotpath.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Handles the common case of every message in a consume() batch.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};
