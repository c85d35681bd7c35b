test_that("errors carry the call and the user's part of the stack", {
  # Cells run in the global environment; so does this test's code.
  assign("f", function() stop("boom"), envir = globalenv())
  assign("g", function() f(), envir = globalenv())
  on.exit(rm("f", "g", envir = globalenv()))
  outcome <- tandem:::evaluate_expression(quote(g()))
  reply <- tandem:::error_reply(outcome$error, outcome$calls)
  expect_equal(reply$evalue, "boom")
  expect_equal(unlist(reply$traceback), c("Error in f(): boom", "Traceback:", "", "1. g()", "2. f()",
                                         "3. stop(\"boom\")"))
})

test_that("global calling handlers fail with a hint of what works instead", {
  outcome <- tandem:::evaluate_expression(quote(globalCallingHandlers(condition = function(c) NULL)))
  traceback <- unlist(tandem:::error_reply(outcome$error, outcome$calls)$traceback)
  expect_match(traceback[[1]], "handlers on the stack")
  expect_match(traceback[[2]], "progressr::with_progress")
})

test_that("warnings are collected, values keep their visibility", {
  outcome <- tandem:::evaluate_expression(quote({ warning("careful"); invisible(3) }))
  expect_length(outcome$warnings, 1L)
  expect_false(outcome$visible)
  expect_equal(outcome$value, 3)
})

test_that("top-level conditions show no call, as at the console", {
  outcome <- tandem:::evaluate_expression(quote(stop("plain")))
  expect_equal(tandem:::error_reply(outcome$error, outcome$calls)$traceback[[1]], "Error: plain")
})

test_that("data frames get text, HTML and LaTeX forms", {
  bundle <- tandem:::mimebundle(data.frame(a = 1:2))
  expect_true(all(c("text/plain", "text/html", "text/latex") %in% names(bundle)))
})
