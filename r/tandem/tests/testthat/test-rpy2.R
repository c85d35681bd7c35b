test_that("kept objects are described as rpy2 shows them and released by number", {
  description <- tandem:::rpy2_keep(matrix(1:6, nrow = 2))
  expect_equal(description$type, "integer")
  expect_equal(description$sexp, 13L)
  expect_equal(unlist(description$dim), c(2L, 3L))
  expect_equal(unlist(description$classes), c("matrix", "array"))
  expect_identical(tandem:::rpy2_object(description$ref), matrix(1:6, nrow = 2))
  tandem:::rpy2_release(list(description$ref))
  expect_error(tandem:::rpy2_object(description$ref), "no longer held")
})

test_that("converters take what rpy2 3.5's take", {
  convertible <- tandem:::rpy2_convertible
  expect_true(convertible(c(1.5, 2), "all"))
  expect_true(convertible(data.frame(a = 1), "all"))
  expect_false(convertible(c("a", "b"), "all"))  # rpy2's pandas2ri keeps a StrVector
  expect_false(convertible(c(TRUE, NA), "atomic"))
  expect_true(convertible(c("a", "b"), "atomic"))
  expect_false(convertible(data.frame(a = 1), "atomic"))
  expect_false(convertible(list(1), "all"))
  expect_false(convertible(1, FALSE))
})

test_that("keyword arguments name R's formals with _ for .", {
  f <- function(x, var.equal = FALSE, mu_zero = 0) NULL
  expect_equal(tandem:::rpy2_argument_names(f, c("", "var_equal", "mu_zero", "other_name")),
               c("", "var.equal", "mu_zero", "other_name"))
  expect_equal(tandem:::rpy2_argument_names(sum, c("na_rm")), "na_rm")
})

test_that("importr attaches a package and lists its exports, or names the one missing", {
  reply <- tandem:::rpy2_import("tools")
  expect_equal(reply$status, "ok")
  expect_true("file_ext" %in% unlist(reply$exports))
  expect_true("package:tools" %in% search())
  missing <- tandem:::rpy2_import("no.such.package.here")
  expect_equal(missing$ename, "PackageNotInstalledError")
  expect_match(missing$evalue, "no.such.package.here")
})
