test_that("errors carry the call and the user's part of the stack, with the cell's lines", {
  # Cells run in the global environment; so does this test's code.
  for (expr in tandem:::parse_cell("f <- function() stop('boom')\ng <- function() f()")) eval(expr, globalenv())
  on.exit(rm("f", "g", envir = globalenv()))
  outcome <- tandem:::evaluate_expression(quote(g()))
  reply <- tandem:::error_reply(outcome$error, outcome$calls)
  expect_equal(reply$evalue, "boom")
  expect_equal(unlist(reply$traceback), c("Error in f(): boom", "Traceback:", "", "1. g()",
                                         "2. f()   # at line 2 of file <text>",
                                         "3. stop(\"boom\")   # at line 1 of file <text>"))
})

test_that("a cell's functions keep their source, comments included", {
  exprs <- tandem:::parse_cell("h <- function(x) {\n  # the comment\n  x\n}")
  h <- eval(exprs[[1]][[3]], globalenv())
  expect_equal(capture.output(print(h)), c("function(x) {", "  # the comment", "  x", "}"))
  expect_equal(attr(attr(h, "srcref"), "srcfile")$filename, "<text>")
})

test_that("warnings of the R-first kernel read as IRkernel's, of %%R cells as the console's", {
  assign("f", function() warning("careful"), envir = globalenv())
  warnings <- tandem:::evaluate_expression(quote(f()))$warnings
  rm("f", envir = globalenv())
  state <- tandem:::state
  on.exit(state$r_first <- FALSE)
  state$r_first <- TRUE
  expect_equal(capture.output(tandem:::report_warnings(warnings), type = "message"),
               c("Warning message in f():", dQuote("careful")))
  state$r_first <- FALSE
  expect_equal(capture.output(tandem:::report_warnings(warnings), type = "message"),
               c("Warning message:", "In f() : careful"))
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
