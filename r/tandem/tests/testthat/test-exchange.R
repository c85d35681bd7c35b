# The R half of the exchange format on its own: values encoded and decoded in R.

roundtrip <- function(values) {
  packed <- encode_values(values)
  header <- jsonlite::fromJSON(to_json(packed$header), simplifyVector = FALSE)
  decode_values(header, packed$frames)
}

test_that("atomic vectors, NA and attributes come back identical", {
  values <- list(
    l = c(TRUE, NA, FALSE), i = c(1L, NA), d = c(1.5, NA, NaN, -Inf), s = c("é", NA, ""),
    z = c(1+2i, NA), r = as.raw(c(0, 255)), n = c(a = 1, b = 2), m = matrix(1:6, 2),
    f = factor(c("b", NA), levels = c("c", "b")), o = factor("lo", levels = c("lo", "hi"), ordered = TRUE),
    dt = as.Date(c("2024-02-29", NA)), t = as.POSIXct(c("2024-03-10 01:30:00", NA), tz = "America/New_York"),
    dd = as.difftime(c(1, NA), units = "secs"), nul = NULL, lst = list(a = 1, b = list("x")),
    e = character(0)
  )
  back <- roundtrip(values)
  for (name in names(values)) expect_identical(back[[name]], values[[name]], info = name)
})

test_that("data frames keep row names, duplicates and zero rows", {
  df <- data.frame(x = 1:2, y = c("a", NA), stringsAsFactors = FALSE)
  expect_identical(roundtrip(list(df = df))$df, df)
  named <- structure(list(a = 1:2), row.names = c("r", "r"), class = "data.frame")
  expect_identical(roundtrip(list(df = named))$df, named)
  empty <- data.frame(a = integer(0), b = character(0))
  expect_identical(roundtrip(list(df = empty))$df, empty)
})

test_that("large values go through the arena file and stay readable", {
  dir <- tempfile("exchange")
  dir.create(dir)
  withr_env <- Sys.getenv("TANDEM_EXCHANGE_DIR")
  Sys.setenv(TANDEM_EXCHANGE_DIR = dir)
  on.exit(Sys.setenv(TANDEM_EXCHANGE_DIR = withr_env))
  x <- runif(3e5)
  packed <- encode_values(list(x = x))
  expect_true(isTRUE(packed$header$arena))
  expect_length(packed$frames, 0)
  expect_identical(packed$header$file, file.path(dir, "r-arena-0"))
  y <- decode_values(packed$header, list())$x
  expect_identical(y, x)
  # y points into the arena's mapping, which stays locked while y lives.
  expect_match(paste(capture.output(.Internal(inspect(y))), collapse = ""), "tandem mapped")
  expect_identical(encode_values(list(x = x))$header$file, file.path(dir, "r-arena-1"))
  y[2] <- -1
  expect_identical(y[-2], x[-2])
  expect_identical(decode_values(packed$header, list())$x[2], x[2])  # R's changes stay R's
  rm(y)
  invisible(gc())
  expect_identical(encode_values(list(x = x))$header$file, packed$header$file)
  i <- sample.int(1e6)
  packed <- encode_values(list(i = i, f = factor(i %% 7L), d = .Date(i + 0.5)))
  back <- decode_values(packed$header, list())
  expect_identical(back, list(i = i, f = factor(i %% 7L), d = .Date(i + 0.5)))
  expect_identical(unserialize(serialize(back, NULL)), back)
})

test_that("values without a Python counterpart are named, the others kept", {
  packed <- encode_values(list(ok = 1, env = new.env(), fn = sum))
  expect_named(packed$header$values, "ok")
  expect_match(packed$errors$env, "env \\(R class environment\\) cannot cross to Python")
  expect_match(packed$errors$fn, "fn \\(R class function\\)")
})

test_that("another format version is refused", {
  packed <- encode_values(list(a = 1))
  packed$header$exchange <- 2L
  expect_error(decode_values(packed$header, packed$frames), "version 2")
})

test_that("long character vectors make their strings on use and behave as any other", {
  s <- paste0("s", seq_len(20000))
  s[c(3, 7000)] <- NA
  s[5] <- "h\u00e9llo"
  back <- roundtrip(list(s = s))$s
  lazy <- function(x) grepl("not made yet", paste(capture.output(.Internal(inspect(x))), collapse = ""))
  expect_true(lazy(back))
  expect_identical(head(back, 6), head(s, 6))
  expect_true(lazy(back))
  expect_identical(Encoding(back[5]), "UTF-8")
  expect_identical(back, s)
  expect_false(lazy(back))
  again <- roundtrip(list(s = s))$s
  changed <- again
  changed[2] <- "z"
  expect_identical(changed[1:3], c("s1", "z", NA))
  expect_identical(again[2], "s2")
  file <- tempfile(fileext = ".rds")
  saveRDS(roundtrip(list(s = s))$s, file)
  expect_identical(readRDS(file), s)
  expect_identical(sort(roundtrip(list(s = s))$s), sort(s))
  unused <- roundtrip(list(s = s))$s
  expect_identical(roundtrip(list(s = unused))$s, s)
  expect_true(lazy(unused))
})

test_that("headers are written as JSON that reads back as jsonlite's does", {
  f <- factor(c("a\"b", "c\\d", NA), levels = c("a\"b", "c\\d", "é\n\t\001"))
  df <- data.frame(x = c(1.5, NA, 2^52 + 1), s = c("q", NA, "ü"), f = f, stringsAsFactors = FALSE)
  packed <- encode_values(list(df = df, e = list(), n = structure(list(), names = character()),
                               m = matrix(1:6, 2), l = list(a = TRUE, b = NULL)))
  ours <- .Call(tnd_json, packed$header)
  theirs <- jsonlite::toJSON(packed$header, auto_unbox = TRUE, null = "null", na = "null", digits = NA)
  expect_identical(jsonlite::fromJSON(ours, simplifyVector = FALSE),
                   jsonlite::fromJSON(theirs, simplifyVector = FALSE))
  header <- list(exchange = 1L, values = list(t = list(tz = "Europe/Zürich", big = 2^53 - 1, third = 1 / 3)))
  back <- jsonlite::fromJSON(.Call(tnd_json, header), simplifyVector = FALSE)
  expect_identical(back$values$t$tz, "Europe/Zürich")
  expect_identical(back$values$t$big, 2^53 - 1)
  expect_identical(back$values$t$third, 1 / 3)
  # A reply that carries a header gets it spliced in verbatim.
  reply <- jsonlite::fromJSON(to_json(list(status = "ok", values = packed$header)), simplifyVector = FALSE)
  expect_identical(reply$values, jsonlite::fromJSON(ours, simplifyVector = FALSE))
})

test_that("long character vectors pack on two threads into the same bytes, latin1 included", {
  packed_bytes <- function(x) {
    handle <- .Call(tandem:::tnd_pack_strings, x)
    .Call(tandem:::tnd_write, list(handle), 0L, 0, attr(handle, "size"), NULL)
  }
  expected <- function(x) {
    utf8 <- enc2utf8(ifelse(is.na(x), "", x))
    unlist(lapply(utf8, function(e) c(charToRaw(e), as.raw(0))))
  }
  long <- paste0("s", seq_len(250000))
  latin1 <- iconv("caf\u00e9", "UTF-8", "latin1")
  for (x in list(c(long, NA, "\u00e9t\u00e9", "\u65e5\u672c"), c(long, latin1), c(latin1, long))) {
    expect_identical(packed_bytes(x), expected(x))
  }
})
