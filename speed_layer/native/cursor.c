/*
 * Cursor: one input partition's Kafka bookkeeping, apart from its windows.
 *
 * position      the next offset to read: the offset after the last record handled, whether
 *               it was processed or only replayed. Before the first record of a restored
 *               partition it is the committed offset (where the consumer starts reading).
 * replay_until  records below it were processed before a restart: they are re-read only
 *               to rebuild windows and produce nothing.
 * last_seen     monotonic time of the last trade processed (idleness).
 *
 * The offset a commit may send is min(position, the first offset of the oldest window
 * held), never the processed position: a commit made while a restart is still replaying
 * must not skip the records not yet re-read (docs/speed-layer.md, "The loss of issue 13").
 */
#include "hotpath.h"

#include <structmember.h>

static int Cursor_init(Cursor *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"table", "position", "replay_until", NULL};
    PyObject *table;
    long long position = -1, replay_until = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|LL", kwlist, &WindowTableType, &table,
                                     &position, &replay_until))
        return -1;
    Py_INCREF(table);
    Py_XSETREF(self->table, (WindowTable *)table);
    self->position = position < 0 ? -1 : position;
    self->replay_until = replay_until < 0 ? -1 : replay_until;
    self->last_seen = 0.0;
    return 0;
}

static void Cursor_dealloc(Cursor *self) {
    Py_XDECREF(self->table);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *optional_offset(int64_t value) {
    if (value < 0) Py_RETURN_NONE;
    return PyLong_FromLongLong(value);
}

static int set_optional_offset(PyObject *value, int64_t *field, const char *name) {
    if (value == NULL || value == Py_None) {
        *field = -1;
        return 0;
    }
    int64_t v;
    if (as_int64(value, &v, name) < 0) return -1;
    if (v < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0 or None", name);
        return -1;
    }
    *field = v;
    return 0;
}

static PyObject *Cursor_get_position(Cursor *self, void *closure) {
    return optional_offset(self->position);
}

static int Cursor_set_position(Cursor *self, PyObject *value, void *closure) {
    return set_optional_offset(value, &self->position, "position");
}

static PyObject *Cursor_get_replay_until(Cursor *self, void *closure) {
    return optional_offset(self->replay_until);
}

static int Cursor_set_replay_until(Cursor *self, PyObject *value, void *closure) {
    return set_optional_offset(value, &self->replay_until, "replay_until");
}

static PyObject *Cursor_get_processed(Cursor *self, void *closure) {
    int64_t processed = self->position > self->replay_until ? self->position : self->replay_until;
    return optional_offset(processed);
}

static PyObject *Cursor_get_replaying(Cursor *self, void *closure) {
    return PyBool_FromLong(self->replay_until >= 0 &&
                           (self->position < 0 || self->position < self->replay_until));
}

static PyObject *Cursor_commit_offset(Cursor *self, PyObject *Py_UNUSED(ignored)) {
    if (self->position < 0) Py_RETURN_NONE;
    int64_t first = table_first_offset(self->table);
    int64_t offset = first >= 0 && first < self->position ? first : self->position;
    return PyLong_FromLongLong(offset);
}

static PyObject *Cursor_get_table(Cursor *self, void *closure) {
    return Py_NewRef((PyObject *)self->table);
}

static PyGetSetDef Cursor_getset[] = {
    {"table", (getter)Cursor_get_table, NULL, "the partition's WindowTable", NULL},
    {"position", (getter)Cursor_get_position, (setter)Cursor_set_position,
     "next offset to read (None: not known yet)", NULL},
    {"replay_until", (getter)Cursor_get_replay_until, (setter)Cursor_set_replay_until,
     "records below this offset were processed before a restart (None: none)", NULL},
    {"processed", (getter)Cursor_get_processed, NULL,
     "the offset up to which outputs are produced: max(position, replay_until)", NULL},
    {"replaying", (getter)Cursor_get_replaying, NULL,
     "True while records below replay_until are still to be re-read", NULL},
    {NULL}};

static PyMemberDef Cursor_members[] = {
    {"last_seen", T_DOUBLE, offsetof(Cursor, last_seen), 0,
     "monotonic time of the last trade processed"},
    {NULL}};

static PyMethodDef Cursor_methods[] = {
    {"commit_offset", (PyCFunction)Cursor_commit_offset, METH_NOARGS,
     "the consumer offset a commit may send: min(position, oldest window's first offset); "
     "None while the position is unknown"},
    {NULL}};

PyTypeObject CursorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "speed_layer._hotpath.Cursor",
    .tp_basicsize = sizeof(Cursor),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One input partition's read position and replay bound.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Cursor_init,
    .tp_dealloc = (destructor)Cursor_dealloc,
    .tp_getset = Cursor_getset,
    .tp_members = Cursor_members,
    .tp_methods = Cursor_methods,
};
