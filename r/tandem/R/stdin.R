# readline(), menu() and R's console (the commands of browser(), debug() and
# debugonce(): debugger.R) ask the frontend through the kernel (input_request).

install_stdin <- function() {
  .Call(tnd_read_console_from, console_line)
  replace_binding("readline", tandem_readline, baseenv())
  replace_binding("menu", tandem_menu, asNamespace("utils"))
  if ("package:utils" %in% search()) replace_binding("menu", tandem_menu, as.environment("package:utils"))
}

replace_binding <- function(name, value, env) {
  locked <- bindingIsLocked(name, env)
  if (locked) unlockBinding(name, env)
  assign(name, value, envir = env)
  if (locked) lockBinding(name, env)
}

request_input <- function(prompt = "", password = FALSE) {
  if (!isTRUE(state$allow_stdin)) {
    stop("input was requested, but this frontend does not support input requests", call. = FALSE)
  }
  send_message(list(type = "input_request", prompt = as.character(prompt), password = password))
  repeat {
    message <- receive_message(-1L)
    if (!is.null(message) && identical(message$type, "input_reply")) return(message$value)
  }
}

tandem_readline <- function(prompt = "") {
  request_input(prompt)
}

tandem_menu <- function(choices, graphics = FALSE, title = NULL) {
  if (length(title) && nzchar(title[1L])) cat(title[1L], "\n")
  cat("", paste0(format(seq_along(choices)), ": ", choices), "", sep = "\n")
  repeat {
    answer <- suppressWarnings(as.integer(request_input("Selection: ")))
    if (!is.na(answer) && answer >= 0L && answer <= length(choices)) return(answer)
    cat("Enter an item from the menu, or 0 to exit\n")
  }
}

