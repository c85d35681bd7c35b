# A `future` backend on the kernel's worker pool: plan(tandem::workers). The
# `future` package finds globals and packages and builds the expression a worker
# evaluates; this backend ships it (serialize()) to an R worker through the
# kernel's broker and collects the FutureResult.

#' Tandem's worker pool as a future plan
#'
#' `plan(tandem::workers)` or `plan(tandem::workers, workers = 4)`. Futures run
#' on the kernel's R workers, which start at the first future and are reused.
#' With `dask = "tls://scheduler:8786"` they run on a Dask cluster instead, on
#' Tandem's R worker beside each Dask worker (the kernel's Python is the client).
#' @export
workers <- function(expr, envir = parent.frame(), substitute = TRUE, lazy = FALSE, seed = NULL,
                    globals = TRUE, packages = NULL, stdout = TRUE, conditions = "condition",
                    label = NULL, workers = NULL, dask = NULL, ...) {
  if (substitute) expr <- substitute(expr)
  future <- TandemFuture(expr = expr, envir = envir, substitute = FALSE, lazy = lazy, seed = seed,
                         globals = globals, packages = packages, stdout = stdout,
                         conditions = conditions, label = label, workers = workers, dask = dask, ...)
  if (!future$lazy) future <- future::run(future)
  invisible(future)
}
class(workers) <- c("workers", "multiprocess", "future", "function")

# plan(tandem::workers, workers = ...) checks `workers` before the plan changes,
# so that a bad value leaves the previous plan in force.
#' @export
tweak.workers <- function(strategy, ..., penvir = parent.frame()) {
  args <- list(...)
  if ("workers" %in% names(args)) pool_size(args$workers)
  if ("dask" %in% names(args)) check_dask_address(args$dask)
  NextMethod()
}

#' @export
nbrOfWorkers.workers <- function(evaluator) {
  dask <- formals(evaluator)$dask
  if (!is.null(dask)) return(dask_threads(dask))
  pool_size(formals(evaluator)$workers)
}

#' @export
nbrOfFreeWorkers.workers <- function(evaluator, background = FALSE, ...) {
  # Dask queues what it cannot run yet: a cluster is never full.
  if (!is.null(formals(evaluator)$dask)) return(nbrOfWorkers(evaluator))
  free <- pool_size(formals(evaluator)$workers) - if (is.null(broker$pending)) 0L else broker$pending
  max(0L, as.integer(free))
}

# The pool size `workers` asks for (NULL: TANDEM_WORKERS, else the number of cores),
# as multisession takes it: a positive whole number, or a function giving one.
pool_size <- function(workers = NULL) {
  if (is.function(workers)) workers <- workers()
  if (!is.null(workers)) {
    if (!is.numeric(workers) || length(workers) != 1L || is.na(workers) || workers < 1 ||
        workers != round(workers)) {
      stop(sprintf("plan(tandem::workers, workers = %s): workers must be a whole number of at least 1, ",
                   paste(deparse(workers), collapse = " ")),
           "or a function that gives one", call. = FALSE)
    }
    return(as.integer(workers))
  }
  size <- suppressWarnings(as.integer(Sys.getenv("TANDEM_WORKERS")))
  if (!is.na(size)) return(size)
  # future asks at every future; detectCores() runs a shell command each time.
  if (is.null(broker$cores)) broker$cores <- parallel::detectCores()
  broker$cores
}

TandemFuture <- function(expr = NULL, envir = parent.frame(), substitute = TRUE, globals = TRUE,
                         packages = NULL, workers = NULL, dask = NULL, ...) {
  if (substitute) expr <- substitute(expr)
  # A global that cannot travel (a connection, an external pointer) fails here,
  # named, instead of arriving broken in the worker.
  old <- options(future.globals.onReference = "error")
  on.exit(options(old))
  gp <- future::getGlobalsAndPackages(expr, envir = envir, globals = globals)
  future <- future::MultiprocessFuture(expr = gp$expr, envir = envir, substitute = FALSE,
                                       globals = gp$globals, packages = unique(c(packages, gp$packages)),
                                       ...)
  future$dask <- check_dask_address(dask)
  if (!is.null(workers) && is.null(dask)) {
    size <- pool_size(workers)
    if (!identical(broker$size, size)) {
      broker_resize("r", size)
      broker$size <- size
    }
  }
  structure(future, class = c("TandemFuture", "TandemTask", class(future)))
}

