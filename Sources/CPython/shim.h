// Include libc headers before Python.h: pyconfig.h defines _XOPEN_SOURCE and
// _POSIX_C_SOURCE, which otherwise changes fd_set and clashes with Dispatch.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <time.h>
#include <wchar.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <pthread.h>

#define PY_SSIZE_T_CLEAN
#include <Python.h>

// Macros and variadic functions that Swift cannot import.
static inline PyObject *tandem_Py_None(void) { return Py_None; }
static inline PyObject *tandem_Py_True(void) { return Py_True; }
static inline PyObject *tandem_Py_False(void) { return Py_False; }
static inline int tandem_PyUnicode_Check(PyObject *o) { return PyUnicode_Check(o); }
static inline int tandem_PyBytes_Check(PyObject *o) { return PyBytes_Check(o); }
static inline int tandem_PyLong_Check(PyObject *o) { return PyLong_Check(o); }
static inline int tandem_PyTuple_Check(PyObject *o) { return PyTuple_Check(o); }
static inline int tandem_PyList_Check(PyObject *o) { return PyList_Check(o); }
static inline void tandem_Py_IncRef(PyObject *o) { Py_INCREF(o); }
static inline void tandem_Py_DecRef(PyObject *o) { Py_DECREF(o); }
static inline PyObject *tandem_PyExc_KeyboardInterrupt(void) { return PyExc_KeyboardInterrupt; }
static inline PyObject *tandem_PyExc_RuntimeError(void) { return PyExc_RuntimeError; }
static inline PyObject *tandem_PyExc_TypeError(void) { return PyExc_TypeError; }
static inline PyObject *tandem_PyExc_EOFError(void) { return PyExc_EOFError; }
static inline int tandem_METH_VARARGS(void) { return METH_VARARGS; }
