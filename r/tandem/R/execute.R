# Running a cell: each top-level expression is evaluated in the global
# environment as the R console would. Text goes straight to stdout/stderr (the
# kernel captures them at the file-descriptor level, so output streams live and
# costs no more than in a terminal); visible values, plots, warnings and errors
# are reported after each expression.

state <- new.env(parent = emptyenv())
state$allow_stdin <- FALSE

execute_request <- function(request) {
  state$allow_stdin <- isTRUE(request$allow_stdin)
  state$payload <- list()
  state$r_first <- isTRUE(request$r_first)
  if (state$r_first) attach_frontend_exit()
  on.exit(state$allow_stdin <- FALSE, add = TRUE)
  restore <- apply_plot_options(request$plot)
  on.exit(restore(), add = TRUE)
  reset_plot_device()

  exprs <- tryCatch(parse_cell(request$code), error = identity)
  if (inherits(exprs, "error")) {
    message <- sub("^<text>:", "", conditionMessage(exprs))
    return(list(status = "error", ename = "SyntaxError", evalue = message,
                traceback = list(paste("Error in parse:", message))))
  }
  # `%%R -i`: the values from Python, assigned before the code runs.
  if (!is.null(request$inputs)) {
    inputs <- decode_values(request$inputs, request$.frames)
    for (name in names(inputs)) assign(name, inputs[[name]], envir = globalenv())
    remember_origins(request$inputs[["values"]], inputs)
  }
  n <- length(exprs)
  # `capture`: "visible" returns the last value if R would show it, "any" also
  # returns the value of an assignment (`%R -o W W <- 2 * Z` returns W), "last"
  # returns any value but NULL (rpy2's `%R print(x)` returns x), "none" neither
  # returns nor shows it.
  mode <- if (isTRUE(request$capture)) "visible" else if (is.character(request$capture)) request$capture else ""
  capture <- mode %in% c("visible", "any", "last")
  keep_last <- nzchar(mode)
  last <- list(value = NULL, visible = FALSE)
  for (i in seq_len(n)) {
    outcome <- evaluate_expression(exprs[[i]])
    report_warnings(outcome$warnings)
    if (!is.null(outcome$error)) {
      show_new_plot()
      return(error_reply(outcome$error, outcome$calls))
    }
    if (keep_last && i == n) {
      last <- outcome
    } else if (outcome$visible && !isTRUE(request$line)) {
      # (A `%R` line shows nothing but its plots: its value is returned, as in rpy2.)
      result <- isTRUE(request$result) && i == n
      # The cell's plot comes before its result, as with rpy2's %%R.
      if (result) show_new_plot()
      show_value(outcome$value, result = result)
    }
  }
  # A page is shown when the next one starts and here, once: a plot that later
  # expressions add to (abline, lines, legend) is one picture, its final state, as
  # in IRkernel and rpy2.
  show_new_plot()
  reply <- list(status = "ok", payload = state$payload)
  if (length(request$user_expressions)) {
    reply$user_expressions <- evaluate_user_expressions(request$user_expressions)
  }
  # `%R expr` returns the expression's visible value; `%%R -o` returns variables.
  outputs <- list()
  assigned <- n > 0 && is.call(exprs[[n]]) && as.character(exprs[[n]][[1]])[1] %in% c("<-", "=", "<<-")
  if (capture && (last$visible || (mode == "any" && assigned) || (mode == "last" && !is.null(last$value)))) {
    outputs[[".value"]] <- last$value
  }
  for (name in unlist(request$outputs)) {
    if (!exists(name, envir = globalenv())) {
      return(list(status = "error", ename = "RError",
                  evalue = sprintf("-o %s: R has no variable named %s", name, name),
                  traceback = list(sprintf("Error: R has no variable named %s", name))))
    }
    outputs[name] <- list(get(name, envir = globalenv()))
  }
  if (capture || length(request$outputs)) reply <- attach_values(reply, outputs)
  # `%R expr` whose value has no Python counterpart (a model, an environment):
  # show it as R would (if R would) instead of failing.
  if (!is.null(reply$errors[[".value"]])) {
    if (last$visible) show_value(last$value, result = FALSE)
    reply$errors[[".value"]] <- NULL
    if (!length(reply$errors)) reply$errors <- NULL
  }
  reply
}

# A cell's expressions with their source kept, as IRkernel and R's console keep
# it: functions print as written (comments included), and browser() and
# tracebacks name their lines. The file is "<text>", as in IRkernel.
parse_cell <- function(code) {
  lines <- strsplit(code, "\n", fixed = TRUE)[[1]]
  parse(text = code, srcfile = srcfilecopy("<text>", lines), keep.source = TRUE)
}

# The values a frontend asks for after a cell (execute_request's
# user_expressions): each R expression's value as a MIME bundle, or its error, as
# ipykernel answers them for Python.
evaluate_user_expressions <- function(expressions) {
  lapply(expressions, function(code) {
    tryCatch(
      {
        # Evaluated here: a promise forced inside mimebundle() would hide its error.
        value <- eval(parse(text = code, keep.source = FALSE), envir = globalenv())
        data <- mimebundle(value)
        if (!length(data)) data <- setNames(list(), character())
        list(status = "ok", data = data, metadata = setNames(list(), character()))
      },
      error = function(e) {
        list(status = "error", ename = "RError", evalue = conditionMessage(e),
             traceback = list(paste("Error:", conditionMessage(e))))
      }
    )
  })
}

# The function whose frame separates Tandem's frames from the user's in a traceback.
user_eval <- function(expr) eval(expr, envir = globalenv())

