// The part of CPython's C API that Tandem uses, reached through a table of function
// pointers filled from whichever libpython the kernel loads at start (as reticulate
// does), so that one binary embeds any CPython 3.10-3.13 and no Python headers are
// needed to build it. Every function here is in CPython's stable ABI or exported
// unchanged by 3.10 through 3.13; `tandem_python_load` names the first one missing.
#ifndef TANDEM_CPYTHON_H
#define TANDEM_CPYTHON_H

#include <stddef.h>
#include <sys/types.h>
#include <wchar.h>

typedef ssize_t Py_ssize_t;

// The object header of every CPython 3.10-3.13 built with the GIL (free-threaded
// builds are refused before loading). Only `ob_type` is read, to test a type's flags;
// reference counts change through Py_IncRef / Py_DecRef.
typedef struct tandem_PyObject {
  Py_ssize_t ob_refcnt;
  void *ob_type;
} PyObject;

typedef struct tandem_PyThreadState PyThreadState;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef void (*PyCapsule_Destructor)(PyObject *);

typedef struct PyMethodDef {
  const char *ml_name;
  PyCFunction ml_meth;
  int ml_flags;
  const char *ml_doc;
} PyMethodDef;

// F(return type, name, parameters, arguments) for functions returning a value,
// V(name, parameters, arguments) for void ones.
#define TANDEM_PYTHON_FUNCTIONS(F, V)                                                  \
  V(Py_IncRef, (PyObject * o), (o))                                                    \
  V(Py_DecRef, (PyObject * o), (o))                                                    \
  V(Py_InitializeEx, (int handlers), (handlers))                                       \
  V(Py_SetProgramName, (const wchar_t *name), (name))                                  \
  F(wchar_t *, Py_DecodeLocale, (const char *text, size_t *size), (text, size))        \
  F(const char *, Py_GetVersion, (void), ())                                           \
  F(int, PySys_SetObject, (const char *name, PyObject *value), (name, value))          \
  F(PyThreadState *, PyEval_SaveThread, (void), ())                                    \
  V(PyEval_RestoreThread, (PyThreadState * state), (state))                            \
  F(int, PyGILState_Ensure, (void), ())                                                \
  V(PyGILState_Release, (int state), (state))                                          \
  F(int, PyErr_CheckSignals, (void), ())                                               \
  V(PyErr_Clear, (void), ())                                                           \
  F(PyObject *, PyErr_Occurred, (void), ())                                            \
  V(PyErr_SetString, (PyObject * type, const char *message), (type, message))         \
  V(PyErr_SetNone, (PyObject * type), (type))                                          \
  V(PyErr_Fetch, (PyObject * *type, PyObject **value, PyObject **traceback),           \
    (type, value, traceback))                                                          \
  F(unsigned long, PyType_GetFlags, (void *type), (type))                              \
  F(PyObject *, PyUnicode_FromStringAndSize, (const char *text, Py_ssize_t size),      \
    (text, size))                                                                      \
  F(const char *, PyUnicode_AsUTF8AndSize, (PyObject * o, Py_ssize_t * size), (o, size)) \
  F(PyObject *, PyBytes_FromStringAndSize, (const char *data, Py_ssize_t size),        \
    (data, size))                                                                      \
  F(Py_ssize_t, PyBytes_Size, (PyObject * o), (o))                                     \
  F(char *, PyBytes_AsString, (PyObject * o), (o))                                     \
  F(PyObject *, PyList_New, (Py_ssize_t size), (size))                                 \
  F(int, PyList_SetItem, (PyObject * list, Py_ssize_t i, PyObject *item), (list, i, item)) \
  F(PyObject *, PyTuple_New, (Py_ssize_t size), (size))                                \
  F(int, PyTuple_SetItem, (PyObject * tuple, Py_ssize_t i, PyObject *item),            \
    (tuple, i, item))                                                                  \
  F(PyObject *, PyDict_New, (void), ())                                                \
  F(int, PyDict_SetItemString, (PyObject * dict, const char *key, PyObject *value),    \
    (dict, key, value))                                                                \
  F(PyObject *, PyImport_ImportModule, (const char *name), (name))                     \
  F(PyObject *, PyObject_GetAttrString, (PyObject * o, const char *name), (o, name))   \
  F(PyObject *, PyObject_CallObject, (PyObject * callable, PyObject *args),            \
    (callable, args))                                                                  \
  F(PyObject *, PyObject_Str, (PyObject * o), (o))                                     \
  F(int, PyObject_IsTrue, (PyObject * o), (o))                                         \
  F(double, PyFloat_AsDouble, (PyObject * o), (o))                                     \
  F(PyObject *, PyLong_FromLongLong, (long long value), (value))                        \
  F(Py_ssize_t, PySequence_Size, (PyObject * o), (o))                                  \
  F(PyObject *, PySequence_GetItem, (PyObject * o, Py_ssize_t i), (o, i))              \
  F(PyObject *, PyCapsule_New, (void *pointer, const char *name,                       \
    PyCapsule_Destructor destructor), (pointer, name, destructor))                     \
  F(void *, PyCapsule_GetPointer, (PyObject * capsule, const char *name), (capsule, name)) \
  F(PyObject *, PyCFunction_NewEx, (PyMethodDef * def, PyObject *self, PyObject *module), \
    (def, self, module))

