/* The native routines of the tandem R package, called with .Call(). */
#ifndef TANDEM_H
#define TANDEM_H

#define R_NO_REMAP
#include <Rinternals.h>

/* exchange.c: bytes between R vectors and exchange blobs. */
SEXP tnd_has_na(SEXP x);
SEXP tnd_pack_strings(SEXP x);
SEXP tnd_write(SEXP parts, SEXP kinds, SEXP offsets, SEXP total, SEXP path);
SEXP tnd_read(SEXP source, SEXP offset, SEXP nbytes, SEXP kind, SEXP n);

#endif
