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

test_that("messages from the kernel are received without warnings", {
  kernel <- connected_kernel()
  to_r(kernel, '{"type":"execute","code":"1"}')
  expect_silent(message <- tandem:::receive_message(2000L))
  expect_equal(message$code, "1")
  expect_null(suppressWarnings(tandem:::receive_message(0L)))
})

test_that("the receive loop answers pings and returns the message it waits for", {
  kernel <- connected_kernel()
  state <- tandem:::state
  state$received <- 3
  to_r(kernel, '{"type":"ping","request":2}')
  to_r(kernel, '{"type":"reply","status":"ok","value":7}')
  reply <- tandem:::serve_messages(until = "reply")
  expect_equal(reply$value, 7)
  pong <- jsonlite::fromJSON(rawToChar(pbdZMQ::zmq.recv.multipart(kernel$socket, unserialize = FALSE)[[2]]))
  expect_equal(pong$type, "pong")
  expect_true(pong$received)
})
