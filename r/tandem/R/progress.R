# Progress in the cell: one display updated in place (update_display_data), at
# most four times a second, with a text form for consoles and saved notebooks.

progress <- new.env(parent = emptyenv())

progress_bundle <- function(label, done, total, elapsed) {
  share <- if (total > 0) done / total else 1
  filled <- floor(share * 30)
  list(
    `text/plain` = sprintf("%s: %d/%d [%s%s] %d%% %.1f s", label, done, total, strrep("#", filled),
                           strrep(".", 30 - filled), round(share * 100), elapsed),
    `text/html` = sprintf(
      '<div><code>%s</code> <progress value="%d" max="%d" style="width:20em"></progress> %d/%d (%d%%, %.1f s)</div>',
      label, done, total, done, total, round(share * 100), elapsed)
  )
}

new_display_id <- function() sprintf("tandem-progress-%d-%d", Sys.getpid(), sample.int(.Machine$integer.max, 1L))

# --- a fan-out of futures ---------------------------------------------------
# Futures submitted while others are pending form one fan-out (on the kernel's
# pool or a Dask cluster alike); once it has run for half a second (and progressr
# is not already reporting it), a bar shows how many have finished. The callers
# hold interrupts: the counts change with the tasks.

progress_task_added <- function() {
  if (!isTRUE(progress$pending > 0L) || is.null(progress$total)) {
    progress$pending <- 0L
    progress$total <- 0L
    progress$done <- 0L
    progress$start <- Sys.time()
    progress$shown <- NULL
    progress$id <- NULL
    progress$relayed <- FALSE
  }
  progress$pending <- progress$pending + 1L
  progress$total <- progress$total + 1L
}

progress_task_done <- function() {
  if (!is.null(progress$total)) progress$done <- progress$done + 1L
  if (isTRUE(progress$pending > 0L)) progress$pending <- progress$pending - 1L
}

progress_show <- function() {
  total <- progress$total
  if (is.null(total) || total < 2L || !isTRUE(getOption("tandem.progress", TRUE))) return(invisible())
  if (is.null(state$kernel_pid)) return(invisible())  # not the kernel's R session
  now <- Sys.time()
  finished <- progress$done >= total
  elapsed <- as.numeric(difftime(now, progress$start, units = "secs"))
  if (is.null(progress$id)) {
    if (finished || elapsed < 0.5 || isTRUE(progress$relayed)) return(invisible())
    progress$id <- new_display_id()
  } else if (!finished && as.numeric(difftime(now, progress$shown, units = "secs")) < 0.25) {
    return(invisible())
  }
  bundle <- progress_bundle("futures", progress$done, total, elapsed)
  # A console prints the first display only: it names the work, not a snapshot.
  if (is.null(progress$shown)) bundle[["text/plain"]] <- sprintf("futures: %d pending", total - progress$done)
  publish_display(bundle, display_id = progress$id, update = !is.null(progress$shown))
  progress$shown <- now
  if (finished) progress$total <- NULL
  invisible()
}

# --- progressr ----------------------------------------------------------------

#' A progressr handler that shows progress in the cell
#'
#' The default handler of the kernel's R session: `with_progress()` (and
#' progressors in futures on `plan(tandem::workers)`) show one bar in the cell,
#' updated in place.
#' @param intrusiveness,target,... As for [progressr::make_progression_handler()].
#' @export
handler_tandem <- function(intrusiveness = 1, target = "terminal", ...) {
  reporter <- local({
    id <- NULL
    shown <- NULL
    start <- NULL
    show <- function(config, state, final = FALSE) {
      now <- Sys.time()
      if (!final && !is.null(shown) && as.numeric(difftime(now, shown, units = "secs")) < 0.25) return()
      label <- if (length(state$message) && nzchar(state$message)) state$message else "progress"
      elapsed <- as.numeric(difftime(now, start, units = "secs"))
      bundle <- progress_bundle(label, state$step, config$max_steps, elapsed)
      if (is.null(shown)) bundle[["text/plain"]] <- sprintf("%s: %d steps", label, config$max_steps)
      publish_display(bundle, display_id = id, update = !is.null(shown))
      shown <<- now
    }
    list(
      initiate = function(config, state, progression, ...) {
        id <<- new_display_id()
        shown <<- NULL
        start <<- Sys.time()
        show(config, state)
      },
      update = function(config, state, progression, ...) show(config, state),
      finish = function(config, state, progression, ...) {
        if (!is.null(id)) show(config, state, final = TRUE)
        id <<- NULL
      }
    )
  })
  progressr::make_progression_handler("tandem", reporter, intrusiveness = intrusiveness,
                                      target = target, ...)
}
