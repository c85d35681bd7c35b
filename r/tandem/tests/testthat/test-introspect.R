test_that("is_complete tells complete, incomplete and invalid code apart", {
  expect_equal(tandem:::is_complete_request(list(code = "1 + 1"))$status, "complete")
  expect_equal(tandem:::is_complete_request(list(code = "f <- function(x) {"))$status, "incomplete")
  expect_equal(tandem:::is_complete_request(list(code = "'open string"))$status, "incomplete")
  expect_equal(tandem:::is_complete_request(list(code = "1 +* 2"))$status, "invalid")
})

test_that("completion finds functions and reports the token's range", {
  reply <- tandem:::complete_request(list(code = "x <- 1\nprint(seq_l", cursor_pos = 18L))
  expect_true("seq_len" %in% unlist(reply$matches))
  expect_equal(reply$cursor_start, 13L)
  expect_equal(reply$cursor_end, 18L)
})

test_that("the token at the cursor drops namespace and accessor prefixes", {
  expect_equal(tandem:::token_at("stats::median(x)", 10L), "median")
  expect_equal(tandem:::token_at("lm(y ~ x)", 1L), "lm")
})

test_that("help text is found for base functions only", {
  expect_match(tandem:::help_text("paste")[["text/plain"]], "Concatenate")
  expect_null(tandem:::help_text("no_such_function_anywhere"))
})
