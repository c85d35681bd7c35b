# R objects that Python holds through Tandem's rpy2 API (`import rpy2.robjects`
# in the kernel): notebooks written for rpy2 keep proxies of R values, call R
# functions with them and convert them with pandas2ri or numpy2ri. The values
# stay here, in the kernel's one R session, under a number for as long as a
# Python proxy refers to them; only what Python converts crosses.

rpy2_store <- new.env(parent = emptyenv())
rpy2_store$last <- 0L
rpy2_store$objects <- new.env(parent = emptyenv())

# R's SEXP type numbers, which rpy2 shows in its proxies' text.
sexp_types <- c(
  "NULL" = 0L, symbol = 1L, pairlist = 2L, closure = 3L, environment = 4L, promise = 5L,
  language = 6L, special = 7L, builtin = 8L, char = 9L, logical = 10L, integer = 13L,
  double = 14L, complex = 15L, character = 16L, "..." = 17L, any = 18L, list = 19L,
  expression = 20L, bytecode = 21L, externalptr = 22L, weakref = 23L, raw = 24L, S4 = 25L
)

rpy2_object <- function(ref) {
  key <- as.character(ref)
  if (!exists(key, envir = rpy2_store$objects, inherits = FALSE)) {
    stop(sprintf("the R object %s is no longer held (its Python proxy was released)", key), call. = FALSE)
  }
  get(key, envir = rpy2_store$objects, inherits = FALSE)
}

# Keeps `value` and says what it is: its number, classes, type and shape.
rpy2_keep <- function(value) {
  rpy2_store$last <- rpy2_store$last + 1L
  assign(as.character(rpy2_store$last), value, envir = rpy2_store$objects)
  type <- typeof(value)
  description <- list(
    ref = rpy2_store$last, classes = as.list(class(value)), type = type,
    sexp = unname(sexp_types[type]), length = length(value)
  )
  if (!is.null(dim(value))) description$dim <- as.list(dim(value))
  if (is.factor(value)) description$levels <- as.list(levels(value))
  description
}

# Whether Python takes `value` converted rather than as a proxy, as rpy2 3.5's
# converters decide: under numpy2ri ("atomic") numeric and character vectors,
# matrices and arrays; under pandas2ri ("all") numeric ones, factors and data
# frames. Logical vectors, and character ones under pandas2ri, stay proxies
# there too.
rpy2_convertible <- function(value, mode) {
  numeric <- is.atomic(value) && typeof(value) %in% c("double", "integer")
  if (identical(mode, "all")) return(is.data.frame(value) || numeric)
  identical(mode, "atomic") && (numeric || is.character(value)) && !is.factor(value)
}

# Drops the objects Python no longer holds.
rpy2_release <- function(refs) {
  keys <- intersect(as.character(unlist(refs)), ls(rpy2_store$objects))
  rm(list = keys, envir = rpy2_store$objects)
}

rpy2_request <- function(request) {
  rpy2_release(request[["release"]])
  values <- if (is.null(request[["values"]])) list() else decode_values(request[["values"]], request$.frames)
  argument <- function(arg) if (!is.null(arg[["ref"]])) rpy2_object(arg[["ref"]]) else values[[arg[["value"]]]]
  op <- request[["op"]]
  if (op == "text") {
    text <- utils::capture.output(print(rpy2_object(request[["ref"]])))
    return(list(status = "ok", text = paste(text, collapse = "\n")))
  }
  if (op == "value") {
    return(attach_values(list(status = "ok"), list(value = rpy2_object(request[["ref"]]))))
  }
  if (op == "names") {
    return(list(status = "ok", names = as.list(ls(rpy2_environment(request), all.names = FALSE))))
  }
  if (op == "describe") {
    x <- rpy2_object(request[["ref"]])
    names <- names(x)
    elements <- lapply(seq_along(x), function(i) {
      list(name = if (is.null(names) || !nzchar(names[[i]])) NULL else names[[i]],
           sexp = unname(sexp_types[typeof(x[[i]])]))
    })
    return(list(status = "ok", elements = elements))
  }
  if (op == "exports") {
    return(rpy2_import(request[["package"]]))
  }
  run <- switch(op,
    eval = function() {
      value <- NULL
      for (expr in parse(text = request[["code"]], keep.source = FALSE)) value <- user_eval(expr)
      value
    },
    get = function() get(request[["name"]], envir = rpy2_environment(request)),
    call = function() {
      fun <- if (!is.null(request[["fun_ref"]])) rpy2_object(request[["fun_ref"]]) else match.fun(request[["fun"]])
      args <- lapply(request[["args"]], argument)
      names(args) <- rpy2_argument_names(fun, vapply(request[["args"]], function(a) a[["name"]] %||% "", ""))
      do.call(fun, args)
    },
    keep = function() values[["value"]],
    assign = function() {
      assign(request[["name"]], argument(request[["value"]]), envir = rpy2_environment(request))
      NULL
    },
    stop(sprintf("unknown rpy2 request %s", op), call. = FALSE)
  )
  outcome <- evaluate_expression(as.call(list(run)))
  report_warnings(outcome$warnings)
  if (!is.null(outcome$error)) return(error_reply(outcome$error, outcome$calls))
  value <- outcome$value
  # Under pandas2ri/numpy2ri, what converts comes back as a value, not a proxy.
  if (rpy2_convertible(value, request[["convert"]])) {
    return(attach_values(list(status = "ok", converted = TRUE), list(value = value)))
  }
  list(status = "ok", object = rpy2_keep(value))
}

# Python's keyword arguments name R's formals with `_` for `.` (rpy2's
# signature translation: `t_test(x, var_equal = True)`).
rpy2_argument_names <- function(fun, names) {
  formals <- if (is.function(fun) && !is.primitive(fun)) names(formals(fun)) else character()
  vapply(names, function(name) {
    dotted <- gsub("_", ".", name, fixed = TRUE)
    if (nzchar(name) && !(name %in% formals) && dotted %in% formals) dotted else name
  }, "", USE.NAMES = FALSE)
}

# The environment a request names: a kept one (`env_ref`), "global" (R's global
# environment, whose lookups go on through the search path), "base", or a
# package's namespace by name.
rpy2_environment <- function(request) {
  if (!is.null(request[["env_ref"]])) return(rpy2_object(request[["env_ref"]]))
  env <- request[["env"]]
  if (is.null(env) || identical(env, "global")) return(globalenv())
  if (identical(env, "base")) return(baseenv())
  getNamespace(env)
}

# importr(): attaches the package, as rpy2 does (later R cells see it too), and
# lists what it exports.
rpy2_import <- function(package) {
  # require() says FALSE (with a warning) only when the package is not there; a
  # package that attaches with warnings of its own is attached.
  attached <- suppressWarnings(suppressPackageStartupMessages(
    require(package, character.only = TRUE, quietly = TRUE)
  ))
  if (!isTRUE(attached)) {
    return(list(status = "error", ename = "PackageNotInstalledError",
                evalue = sprintf("The R package \"%s\" is not installed.", package)))
  }
  list(status = "ok", exports = as.list(sort(getNamespaceExports(package))))
}
