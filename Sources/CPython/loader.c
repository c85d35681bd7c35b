#include "CPython.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

struct tandem_python_api tandem_python;
static char loaded_path[4096];

// A data symbol holding a PyObject * (the exception types).
static PyObject *object_variable(void *handle, const char *name) {
  PyObject **variable = dlsym(handle, name);
  return variable == NULL ? NULL : *variable;
}

int tandem_python_load(const char *path, char *error, size_t size) {
  const char *name = path == NULL ? "this process" : path;
  if (loaded_path[0] != 0) {
    if (strcmp(loaded_path, name) == 0) return 0;
    snprintf(error, size, "%s is loaded already; one process embeds one Python", loaded_path);
    return -1;
  }
  // dlopen(NULL) is the program and what it loaded globally: a python's own API.
  void *handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (handle == NULL) {
    snprintf(error, size, "%s", dlerror());
    return -1;
  }
  struct tandem_python_api api;
  const char *missing = NULL;
#define TANDEM_LOAD(type, name, parameters, arguments)       \
  if (missing == NULL && (*(void **)&api.name = dlsym(handle, #name)) == NULL) missing = #name;
#define TANDEM_VOID_LOAD(name, parameters, arguments) TANDEM_LOAD(void, name, parameters, arguments)
  TANDEM_PYTHON_FUNCTIONS(TANDEM_LOAD, TANDEM_VOID_LOAD)
#undef TANDEM_LOAD
#undef TANDEM_VOID_LOAD
  // Py_None, Py_True and Py_False are these objects' addresses.
  const struct {
    PyObject **slot;
    const char *name;
    int variable;
  } objects[] = {
      {&api.none, "_Py_NoneStruct", 0},
      {&api.true_, "_Py_TrueStruct", 0},
      {&api.false_, "_Py_FalseStruct", 0},
      {&api.keyboard_interrupt, "PyExc_KeyboardInterrupt", 1},
      {&api.runtime_error, "PyExc_RuntimeError", 1},
      {&api.type_error, "PyExc_TypeError", 1},
      {&api.eof_error, "PyExc_EOFError", 1},
  };
  for (size_t i = 0; missing == NULL && i < sizeof objects / sizeof objects[0]; i++) {
    *objects[i].slot =
        objects[i].variable ? object_variable(handle, objects[i].name) : dlsym(handle, objects[i].name);
    if (*objects[i].slot == NULL) missing = objects[i].name;
  }
  if (missing != NULL) {
    snprintf(error, size, "%s has no %s: not a CPython 3.10-3.13 %s", name, missing,
             path == NULL ? "that exports its C API" : "library");
    dlclose(handle);
    return -1;
  }
  tandem_python = api;
  snprintf(loaded_path, sizeof loaded_path, "%s", name);
  return 0;
}

int tandem_python_library_version(const char *path, char *version, size_t size) {
  void *handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
  if (handle == NULL) {
    snprintf(version, size, "%s", dlerror());
    return -1;
  }
  const char *(*get_version)(void);
  *(void **)&get_version = dlsym(handle, "Py_GetVersion");
  int status = get_version == NULL ? -1 : 0;
  snprintf(version, size, "%s", get_version == NULL ? "no Py_GetVersion" : get_version());
  dlclose(handle);
  return status;
}
