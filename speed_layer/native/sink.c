/*
 * Sink: produces the speed layer's candles and the scanner's dead letters straight into
 * the librdkafka producer that confluent-kafka's Producer owns, in the caller's thread.
 *
 * Why: through Producer.produce() a candle costs about 0.9 us of the loop's own time and a
 * dead letter with its six headers about 3.8 us (argument parsing, a per-message state
 * for the delivery callback, the headers list converted per call); on a market of
 * thousands of symbols that is most of what a closed candle costs (docs/benchmarks.md).
 *
 * Same producer, same transaction: the messages go to the Producer's own rd_kafka_t, so
 * they are in the transaction the Python code begins and commits, in call order with the
 * Python code's own produce() calls, with the Producer's partitioner and its
 * configuration. They carry no per-message state, which confluent-kafka's delivery
 * callback ignores (a failed delivery fails the transaction's commit, as for any message).
 *
 * The librdkafka functions are the very ones confluent-kafka's module is linked with
 * (dlsym through its own handle), so there is one librdkafka in the process. The
 * rd_kafka_t is read from the Producer object: the first field of confluent-kafka's
 * client handle, unchanged since its first releases. The constructor refuses (TypeError,
 * with the reason) unless the object is a Producer, the field is a librdkafka producer,
 * and its name is the one the Producer was configured with; the caller then falls back to
 * Producer.produce(). The handle is read again at every call (a closed Producer has none).
 */
#include "hotpath.h"

#include <dlfcn.h>
#include <librdkafka/rdkafka.h>

typedef struct {
    PyObject_HEAD
    rd_kafka_t *rk;
} ClientHead; /* the start of confluent-kafka's Handle */

typedef struct {
    rd_kafka_resp_err_t (*producev)(rd_kafka_t *, ...);
    rd_kafka_topic_t *(*topic_new)(rd_kafka_t *, const char *, rd_kafka_topic_conf_t *);
    void (*topic_destroy)(rd_kafka_topic_t *);
    rd_kafka_type_t (*type)(const rd_kafka_t *);
    const char *(*name)(const rd_kafka_t *);
    rd_kafka_headers_t *(*headers_new)(size_t);
    rd_kafka_resp_err_t (*header_add)(rd_kafka_headers_t *, const char *, ssize_t,
                                      const void *, ssize_t);
    void (*headers_destroy)(rd_kafka_headers_t *);
} Rdkafka;

typedef struct {
    PyObject_HEAD
    PyObject *producer; /* owned */
    Rdkafka api;
    rd_kafka_t *rk;     /* the handle the topics below belong to */
    rd_kafka_topic_t *candles, *dlq;
} Sink;

static int resolve(void *lib, const char *symbol, void **out) {
    *out = dlsym(lib, symbol);
    if (*out == NULL) {
        PyErr_Format(PyExc_TypeError, "librdkafka has no %s", symbol);
        return -1;
    }
    return 0;
}

static int load_api(Rdkafka *api, const char *library) {
    void *lib = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) {
        PyErr_Format(PyExc_TypeError, "confluent-kafka's module %s is not loaded", library);
        return -1;
    }
    int failed = resolve(lib, "rd_kafka_producev", (void **)&api->producev) < 0 ||
                 resolve(lib, "rd_kafka_topic_new", (void **)&api->topic_new) < 0 ||
                 resolve(lib, "rd_kafka_topic_destroy", (void **)&api->topic_destroy) < 0 ||
                 resolve(lib, "rd_kafka_type", (void **)&api->type) < 0 ||
                 resolve(lib, "rd_kafka_name", (void **)&api->name) < 0 ||
                 resolve(lib, "rd_kafka_headers_new", (void **)&api->headers_new) < 0 ||
                 resolve(lib, "rd_kafka_header_add", (void **)&api->header_add) < 0 ||
                 resolve(lib, "rd_kafka_headers_destroy", (void **)&api->headers_destroy) < 0;
    dlclose(lib); /* RTLD_NOLOAD took a reference; confluent-kafka's module keeps it loaded */
    return failed ? -1 : 0;
}

/* The Producer's rd_kafka_t, or NULL with KafkaError's "closed" code for the caller. */
static rd_kafka_t *handle_of(Sink *self) {
    rd_kafka_t *rk = ((ClientHead *)self->producer)->rk;
    return rk == self->rk ? rk : NULL;
}

