/* R's console input read from the frontend. browser(), debug(), debugonce() and
 * recover() read their commands through R's console, which in the kernel's R
 * (non-interactive, started with -e) is the end of a file: browser() would
 * carry on by itself. The session points the console at an R function of the
 * package (console_line() in R/stdin.R), which asks the frontend as readline()
 * does. */

#define R_NO_REMAP
#define R_INTERFACE_PTRS
#include <Rinterface.h>
#include <Rinternals.h>
#include <string.h>

#include "tandem.h"

static SEXP reader = NULL;

/* One line for R's console: the reader's string and a newline, or 0 (end of
 * input) when it returns NULL. Conditions the reader signals unwind from here as
 * from R's own console reading. */
static int read_console(const char *prompt, unsigned char *buffer, int size, int history) {
  SEXP call = PROTECT(Rf_lang2(reader, Rf_mkString(prompt)));
  SEXP line = PROTECT(Rf_eval(call, R_GlobalEnv));
  if (TYPEOF(line) != STRSXP || XLENGTH(line) < 1 || STRING_ELT(line, 0) == NA_STRING || size < 2) {
    UNPROTECT(2);
    return 0;
  }
  const char *text = Rf_translateCharUTF8(STRING_ELT(line, 0));
  size_t length = strlen(text);
  if (length > (size_t)size - 2) length = (size_t)size - 2; /* R reads longer input in parts too */
  memcpy(buffer, text, length);
  buffer[length] = '\n';
  buffer[length + 1] = '\0';
  UNPROTECT(2);
  return 1;
}

SEXP tnd_read_console_from(SEXP function) {
  if (reader != NULL) R_ReleaseObject(reader);
  R_PreserveObject(function);
  reader = function;
  ptr_R_ReadConsole = read_console;
  /* R started with --no-echo passes no prompt; this console prints nothing of its
   * own, and the browser's prompt ("Browse[1]> ") is what the frontend shows. */
  R_NoEcho = FALSE;
  return R_NilValue;
}
