# A ROUTER standing for the kernel, with R connected to it and its "ready" read;
# returns the socket and R's routing id.
connected_kernel <- function() {
  ctx <- pbdZMQ::zmq.ctx.new()
  kernel <- pbdZMQ::zmq.socket(ctx, pbdZMQ::ZMQ.ST()$ROUTER)
  endpoint <- paste0("ipc://", tempfile(fileext = ".ipc"))
  pbdZMQ::zmq.bind(kernel, endpoint)
  tandem:::connect_kernel(endpoint)
  tandem:::send_message(list(type = "ready"))
  hello <- pbdZMQ::zmq.recv.multipart(kernel, unserialize = FALSE)
  expect_equal(jsonlite::fromJSON(rawToChar(hello[[2]]))$type, "ready")
  list(ctx = ctx, socket = kernel, peer = hello[[1]])
}

to_r <- function(kernel, json) {
  pbdZMQ::zmq.send.multipart(kernel$socket, list(kernel$peer, charToRaw(json)), serialize = FALSE)
}

# The next message R sent the kernel, parsed, with its frames in `.frames`.
from_r <- function(kernel) {
  frames <- pbdZMQ::zmq.recv.multipart(kernel$socket, unserialize = FALSE)
  message <- jsonlite::fromJSON(rawToChar(frames[[2]]), simplifyVector = FALSE)
  if (length(frames) > 2L) message$.frames <- frames[-(1:2)]
  message
}
