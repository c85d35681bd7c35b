test_that("messages from the kernel are received without warnings", {
  ctx <- pbdZMQ::zmq.ctx.new()
  kernel <- pbdZMQ::zmq.socket(ctx, pbdZMQ::ZMQ.ST()$ROUTER)
  endpoint <- paste0("ipc://", tempfile(fileext = ".ipc"))
  pbdZMQ::zmq.bind(kernel, endpoint)
  tandem:::connect_kernel(endpoint)
  tandem:::send_message(list(type = "ready"))
  hello <- pbdZMQ::zmq.recv.multipart(kernel, unserialize = FALSE)
  expect_equal(jsonlite::fromJSON(rawToChar(hello[[2]]))$type, "ready")
  pbdZMQ::zmq.send.multipart(kernel, list(hello[[1]], charToRaw('{"type":"execute","code":"1"}')),
                             serialize = FALSE)
  expect_silent(message <- tandem:::receive_message(2000L))
  expect_equal(message$code, "1")
  expect_null(suppressWarnings(tandem:::receive_message(0L)))
})

test_that("the receive loop answers pings and returns the message it waits for", {
  ctx <- pbdZMQ::zmq.ctx.new()
  kernel <- pbdZMQ::zmq.socket(ctx, pbdZMQ::ZMQ.ST()$ROUTER)
  endpoint <- paste0("ipc://", tempfile(fileext = ".ipc"))
  pbdZMQ::zmq.bind(kernel, endpoint)
  tandem:::connect_kernel(endpoint)
  tandem:::send_message(list(type = "ready"))
  peer <- pbdZMQ::zmq.recv.multipart(kernel, unserialize = FALSE)[[1]]
  state <- tandem:::state
  state$received <- 3
  to_r <- function(json) pbdZMQ::zmq.send.multipart(kernel, list(peer, charToRaw(json)), serialize = FALSE)
  to_r('{"type":"ping","request":2}')
  to_r('{"type":"reply","status":"ok","value":7}')
  reply <- tandem:::serve_messages(until = "reply")
  expect_equal(reply$value, 7)
  pong <- jsonlite::fromJSON(rawToChar(pbdZMQ::zmq.recv.multipart(kernel, unserialize = FALSE)[[2]]))
  expect_equal(pong$type, "pong")
  expect_true(pong$received)
})
