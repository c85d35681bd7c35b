#ifndef TANDEM_PYTHON_ARENAS_H
#define TANDEM_PYTHON_ARENAS_H

/// Makes CPython's small-object allocator take its 1 MiB arenas from 32 MiB
/// chunks that the system may back with transparent huge pages. Call before the
/// interpreter starts. Memory goes back to the system as Python frees arenas:
/// a 2 MiB page when both of its arenas are free, a chunk when all of its are.
void tandem_python_arenas_in_huge_pages(void);

#endif
