/* Character vectors read from an exchange blob that make R's strings (CHARSXPs)
 * only when they are used. Making a million distinct strings costs R tens of
 * milliseconds (each one is hashed into R's global string cache), and a column
 * that arrives is often only glanced at. An ALTREP class keeps the UTF-8 bytes
 * and makes a string when an element is asked for, or all of them once code
 * wants the whole array (R then sees an ordinary character vector). */

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>
/* After Rinternals.h, whose types it uses. */
#include <R_ext/Altrep.h>

#include <string.h>

#include "tandem.h"

/* Vectors shorter than this are made at once: laziness would not pay. */
#define LAZY_MINIMUM 4096
/* Elements asked for one by one before all are made: a few for a glance (head(),
 * str()), while a loop over every element makes each string only once. */
#define LOOKS_BEFORE_MAKING 64

static R_altrep_class_t lazy_strings;

/* Before the strings are made, data1 is list(bytes, starts, na, looks): the
 * NUL-ended UTF-8 strings (RAWSXP), where each starts (REALSXP of n + 1, the last
 * one the end of the bytes), which are NA (LGLSXP or NULL), and how many elements
 * were asked for (INTSXP of 1). Once made, data2 holds the STRSXP and data1 is
 * dropped. */
enum { PART_BYTES = 0, PART_STARTS = 1, PART_NA = 2, PART_LOOKS = 3 };

static SEXP string_at(SEXP parts, R_xlen_t i) {
  SEXP na = VECTOR_ELT(parts, PART_NA);
  if (na != R_NilValue && LOGICAL(na)[i]) return NA_STRING;
  const double *starts = REAL(VECTOR_ELT(parts, PART_STARTS));
  const char *bytes = (const char *)RAW(VECTOR_ELT(parts, PART_BYTES));
  return Rf_mkCharLenCE(bytes + (size_t)starts[i], (int)(starts[i + 1] - starts[i]) - 1, CE_UTF8);
}

static SEXP make_all(SEXP x) {
  SEXP strings = R_altrep_data2(x);
  if (strings != R_NilValue) return strings;
  SEXP parts = R_altrep_data1(x);
  R_xlen_t n = XLENGTH(VECTOR_ELT(parts, PART_STARTS)) - 1;
  strings = PROTECT(Rf_allocVector(STRSXP, n));
  for (R_xlen_t i = 0; i < n; i++) SET_STRING_ELT(strings, i, string_at(parts, i));
  R_set_altrep_data2(x, strings);
  R_set_altrep_data1(x, R_NilValue);
  UNPROTECT(1);
  return strings;
}

static R_xlen_t lazy_length(SEXP x) {
  SEXP strings = R_altrep_data2(x);
  if (strings != R_NilValue) return XLENGTH(strings);
  return XLENGTH(VECTOR_ELT(R_altrep_data1(x), PART_STARTS)) - 1;
}

static SEXP lazy_elt(SEXP x, R_xlen_t i) {
  SEXP strings = R_altrep_data2(x);
  if (strings != R_NilValue) return STRING_ELT(strings, i);
  SEXP parts = R_altrep_data1(x);
  if (++INTEGER(VECTOR_ELT(parts, PART_LOOKS))[0] > LOOKS_BEFORE_MAKING) return STRING_ELT(make_all(x), i);
  return string_at(parts, i);
}

static void lazy_set_elt(SEXP x, R_xlen_t i, SEXP value) { SET_STRING_ELT(make_all(x), i, value); }

static void *lazy_dataptr(SEXP x, Rboolean writeable) { return (void *)STRING_PTR(make_all(x)); }

static const void *lazy_dataptr_or_null(SEXP x) {
  SEXP strings = R_altrep_data2(x);
  return strings == R_NilValue ? NULL : (const void *)STRING_PTR_RO(strings);
}

