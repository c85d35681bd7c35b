/* Registers the package's native routines (useDynLib(tandem, .registration = TRUE)). */

#include <R_ext/Rdynload.h>

#include "tandem.h"

static const R_CallMethodDef methods[] = {
    {"tnd_has_na", (DL_FUNC)&tnd_has_na, 1},
    {"tnd_pack_strings", (DL_FUNC)&tnd_pack_strings, 1},
    {"tnd_write", (DL_FUNC)&tnd_write, 5},
    {"tnd_read", (DL_FUNC)&tnd_read, 5},
    {"tnd_read_strings", (DL_FUNC)&tnd_read_strings, 5},
    {"tnd_lazy_na", (DL_FUNC)&tnd_lazy_na, 1},
    {"tnd_claim_arena", (DL_FUNC)&tnd_claim_arena, 2},
    {"tnd_map_blob", (DL_FUNC)&tnd_map_blob, 2},
    {"tnd_mapped_vector", (DL_FUNC)&tnd_mapped_vector, 5},
    {"tnd_json", (DL_FUNC)&tnd_json, 1},
    {"tnd_zmq_send", (DL_FUNC)&tnd_zmq_send, 2},
    {"tnd_address", (DL_FUNC)&tnd_address, 1},
    {"tnd_refcount", (DL_FUNC)&tnd_refcount, 1},
    {"tnd_zmq_receive", (DL_FUNC)&tnd_zmq_receive, 3},
    {"tnd_read_console_from", (DL_FUNC)&tnd_read_console_from, 1},
    {NULL, NULL, 0},
};

void R_init_tandem(DllInfo *info) {
  R_registerRoutines(info, NULL, methods, NULL, NULL);
  R_useDynamicSymbols(info, FALSE);
  tnd_register_lazy_strings(info);
  tnd_register_mapped_vectors(info);
}
