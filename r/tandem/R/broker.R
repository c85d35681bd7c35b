# The R session's connection to the kernel's futures broker (address in
# TANDEM_FUTURES): tasks go out with a name, outcomes come back and wait in an
# inbox until their future asks. R is single-threaded, so the inbox is filled
# whenever R waits on, or asks about, a future.
#
# Interrupts reach this code (it runs inside the user's cells), so every change
# of the broker's state that must happen together happens with interrupts held:
# an interrupt between a task's outcome leaving the socket and its filing would
# lose it (its future would wait for ever), and one in the middle of setting up
# the connection left a socket without its counters, failing every later future
# with "missing value where TRUE/FALSE needed". Waits stay interruptible.

broker <- new.env(parent = emptyenv())

broker_socket <- function() {
  if (!is.null(broker$socket)) return(broker$socket)
  endpoint <- Sys.getenv("TANDEM_FUTURES")
  if (!nzchar(endpoint)) {
    stop("Tandem's worker pool is reachable only inside the Tandem kernel (TANDEM_FUTURES is not set); ",
         "elsewhere use plan(multisession)", call. = FALSE)
  }
  broker$ctx <- pbdZMQ::zmq.ctx.new()
  socket <- pbdZMQ::zmq.socket(broker$ctx, pbdZMQ::ZMQ.ST()$DEALER)
  pbdZMQ::zmq.setsockopt(socket, pbdZMQ::ZMQ.SO()$LINGER, 0L)
  pbdZMQ::zmq.setsockopt(socket, pbdZMQ::ZMQ.SO()$RCVHWM, 0L)
  pbdZMQ::zmq.setsockopt(socket, pbdZMQ::ZMQ.SO()$SNDHWM, 0L)
  pbdZMQ::zmq.connect(socket, endpoint)
  # The broker answers hello: without an answer, say so rather than wait forever.
  zmq_send(socket, list("hello"))
  if (is.null(zmq_receive(socket, 10000L))) stop("the kernel's futures broker does not answer", call. = FALSE)
  # The socket becomes the broker's connection only with its inbox and counters.
  suspendInterrupts({
    broker$inbox <- new.env(parent = emptyenv())
    broker$next_id <- 0
    broker$pending <- 0L
    broker$socket <- socket
  })
  socket
}

# Sends the task of `future` to a worker of `language` ("r" or "py"): the future
# is running once the task is out, whatever interrupt comes.
broker_submit <- function(future, language, kind, frames) {
  socket <- broker_socket()
  suspendInterrupts({
    broker$next_id <- broker$next_id + 1
    id <- format(broker$next_id, scientific = FALSE)
    zmq_send(socket, c(list("submit", id, language, kind), frames))
    broker$pending <- broker$pending + 1L
    future$task <- id
    future$state <- "running"
    progress_task_added()
  })
  invisible(future)
}

broker_resize <- function(language, workers) {
  zmq_send(broker_socket(), list("resize", language, as.character(workers)))
}

# Moves every message that has arrived into the inbox, waiting up to `timeout` ms
# for the first (an interrupt meanwhile is applied once that wait ends).
broker_drain <- function(timeout = 0L) {
  socket <- broker_socket()
  suspendInterrupts(broker_file(socket, timeout))
  progress_show()
}

broker_file <- function(socket, timeout) {
  while (!is.null(frames <- zmq_receive(socket, timeout))) {
    timeout <- 0L
    verb <- rawToChar(frames[[1]])
    if (verb == "out") {
      relay_output(rawToChar(frames[[3]]), frames[[4]])
      next
    }
    id <- rawToChar(frames[[2]])
    status <- rawToChar(frames[[3]])
    if (verb == "failed") status <- paste0("failed:", status)
    assign(id, list(status = status, frames = frames[-(1:3)]), envir = broker$inbox)
    broker$pending <- broker$pending - 1L
    progress_task_done()
  }
}

# Whether the outcome of task `id` has arrived.
broker_has <- function(id) {
  broker_drain(0L)
  exists(id, envir = broker$inbox, inherits = FALSE)
}

# The outcome of the task of `future`, waiting for it: a list with `status`
# ("ok", "error", "failed:lost", "failed:cancelled") and the frames that follow.
# It moves from the inbox to the future at once, so that an interrupt cannot lose
# it on the way; asking again gives it again.
broker_take <- function(future) {
  if (!is.null(future$outcome)) return(future$outcome)
  id <- future$task
  while (!exists(id, envir = broker$inbox, inherits = FALSE)) broker_drain(100L)
  suspendInterrupts({
    future$outcome <- get(id, envir = broker$inbox, inherits = FALSE)
    rm(list = id, envir = broker$inbox)
  })
  future$outcome
}

# Output of a running task: text for stdout/stderr, or an immediate condition
# (progressr's progress updates) signalled here as the worker signalled it.
relay_output <- function(stream, data) {
  if (stream == "condition") {
    condition <- unserialize(data)
    if (inherits(condition, "progression")) progress$relayed <- TRUE
    signalCondition(condition)
  } else {
    cat(rawToChar(data), file = if (stream == "stderr") stderr() else stdout())
  }
}