#define TANDEM_FIELD(type, name, parameters, arguments) type(*name) parameters;
#define TANDEM_VOID_FIELD(name, parameters, arguments) void(*name) parameters;

/// The loaded libpython: its functions and the objects Tandem names.
struct tandem_python_api {
  TANDEM_PYTHON_FUNCTIONS(TANDEM_FIELD, TANDEM_VOID_FIELD)
  PyObject *none, *true_, *false_;
  PyObject *keyboard_interrupt, *runtime_error, *type_error, *eof_error;
};

#undef TANDEM_FIELD
#undef TANDEM_VOID_FIELD

extern struct tandem_python_api tandem_python;

/// Loads the libpython at `path` with its symbols global (extension modules find
/// them there) and fills `tandem_python`; a NULL `path` takes them from this process
/// (a python that loaded the kernel). 0 on success; otherwise -1 with the reason in
/// `error`. A second call succeeds only for the library already loaded.
int tandem_python_load(const char *path, char *error, size_t size);

/// The version string (`Py_GetVersion`) of the libpython at `path`, read without
/// keeping it loaded: 0 with it in `version`, or -1 with the reason there.
int tandem_python_library_version(const char *path, char *version, size_t size);

// Calls through the table, under the C API's own names.
#define TANDEM_WRAPPER(type, name, parameters, arguments) \
  static inline type name parameters { return tandem_python.name arguments; }
#define TANDEM_VOID_WRAPPER(name, parameters, arguments) \
  static inline void name parameters { tandem_python.name arguments; }
TANDEM_PYTHON_FUNCTIONS(TANDEM_WRAPPER, TANDEM_VOID_WRAPPER)
#undef TANDEM_WRAPPER
#undef TANDEM_VOID_WRAPPER

// The macros of the C API that Swift cannot import, over the table.
static inline PyObject *tandem_Py_None(void) { return tandem_python.none; }
static inline PyObject *tandem_Py_True(void) { return tandem_python.true_; }
static inline PyObject *tandem_Py_False(void) { return tandem_python.false_; }
static inline PyObject *tandem_PyExc_KeyboardInterrupt(void) { return tandem_python.keyboard_interrupt; }
static inline PyObject *tandem_PyExc_RuntimeError(void) { return tandem_python.runtime_error; }
static inline PyObject *tandem_PyExc_TypeError(void) { return tandem_python.type_error; }
static inline PyObject *tandem_PyExc_EOFError(void) { return tandem_python.eof_error; }
// Py_TPFLAGS_BYTES_SUBCLASS and Py_TPFLAGS_UNICODE_SUBCLASS, fixed by the stable ABI.
static inline int tandem_PyBytes_Check(PyObject *o) { return (PyType_GetFlags(o->ob_type) & (1UL << 27)) != 0; }
static inline int tandem_PyUnicode_Check(PyObject *o) { return (PyType_GetFlags(o->ob_type) & (1UL << 28)) != 0; }
static inline int tandem_METH_VARARGS(void) { return 0x0001; }

#endif
