# Loading a package holds interrupts: one that comes while the package loads is
# applied once it is whole, never leaving it half-loaded.

test_that("loadNamespace, attachNamespace and unloadNamespace hold interrupts", {
  tandem:::hold_interrupts_while_loading()
  for (name in c("loadNamespace", "attachNamespace", "unloadNamespace")) {
    f <- get(name, envir = baseenv())
    expect_identical(body(f)[[1]], as.name("suspendInterrupts"))
    expect_identical(get(name, envir = .BaseNamespaceEnv), f)
  }
  # Twice changes nothing.
  before <- body(loadNamespace)
  tandem:::hold_interrupts_while_loading()
  expect_identical(body(loadNamespace), before)
})

test_that("an interrupt while a package loads is applied once it has loaded", {
  tandem:::hold_interrupts_while_loading()
  if (isNamespaceLoaded("KernSmooth")) unloadNamespace("KernSmooth")
  # The package's load hook runs inside loadNamespace: the interrupt lands there,
  # while R code runs. (R's own waits, Sys.sleep() among them, do not hold an
  # interrupt even so.)
  hook <- function(...) {
    tools::pskill(Sys.getpid(), tools::SIGINT)
    x <- 0
    for (i in 1:3e6) x <- x + 1
    loaded_before_interrupt <<- TRUE
  }
  loaded_before_interrupt <- FALSE
  setHook(packageEvent("KernSmooth", "onLoad"), hook)
  on.exit(setHook(packageEvent("KernSmooth", "onLoad"), NULL, "replace"))
  outcome <- tryCatch({
    loadNamespace("KernSmooth")
    for (i in 1:3e8) NULL
    "not interrupted"
  }, interrupt = function(e) "interrupted")
  expect_identical(outcome, "interrupted")
  expect_true(loaded_before_interrupt)
  expect_true(isNamespaceLoaded("KernSmooth"))
  expect_true(is.function(KernSmooth::dpik))
})
