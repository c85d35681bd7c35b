# Completion, help and is_complete for R code. Cursor positions count Unicode
# characters, as the Jupyter protocol does.

complete_request <- function(request) {
  code <- request$code
  cursor <- as.integer(request$cursor_pos %||% nchar(code))
  before <- substr(code, 1L, cursor)
  line_start <- max(c(0L, gregexpr("\n", before, fixed = TRUE)[[1]]))
  line <- substr(before, line_start + 1L, cursor)
  utils:::.assignLinebuffer(line)
  utils:::.assignEnd(nchar(line))
  token <- utils:::.guessTokenFromLine()
  utils:::.completeToken()
  matches <- utils:::.retrieveCompletions()
  list(status = "ok", matches = as.list(as.character(matches)),
       cursor_start = cursor - nchar(token), cursor_end = cursor,
       metadata = setNames(list(), character()))
}

token_at <- function(code, cursor) {
  chars <- strsplit(code, "")[[1]]
  is_name <- function(ch) grepl("[[:alnum:]._:$@]", ch)
  start <- cursor
  while (start > 0L && is_name(chars[start])) start <- start - 1L
  end <- cursor
  while (end < length(chars) && is_name(chars[end + 1L])) end <- end + 1L
  token <- paste(chars[seq_len(end - start) + start], collapse = "")
  sub("^.*(::|\\$|@)", "", token)
}

inspect_request <- function(request) {
  code <- request$code
  token <- token_at(code, as.integer(request$cursor_pos %||% nchar(code)))
  data <- if (nzchar(token)) help_text(token) else NULL
  if (is.null(data) && nzchar(token) && exists(token, envir = globalenv())) {
    data <- list(`text/plain` = paste(capture.output(utils::str(get(token, envir = globalenv()))),
                                       collapse = "\n"))
  }
  list(status = "ok", found = !is.null(data), data = data %||% setNames(list(), character()),
       metadata = setNames(list(), character()))
}

help_text <- function(topic) {
  pages <- utils::help(topic, help_type = "text")
  if (!length(pages)) return(NULL)
  help_page(pages[[1]])
}

# A help page as plain text and HTML.
help_page <- function(path) {
  rd <- utils:::.getHelpFile(path)
  text <- capture.output(tools::Rd2txt(rd, options = list(underline_titles = FALSE)))
  html <- capture.output(tools::Rd2HTML(rd, fragment = TRUE))
  list(`text/plain` = paste(text, collapse = "\n"), `text/html` = paste(html, collapse = "\n"))
}

is_complete_request <- function(request) {
  result <- tryCatch({
    parse(text = request$code, keep.source = FALSE)
    "complete"
  }, error = function(e) {
    if (grepl("unexpected end of input|INCOMPLETE_STRING", conditionMessage(e))) "incomplete" else "invalid"
  })
  if (identical(result, "incomplete")) list(status = result, indent = "") else list(status = result)
}

`%||%` <- function(x, y) if (is.null(x)) y else x
