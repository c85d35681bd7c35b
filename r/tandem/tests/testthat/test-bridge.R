# R calling the kernel's Python: the call goes out, the loop serves the kernel
# until the reply, and the reply's status decides what R sees.

test_that("a call into Python returns its value", {
  kernel <- connected_kernel()
  packed <- tandem:::encode_values(list(value = c(1L, NA, 3L)), inline = TRUE)
  pbdZMQ::zmq.send.multipart(
    kernel$socket,
    c(list(kernel$peer, charToRaw(jsonlite::toJSON(list(type = "reply", status = "ok", values = packed$header),
                                                   auto_unbox = TRUE, null = "null"))),
      packed$frames),
    serialize = FALSE)
  expect_identical(tandem::py_eval("x"), c(1L, NA, 3L))
  call <- from_r(kernel)
  expect_equal(call[c("type", "op", "code")], list(type = "python", op = "eval", code = "x"))
})

test_that("Python's error is R's error, and Python's interrupt R's interrupt", {
  kernel <- connected_kernel()
  to_r(kernel, '{"type":"reply","status":"error","evalue":"NameError: name \'x\' is not defined"}')
  expect_error(tandem::py_run("x"), "NameError: name 'x' is not defined", fixed = TRUE)
  to_r(kernel, '{"type":"reply","status":"interrupted","evalue":"interrupted"}')
  caught <- tryCatch(tandem::py_run("while True: pass"), interrupt = function(e) "interrupted")
  expect_equal(caught, "interrupted")
})

test_that("the kernel's requests are served while R waits for Python", {
  kernel <- connected_kernel()
  to_r(kernel, '{"type":"names"}')
  to_r(kernel, '{"type":"reply","status":"ok"}')
  expect_null(tandem::py_run("r.names()"))
  expect_equal(from_r(kernel)$type, "python")
  expect_equal(from_r(kernel)$type, "reply")  # the answer to "names", sent while waiting
})
