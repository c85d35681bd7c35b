# Futures on a Dask cluster: plan(tandem::workers, dask = "tls://scheduler:8786").
# R has no Dask client; the kernel's Python has one (distributed). A future's task
# goes to it as a call into Python (as py$x makes, while the cell runs), Python
# puts it on the cluster (python/tandem/_dask_tasks.py), and Tandem's R worker
# beside a Dask worker runs it. The outcome comes back as the broker's would, so
# value() reads it the same way.

# Puts the task of `future` on the cluster at `future$dask`.
dask_submit <- function(future, kind, frames) {
  reply <- call_python("dask", action = "submit", address = future$dask, kind = kind,
                       values = list(frames = frames))
  suspendInterrupts({
    future$task <- reply[["key"]]
    future$state <- "running"
    progress_task_added()
  })
  invisible(future)
}

dask_done <- function(future) {
  done <- isTRUE(call_python("dask", action = "done", key = future$task)[["done"]])
  if (done) dask_finished(future)
  done
}

# Counts a task's end once in the fan-out's progress bar, and shows the bar.
dask_finished <- function(future) {
  suspendInterrupts(if (!isTRUE(future$counted)) {
    future$counted <- TRUE
    progress_task_done()
  })
  progress_show()
}

# The outcome of the task of `future` (a list with `status` and `frames`), kept by
# the future once taken.
dask_take <- function(future) {
  if (!is.null(future$outcome)) return(future$outcome)
  value <- python_value(call_python("dask", action = "take", key = future$task))
  future$outcome <- list(status = value[["status"]], frames = value[["frames"]])
  call_python("dask", action = "forget", key = future$task)
  dask_finished(future)
  future$outcome
}

# How many tasks the cluster at `address` runs at once (its workers' threads),
# asked of the kernel's Python at most every few seconds: `future` asks before
# every future. Outside the kernel's R session (a future's own code on a worker,
# where the plan is sequential anyway) the local answer stands.
dask_threads <- function(address) {
  if (is.null(state$kernel_pid)) return(pool_size())
  known <- broker$dask_threads[[address]]
  if (!is.null(known) && Sys.time() < known$until) return(known$threads)
  threads <- max(1L, as.integer(call_python("dask", action = "threads", address = address)[["threads"]]))
  if (is.null(broker$dask_threads)) broker$dask_threads <- list()
  broker$dask_threads[[address]] <- list(threads = threads, until = Sys.time() + 5)
  threads
}

# The Dask scheduler of the current plan, or NULL when it runs on the kernel's pool.
plan_dask <- function() {
  strategy <- future::plan("next")
  if (inherits(strategy, "workers")) formals(strategy)[["dask"]] else NULL
}

check_dask_address <- function(dask) {
  if (!is.null(dask) && !(is.character(dask) && length(dask) == 1L && !is.na(dask) && nzchar(dask))) {
    stop(sprintf("plan(tandem::workers, dask = %s): dask must be a scheduler address such as ",
                 paste(deparse(dask), collapse = " ")),
         "\"tls://scheduler:8786\"", call. = FALSE)
  }
  invisible(dask)
}
