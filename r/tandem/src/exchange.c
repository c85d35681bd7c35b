/* The byte-moving part of the exchange format on the R side: vectors go from R's
 * memory straight into a blob (a raw vector or a file in shared memory) and back,
 * one copy each way, with no temporary R objects. The format itself (which
 * buffer holds what) is decided in R/exchange.R.
 *
 * Over 400 lines on purpose: the string packing, the writes and the reads share
 * the blob's static helpers (the arena mappings, read_bytes, the NA tests), which
 * would otherwise become an internal header of their own. */

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tandem.h"

/* How a part is written (kinds in R/exchange.R). */
enum { PART_DATA = 0, PART_LOGICAL = 1, PART_MASK = 2 };

static int is_na_at(SEXP x, R_xlen_t i) {
  switch (TYPEOF(x)) {
  case LGLSXP: return LOGICAL(x)[i] == NA_LOGICAL;
  case INTSXP: return INTEGER(x)[i] == NA_INTEGER;
  case REALSXP: return R_IsNA(REAL(x)[i]);
  case CPLXSXP: return R_IsNA(COMPLEX(x)[i].r) || R_IsNA(COMPLEX(x)[i].i);
  case STRSXP: return STRING_ELT(x, i) == NA_STRING;
  default: return 0;
  }
}

/* Whether x holds NA (not NaN): the only case that needs a mask. */
SEXP tnd_has_na(SEXP x) {
  R_xlen_t n = XLENGTH(x);
  for (R_xlen_t i = 0; i < n; i++)
    if (is_na_at(x, i)) return Rf_ScalarLogical(1);
  return Rf_ScalarLogical(0);
}

/* The UTF-8 text of a string and its length: R's own bytes when they are UTF-8
 * or ASCII already (the common case), without scanning them. */
static const char *utf8_text(SEXP s, size_t *length) {
  const char *text = Rf_translateCharUTF8(s);
  *length = text == CHAR(s) ? (size_t)LENGTH(s) : strlen(text);
  return text;
}

#define PREFETCH_AHEAD 16

/* Packed strings live outside R's heap: an 8 MB raw vector per million strings
 * made R collect (a full collection walks every string) at every transfer. */
typedef struct {
  unsigned char *data;
  size_t size;
} packed_t;

static void free_packed(SEXP handle) {
  packed_t *packed = (packed_t *)R_ExternalPtrAddr(handle);
  if (!packed) return;
  free(packed->data);
  free(packed);
  R_ClearExternalPtr(handle);
}

static SEXP packed_handle(unsigned char *bytes, size_t size) {
  packed_t *packed = (packed_t *)malloc(sizeof(packed_t));
  if (!packed) {
    free(bytes);
    Rf_error("out of memory packing strings");
  }
  packed->data = bytes;
  packed->size = size;
  SEXP handle = PROTECT(R_MakeExternalPtr(packed, R_NilValue, R_NilValue));
  R_RegisterCFinalizerEx(handle, free_packed, TRUE);
  Rf_setAttrib(handle, Rf_install("size"), Rf_ScalarReal((double)size));
  UNPROTECT(1);
  return handle;
}

/* Below this many strings one thread packs them all: a second thread pays off
 * from about a hundred thousand (a million: 19 ms -> 8 ms on two cores). */
#define SPLIT_PACK_FROM 200000

/* Strings [from, to) packed into malloc'd bytes. With `translate`, on R's thread,
 * any string is converted to UTF-8. Without it, the job may run on another thread,
 * so it calls nothing that allocates or signals: it takes only the strings whose
 * bytes are UTF-8 as they are (marked UTF-8, or native in a UTF-8 locale, which
 * covers ASCII). Any other string, or memory running out, leaves `ok` at 0. */
typedef struct {
  const SEXP *strings;
  R_xlen_t from, to;
  int translate;
  int native_is_utf8;
  unsigned char *bytes;
  size_t size;
  int ok;
} pack_job_t;

