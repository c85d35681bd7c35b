# Whole ZeroMQ messages sent and received in C on pbdZMQ's sockets.

pair <- function() {
  ctx <- pbdZMQ::zmq.ctx.new()
  a <- pbdZMQ::zmq.socket(ctx, pbdZMQ::ZMQ.ST()$PAIR)
  b <- pbdZMQ::zmq.socket(ctx, pbdZMQ::ZMQ.ST()$PAIR)
  endpoint <- sprintf("inproc://messages-%d", sample.int(1e6, 1))
  pbdZMQ::zmq.bind(a, endpoint)
  pbdZMQ::zmq.connect(b, endpoint)
  list(ctx = ctx, a = a, b = b)
}

test_that("a multipart message arrives whole, strings as their bytes", {
  p <- pair()
  payload <- as.raw(c(0:255, 0:255))
  tandem:::zmq_send(p$a, list("done", "\u00e9t\u00e9", raw(0), payload))
  frames <- tandem:::zmq_receive(p$b, 1000L)
  expect_equal(length(frames), 4L)
  expect_identical(rawToChar(frames[[1]]), "done")
  expect_identical(frames[[2]], charToRaw(enc2native("\u00e9t\u00e9")))
  expect_identical(frames[[3]], raw(0))
  expect_identical(frames[[4]], payload)
})

test_that("pbdZMQ reads what the C sender wrote and the other way round", {
  p <- pair()
  tandem:::zmq_send(p$a, list("a", as.raw(1:3)))
  expect_identical(pbdZMQ::zmq.recv.multipart(p$b, unserialize = FALSE), list(charToRaw("a"), as.raw(1:3)))
  pbdZMQ::zmq.send.multipart(p$b, list(charToRaw("x"), charToRaw("y"), charToRaw("z")), serialize = FALSE)
  expect_identical(lapply(tandem:::zmq_receive(p$a), rawToChar), list("x", "y", "z"))
})

test_that("waiting ends with NULL after the timeout when nothing comes", {
  p <- pair()
  expect_null(tandem:::zmq_receive(p$b, 0L))
  started <- Sys.time()
  expect_null(tandem:::zmq_receive(p$b, 150L))
  expect_gte(as.numeric(difftime(Sys.time(), started, units = "secs")), 0.14)
})

test_that("a bad frame is refused before any part is sent", {
  p <- pair()
  expect_error(tandem:::zmq_send(p$a, list("ok", 42)), "frame 2 is neither a raw vector nor a string")
  expect_error(tandem:::zmq_send(p$a, list()), "at least one frame")
  expect_error(tandem:::zmq_send(NULL, list("x")), "not an open ZeroMQ socket")
  expect_null(tandem:::zmq_receive(p$b, 0L))
  tandem:::zmq_send(p$a, list("next"))
  expect_identical(rawToChar(tandem:::zmq_receive(p$b, 1000L)[[1]]), "next")
})

test_that("a message of many parts grows the list it arrives in", {
  p <- pair()
  tandem:::zmq_send(p$a, as.list(as.character(1:37)))
  expect_identical(vapply(tandem:::zmq_receive(p$b, 1000L), rawToChar, ""), as.character(1:37))
})
