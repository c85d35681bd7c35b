# Values between the languages while cells run: R answers the kernel's requests
# for its variables (Python's `r.x`, `r.x = v`, `r("code")`), and R code reaches
# Python's variables through `py$x`, `py$x <- v`, `py_eval()` and `py_run()`.

# Puts encoded values into a reply: the header in `values`, the blob in
# `.frames`, the names that could not cross in `errors`.
attach_values <- function(reply, values) {
  packed <- encode_values(values)
  reply$values <- packed[["header"]]
  reply$.frames <- packed[["frames"]]
  if (length(packed[["errors"]])) reply$errors <- packed[["errors"]]
  reply
}

get_request <- function(request) {
  name <- request[["name"]]
  if (!exists(name, envir = globalenv())) {
    return(list(status = "error", ename = "NameError", evalue = sprintf("R has no variable named %s", name)))
  }
  attach_values(list(status = "ok"), structure(list(get(name, envir = globalenv())), names = name))
}

eval_request <- function(request) {
  exprs <- tryCatch(parse(text = request[["code"]], keep.source = FALSE), error = identity)
  if (inherits(exprs, "error")) {
    return(list(status = "error", ename = "SyntaxError", evalue = sub("^<text>:", "", conditionMessage(exprs))))
  }
  value <- NULL
  for (expr in exprs) {
    outcome <- evaluate_expression(expr)
    report_warnings(outcome$warnings)
    if (!is.null(outcome$error)) return(error_reply(outcome$error, outcome$calls))
    value <- outcome$value
  }
  attach_values(list(status = "ok"), list(value = value))
}

assign_request <- function(request) {
  values <- decode_values(request[["values"]], request$.frames)
  for (name in names(values)) assign(name, values[[name]], envir = globalenv())
  remember_origins(request[["values"]][["values"]], values)
  list(status = "ok")
}

# --- R calling Python -----------------------------------------------------------

# Sends a call to the kernel's Python and waits for its reply, serving requests the
# kernel makes of R meanwhile (Python code may read R values while R waits).
call_python <- function(op, ..., values = NULL) {
  message <- list(type = "python", op = op, ...)
  frames <- list()
  if (!is.null(values)) {
    packed <- encode_values(values)
    if (length(packed[["errors"]])) {
      release_values(packed[["header"]])
      stop(paste(unlist(packed[["errors"]]), collapse = "; "), call. = FALSE)
    }
    message$values <- packed[["header"]]
    frames <- packed[["frames"]]
  }
  send_message(message, frames)
  reply <- serve_messages(until = "reply")
  # An interrupt that stopped Python stops the R code waiting for it, as one.
  if (identical(reply[["status"]], "interrupted")) signal_interrupt()
  if (!identical(reply[["status"]], "ok")) stop(reply[["evalue"]], call. = FALSE)
  reply
}

# Signals an interrupt, as SIGINT would, for an interrupt that reached R's code
# another way (through Python, or the futures broker).
signal_interrupt <- function() {
  signalCondition(structure(class = c("interrupt", "condition"), list(message = "interrupted", call = NULL)))
}

release_values <- function(header) {
  if (!is.null(header[["file"]])) unlink(header[["file"]])
}

python_value <- function(reply) {
  if (!is.null(reply[["errors"]])) stop(paste(unlist(reply[["errors"]]), collapse = "; "), call. = FALSE)
  value <- decode_values(reply[["values"]], reply$.frames)[[1L]]
  remember_held(reply[["values"]][["values"]][[1L]], value)
  value
}

#' Evaluates a Python expression in the kernel's Python and returns its value.
#' @export
py_eval <- function(code) {
  python_value(call_python("eval", code = paste(code, collapse = "\n")))
}

#' Runs Python statements in the kernel's Python (its `__main__` namespace).
#' @export
py_run <- function(code) {
  call_python("exec", code = paste(code, collapse = "\n"))
  invisible(NULL)
}

#' The kernel's Python variables: `py$x` reads, `py$x <- value` assigns.
#' @export
py <- structure(list(), class = "tandem_python")

#' @export
`$.tandem_python` <- function(x, name) {
  python_value(call_python("get", name = name))
}

#' @export
`[[.tandem_python` <- function(x, i) {
  python_value(call_python("get", name = i))
}

#' @export
`$<-.tandem_python` <- function(x, name, value) {
  call_python("set", values = structure(list(value), names = name))
  x
}

#' @export
`[[<-.tandem_python` <- function(x, i, value) {
  call_python("set", values = structure(list(value), names = i))
  x
}

#' @export
names.tandem_python <- function(x) {
  unlist(call_python("names")$names)
}

#' @export
.DollarNames.tandem_python <- function(x, pattern = "") {
  grep(pattern, names(x), value = TRUE)
}

#' @export
print.tandem_python <- function(x, ...) {
  cat("<Python main namespace: py$x reads, py$x <- value assigns; py_eval(), py_run()>\n")
  invisible(x)
}