static void *pack_range(void *argument) {
  pack_job_t *job = (pack_job_t *)argument;
  size_t capacity = (size_t)(job->to - job->from) * 8 + 64;
  job->bytes = (unsigned char *)malloc(capacity);
  job->size = 0;
  job->ok = 0;
  if (!job->bytes) return NULL;
  for (R_xlen_t i = job->from; i < job->to; i++) {
    SEXP s = job->strings[i];
    /* Each string is an object of its own somewhere in R's heap: asking for the
     * ones a few steps ahead overlaps the cache misses that bound this loop. */
    if (i + PREFETCH_AHEAD < job->to) {
      __builtin_prefetch(job->strings[i + PREFETCH_AHEAD]);
      __builtin_prefetch((const char *)job->strings[i + PREFETCH_AHEAD] + 64);
    }
    const char *text = "";
    size_t length = 0;
    if (s != NA_STRING && job->translate) {
      text = utf8_text(s, &length);
    } else if (s != NA_STRING) {
      cetype_t encoding = Rf_getCharCE(s);
      if (encoding != CE_UTF8 && !(encoding == CE_NATIVE && job->native_is_utf8)) return NULL;
      text = CHAR(s);
      length = (size_t)LENGTH(s);
    }
    if (job->size + length + 1 > capacity) {
      capacity = 2 * capacity + length + 1;
      unsigned char *grown = (unsigned char *)realloc(job->bytes, capacity);
      if (!grown) return NULL;
      job->bytes = grown;
    }
    memcpy(job->bytes + job->size, text, length + 1);
    job->size += length + 1;
  }
  job->ok = 1;
  return NULL;
}

/* Both halves of a long vector at once, R waiting: NULL when a half could not be
 * packed this way. */
static SEXP pack_split(const SEXP *strings, R_xlen_t n) {
  int native_is_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  pack_job_t jobs[2] = {
      {.strings = strings, .from = 0, .to = n / 2, .native_is_utf8 = native_is_utf8},
      {.strings = strings, .from = n / 2, .to = n, .native_is_utf8 = native_is_utf8},
  };
  /* The helper takes no signal: R's handlers run on R's thread only. */
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t helper;
  int started = pthread_create(&helper, NULL, pack_range, &jobs[1]) == 0;
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  pack_range(&jobs[0]);
  if (started) {
    pthread_join(helper, NULL);
  } else {
    pack_range(&jobs[1]);
  }
  unsigned char *joined = NULL;
  if (jobs[0].ok && jobs[1].ok) joined = (unsigned char *)realloc(jobs[0].bytes, jobs[0].size + jobs[1].size);
  if (!joined) {
    free(jobs[0].bytes);
    free(jobs[1].bytes);
    return NULL;
  }
  memcpy(joined + jobs[0].size, jobs[1].bytes, jobs[1].size);
  free(jobs[1].bytes);
  return packed_handle(joined, jobs[0].size + jobs[1].size);
}

/* A character vector as UTF-8 strings each ended by NUL (NA as ""): one pass over
 * the strings (each a separate object in R's memory), so that writing the blob is
 * then one copy. Returns a handle to the bytes (written and freed by tnd_write)
 * whose "size" attribute is their number, or, for a vector that arrived from an
 * exchange and was not used yet, the raw vector it came in. */
SEXP tnd_pack_strings(SEXP x) {
  SEXP unmade = tnd_lazy_bytes(x);
  if (unmade != R_NilValue) return unmade;
  R_xlen_t n = XLENGTH(x);
  const SEXP *strings = STRING_PTR_RO(x);
  if (n >= SPLIT_PACK_FROM) {
    SEXP handle = pack_split(strings, n);
    if (handle != NULL) return handle;
  }
  pack_job_t job = {.strings = strings, .from = 0, .to = n, .translate = 1};
  pack_range(&job);
  if (!job.ok) {
    free(job.bytes);
    Rf_error("out of memory packing %.0f strings", (double)n);
  }
  return packed_handle(job.bytes, job.size);
}

