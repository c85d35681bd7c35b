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

// The object slots of `column` (a contiguous numpy object array), writable when
// `flags` has PyBUF_WRITABLE: 0, or -1 with a Python exception set and nothing held.
static inline int tandem_object_slots(PyObject *column, Py_buffer *view, int flags) {
  if (PyObject_GetBuffer(column, view, flags | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) return -1;
  if (view->format == NULL || strcmp(view->format, "O") != 0 || view->itemsize != sizeof(PyObject *)) {
    PyBuffer_Release(view);
    PyErr_SetString(PyExc_TypeError, "the string column must be an object array");
    return -1;
  }
  return 0;
}

// The exchange's string column: fills `column`, a writable contiguous buffer of
// object slots (a numpy object array), with new str objects made from the
// NUL-terminated UTF-8 strings that fill `source` exactly, one per slot. Made in C
// because a million strings otherwise pass through a list and a split, a quarter of
// their time. Returns -1 with a Python exception set on a wrong count, bad UTF-8 or
// a wrong column; the slots filled so far stay valid.
static inline int tandem_fill_strings(PyObject *source, PyObject *column) {
  Py_buffer in, out;
  if (PyObject_GetBuffer(source, &in, PyBUF_SIMPLE) < 0) return -1;
  if (tandem_object_slots(column, &out, PyBUF_WRITABLE) < 0) {
    PyBuffer_Release(&in);
    return -1;
  }
  int status = 0;
  PyObject **slots = (PyObject **)out.buf;
  Py_ssize_t n = out.len / out.itemsize;
  const char *p = in.buf, *end = p + in.len;
  for (Py_ssize_t i = 0; i < n; i++) {
    const char *nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
    if (nul == NULL) {
      PyErr_Format(PyExc_ValueError, "string buffer holds %zd strings, expected %zd", i, n);
      status = -1;
      break;
    }
    Py_ssize_t size = nul - p;
    Py_ssize_t k = 0;
    while (k < size && !((unsigned char)p[k] & 0x80)) k++;
    PyObject *text;
    if (k == size) {  // ASCII: no decoding, one copy
      text = PyUnicode_New(size, 127);
      if (text != NULL) memcpy(PyUnicode_DATA(text), p, (size_t)size);
    } else {
      text = PyUnicode_DecodeUTF8(p, size, "strict");
    }
    if (text == NULL) {
      status = -1;
      break;
    }
    PyObject *old = slots[i];
    slots[i] = text;
    Py_XDECREF(old);
    p = nul + 1;
  }
  if (status == 0 && p != end) {
    PyErr_Format(PyExc_ValueError, "string buffer holds more than the %zd strings expected", n);
    status = -1;
  }
  PyBuffer_Release(&out);
  PyBuffer_Release(&in);
  return status;
}

// The reverse of `tandem_fill_strings`: the str objects of `column`, a contiguous
// buffer of object slots, as one bytearray of NUL-terminated UTF-8 strings, in one
// pass (a first pass for the size costs a third more: the objects leave the cache).
// Raises TypeError at the first slot that holds no str (NA is the caller's to
// replace), ValueError for a string holding NUL (R strings cannot),
// UnicodeEncodeError for a lone surrogate. Non-ASCII strings are encoded to a
// temporary rather than through PyUnicode_AsUTF8AndSize, which would keep a UTF-8
// copy in every string.
static inline PyObject *tandem_pack_strings(PyObject *column) {
  Py_buffer in;
  if (tandem_object_slots(column, &in, 0) < 0) return NULL;
  PyObject **slots = (PyObject **)in.buf;
  Py_ssize_t n = in.len / in.itemsize;
  Py_ssize_t room = n * 8 + 64;  // grows as needed: realloc, which remaps large buffers
  PyObject *packed = PyByteArray_FromStringAndSize(NULL, room);
  if (packed == NULL) {
    PyBuffer_Release(&in);
    return NULL;
  }
  Py_ssize_t used = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *item = slots[i];
    if (!PyUnicode_Check(item)) {
      PyErr_Format(PyExc_TypeError, "item %zd is %.100s, not str", i, Py_TYPE(item)->tp_name);
      goto fail;
    }
    if (PyUnicode_READY(item) < 0) goto fail;  // a legacy string from an old C extension
    const char *bytes;
    Py_ssize_t size;
    PyObject *encoded = NULL;
    if (PyUnicode_IS_ASCII(item)) {
      bytes = (const char *)PyUnicode_DATA(item);
      size = PyUnicode_GET_LENGTH(item);
    } else {
      encoded = PyUnicode_AsUTF8String(item);
      if (encoded == NULL) goto fail;
      bytes = PyBytes_AS_STRING(encoded);
      size = PyBytes_GET_SIZE(encoded);
    }
    if (memchr(bytes, 0, (size_t)size) != NULL) {
      Py_XDECREF(encoded);
      PyErr_Format(PyExc_ValueError, "item %zd holds a NUL character", i);
      goto fail;
    }
    if (used + size + 1 > room) {
      room = (used + size + 1) * 2;
      if (PyByteArray_Resize(packed, room) < 0) {
        Py_XDECREF(encoded);
        goto fail;
      }
    }
    char *out = PyByteArray_AS_STRING(packed) + used;
    memcpy(out, bytes, (size_t)size);
    out[size] = 0;
    used += size + 1;
    Py_XDECREF(encoded);
  }
  PyBuffer_Release(&in);
  if (PyByteArray_Resize(packed, used) < 0) {
    Py_DECREF(packed);
    return NULL;
  }
  return packed;
fail:
  PyBuffer_Release(&in);
  Py_DECREF(packed);
  return NULL;
}
