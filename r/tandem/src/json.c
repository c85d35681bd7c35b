/* JSON text of an exchange header: named lists as objects, other lists as arrays,
 * length-1 vectors as scalars, NA and NULL as null. jsonlite takes ~4 ms for the
 * header of a seven-column frame (a method dispatch per node); this takes
 * microseconds. Headers hold only these types (R/exchange.R makes them). */

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem.h"

typedef struct {
  char *text;
  size_t size, capacity;
} buffer_t;

static int put(buffer_t *b, const char *text, size_t length) {
  if (b->size + length + 1 > b->capacity) {
    size_t capacity = 2 * b->capacity + length + 1;
    char *grown = (char *)realloc(b->text, capacity);
    if (!grown) return 0;
    b->text = grown;
    b->capacity = capacity;
  }
  memcpy(b->text + b->size, text, length);
  b->size += length;
  return 1;
}

static int put_string(buffer_t *b, SEXP s) {
  if (s == NA_STRING) return put(b, "null", 4);
  const unsigned char *text = (const unsigned char *)Rf_translateCharUTF8(s);
  if (!put(b, "\"", 1)) return 0;
  for (; *text; text++) {
    char escaped[8];
    const char *piece = escaped;
    size_t length = 2;
    switch (*text) {
    case '"': piece = "\\\""; break;
    case '\\': piece = "\\\\"; break;
    case '\n': piece = "\\n"; break;
    case '\r': piece = "\\r"; break;
    case '\t': piece = "\\t"; break;
    default:
      if (*text < 0x20) {
        length = (size_t)snprintf(escaped, sizeof escaped, "\\u%04x", *text);
      } else {
        piece = (const char *)text;
        length = 1;
      }
    }
    if (!put(b, piece, length)) return 0;
  }
  return put(b, "\"", 1);
}

static int put_number(buffer_t *b, double x) {
  char text[32];
  if (!isfinite(x)) return put(b, "null", 4);
  /* Offsets and sizes are whole numbers: exact up to 2^53. */
  int length = x == floor(x) && fabs(x) < 9007199254740992.0 ? snprintf(text, sizeof text, "%.0f", x)
                                                               : snprintf(text, sizeof text, "%.17g", x);
  return put(b, text, (size_t)length);
}

static int put_element(buffer_t *b, SEXP x, R_xlen_t i) {
  switch (TYPEOF(x)) {
  case LGLSXP:
    return LOGICAL(x)[i] == NA_LOGICAL ? put(b, "null", 4) : LOGICAL(x)[i] ? put(b, "true", 4) : put(b, "false", 5);
  case INTSXP: return INTEGER(x)[i] == NA_INTEGER ? put(b, "null", 4) : put_number(b, INTEGER(x)[i]);
  case REALSXP: return ISNA(REAL(x)[i]) ? put(b, "null", 4) : put_number(b, REAL(x)[i]);
  case STRSXP: return put_string(b, STRING_ELT(x, i));
  default: return -1;
  }
}

/* 1 on success, 0 out of memory, -1 a type a header does not hold. */
static int put_value(buffer_t *b, SEXP x) {
  if (x == R_NilValue) return put(b, "null", 4);
  R_xlen_t n = XLENGTH(x);
  if (TYPEOF(x) == VECSXP) {
    SEXP names = Rf_getAttrib(x, R_NamesSymbol);
    int object = names != R_NilValue;
    if (!put(b, object ? "{" : "[", 1)) return 0;
    for (R_xlen_t i = 0; i < n; i++) {
      if (i > 0 && !put(b, ",", 1)) return 0;
      if (object && (!put_string(b, STRING_ELT(names, i)) || !put(b, ":", 1))) return 0;
      int done = put_value(b, VECTOR_ELT(x, i));
      if (done != 1) return done;
    }
    return put(b, object ? "}" : "]", 1);
  }
  if (n == 1) return put_element(b, x, 0);
  if (!put(b, "[", 1)) return 0;
  for (R_xlen_t i = 0; i < n; i++) {
    if (i > 0 && !put(b, ",", 1)) return 0;
    int done = put_element(b, x, i);
    if (done != 1) return done;
  }
  return put(b, "]", 1);
}

SEXP tnd_json(SEXP x) {
  buffer_t b = {NULL, 0, 0};
  int done = put_value(&b, x);
  if (done != 1) {
    free(b.text);
    if (done == 0) Rf_error("out of memory writing JSON");
    Rf_error("cannot write an R %s as JSON", Rf_type2char(TYPEOF(x)));
  }
  SEXP result = PROTECT(Rf_allocVector(STRSXP, 1));
  SET_STRING_ELT(result, 0, Rf_mkCharLenCE(b.text, (int)b.size, CE_UTF8));
  free(b.text);
  UNPROTECT(1);
  return result;
}