static size_t element_size(SEXP x) {
  switch (TYPEOF(x)) {
  case REALSXP: return sizeof(double);
  case INTSXP: case LGLSXP: return sizeof(int);
  case CPLXSXP: return sizeof(Rcomplex);
  case RAWSXP: return 1;
  default: Rf_error("cannot write an R %s vector as data", Rf_type2char(TYPEOF(x)));
  }
  return 0;
}

/* Where the blob goes: a raw vector or a mapping of an arena. */
typedef struct {
  unsigned char *memory;
  size_t position;
} sink_t;

static void sink_write(sink_t *sink, const void *data, size_t size) {
  memcpy(sink->memory + sink->position, data, size);
  sink->position += size;
}

static void write_part(sink_t *sink, SEXP x, int kind) {
  if (TYPEOF(x) == EXTPTRSXP) { /* strings packed by tnd_pack_strings */
    packed_t *packed = (packed_t *)R_ExternalPtrAddr(x);
    if (!packed) Rf_error("packed strings were already written");
    sink_write(sink, packed->data, packed->size);
    free_packed(x); /* written once: no need to wait for a collection */
    return;
  }
  R_xlen_t n = XLENGTH(x);
  switch (kind) {
  case PART_DATA:
    sink_write(sink, DATAPTR_RO(x), (size_t)n * element_size(x));
    break;
  case PART_LOGICAL:
    for (R_xlen_t i = 0; i < n; i++) sink->memory[sink->position++] = LOGICAL(x)[i] == 1;
    break;
  case PART_MASK:
    for (R_xlen_t i = 0; i < n; i++) sink->memory[sink->position++] = (unsigned char)is_na_at(x, i);
    break;
  default:
    Rf_error("unknown part kind %d", kind);
  }
}

/* The writer's mappings of its arenas, kept between messages: mapping 100 MB
 * again costs as much as half a copy of it. */
#define ARENA_MAPS 8
static struct {
  char path[4096];
  void *base;
  size_t size;
} arena_maps[ARENA_MAPS];

/* Unmaps an arena before it shrinks or grows (touching pages past its end would
 * crash). */
static void forget_mapping(const char *path) {
  for (int i = 0; i < ARENA_MAPS; i++) {
    if (arena_maps[i].base && strcmp(arena_maps[i].path, path) == 0) {
      munmap(arena_maps[i].base, arena_maps[i].size);
      arena_maps[i].base = NULL;
    }
  }
}

/* A shared, writable mapping of arena `path` cut to `size` bytes (no more than
 * this message needs), its pages mapped in one go; NULL when the file system
 * cannot hold that many bytes. The space is reserved before anything is mapped:
 * writing a mapped page that a full /dev/shm cannot back raises SIGBUS. */
static void *arena_mapping(const char *path, size_t size) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) Rf_error("cannot open exchange file %s: %s", path, strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0) info.st_size = -1;
  for (int i = 0; i < ARENA_MAPS; i++) {
    if (arena_maps[i].base && strcmp(arena_maps[i].path, path) == 0 && arena_maps[i].size == size &&
        (size_t)info.st_size == size) {
      close(fd);
      return arena_maps[i].base;
    }
  }
  forget_mapping(path);
  if (posix_fallocate(fd, 0, (off_t)size) != 0) {
    /* What it held, and what was just reserved, go back. */
    if (ftruncate(fd, 0) != 0) { /* an arena that cannot be emptied keeps its pages until the kernel exits */
    }
    close(fd);
    return NULL;
  }
  void *base = MAP_FAILED;
  if ((size_t)info.st_size <= size || ftruncate(fd, (off_t)size) == 0)
    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  int error = errno;
  close(fd);
  if (base == MAP_FAILED) Rf_error("cannot map exchange file %s: %s", path, strerror(error));
  int slot = 0;
  while (slot < ARENA_MAPS && arena_maps[slot].base) slot++;
  if (slot == ARENA_MAPS) { /* all taken: reuse the first */
    slot = 0;
    munmap(arena_maps[0].base, arena_maps[0].size);
  }
  snprintf(arena_maps[slot].path, sizeof arena_maps[slot].path, "%s", path);
  arena_maps[slot].base = base;
  arena_maps[slot].size = size;
  return base;
}

