/* The module: its types, the WindowFold structure and the outcome and stop codes. */
#include "hotpath.h"

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
    "The speed layer's per-message work in C (see speed_layer/native/hotpath.h).", -1, NULL};

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
