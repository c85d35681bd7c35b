# The futures pool panel, as Python's tandem.status() shows it: the kernel's
# Python draws it and keeps it updated while the cell runs (R cells included).

#' Shows the futures pool in the notebook: each worker's language, pid, state,
#' current task and its age, CPU and memory, tasks done and failed; the queues and
#' the latest task durations. It updates in place while the cell runs.
#'
#' @param stuck_after Seconds after which a running task counts as stuck.
#' @param watch Wait here, updating, until no task is queued or running or this
#'   many seconds pass.
#' @export
status <- function(stuck_after = NULL, watch = NULL) {
  if (is.null(state$kernel_pid)) {
    stop("tandem::status() shows the kernel's worker pool: call it in a Tandem notebook cell", call. = FALSE)
  }
  args <- c(
    seconds_argument("stuck_after", stuck_after),
    seconds_argument("watch", watch)
  )
  py_eval(sprintf("__import__('tandem').status(%s)", paste(args, collapse = ", ")))
  invisible(NULL)
}

seconds_argument <- function(name, value) {
  if (is.null(value)) return(character())
  if (!is.numeric(value) || length(value) != 1L || is.na(value) || value <= 0) {
    stop(sprintf("%s must be one positive number of seconds", name), call. = FALSE)
  }
  sprintf("%s=%s", name, format(value, digits = 15))
}