/* Writes the parts at their offsets into an arena file (`path`), returning TRUE,
 * or FALSE when the file system cannot hold them; or, when `path` is NULL, into a
 * new raw vector of `total` bytes, which is returned. */
SEXP tnd_write(SEXP parts, SEXP kinds, SEXP offsets, SEXP total, SEXP path) {
  size_t size = (size_t)Rf_asReal(total);
  sink_t sink = {NULL, 0};
  SEXP result = R_NilValue;
  if (Rf_isNull(path)) {
    result = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)size));
    memset(RAW(result), 0, size);
    sink.memory = RAW(result);
  } else {
    sink.memory = (unsigned char *)arena_mapping(CHAR(STRING_ELT(path, 0)), size);
    if (sink.memory == NULL) return Rf_ScalarLogical(FALSE);
  }
  R_xlen_t count = XLENGTH(parts);
  for (R_xlen_t i = 0; i < count; i++) {
    sink.position = (size_t)REAL(offsets)[i];
    write_part(&sink, VECTOR_ELT(parts, i), INTEGER(kinds)[i]);
  }
  if (Rf_isNull(result)) return Rf_ScalarLogical(TRUE);
  UNPROTECT(1);
  return result;
}

/* Fresh large allocations fault in 4 KiB pages; asking for huge pages first, as
 * numpy does, makes filling them several times faster. */
static void prefer_huge_pages(void *data, size_t size) {
#ifdef MADV_HUGEPAGE
  if (size < (4u << 20)) return;
  uintptr_t page = 2u << 20;
  uintptr_t start = ((uintptr_t)data + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)data + size) & ~(page - 1);
  if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
#endif
}

static void read_bytes(SEXP source, double offset, void *into, size_t size) {
  if (TYPEOF(source) == RAWSXP) {
    if (offset + size > (double)XLENGTH(source)) Rf_error("exchange frame is shorter than its header says");
    memcpy(into, RAW(source) + (size_t)offset, size);
    return;
  }
  const char *file = CHAR(STRING_ELT(source, 0));
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) Rf_error("cannot open exchange file %s: %s", file, strerror(errno));
  if (size >= (1u << 20)) {
    /* Large buffers: a mapping populated in one go, then one copy, beats pread()
     * on tmpfs. */
    struct stat info;
    off_t start = (off_t)offset & ~(off_t)(sysconf(_SC_PAGESIZE) - 1);
    size_t span = size + (size_t)((off_t)offset - start);
    if (fstat(fd, &info) == 0 && (double)info.st_size >= offset + size) {
      void *mapping = mmap(NULL, span, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, start);
      if (mapping != MAP_FAILED) {
        memcpy(into, (char *)mapping + ((off_t)offset - start), size);
        munmap(mapping, span);
        close(fd);
        return;
      }
    }
  }
  size_t done = 0;
  while (done < size) {
    ssize_t k = pread(fd, (char *)into + done, size - done, (off_t)offset + done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      close(fd);
      Rf_error("exchange file %s is shorter than its header says", file);
    }
    done += (size_t)k;
  }
  close(fd);
}

/* Reads one buffer of `nbytes` at `offset` of the blob (a raw vector or a file
 * path) as a vector of `n` elements of `kind`: "double", "integer", "complex",
 * "raw", "logical" or "mask" (one byte each). */
