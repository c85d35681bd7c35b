// The `tandem` program: loads the kernel, libTandemMain.so, from beside itself and
// runs it. The kernel is a shared library so that a Python environment's own
// python can load the same code (`python -m tandem._host`) and run cells at that
// interpreter's own speed.

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char path[PATH_MAX];
  ssize_t size = readlink("/proc/self/exe", path, sizeof path - sizeof "libTandemMain.so");
  if (size <= 0) {
    fprintf(stderr, "tandem: cannot find its own program (/proc/self/exe)\n");
    return 1;
  }
  path[size] = 0;
  strcpy(strrchr(path, '/') + 1, "libTandemMain.so");
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "tandem: cannot load the kernel: %s\n", dlerror());
    return 1;
  }
  int (*run)(int, char **, const char *) = (int (*)(int, char **, const char *))dlsym(library, "tandem_main");
  if (run == NULL) {
    fprintf(stderr, "tandem: %s has no tandem_main: reinstall Tandem\n", path);
    return 1;
  }
  return run(argc, argv, path);
}