static int Sink_init(Sink *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"producer", "producer_type", "library", "client_id",
                             "candles_topic", "dlq_topic", NULL};
    PyObject *producer, *producer_type;
    const char *library, *client_id, *candles_topic, *dlq_topic;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!ssss", kwlist, &producer, &PyType_Type,
                                     &producer_type, &library, &client_id, &candles_topic,
                                     &dlq_topic))
        return -1;
    if (self->producer != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Sink is initialised once");
        return -1;
    }
    if (!PyObject_TypeCheck(producer, (PyTypeObject *)producer_type)) {
        PyErr_Format(PyExc_TypeError, "not a confluent_kafka Producer: %R",
                     (PyObject *)Py_TYPE(producer));
        return -1;
    }
    if (load_api(&self->api, library) < 0) return -1;
    rd_kafka_t *rk = ((ClientHead *)producer)->rk;
    if (rk == NULL || self->api.type(rk) != RD_KAFKA_PRODUCER) {
        PyErr_SetString(PyExc_TypeError, "the Producer holds no librdkafka producer");
        return -1;
    }
    const char *name = self->api.name(rk);
    size_t id_len = strlen(client_id);
    if (strncmp(name, client_id, id_len) != 0 || strncmp(name + id_len, "#producer-", 10)) {
        PyErr_Format(PyExc_TypeError, "the Producer's librdkafka handle is named %s, not "
                     "%s#producer-N", name, client_id);
        return -1;
    }
    self->candles = self->api.topic_new(rk, candles_topic, NULL);
    self->dlq = self->api.topic_new(rk, dlq_topic, NULL);
    if (self->candles == NULL || self->dlq == NULL) {
        if (self->candles != NULL) self->api.topic_destroy(self->candles);
        if (self->dlq != NULL) self->api.topic_destroy(self->dlq);
        self->candles = self->dlq = NULL;
        PyErr_SetString(PyExc_TypeError, "librdkafka refused a topic handle");
        return -1;
    }
    self->rk = rk;
    self->producer = Py_NewRef(producer);
    return 0;
}

static void Sink_dealloc(Sink *self) {
    /* The topic handles belong to the producer's rd_kafka_t: released while it lives (the
     * Sink holds the Producer, so it does unless the Producer was closed, which freed
     * them with everything else). */
    if (self->producer != NULL && handle_of(self) != NULL) {
        self->api.topic_destroy(self->candles);
        self->api.topic_destroy(self->dlq);
    }
    Py_XDECREF(self->producer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int bytes_arg(PyObject *obj, const char **data, Py_ssize_t *size, const char *what) {
    if (obj == Py_None) {
        *data = NULL;
        *size = 0;
        return 0;
    }
    if (!PyBytes_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes or None", what);
        return -1;
    }
    *data = PyBytes_AS_STRING(obj);
    *size = PyBytes_GET_SIZE(obj);
    return 0;
}

static int parse_call(PyObject *args, PyObject **items, Py_ssize_t *start) {
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, items, start)) return -1;
    if (*start < 0 || *start > PyList_GET_SIZE(*items)) {
        PyErr_SetString(PyExc_IndexError, "start outside the list");
        return -1;
    }
    return 0;
}

/* (index of the first item not produced, librdkafka error code or 0) */
static PyObject *outcome(Py_ssize_t index, rd_kafka_resp_err_t err) {
    return Py_BuildValue("(ni)", index, (int)err);
}

/* One message: its key and value copied, its headers (or NULL) taken when produced. */
typedef struct {
    const char *key, *value;
    Py_ssize_t key_len, value_len;
    rd_kafka_headers_t *headers;
} Outgoing;

static rd_kafka_resp_err_t produce(Sink *self, rd_kafka_t *rk, rd_kafka_topic_t *topic,
                                   const Outgoing *m) {
    /* NULL headers are none: librdkafka, like confluent-kafka's produce(), takes them so */
    rd_kafka_resp_err_t err = self->api.producev(
        rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(m->key, (size_t)m->key_len),
        RD_KAFKA_V_VALUE((void *)m->value, (size_t)m->value_len),
        RD_KAFKA_V_HEADERS(m->headers), RD_KAFKA_V_END);
    if (err && m->headers != NULL) /* the headers are the caller's until a message takes them */
        self->api.headers_destroy(m->headers);
    return err;
}

/* A dead letter's headers, a list of (str name, bytes | str | None value) */
static rd_kafka_headers_t *c_headers(Sink *self, PyObject *list) {
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "a dead letter's headers must be a list");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    rd_kafka_headers_t *headers = self->api.headers_new((size_t)n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(list, i);
        Py_ssize_t name_len, value_len = 0;
        const char *name, *value = NULL;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(pair, 0)) ||
            (name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(pair, 0), &name_len)) == NULL)
            goto bad;
        PyObject *v = PyTuple_GET_ITEM(pair, 1);
        if (PyUnicode_Check(v)) {
            if ((value = PyUnicode_AsUTF8AndSize(v, &value_len)) == NULL) goto bad;
        } else if (bytes_arg(v, &value, &value_len, "a header's value") < 0) {
            goto bad;
        }
        self->api.header_add(headers, name, name_len, value, value == NULL ? -1 : value_len);
    }
    return headers;
bad:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "a header is a (str name, value) tuple");
    self->api.headers_destroy(headers);
    return NULL;
}