SEXP tnd_read(SEXP source, SEXP offset, SEXP nbytes, SEXP kind, SEXP n) {
  double at = Rf_asReal(offset);
  size_t size = (size_t)Rf_asReal(nbytes);
  R_xlen_t count = (R_xlen_t)Rf_asReal(n);
  const char *what = CHAR(STRING_ELT(kind, 0));
  SEXPTYPE type = strcmp(what, "double") == 0    ? REALSXP
                  : strcmp(what, "integer") == 0 ? INTSXP
                  : strcmp(what, "complex") == 0 ? CPLXSXP
                  : strcmp(what, "raw") == 0     ? RAWSXP
                                                 : NILSXP;
  if (type != NILSXP) {
    size_t width = type == REALSXP ? 8 : type == INTSXP ? 4 : type == CPLXSXP ? 16 : 1;
    if (size != (size_t)count * width)
      Rf_error("buffer of %zu bytes cannot hold %.0f %s values", size, (double)count, what);
    SEXP x = PROTECT(Rf_allocVector(type, count));
    prefer_huge_pages(DATAPTR(x), size);
    read_bytes(source, at, DATAPTR(x), size);
    UNPROTECT(1);
    return x;
  }
  unsigned char *bytes = (unsigned char *)R_alloc(size > 0 ? size : 1, 1);
  read_bytes(source, at, bytes, size);
  if (strcmp(what, "logical") == 0 || strcmp(what, "mask") == 0) {
    if (size != (size_t)count) Rf_error("buffer of %zu bytes cannot hold %.0f flags", size, (double)count);
    SEXP x = PROTECT(Rf_allocVector(LGLSXP, count));
    int *out = LOGICAL(x);
    for (R_xlen_t i = 0; i < count; i++) out[i] = bytes[i] != 0;
    UNPROTECT(1);
    return x;
  }
  Rf_error("unknown buffer kind %s", what);
  return R_NilValue;
}

/* Reads a buffer of `n` NUL-ended UTF-8 strings, NA where the logical `na` (or
 * NULL) says so. */
SEXP tnd_read_strings(SEXP source, SEXP offset, SEXP nbytes, SEXP n, SEXP na) {
  size_t size = (size_t)Rf_asReal(nbytes);
  SEXP bytes = PROTECT(Rf_allocVector(RAWSXP, (R_xlen_t)size));
  read_bytes(source, Rf_asReal(offset), RAW(bytes), size);
  SEXP x = tnd_strings_from(bytes, (R_xlen_t)Rf_asReal(n), na);
  UNPROTECT(1);
  return x;
}

/* How many arena files a writer looks at before giving up on files. */
#define ARENA_LIMIT 1024

/* The path of an arena file `prefix`-0, -1, ... in `directory` that no reader maps
 * (a reader holds a shared flock on a file for as long as it maps it, so that its
 * arrays stay valid): the first free one, or the next new one. Free arenas after
 * the first two are emptied, so that idle arenas hold no more than two messages'
 * pages. NA when all are taken. */
SEXP tnd_claim_arena(SEXP directory, SEXP prefix) {
  const char *folder = CHAR(STRING_ELT(directory, 0));
  const char *name = CHAR(STRING_ELT(prefix, 0));
  char path[4096];
  SEXP chosen = R_NilValue;
  int free_seen = 0;
  for (int i = 0; i < ARENA_LIMIT; i++) {
    snprintf(path, sizeof path, "%s/%s-%d", folder, name, i);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      if (chosen == R_NilValue) chosen = Rf_mkString(path);
      break;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      if (++free_seen == 1) {
        chosen = PROTECT(Rf_mkString(path));
      } else if (free_seen > 2) {
        forget_mapping(path);
        if (ftruncate(fd, 0) != 0) { /* an arena that cannot be emptied keeps its pages until the kernel exits */
        }
      }
      flock(fd, LOCK_UN);
    }
    close(fd);
  }
  if (free_seen > 0) UNPROTECT(1);
  return chosen == R_NilValue ? Rf_ScalarString(NA_STRING) : chosen;
}

/* The address of an R object, as a string: which object a variable holds, to
 * tell whether it still holds the one Python assigned (R/origins.R). */
SEXP tnd_address(SEXP x) {
  char text[32];
  snprintf(text, sizeof text, "%p", (void *)x);
  return Rf_mkString(text);
}

/* How many references R counts to x: 1 when only the caller's list holds it. */
SEXP tnd_refcount(SEXP x) { return Rf_ScalarInteger(REFCNT(x)); }
