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