/* A candle, (key, value) */
static int candle_parts(Sink *self, PyObject *item, Outgoing *m) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
        PyErr_SetString(PyExc_TypeError, "a candle is a (key, value) tuple");
        return -1;
    }
    m->headers = NULL;
    return bytes_arg(PyTuple_GET_ITEM(item, 0), &m->key, &m->key_len, "a candle's key") < 0 ||
                   bytes_arg(PyTuple_GET_ITEM(item, 1), &m->value, &m->value_len,
                             "a candle's value") < 0
               ? -1
               : 0;
}

/* A dead letter, (value, key, headers) */
static int dead_letter_parts(Sink *self, PyObject *item, Outgoing *m) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
        PyErr_SetString(PyExc_TypeError, "a dead letter is a (value, key, headers) tuple");
        return -1;
    }
    if (bytes_arg(PyTuple_GET_ITEM(item, 0), &m->value, &m->value_len, "a dead letter") < 0 ||
        bytes_arg(PyTuple_GET_ITEM(item, 1), &m->key, &m->key_len, "a dead letter's key") < 0)
        return -1;
    m->headers = c_headers(self, PyTuple_GET_ITEM(item, 2));
    return m->headers == NULL ? -1 : 0;
}

/* items[start:] produced to `topic`, each taken apart by `parts`, up to the first refusal */
static PyObject *produce_items(Sink *self, PyObject *args, rd_kafka_topic_t *topic,
                               int (*parts)(Sink *, PyObject *, Outgoing *)) {
    PyObject *items;
    Py_ssize_t i;
    if (parse_call(args, &items, &i) < 0) return NULL;
    rd_kafka_t *rk = handle_of(self);
    if (rk == NULL) return outcome(i, RD_KAFKA_RESP_ERR__DESTROY);
    for (Py_ssize_t n = PyList_GET_SIZE(items); i < n; i++) {
        Outgoing m;
        if (parts(self, PyList_GET_ITEM(items, i), &m) < 0) return NULL;
        rd_kafka_resp_err_t err = produce(self, rk, topic, &m);
        if (err) return outcome(i, err);
    }
    return outcome(i, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static PyObject *Sink_candles(Sink *self, PyObject *args) {
    return produce_items(self, args, self->candles, candle_parts);
}

static PyObject *Sink_dead_letters(Sink *self, PyObject *args) {
    return produce_items(self, args, self->dlq, dead_letter_parts);
}

int sink_dead_letter(PyObject *sink, const char *value, Py_ssize_t value_len,
                     const char *key, Py_ssize_t key_len, const char *const *names,
                     const Py_ssize_t *name_lens, const char *const *values,
                     const Py_ssize_t *value_lens, int n) {
    Sink *self = (Sink *)sink;
    rd_kafka_t *rk = handle_of(self);
    if (rk == NULL) return RD_KAFKA_RESP_ERR__DESTROY;
    Outgoing m = {key, value, key_len, value_len, self->api.headers_new((size_t)n)};
    for (int i = 0; i < n; i++)
        self->api.header_add(m.headers, names[i], name_lens[i], values[i], value_lens[i]);
    return (int)produce(self, rk, self->dlq, &m);
}

int sink_from_arg(PyObject *arg, PyObject **sink) {
    if (arg == Py_None) {
        *sink = NULL;
        return 0;
    }
    if (!PyObject_TypeCheck(arg, &SinkType) || ((Sink *)arg)->producer == NULL) {
        PyErr_SetString(PyExc_TypeError, "use_sink() takes an initialised Sink or None");
        return -1;
    }
    *sink = arg;
    return 0;
}

int sink_candle(PyObject *sink, const char *key, Py_ssize_t key_len, const char *value,
                Py_ssize_t value_len) {
    Sink *self = (Sink *)sink;
    rd_kafka_t *rk = handle_of(self);
    if (rk == NULL) return RD_KAFKA_RESP_ERR__DESTROY;
    Outgoing m = {key, value, key_len, value_len, NULL};
    return (int)produce(self, rk, self->candles, &m);
}

static PyMethodDef Sink_methods[] = {
    {"candles", (PyCFunction)Sink_candles, METH_VARARGS,
     "candles(items, start): produce items[start:], (key, value) bytes, to the candles "
     "topic; returns (index of the first not produced, librdkafka error code or 0)"},
    {"dead_letters", (PyCFunction)Sink_dead_letters, METH_VARARGS,
     "dead_letters(items, start): produce items[start:], (value, key, headers), to the "
     "dead-letter topic; returns as candles()"},
    {NULL, NULL, 0, NULL}};

PyTypeObject SinkType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "speed_layer._hotpath.Sink",
    .tp_basicsize = sizeof(Sink),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Produces candles and dead letters into a confluent_kafka Producer's own "
              "librdkafka handle (speed_layer/native/sink.c).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Sink_init,
    .tp_dealloc = (destructor)Sink_dealloc,
    .tp_methods = Sink_methods,
};
