# What R shows reaches the kernel as display messages, as IRkernel shows it.

test_that("a value is shown as its MIME bundle, a cell's result marked", {
  kernel <- connected_kernel()
  tandem:::show_value(1:3, result = TRUE)
  shown <- from_r(kernel)
  expect_equal(shown$type, "display")
  expect_equal(shown$data[["text/plain"]], "[1] 1 2 3")
  expect_true(shown$result)
  bundle <- tandem:::mimebundle(data.frame(a = 1:2))
  expect_true(all(c("text/plain", "text/html", "text/markdown", "text/latex") %in% names(bundle)))
  expect_match(bundle[["text/html"]], "<table")
})

test_that("IRdisplay's displays carry their data, their id and whether they replace one", {
  kernel <- connected_kernel()
  tandem:::publish_display(list("image/png" = as.raw(1:3), "text/plain" = c("a", "b")), display_id = "bar",
                           update = TRUE)
  shown <- from_r(kernel)
  expect_equal(shown$data[["image/png"]], "AQID")
  expect_equal(shown$data[["text/plain"]], "a\nb")
  expect_equal(shown[c("display_id", "update", "result")], list(display_id = "bar", update = TRUE, result = FALSE))
  tandem:::publish_clear_output(wait = FALSE)
  expect_equal(from_r(kernel)[c("type", "wait")], list(type = "clear_output", wait = FALSE))
})
