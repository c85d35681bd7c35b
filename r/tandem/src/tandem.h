/* The native routines of the tandem R package, called with .Call(). */
#ifndef TANDEM_H
#define TANDEM_H

#define R_NO_REMAP
#include <R_ext/Rdynload.h>
#include <Rinternals.h>

/* exchange.c: bytes between R vectors and exchange blobs. */
SEXP tnd_has_na(SEXP x);
SEXP tnd_pack_strings(SEXP x);
SEXP tnd_write(SEXP parts, SEXP kinds, SEXP offsets, SEXP total, SEXP path);
SEXP tnd_read(SEXP source, SEXP offset, SEXP nbytes, SEXP kind, SEXP n);
SEXP tnd_read_strings(SEXP source, SEXP offset, SEXP nbytes, SEXP n, SEXP na);
SEXP tnd_claim_arena(SEXP directory, SEXP prefix);

/* lazy_strings.c: character vectors whose strings R makes on first use. */
void tnd_register_lazy_strings(DllInfo *dll);
SEXP tnd_strings_from(SEXP bytes, R_xlen_t n, SEXP na);
SEXP tnd_lazy_bytes(SEXP x);
SEXP tnd_lazy_na(SEXP x);

/* mapped_vectors.c: numeric vectors that point into a mapped exchange arena. */
void tnd_register_mapped_vectors(DllInfo *dll);
SEXP tnd_map_blob(SEXP path, SEXP size);
SEXP tnd_mapped_vector(SEXP handle, SEXP offset, SEXP nbytes, SEXP kind, SEXP n);

/* console.c: R's console input (browser(), debug()) read through an R function. */
SEXP tnd_read_console_from(SEXP function);

/* json.c: JSON text of exchange headers. */
SEXP tnd_json(SEXP x);

/* messages.c: whole ZeroMQ messages on pbdZMQ's sockets. */
SEXP tnd_address(SEXP x);
SEXP tnd_refcount(SEXP x);
SEXP tnd_zmq_send(SEXP socket, SEXP frames);
SEXP tnd_zmq_receive(SEXP socket, SEXP timeout, SEXP idle);

#endif