static int lazy_no_na(SEXP x) {
  SEXP strings = R_altrep_data2(x);
  return strings == R_NilValue && VECTOR_ELT(R_altrep_data1(x), PART_NA) == R_NilValue;
}

static Rboolean lazy_inspect(SEXP x, int pre, int deep, int pvec, void (*inspect_subtree)(SEXP, int, int, int)) {
  Rprintf(" tandem strings (%s)\n", R_altrep_data2(x) == R_NilValue ? "not made yet" : "made");
  return TRUE;
}

/* The bytes a lazy vector was read from, while its strings are not made yet (they
 * are then exactly what tnd_pack_strings would write); NULL otherwise. */
SEXP tnd_lazy_bytes(SEXP x) {
  if (!ALTREP(x) || !R_altrep_inherits(x, lazy_strings) || R_altrep_data2(x) != R_NilValue) return R_NilValue;
  return VECTOR_ELT(R_altrep_data1(x), PART_BYTES);
}

/* Where a lazy vector whose strings are not made yet is NA (logical, empty when
 * nowhere), without making them; NULL for any other vector. */
SEXP tnd_lazy_na(SEXP x) {
  if (tnd_lazy_bytes(x) == R_NilValue) return R_NilValue;
  SEXP na = VECTOR_ELT(R_altrep_data1(x), PART_NA);
  return na == R_NilValue ? Rf_allocVector(LGLSXP, 0) : na;
}

void tnd_register_lazy_strings(DllInfo *dll) {
  lazy_strings = R_make_altstring_class("lazy_strings", "tandem", dll);
  R_set_altrep_Length_method(lazy_strings, lazy_length);
  R_set_altrep_Inspect_method(lazy_strings, lazy_inspect);
  R_set_altvec_Dataptr_method(lazy_strings, lazy_dataptr);
  R_set_altvec_Dataptr_or_null_method(lazy_strings, lazy_dataptr_or_null);
  R_set_altstring_Elt_method(lazy_strings, lazy_elt);
  R_set_altstring_Set_elt_method(lazy_strings, lazy_set_elt);
  R_set_altstring_No_NA_method(lazy_strings, lazy_no_na);
}

/* `n` strings from `bytes` (a raw vector of NUL-ended UTF-8 strings), NA where `na`
 * (a logical vector, or NULL) says so: lazy when long, made at once when short. */
SEXP tnd_strings_from(SEXP bytes, R_xlen_t n, SEXP na) {
  size_t size = (size_t)XLENGTH(bytes);
  const unsigned char *data = RAW(bytes);
  SEXP starts = PROTECT(Rf_allocVector(REALSXP, n + 1));
  double *at = REAL(starts);
  size_t start = 0;
  for (R_xlen_t i = 0; i < n; i++) {
    const unsigned char *end = start < size ? memchr(data + start, 0, size - start) : NULL;
    if (!end) Rf_error("string buffer holds fewer than %.0f strings", (double)n);
    at[i] = (double)start;
    start = (size_t)(end - data) + 1;
  }
  at[n] = (double)start;
  if (na != R_NilValue && XLENGTH(na) != n)
    Rf_error("NA mask of %.0f for %.0f strings", (double)XLENGTH(na), (double)n);
  SEXP parts = PROTECT(Rf_allocVector(VECSXP, 4));
  SET_VECTOR_ELT(parts, PART_BYTES, bytes);
  SET_VECTOR_ELT(parts, PART_STARTS, starts);
  SET_VECTOR_ELT(parts, PART_NA, na);
  SET_VECTOR_ELT(parts, PART_LOOKS, Rf_ScalarInteger(0));
  SEXP x;
  if (n < LAZY_MINIMUM) {
    x = PROTECT(Rf_allocVector(STRSXP, n));
    for (R_xlen_t i = 0; i < n; i++) SET_STRING_ELT(x, i, string_at(parts, i));
  } else {
    x = PROTECT(R_new_altrep(lazy_strings, parts, R_NilValue));
  }
  UNPROTECT(3);
  return x;
}
