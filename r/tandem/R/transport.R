# The connection to the kernel: one DEALER socket, one JSON frame per message
# (binary buffers may follow as further frames).

transport <- new.env(parent = emptyenv())

connect_kernel <- function(endpoint) {
  transport$ctx <- pbdZMQ::zmq.ctx.new()
  transport$socket <- pbdZMQ::zmq.socket(transport$ctx, pbdZMQ::ZMQ.ST()$DEALER)
  pbdZMQ::zmq.setsockopt(transport$socket, pbdZMQ::ZMQ.SO()$LINGER, 0L)
  pbdZMQ::zmq.connect(transport$socket, endpoint)
  invisible(TRUE)
}

to_json <- function(x) {
  # The reply to most cells; jsonlite takes ~70 us for it.
  if (identical(x, ok_reply)) return('{"status":"ok","payload":[],"type":"reply"}')
  # Exchange headers (type trees) are written in C (src/json.c): jsonlite takes
  # milliseconds for a frame's.
  if (is.list(x) && !is.null(x[["exchange"]])) return(.Call(tnd_json, x))
  if (is.list(x) && is.list(x[["values"]]) && !is.null(x[["values"]][["exchange"]])) {
    x[["values"]] <- structure(.Call(tnd_json, x[["values"]]), class = "json")
  }
  jsonlite::toJSON(x, auto_unbox = TRUE, null = "null", na = "null", digits = NA, force = TRUE,
                   json_verbatim = TRUE)
}

ok_reply <- list(status = "ok", payload = list(), type = "reply")

# Sends one message to the kernel; `frames` (raw vectors: exchanged values)
# follow the JSON. Output R printed so far is flushed first, so the kernel sees it
# before anything sent here.
send_message <- function(x, frames = list()) {
  flush(stdout())
  flush(stderr())
  zmq_send(transport$socket, c(list(enc2utf8(to_json(x))), frames))
}

# Waits up to `timeout` ms for a message; NULL when none came. Frames after the
# JSON are in the message's `.frames`. `idle`: R waits for its next request, and an
# interrupt meanwhile is dropped (see zmq_receive).
receive_message <- function(timeout = -1L, idle = FALSE) {
  frames <- zmq_receive(transport$socket, timeout, idle)
  if (is.null(frames)) return(NULL)
  message <- jsonlite::fromJSON(rawToChar(frames[[1]]), simplifyVector = FALSE)
  if (length(frames) > 1L) message$.frames <- frames[-1L]
  # Requests are numbered in the order the kernel sends them.
  if (is.numeric(message$seq)) state$received <- message$seq
  message
}

# One whole message on a pbdZMQ socket, sent and received in C (src/messages.c):
# `frames` are raw vectors or strings; receiving waits up to `timeout` ms (-1:
# without end) and returns the frames as raw vectors, or NULL when none came.
# With `idle`, an interrupt that arrives while waiting is dropped instead of
# raised: it was meant for work that has ended.
zmq_send <- function(socket, frames) invisible(.Call(tnd_zmq_send, socket, frames))

zmq_receive <- function(socket, timeout = -1L, idle = FALSE) {
  .Call(tnd_zmq_receive, socket, as.integer(timeout), isTRUE(idle))
}

# Runs `send` until it completes: an interrupt arriving while a reply or an
# outcome is being sent must not lose it.
send_despite_interrupts <- function(send) {
  repeat {
    sent <- tryCatch({
      send()
      TRUE
    }, interrupt = function(e) FALSE)
    if (sent) break
  }
}
