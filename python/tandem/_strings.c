/* The exchange's string columns, made and read in one pass in C.
 *
 * A million strings otherwise pass through a list, a join or a split and a flag
 * array: a quarter of their time. Built against the stable ABI (abi3), so one
 * wheel serves every CPython from 3.10 on. The limited API has no buffer protocol
 * before 3.11, so the caller passes the addresses of contiguous numpy arrays it
 * keeps alive for the call; this module is private to tandem._exchange.
 */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030A0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* pack(column_address, n) -> bytearray: the n str objects of a contiguous object
 * array as NUL-terminated UTF-8, in one pass (a first pass for the size costs a
 * third more: the objects leave the cache). TypeError at the first slot that holds
 * no str (NA is the caller's to replace), ValueError for a string holding NUL (R
 * strings cannot), UnicodeEncodeError for a lone surrogate. */
static PyObject *pack(PyObject *module, PyObject *args) {
  unsigned long long address;
  Py_ssize_t n;
  if (!PyArg_ParseTuple(args, "Kn", &address, &n)) return NULL;
  PyObject **slots = (PyObject **)(uintptr_t)address;
  Py_ssize_t room = n * 8 + 64; /* grows as needed: realloc remaps large buffers */
  PyObject *packed = PyByteArray_FromStringAndSize(NULL, room);
  if (packed == NULL) return NULL;
  Py_ssize_t used = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *item = slots[i];
    if (!PyUnicode_Check(item)) {
      PyErr_Format(PyExc_TypeError, "item %zd is not str", i);
      goto fail;
    }
    Py_ssize_t size;
    /* ASCII strings hand out their own bytes; others cache a UTF-8 copy, which
     * Python reuses the next time the string is encoded. */
    const char *bytes = PyUnicode_AsUTF8AndSize(item, &size);
    if (bytes == NULL) goto fail;
    if (memchr(bytes, 0, (size_t)size) != NULL) {
      PyErr_Format(PyExc_ValueError, "item %zd holds a NUL character", i);
      goto fail;
    }
    if (used + size + 1 > room) {
      room = (used + size + 1) * 2;
      if (PyByteArray_Resize(packed, room) < 0) goto fail;
    }
    char *out = PyByteArray_AsString(packed) + used;
    memcpy(out, bytes, (size_t)size);
    out[size] = 0;
    used += size + 1;
  }
  if (PyByteArray_Resize(packed, used) < 0) goto fail;
  return packed;
fail:
  Py_DECREF(packed);
  return NULL;
}

/* fill(source_address, source_length, column_address, n): fills the n slots of a
 * contiguous object array with new str objects made from the NUL-terminated UTF-8
 * strings that fill the source exactly. ValueError on a wrong count or bad UTF-8;
 * the slots filled so far stay valid. */
static PyObject *fill(PyObject *module, PyObject *args) {
  unsigned long long source, column;
  Py_ssize_t length, n;
  if (!PyArg_ParseTuple(args, "KnKn", &source, &length, &column, &n)) return NULL;
  const char *p = (const char *)(uintptr_t)source, *end = p + length;
  PyObject **slots = (PyObject **)(uintptr_t)column;
  for (Py_ssize_t i = 0; i < n; i++) {
    const char *nul = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
    if (nul == NULL) {
      PyErr_Format(PyExc_ValueError, "string buffer holds %zd strings, expected %zd", i, n);
      return NULL;
    }
    PyObject *text = PyUnicode_DecodeUTF8(p, nul - p, "strict");
    if (text == NULL) return NULL;
    PyObject *old = slots[i];
    slots[i] = text;
    Py_XDECREF(old);
    p = nul + 1;
  }
  if (p != end) {
    PyErr_Format(PyExc_ValueError, "string buffer holds more than the %zd strings expected", n);
    return NULL;
  }
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"pack", pack, METH_VARARGS, "pack(column_address, n) -> bytearray"},
    {"fill", fill, METH_VARARGS, "fill(source_address, source_length, column_address, n)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "tandem._strings", NULL, -1, methods};

PyMODINIT_FUNC PyInit__strings(void) { return PyModule_Create(&module); }
