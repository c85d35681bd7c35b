# The server loop: read a request from the kernel, run it, send the reply.
# Interrupts (SIGINT from the kernel) end the running request, never the loop.

serve <- function(endpoint, kernel_pid = NA_integer_) {
  state$kernel_pid <- kernel_pid
  state$received <- 0
  connect_kernel(endpoint)
  setup_session()
  send_message(list(type = "ready", pid = Sys.getpid(), version = R.version.string))
  # Interrupts act only inside a request (serve_request allows them), so none can
  # lose a request the loop has taken off the socket: one that arrives after that
  # is applied to the request, one that arrives while R waits for a request was
  # meant for a request that has ended and is dropped.
  suspendInterrupts(serve_messages(idle = TRUE))
}

# The one receive loop: serves the kernel's requests, answers its pings and ends R
# on shutdown or when the kernel is gone, until a message of type `until` comes,
# which it returns. The server loop never returns; a call into Python waits here
# for its "reply", serving what the kernel asks of R meanwhile.
serve_messages <- function(until = NULL, idle = FALSE) {
  repeat {
    message <- receive_message(1000L, idle = idle)
    if (is.null(message)) {
      if (!kernel_alive(state$kernel_pid)) quit(save = "no", status = 0L)
      next
    }
    type <- message[["type"]]
    if (!is.null(until) && identical(type, until)) return(message)
    if (identical(type, "shutdown")) quit(save = "no", status = 0L)
    # The answer to a call into Python that an interrupt abandoned.
    if (identical(type, "reply")) next
    if (identical(type, "ping")) {
      answer_ping(message)
      next
    }
    serve_request(message)
  }
}

# The kernel asks, after an interrupt, whether R received request number
# `request$request`: R reads a ping only between requests, so a request that was
# received has been answered or is still running.
answer_ping <- function(request) {
  send_message(list(type = "pong", request = request$request, received = request$request <= state$received))
}

# Runs one request from the kernel and sends the reply (with its frames).
serve_request <- function(request) {
  reply <- tryCatch(
    allowInterrupts(handle_request(request)),
    interrupt = function(e) list(status = "interrupted"),
    error = function(e) list(status = "error", ename = "TandemError", evalue = conditionMessage(e))
  )
  reply$type <- "reply"
  frames <- reply$.frames
  reply$.frames <- NULL
  send_despite_interrupts(function() send_message(reply, if (is.null(frames)) list() else frames))
}

handle_request <- function(request) {
  switch(request$type,
    execute = execute_request(request),
    get = get_request(request),
    eval = eval_request(request),
    assign = assign_request(request),
    names = list(status = "ok", names = as.list(ls(globalenv()))),
    complete = complete_request(request),
    inspect = inspect_request(request),
    is_complete = is_complete_request(request),
    rpy2 = rpy2_request(request),
    list(status = "error", ename = "TandemError", evalue = paste("unknown request", request$type))
  )
}

# The kernel's pid is passed in; signal 0 tells whether it still exists.
kernel_alive <- function(pid) {
  is.na(pid) || isTRUE(tools::pskill(pid, 0L))
}

setup_session <- function() {
  options(
    jupyter.in_kernel = TRUE,
    jupyter.base_display_func = publish_display,
    jupyter.clear_output_func = publish_clear_output,
    jupyter.plot_mimetypes = c("text/plain", "image/png"),
    repr.plot.width = 7, repr.plot.height = 7, repr.plot.res = 120,
    width = 80, menu.graphics = FALSE, device.ask.default = FALSE,
    # An error typed at browser()'s prompt shows as in the console, without the
    # "Calls:" line non-interactive R adds (it would list the kernel's frames).
    showErrorCalls = FALSE,
    warn = 0
  )
  install_stdin()
  hold_interrupts_while_loading()
  open_plot_device()
  # progressr reports in the cell (it stays silent in non-interactive R otherwise).
  options(progressr.enable = TRUE, progressr.handlers = list(handler_tandem))
  # `py`, `py_eval()` and `py_run()` for the user's code.
  suppressPackageStartupMessages(library("tandem", character.only = TRUE))
}
