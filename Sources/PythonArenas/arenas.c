// CPython's small objects (str, int, tuple, dict, ...) live in 1 MiB arenas that
// it maps one at a time. Creating a million objects then touches ~14,000 fresh
// 4 KiB pages, and on virtual machines each first touch is a costly fault. Taken
// from 2 MiB-aligned chunks marked MADV_HUGEPAGE, the same memory arrives in
// 2 MiB pages: 512 times fewer faults (a million strings: 55 ms -> 28 ms here).
// Where transparent huge pages are off, madvise does nothing and pages are 4 KiB.

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "PythonArenas.h"

#define ARENA_BYTES ((size_t)1 << 20)
#define HUGE_PAGE_BYTES ((size_t)2 << 20)
#define ARENAS_PER_CHUNK 32
#define CHUNK_BYTES (ARENAS_PER_CHUNK * ARENA_BYTES)

typedef struct chunk {
  char *base;
  uint32_t used;  // one bit per arena
  struct chunk *next;
} chunk_t;

// Oldest first, so that arenas fill old chunks and new ones can empty. The
// allocator runs with the GIL held, which serialises every call.
static chunk_t *chunks;

static void *map_anonymous(size_t size) {
  void *pointer = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return pointer == MAP_FAILED ? NULL : pointer;
}

static chunk_t *add_chunk(void) {
  chunk_t *chunk = malloc(sizeof *chunk);
  if (chunk == NULL) return NULL;
  // Over-map by one huge page, then trim to a 2 MiB-aligned chunk.
  char *raw = map_anonymous(CHUNK_BYTES + HUGE_PAGE_BYTES);
  if (raw == NULL) {
    free(chunk);
    return NULL;
  }
  char *base = (char *)(((uintptr_t)raw + HUGE_PAGE_BYTES - 1) & ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
  if (base > raw) munmap(raw, (size_t)(base - raw));
  size_t tail = (size_t)(raw + CHUNK_BYTES + HUGE_PAGE_BYTES - (base + CHUNK_BYTES));
  if (tail > 0) munmap(base + CHUNK_BYTES, tail);
  madvise(base, CHUNK_BYTES, MADV_HUGEPAGE);
  *chunk = (chunk_t){.base = base, .used = 0, .next = NULL};
  chunk_t **link = &chunks;
  while (*link != NULL) link = &(*link)->next;
  *link = chunk;
  return chunk;
}

static void *arena_alloc(void *context, size_t size) {
  (void)context;
  if (size != ARENA_BYTES) return map_anonymous(size);
  chunk_t *chunk = chunks;
  while (chunk != NULL && chunk->used == UINT32_MAX) chunk = chunk->next;
  if (chunk == NULL && (chunk = add_chunk()) == NULL) return NULL;
  int slot = __builtin_ctz(~chunk->used);
  chunk->used |= (uint32_t)1 << slot;
  return chunk->base + (size_t)slot * ARENA_BYTES;
}

static void arena_free(void *context, void *pointer, size_t size) {
  (void)context;
  char *arena = pointer;
  for (chunk_t **link = &chunks; *link != NULL; link = &(*link)->next) {
    chunk_t *chunk = *link;
    if (arena < chunk->base || arena >= chunk->base + CHUNK_BYTES) continue;
    int slot = (int)((size_t)(arena - chunk->base) / ARENA_BYTES);
    chunk->used &= ~((uint32_t)1 << slot);
    if (chunk->used == 0) {
      *link = chunk->next;
      munmap(chunk->base, CHUNK_BYTES);
      free(chunk);
    } else if ((chunk->used & ((uint32_t)1 << (slot ^ 1))) == 0) {
      madvise(chunk->base + (size_t)(slot & ~1) * ARENA_BYTES, HUGE_PAGE_BYTES, MADV_DONTNEED);
    }
    return;
  }
  // An arena of another size, mapped on its own.
  munmap(pointer, size);
}

void tandem_python_arenas_in_huge_pages(void) {
  PyObjectArenaAllocator allocator = {.ctx = NULL, .alloc = arena_alloc, .free = arena_free};
  PyObject_SetArenaAllocator(&allocator);
}
