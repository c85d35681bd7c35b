# The server's requests as the kernel sends them, served by serve_request and
# answered over a real socket.

serve <- function(kernel, request) {
  tandem:::serve_request(request)
  from_r(kernel)
}

test_that("a request is answered with its reply, an unknown one with an error", {
  kernel <- connected_kernel()
  assign("tandem_test_variable", 1, envir = globalenv())
  on.exit(rm("tandem_test_variable", envir = globalenv()))
  names <- serve(kernel, list(type = "names"))
  expect_equal(names$type, "reply")
  expect_true("tandem_test_variable" %in% unlist(names$names))
  unknown <- serve(kernel, list(type = "frobnicate"))
  expect_equal(unknown[c("status", "ename", "evalue")],
               list(status = "error", ename = "TandemError", evalue = "unknown request frobnicate"))
})

test_that("values assigned from the kernel come back unchanged", {
  kernel <- connected_kernel()
  value <- data.frame(x = c(1.5, NA), s = c("a", "\u00e9"), stringsAsFactors = FALSE)
  packed <- tandem:::encode_values(list(tandem_test_frame = value), inline = TRUE)
  on.exit(suppressWarnings(rm("tandem_test_frame", envir = globalenv())))
  assigned <- serve(kernel, list(type = "assign", values = packed$header, .frames = packed$frames))
  expect_equal(assigned$status, "ok")
  expect_identical(get("tandem_test_frame", envir = globalenv()), value)
  got <- serve(kernel, list(type = "get", name = "tandem_test_frame"))
  expect_equal(got$status, "ok")
  expect_identical(tandem:::decode_values(got$values, got$.frames)[[1]], value)
  missing <- serve(kernel, list(type = "get", name = "tandem_no_such_variable"))
  expect_equal(missing$ename, "NameError")
})

test_that("code from the kernel gives its value, its syntax error or its error", {
  kernel <- connected_kernel()
  value <- serve(kernel, list(type = "eval", code = "x <- 20; x * 2 + 2"))
  expect_equal(tandem:::decode_values(value$values, value$.frames)$value, 42)
  syntax <- serve(kernel, list(type = "eval", code = "1 +"))
  expect_equal(syntax$ename, "SyntaxError")
  failed <- serve(kernel, list(type = "eval", code = "stop('boom')"))
  expect_equal(failed$status, "error")
  expect_match(failed$evalue, "boom")
})

test_that("an interrupt ends the request as interrupted and the loop goes on", {
  kernel <- connected_kernel()
  interrupted <- serve(kernel, list(type = "eval", code = "tandem:::signal_interrupt(); Sys.sleep(5)"))
  expect_equal(interrupted$status, "interrupted")
  expect_equal(serve(kernel, list(type = "names"))$status, "ok")
})