evaluate_expression <- function(expr) {
  warnings <- list()
  calls <- NULL
  # The calling handlers sit inside tryCatch so that they see the error (and its
  # call stack) before tryCatch unwinds.
  result <- tryCatch(
    withCallingHandlers(
      withVisible(user_eval(expr)),
      warning = function(w) {
        warnings[[length(warnings) + 1L]] <<- w
        invokeRestart("muffleWarning")
      },
      error = function(e) {
        calls <<- user_calls(sys.calls())
        if (console_open() && wants_recover()) recover_frames(e)
      }
    ),
    error = function(e) structure(list(e), class = "tandem_failure"),
    tandem_browser_exit = function(e) structure(list(simpleError(conditionMessage(e))), class = "tandem_failure")
  )
  if (inherits(result, "tandem_failure")) {
    return(list(error = result[[1]], calls = calls, warnings = warnings, visible = FALSE))
  }
  list(value = result$value, visible = result$visible, warnings = warnings)
}

# The call that runs a top-level expression; conditions signalled directly at top
# level carry it, and R's console shows no call for them.
top_level_call <- quote(eval(expr, envir = globalenv()))

# The calls between the user's expression and the error: what traceback() shows.
user_calls <- function(calls) calls[user_frames(calls)]

# The frame numbers of those calls.
user_frames <- function(calls) {
  frames <- seq_along(calls)
  ours <- which(vapply(frames, function(i) identical(sys.function(i), user_eval), logical(1)))
  if (length(ours)) frames <- frames[-seq_len(max(ours))]
  while (length(frames) && identical(calls[[frames[1L]]], top_level_call)) frames <- frames[-1L]
  handler <- which(vapply(calls[frames], function(call) identical(call[[1]], quote(.handleSimpleError)), logical(1)))
  if (length(handler)) frames <- frames[seq_len(handler[1] - 1L)]
  frames
}

# "In f(x) : " for a condition raised in a function; nothing at top level.
call_prefix <- function(condition, separator) {
  call <- conditionCall(condition)
  if (is.null(call) || identical(call, top_level_call)) return("")
  paste0(paste(deparse(call, nlines = 1L), collapse = ""), separator)
}

# "Error in f(x): message", or "Error: message" at top level.
error_header <- function(error, separator = ": ") {
  prefix <- call_prefix(error, separator)
  if (nzchar(prefix)) paste0("Error in ", prefix, conditionMessage(error)) else paste("Error:", conditionMessage(error))
}

error_reply <- function(error, calls) {
  message <- conditionMessage(error)
  traceback <- c(error_header(error), error_hint(error))
  if (length(calls)) {
    lines <- vapply(calls, function(call) paste0(paste(deparse(call, nlines = 1L), collapse = ""), line_ref(call)), "")
    traceback <- c(traceback, "Traceback:", "", paste0(seq_along(lines), ". ", lines))
  }
  list(status = "error", ename = "RError", evalue = message, traceback = as.list(traceback))
}

# "   # at line 2 of file <text>" for a call whose source R kept, as IRkernel
# writes it in tracebacks.
line_ref <- function(call) {
  ref <- attr(call, "srcref")
  if (is.null(ref)) return("")
  lines <- if (ref[[1]] == ref[[3]]) ref[[1]] else paste0(ref[[1]], "-", ref[[3]])
  paste0("   # at line ", lines, " of file ", attr(ref, "srcfile")$filename)
}

# What to do about errors that come from running inside a kernel rather than from
# the user's code.
error_hint <- function(error) {
  call <- conditionCall(error)
  if (is.call(call) && identical(call[[1]], quote(globalCallingHandlers))) {
    return(paste(
      "Cells run inside calling handlers (in every Jupyter kernel), so R cannot add global ones here.",
      "For progressr, wrap the code in progressr::with_progress(); fan-outs on",
      "plan(tandem::workers) show their progress in the cell without it."
    ))
  }
  NULL
}

report_warnings <- function(warnings) {
  if (!length(warnings)) return(invisible())
  # The R-first kernel's cells show each warning as IRkernel does; %%R cells as
  # R's console (and so rpy2) does.
  if (isTRUE(state$r_first)) {
    for (w in warnings) {
      prefix <- call_prefix(w, "")
      cat("Warning message", if (nzchar(prefix)) paste0(" in ", prefix), ":\n", dQuote(conditionMessage(w)), "\n",
          sep = "", file = stderr())
    }
    return(invisible())
  }
  describe <- function(w) {
    prefix <- call_prefix(w, " : ")
    paste0(if (nzchar(prefix)) "In " else "", prefix, conditionMessage(w))
  }
  text <- vapply(warnings, describe, "")
  if (length(text) == 1L) {
    cat("Warning message:\n", text, "\n", sep = "", file = stderr())
  } else {
    cat("Warning messages:\n", paste0(seq_along(text), ": ", text, "\n"), sep = "", file = stderr())
  }
}

# In the R-first kernel, quit() and q() ask the frontend to close, as `exit` does in
# a Python cell (the ask_exit payload), instead of ending R under an open console.
# They sit in an environment on the search path ahead of base. Text is coloured
# where packages offer it (crayon, cli), as IRkernel sets it up.
attach_frontend_exit <- function() {
  if ("tandem:frontend" %in% search()) return(invisible())
  if (is.null(getOption("crayon.enabled"))) options(crayon.enabled = TRUE)
  ask_exit <- function(save = "default", status = 0, runLast = TRUE) {
    state$payload[[length(state$payload) + 1L]] <- list(source = "ask_exit", keepkernel = FALSE)
    invisible()
  }
  exits <- new.env()
  assign("quit", ask_exit, envir = exits)
  assign("q", ask_exit, envir = exits)
  base::attach(exits, name = "tandem:frontend", warn.conflicts = FALSE)
}