#' @export
run.TandemFuture <- function(future, ...) {
  if (future$state != "created") {
    stop(future::FutureError("A future can only be launched once", future = future))
  }
  task <- list(expr = future::getExpression(future), globals = future$globals)
  payload <- tryCatch(serialize(task, NULL, xdr = FALSE), error = function(e) {
    stop(future::FutureError(sprintf("the globals of this future (%s) cannot be serialized: %s",
                                     paste(names(future$globals), collapse = ", "), conditionMessage(e)),
                             future = future))
  })
  if (is.null(future$dask)) broker_submit(future, "r", "rds", list(payload)) else dask_submit(future, "rds", list(payload))
}

#' @export
resolved.TandemTask <- function(x, ...) {
  if (!is.null(x$result) || !is.null(x$outcome)) return(TRUE)
  if (x$state == "created") return(FALSE)
  if (!is.null(x$dask)) return(dask_done(x))
  broker_has(x$task)
}

#' @export
result.TandemFuture <- function(future, ...) {
  if (!is.null(future$result)) return(future$result)
  if (future$state == "created") future <- future::run(future)
  outcome <- take_outcome(future)
  # An interrupt of the kernel cancelled the task or stopped its worker: the code
  # waiting for the future is interrupted too, as one.
  if (outcome$status == "failed:cancelled" ||
      (outcome$status == "error" && rawToChar(outcome$frames[[3]]) %in% c("interrupt", "KeyboardInterrupt"))) {
    signal_interrupt()
  }
  # "raised": the future's own code signalled an error, which its result carries.
  if (!outcome$status %in% c("ok", "raised")) stop(outcome_error(outcome, future))
  result <- unserialize(outcome$frames[[1]])
  future$result <- result
  future$state <- "finished"
  result
}

# A future's outcome, from the kernel's broker or from the Dask cluster.
take_outcome <- function(future) {
  if (is.null(future$dask)) broker_take(future) else dask_take(future)
}

# Why a task has no result: the worker died, an interrupt cancelled it, or the
# worker failed outside the future's own evaluation.
outcome_error <- function(outcome, future) {
  text <- switch(outcome$status,
    `failed:lost` = rawToChar(outcome$frames[[1]]),
    `failed:cancelled` = "the future was cancelled by an interrupt",
    error = rawToChar(outcome$frames[[2]]),
    rawToChar(outcome$frames[[length(outcome$frames)]])
  )
  future::FutureError(text, future = future)
}

#' Python code as a future
#'
#' Runs `code` on a Python worker of the kernel's pool (or of the Dask cluster of
#' `plan(tandem::workers, dask = ...)`), with the named arguments as Python
#' variables; `value()` gives the value of the code's last line, converted to R.
#' @param code Python code (its last line, if an expression, is the value).
#' @param ... Named inputs, converted to Python.
#' @export
py_future <- function(code, ...) {
  inputs <- list(...)
  if (length(inputs) && (is.null(names(inputs)) || any(!nzchar(names(inputs))))) {
    stop("py_future(): every input needs a name, as in py_future(\"x * 2\", x = 21)", call. = FALSE)
  }
  packed <- encode_values(inputs, inline = TRUE)
  if (length(packed[["errors"]])) stop(paste(unlist(packed[["errors"]]), collapse = "; "), call. = FALSE)
  header <- to_json(list(code = code, values = packed[["header"]]))
  future <- future::Future(expr = NULL, substitute = FALSE, label = "py_future")
  # On the plan's Dask cluster when it has one, else on the kernel's Python workers.
  future$dask <- plan_dask()
  frames <- c(list(charToRaw(enc2utf8(header))), packed[["frames"]])
  if (is.null(future$dask)) broker_submit(future, "py", "expr", frames) else dask_submit(future, "expr", frames)
  structure(future, class = c("TandemPyFuture", "TandemTask", class(future)))
}

#' @export
result.TandemPyFuture <- function(future, ...) {
  if (!is.null(future$result)) return(future$result)
  outcome <- take_outcome(future)
  result <- if (outcome$status == "ok") {
    header <- jsonlite::fromJSON(rawToChar(outcome$frames[[1]]), simplifyVector = FALSE)
    future::FutureResult(value = decode_values(header, outcome$frames[-1])[["value"]])
  } else if (outcome$status == "error") {
    # Python's exception, as an R error carrying the worker's traceback.
    message <- sprintf("%s: %s", rawToChar(outcome$frames[[3]]), rawToChar(outcome$frames[[4]]))
    condition <- structure(class = c("python_error", "error", "condition"),
                           list(message = message, call = NULL,
                                traceback = rawToChar(outcome$frames[[2]])))
    future::FutureResult(conditions = list(list(condition = condition, signaled = 0L)))
  } else {
    stop(outcome_error(outcome, future))
  }
  future$result <- result
  future$state <- "finished"
  result
}
