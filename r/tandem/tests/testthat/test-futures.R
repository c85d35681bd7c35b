test_that("progress bundles say how far a fan-out is, as text and HTML", {
  bundle <- tandem:::progress_bundle("futures", 3L, 8L, 1.25)
  expect_match(bundle[["text/plain"]], "^futures: 3/8 \\[#{11}\\.{19}\\] 38% 1\\.2 s$")
  expect_match(bundle[["text/html"]], '<progress value="3" max="8"', fixed = TRUE)
  done <- tandem:::progress_bundle("futures", 8L, 8L, 2)
  expect_match(done[["text/plain"]], "8/8 \\[#{30}\\] 100%")
})

test_that("the pool size follows workers = n, then TANDEM_WORKERS, then the cores", {
  expect_identical(tandem:::pool_size(3), 3L)
  withr_env <- Sys.getenv("TANDEM_WORKERS", NA)
  on.exit(if (is.na(withr_env)) Sys.unsetenv("TANDEM_WORKERS") else Sys.setenv(TANDEM_WORKERS = withr_env))
  Sys.setenv(TANDEM_WORKERS = "5")
  expect_identical(tandem:::pool_size(), 5L)
  Sys.unsetenv("TANDEM_WORKERS")
  expect_identical(tandem:::pool_size(), parallel::detectCores())
})

test_that("plan(tandem::workers, workers =) takes what multisession takes, and a bad value keeps the plan", {
  library(future)
  old <- plan(sequential)
  on.exit(plan(old), add = TRUE)
  plan(tandem::workers, workers = function() 1L)
  expect_identical(nbrOfWorkers(), 1L)
  plan(tandem::workers, workers = 3)
  for (bad in list(TRUE, NA_character_, 0L, NA_integer_, 2.5, c(1L, 2L), function() 0L)) {
    expect_error(plan(tandem::workers, workers = bad), "workers must be a whole number of at least 1")
    expect_identical(nbrOfWorkers(), 3L)
    expect_s3_class(plan(), "workers")
  }
})

test_that("a failed task's outcome becomes a FutureError naming the cause", {
  lost <- list(status = "failed:lost", frames = list(charToRaw("R worker w2 (pid 7) exited with status 3")))
  error <- tandem:::outcome_error(lost, NULL)
  expect_s3_class(error, "FutureError")
  expect_match(conditionMessage(error), "w2 .* exited with status 3")
  cancelled <- tandem:::outcome_error(list(status = "failed:cancelled", frames = list()), NULL)
  expect_match(conditionMessage(cancelled), "cancelled by an interrupt")
})

test_that("a worker runs R code from Python with its inputs and reports R errors", {
  packed <- tandem:::encode_values(list(x = c(1, 2, 3)), inline = TRUE)
  header <- tandem:::to_json(list(code = "sum(x) * 2", values = packed$header))
  outcome <- tandem:::run_task("expr", c(list(charToRaw(header)), packed$frames), function(c) NULL)
  expect_identical(outcome[[1]], "ok")
  reply <- jsonlite::fromJSON(outcome[[2]], simplifyVector = FALSE)
  expect_identical(tandem:::decode_values(reply, outcome[-(1:2)])$value, 12)
  header <- tandem:::to_json(list(code = "stop('nope')", values = packed$header))
  failed <- tandem:::run_task("expr", c(list(charToRaw(header)), packed$frames), function(c) NULL)
  expect_identical(failed[[1]], "error")
  expect_identical(failed[[5]], "nope")
})

test_that("an error whose message holds several strings still makes one frame each", {
  packed <- tandem:::encode_values(list(), inline = TRUE)
  code <- "stop(structure(class = c('multi', 'error', 'condition'), list(message = c('a', 'b'), call = NULL)))"
  header <- tandem:::to_json(list(code = code, values = packed$header))
  failed <- tandem:::run_task("expr", list(charToRaw(header)), function(c) NULL)
  expect_identical(failed[[1]], "error")
  expect_identical(failed[[4]], "multi")
  expect_identical(failed[[5]], "a\nb")
  expect_true(all(vapply(failed[-2], function(x) is.character(x) && length(x) == 1L, TRUE)))
})

test_that("a future keeps the outcome it took from the inbox, so an interrupt cannot lose it", {
  broker <- tandem:::broker
  saved <- broker$inbox
  on.exit(broker$inbox <- saved)
  broker$inbox <- new.env(parent = emptyenv())
  assign("7", list(status = "ok", frames = list()), envir = broker$inbox)
  future <- new.env()
  future$task <- "7"
  future$state <- "running"
  expect_identical(tandem:::broker_take(future)$status, "ok")
  expect_false(exists("7", envir = broker$inbox, inherits = FALSE))
  # value() asked again, after an interrupt ended the first ask: the same outcome,
  # and the future counts as resolved.
  expect_identical(tandem:::broker_take(future)$status, "ok")
  expect_true(tandem:::resolved.TandemTask(future))
})
