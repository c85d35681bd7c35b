# R's debugger in cells. browser(), debug(), debugonce() read their commands
# from R's console, which src/console.c points at console_line(): the frontend
# answers, as it answers readline(). options(error = recover) browses the frames
# of the failed cell (recover_frames()).

console_open <- function() isTRUE(state$allow_stdin)

# A line of R's console input, asked of the frontend while a cell runs: the
# commands of browser() (n, s, c, f, where, expressions). Q leaves the browser and
# ends the cell, as pdb's q ends a Python cell; a frontend that cannot answer
# (nbclient, papermill) ends the cell with an error instead of a browser that
# carries on by itself. Outside a cell the console has ended (NULL).
console_line <- function(prompt) {
  if (!console_open()) {
    leave_browser(paste(
      "browser() asks the frontend for its commands, and this frontend does not support input",
      "(nbclient, papermill, jupyter execute): remove browser(), debug() and debugonce() calls",
      "to run the notebook unattended"
    ))
    return(NULL)
  }
  line <- request_input(prompt)
  if (identical(trimws(line), "Q")) leave_browser("Q: the browser was left, and the cell stopped there")
  line
}

# Ends the cell that runs the browser with `message` (a condition that
# evaluate_expression turns into the cell's error; browser() itself returns to its
# prompt after an error).
leave_browser <- function(message) {
  signalCondition(structure(class = c("tandem_browser_exit", "condition"),
                            list(message = message, call = NULL)))
}

# Whether the error option asks for recover(): `options(error = recover)` keeps
# the call `(recover)()`, `options(error = quote(recover()))` the call by name.
wants_recover <- function() {
  option <- getOption("error")
  is.call(option) && length(option) == 1L &&
    (identical(option[[1L]], utils::recover) || identical(option[[1L]], quote(recover)) ||
       identical(option[[1L]], quote(utils::recover)))
}

# recover() for a failed cell, called while the error is signalled: the menu of
# the cell's own frames (the kernel's are left out), and browser() in the one
# chosen, until 0. R's recover() works only in an interactive R, and would list
# the kernel's frames.
recover_frames <- function(error) {
  calls <- sys.calls()
  frames <- user_frames(calls)
  is_stop <- vapply(calls[frames], function(call) {
    is.name(call[[1L]]) && as.character(call[[1L]]) %in% c("stop", "Stop")
  }, logical(1))
  frames <- frames[!is_stop]
  # As R's console shows it before recover()'s menu (on stdout, to stay in order with it).
  cat(error_header(error, " : "), "\n", sep = "")
  if (!length(frames)) {
    cat("No suitable frames for recover()\n")
    return(invisible())
  }
  labels <- vapply(calls[frames], function(call) paste(deparse(call, nlines = 1L), collapse = ""), "")
  repeat {
    which <- utils::menu(labels, title = "\nEnter a frame number, or 0 to exit  ")
    if (!which) break
    frame <- frames[which]
    # skipCalls: "Called from:" names the frame browsed, not this function.
    eval(substitute(browser(skipCalls = skip), list(skip = sys.nframe() + 2L - frame)),
         envir = sys.frame(frame))
  }
}
