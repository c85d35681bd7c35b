# An R worker of the kernel's futures pool (`tandem worker --language r` runs
# tandem:::work()). It runs one task at a time: a `future` (its expression and
# globals, serialized by the R session) or R code with inputs in the exchange
# format (Python's tandem.submit_r). SIGINT interrupts the running task only.

work <- function(endpoint, id) {
  ctx <- pbdZMQ::zmq.ctx.new()
  socket <- pbdZMQ::zmq.socket(ctx, pbdZMQ::ZMQ.ST()$DEALER)
  pbdZMQ::zmq.setsockopt(socket, pbdZMQ::ZMQ.SO()$IDENTITY, id)
  pbdZMQ::zmq.setsockopt(socket, pbdZMQ::ZMQ.SO()$LINGER, 1000L)
  pbdZMQ::zmq.connect(socket, endpoint)
  send <- function(...) {
    frames <- list(...)
    send_despite_interrupts(function() zmq_send(socket, frames))
  }
  hold_interrupts_while_loading()
  send("ready", "r", as.character(Sys.getpid()))
  # As in the R session's loop (serve()): interrupts act only inside a task, so
  # none loses a task the loop has taken off the socket.
  suspendInterrupts(repeat {
    message <- zmq_receive(socket, idle = TRUE)
    if (is.null(message)) next
    verb <- rawToChar(message[[1]])
    if (verb == "stop") break
    if (verb != "task" || length(message) < 3L) next
    relay <- function(condition) send("out", message[[2]], "condition", serialize(condition, NULL, xdr = FALSE))
    outcome <- run_task(rawToChar(message[[3]]), message[-(1:3)], relay)
    do.call(send, c(list("done", message[[2]]), outcome))
  })
  quit(save = "no", status = 0L)
}

run_task <- function(kind, frames, relay) {
  tryCatch(
    allowInterrupts(switch(kind,
      rds = run_future(frames, relay),
      expr = run_expression(frames),
      stop("unknown task kind ", kind)
    )),
    interrupt = function(e) error_outcome("interrupted", "interrupt", "interrupted"),
    error = function(e) {
      call <- conditionCall(e)
      where <- if (is.null(call)) "" else paste0(" in ", paste(deparse(call, nlines = 1L), collapse = ""))
      # One frame each: a condition's message may hold several strings.
      message <- paste(conditionMessage(e), collapse = "\n")
      error_outcome(message, class(e)[1], sprintf("Error%s: %s", where, message))
    }
  )
}

error_outcome <- function(message, class, trace) list("error", raw(0), trace, class, message)

# A future: its globals go into the global environment (where functions defined
# in the notebook look for them), the future's own expression captures output
# and conditions into a FutureResult, and the globals are removed afterwards.
run_future <- function(frames, relay) {
  task <- unserialize(frames[[1]])
  globals <- task$globals
  if (length(globals)) {
    list2env(as.list(globals), envir = globalenv())
    on.exit(rm(list = intersect(names(globals), ls(globalenv(), all.names = TRUE)), envir = globalenv()),
            add = TRUE)
  }
  # The future records messages and warnings and value() relays them in the
  # session: muffled here, or they would show twice. Immediate conditions
  # (progress) are also sent at once; value() later skips them as duplicates.
  result <- withCallingHandlers(
    eval(task$expr, envir = globalenv()),
    immediateCondition = function(c) relay(c),
    message = function(m) invokeRestart("muffleMessage"),
    warning = function(w) invokeRestart("muffleWarning")
  )
  # The broker counts a future whose code signalled an error as failed.
  raised <- any(vapply(result$conditions, function(c) inherits(c$condition, "error"), logical(1)))
  list(if (raised) "raised" else "ok", serialize(result, NULL, xdr = FALSE))
}

# R code from Python: inputs decoded, the code's last value encoded back; what
# the code prints goes to the cell that submitted it.
run_expression <- function(frames) {
  header <- jsonlite::fromJSON(rawToChar(frames[[1]]), simplifyVector = FALSE)
  inputs <- decode_values(header[["values"]], frames[-1])
  # An input the code returns unchanged goes back with its Python dtypes.
  for (name in names(inputs)) remember_held(header[["values"]][["values"]][[name]], inputs[[name]])
  on.exit(forget_held(), add = TRUE)
  env <- new.env(parent = globalenv())
  for (name in names(inputs)) assign(name, inputs[[name]], envir = env)
  exprs <- parse(text = header[["code"]], keep.source = FALSE)
  value <- NULL
  for (expr in exprs) value <- eval(expr, envir = env)
  packed <- encode_values(list(value = value), inline = TRUE)
  if (length(packed[["errors"]])) {
    return(error_outcome(packed[["errors"]][[1]], "ConversionError", packed[["errors"]][[1]]))
  }
  c(list("ok", to_json(packed[["header"]])), packed[["frames"]])
}
