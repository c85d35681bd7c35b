/* MurmurHash2 (32 bits), the hash JupyterLab's debugger names cells by.
 *
 * Every cell is compiled under the name the debugger computes from its text, so
 * the hash runs for every execution: in Python it costs 0.1 ms per kilobyte of
 * cell, here a hundredth of that. Stable ABI (abi3), like tandem._strings. */
#ifndef Py_LIMITED_API
#define Py_LIMITED_API 0x030A0000
#endif
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* murmur2(data: bytes, seed: int) -> int */
static PyObject *murmur2(PyObject *module, PyObject *args) {
  const unsigned char *data;
  Py_ssize_t length;
  unsigned long seed;
  if (!PyArg_ParseTuple(args, "y#k", &data, &length, &seed)) return NULL;
  const uint32_t m = 0x5BD1E995;
  uint32_t h = (uint32_t)seed ^ (uint32_t)length;
  Py_ssize_t end = length & ~(Py_ssize_t)3;
  for (Py_ssize_t i = 0; i < end; i += 4) {
    uint32_t k = (uint32_t)data[i] | ((uint32_t)data[i + 1] << 8) | ((uint32_t)data[i + 2] << 16) |
                 ((uint32_t)data[i + 3] << 24);
    k *= m;
    k ^= k >> 24;
    k *= m;
    h = (h * m) ^ k;
  }
  switch (length & 3) {
  case 3: h ^= (uint32_t)data[end + 2] << 16; /* fall through */
  case 2: h ^= (uint32_t)data[end + 1] << 8;  /* fall through */
  case 1:
    h ^= (uint32_t)data[end];
    h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return PyLong_FromUnsignedLong(h);
}

static PyMethodDef methods[] = {
    {"murmur2", murmur2, METH_VARARGS, "murmur2(data, seed) -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_murmur", NULL, -1, methods};

PyMODINIT_FUNC PyInit__murmur(void) { return PyModule_Create(&module); }
