/* The module: its types, the WindowFold structure, the outcome and stop codes, and the
 * allocator setting the speed layer runs with. */
#include "hotpath.h"

#include <limits.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define MMAP_THRESHOLD_BYTES (32 << 20) /* glibc's largest on 64 bits */

/*
 * The allocator settings the speed layer runs with (SpeedLayer.run(), once), keeping up to
 * keep_bytes of freed memory for reuse:
 *
 * - glibc's fastbins off (M_MXFAST 0). Every message produced is a few small blocks (the
 *   message, each header) allocated here and freed when its delivery is acknowledged, tens
 *   of thousands at a time; with fastbins those pile up and glibc's malloc
 *   spends its time sorting and consolidating them (a quarter of the loop's samples in a
 *   flood of dead letters). Without them, small blocks still come from the per-thread
 *   cache and freed ones coalesce at once: dead letters through the Sink took 1.5 instead
 *   of 2.8 us each, and the flood benchmark went from 0.27x to 0.36x of the bare loop.
 * - Freed heap kept (M_TRIM_THRESHOLD keep_bytes), and blocks below 32 MiB taken from the
 *   heap (M_MMAP_THRESHOLD), not mapped and unmapped each time: the candles in flight and
 *   a commit's state records are freed and allocated again batch after batch, and a page
 *   given back is zeroed again at its next first touch.
 * - CPython's emptied arenas kept (arena_cache.c), for the same reason: a consumed batch's
 *   Message objects fill and empty a few of them every batch.
 *
 * On a virtual machine whose memory the host backs lazily such a first touch costs 20-30
 * us a page instead of about 1 (docs/benchmarks.md). What this takes out is reuse; a
 * layer whose state is still growing (the first minutes of the dedup horizon) still pays
 * for each new page. keep_bytes 0: fastbins off, nothing kept. True when glibc took its
 * settings; False where there is no glibc (the arena cache does not depend on it).
 */
static PyObject *tune_allocator(PyObject *module, PyObject *arg) {
    Py_ssize_t keep_bytes = PyLong_AsSsize_t(arg);
    if (keep_bytes == -1 && PyErr_Occurred()) return NULL;
    if (keep_bytes < 0) {
        PyErr_SetString(PyExc_ValueError, "keep_bytes must be >= 0");
        return NULL;
    }
    arena_cache_install((size_t)keep_bytes);
#ifdef __GLIBC__
    int trim = keep_bytes > INT_MAX ? INT_MAX : (int)keep_bytes;
    if (mallopt(M_MXFAST, 0) == 1 &&
        (keep_bytes == 0 || (mallopt(M_TRIM_THRESHOLD, trim) == 1 &&
                             mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1)))
        Py_RETURN_TRUE;
#endif
    Py_RETURN_FALSE;
}

static PyObject *arenas_held(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    return PyLong_FromSsize_t(arena_cache_held());
}

static PyMethodDef hotpath_functions[] = {
    {"tune_allocator", tune_allocator, METH_O,
     "tune_allocator(keep_bytes): the speed layer's allocator settings (see module.c); "
     "True when glibc took them"},
    {"arenas_held", arenas_held, METH_NOARGS,
     "how many freed CPython arenas are held for reuse (arena_cache.c)"},
    {NULL, NULL, 0, NULL}};

PyTypeObject *WindowFoldType = NULL;

static PyStructSequence_Field fold_fields[] = {
    {"symbol", NULL},         {"window_start_us", NULL}, {"open", NULL},
    {"high", NULL},           {"low", NULL},             {"close", NULL},
    {"volume", NULL},         {"notional", NULL},        {"trade_count", NULL},
    {"first_ts_us", NULL},    {"last_ts_us", NULL},      {"first_trade_id", NULL},
    {"last_trade_id", NULL},  {NULL, NULL}};

static PyStructSequence_Desc fold_desc = {
    "speed_layer._hotpath.WindowFold",
    "A closed (or open) 1 s window's fold: what candle_core.candle.folded_candle takes.",
    fold_fields, 13};

static struct PyModuleDef hotpath_module = {
    PyModuleDef_HEAD_INIT, "speed_layer._hotpath",
    "The speed layer's per-message work in C (see speed_layer/native/hotpath.h).", -1,
    hotpath_functions};

PyMODINIT_FUNC PyInit__hotpath(void) {
    if (PyType_Ready(&WindowTableType) < 0 || PyType_Ready(&CursorType) < 0 ||
        PyType_Ready(&ScannerType) < 0 || PyType_Ready(&SinkType) < 0)
        return NULL;
    if (WindowFoldType == NULL) {
        WindowFoldType = PyStructSequence_NewType(&fold_desc);
        if (WindowFoldType == NULL) return NULL;
    }
    PyObject *m = PyModule_Create(&hotpath_module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "WindowTable", (PyObject *)&WindowTableType) < 0 ||
        PyModule_AddObjectRef(m, "Cursor", (PyObject *)&CursorType) < 0 ||
        PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0 ||
        PyModule_AddObjectRef(m, "Sink", (PyObject *)&SinkType) < 0 ||
        PyModule_AddObjectRef(m, "WindowFold", (PyObject *)WindowFoldType) < 0 ||
        PyModule_AddIntConstant(m, "APPLIED", OUT_APPLIED) < 0 ||
        PyModule_AddIntConstant(m, "DUPLICATE", OUT_DUPLICATE) < 0 ||
        PyModule_AddIntConstant(m, "CONFLICT", OUT_CONFLICT) < 0 ||
        PyModule_AddIntConstant(m, "LATE", OUT_LATE) < 0 ||
        PyModule_AddIntConstant(m, "REVISED", OUT_REVISED) < 0 ||
        PyModule_AddIntConstant(m, "CLOSE_DUE", CLOSE_DUE) < 0 ||
        PyModule_AddIntConstant(m, "END", STOP_END) < 0 ||
        PyModule_AddIntConstant(m, "SLOW", STOP_SLOW) < 0 ||
        PyModule_AddIntConstant(m, "CLOSE", STOP_CLOSE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
