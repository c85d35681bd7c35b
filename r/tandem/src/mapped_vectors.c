/* Numeric vectors read from an exchange arena without copying them: the arena
 * file Python wrote is mapped copy-on-write, and an ALTREP class points R's
 * double and integer vectors into the mapping. What R changes stays R's own (the
 * written pages are copied), and a shared flock held while the mapping lives
 * keeps Python from reusing the arena (docs/exchange-format.md). */

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
/* After Rinternals.h, whose types it uses. */
#include <R_ext/Altrep.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tandem.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

/* R does not count mapped bytes towards its heap, so a dropped vector would keep
 * its arena until a collection that allocations alone might not trigger. Past
 * this many mapped bytes, mapping another blob collects first. */
#define COLLECT_AT_LEAST (256.0 * 1024 * 1024)

typedef struct {
  void *base;
  size_t size;
  int fd; /* holds the shared flock */
} blob_t;

static double mapped_bytes = 0;
static double collect_above = COLLECT_AT_LEAST;

static R_altrep_class_t mapped_real, mapped_integer;

static void unmap_blob(SEXP handle) {
  blob_t *blob = (blob_t *)R_ExternalPtrAddr(handle);
  if (!blob) return;
  munmap(blob->base, blob->size);
  close(blob->fd); /* releases the lock: Python may write this arena again */
  mapped_bytes -= (double)blob->size;
  free(blob);
  R_ClearExternalPtr(handle);
}

/* Maps the first `size` bytes of an arena file; the handle unmaps it once no
 * vector made from it is left. */
SEXP tnd_map_blob(SEXP path, SEXP size) {
  size_t n = (size_t)Rf_asReal(size);
  if (mapped_bytes + (double)n > collect_above) {
    R_gc();
    collect_above = fmax(COLLECT_AT_LEAST, 2 * (mapped_bytes + (double)n));
  }
  const char *file = CHAR(STRING_ELT(path, 0));
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) Rf_error("cannot open exchange file %s: %s", file, strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || (size_t)info.st_size < n) {
    close(fd);
    Rf_error("exchange file %s is shorter than its header says", file);
  }
  void *base = MAP_FAILED;
  if (flock(fd, LOCK_SH) == 0) base = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  blob_t *blob = base == MAP_FAILED ? NULL : (blob_t *)malloc(sizeof(blob_t));
  if (!blob) {
    int error = errno;
    if (base != MAP_FAILED) munmap(base, n);
    close(fd);
    Rf_error("cannot map exchange file %s: %s", file, strerror(error));
  }
  /* Every page now, for reading (MAP_POPULATE would copy each one, as if written). */
  madvise(base, n, MADV_POPULATE_READ);
  blob->base = base;
  blob->size = n;
  blob->fd = fd;
  mapped_bytes += (double)n;
  SEXP handle = PROTECT(R_MakeExternalPtr(blob, R_NilValue, R_NilValue));
  R_RegisterCFinalizerEx(handle, unmap_blob, TRUE);
  UNPROTECT(1);
  return handle;
}

/* data1 is the blob's handle, data2 a double vector (offset, length). */
static void *mapped_pointer(SEXP x) {
  blob_t *blob = (blob_t *)R_ExternalPtrAddr(R_altrep_data1(x));
  if (!blob) Rf_error("tandem: a mapped exchange vector outlived its mapping");
  return (char *)blob->base + (size_t)REAL(R_altrep_data2(x))[0];
}

static R_xlen_t mapped_length(SEXP x) { return (R_xlen_t)REAL(R_altrep_data2(x))[1]; }

static void *mapped_dataptr(SEXP x, Rboolean writeable) { return mapped_pointer(x); }

static const void *mapped_dataptr_or_null(SEXP x) { return mapped_pointer(x); }

static double mapped_real_elt(SEXP x, R_xlen_t i) { return ((double *)mapped_pointer(x))[i]; }

static int mapped_integer_elt(SEXP x, R_xlen_t i) { return ((int *)mapped_pointer(x))[i]; }

static R_xlen_t mapped_real_region(SEXP x, R_xlen_t i, R_xlen_t n, double *into) {
  R_xlen_t k = mapped_length(x) - i < n ? mapped_length(x) - i : n;
  memcpy(into, (double *)mapped_pointer(x) + i, (size_t)k * sizeof(double));
  return k;
}

static R_xlen_t mapped_integer_region(SEXP x, R_xlen_t i, R_xlen_t n, int *into) {
  R_xlen_t k = mapped_length(x) - i < n ? mapped_length(x) - i : n;
  memcpy(into, (int *)mapped_pointer(x) + i, (size_t)k * sizeof(int));
  return k;
}

static Rboolean mapped_inspect(SEXP x, int pre, int deep, int pvec, void (*inspect_subtree)(SEXP, int, int, int)) {
  Rprintf(" tandem mapped exchange buffer\n");
  return TRUE;
}

/* `n` elements of `kind` ("double" or "integer") at `offset` of a mapped blob. */
SEXP tnd_mapped_vector(SEXP handle, SEXP offset, SEXP nbytes, SEXP kind, SEXP n) {
  blob_t *blob = (blob_t *)R_ExternalPtrAddr(handle);
  const char *what = CHAR(STRING_ELT(kind, 0));
  int real = strcmp(what, "double") == 0;
  if (!real && strcmp(what, "integer") != 0) Rf_error("cannot map a buffer of %s", what);
  double at = Rf_asReal(offset), size = Rf_asReal(nbytes), count = Rf_asReal(n);
  if (!blob || at < 0 || at + size > (double)blob->size) Rf_error("buffer lies outside its exchange blob");
  if (size != count * (real ? 8 : 4)) Rf_error("buffer of %.0f bytes cannot hold %.0f %s values", size, count, what);
  if (fmod(at, real ? 8 : 4) != 0) Rf_error("exchange buffer at %.0f is not aligned", at);
  SEXP place = PROTECT(Rf_allocVector(REALSXP, 2));
  REAL(place)[0] = at;
  REAL(place)[1] = count;
  SEXP x = R_new_altrep(real ? mapped_real : mapped_integer, handle, place);
  UNPROTECT(1);
  return x;
}

static void set_common_methods(R_altrep_class_t class) {
  R_set_altrep_Length_method(class, mapped_length);
  R_set_altrep_Inspect_method(class, mapped_inspect);
  R_set_altvec_Dataptr_method(class, mapped_dataptr);
  R_set_altvec_Dataptr_or_null_method(class, mapped_dataptr_or_null);
}

void tnd_register_mapped_vectors(DllInfo *dll) {
  mapped_real = R_make_altreal_class("mapped_real", "tandem", dll);
  set_common_methods(mapped_real);
  R_set_altreal_Elt_method(mapped_real, mapped_real_elt);
  R_set_altreal_Get_region_method(mapped_real, mapped_real_region);
  mapped_integer = R_make_altinteger_class("mapped_integer", "tandem", dll);
  set_common_methods(mapped_integer);
  R_set_altinteger_Elt_method(mapped_integer, mapped_integer_elt);
  R_set_altinteger_Get_region_method(mapped_integer, mapped_integer_region);
}
