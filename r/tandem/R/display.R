# Rich output: visible values as MIME bundles (repr), IRdisplay's display
# functions, and plots rendered from a recording device.

# Objects that draw themselves instead of having a text form.
plot_classes <- c("ggplot", "trellis", "grob", "gtable", "recordedplot", "gg")

show_value <- function(value, result = FALSE) {
  if (inherits(value, "help_files_with_topic")) {
    return(page_help(value))
  }
  if (inherits(value, plot_classes)) {
    print(value)
    show_new_plot()
    return(invisible())
  }
  bundle <- mimebundle(value)
  # A value without a text form shows nothing, as in IRkernel: data.table's
  # `dt[, x := 1]` returns its table visibly and relies on this (its repr_text
  # says no once, through data.table::shouldPrint).
  if (!length(bundle[["text/plain"]]) || !nzchar(bundle[["text/plain"]])) return(invisible())
  send_message(list(type = "display", data = bundle, metadata = setNames(list(), character()),
                    result = result))
}

# `?topic` opens the frontend's pager (an execute_reply payload), as in IRkernel.
page_help <- function(pages) {
  if (!length(pages)) {
    cat("No documentation for", sQuote(attr(pages, "topic")), "\n", file = stderr())
    return(invisible())
  }
  data <- help_page(pages[[1]])
  state$payload[[length(state$payload) + 1L]] <- list(source = "page", data = data, start = 0L)
  invisible()
}

mimebundle <- function(value) {
  mimes <- getOption("jupyter.display_mimetypes",
                     c("text/plain", "text/html", "text/markdown", "text/latex"))
  bundle <- list()
  for (mime in union("text/plain", mimes)) {
    render <- repr::mime2repr[[mime]]
    if (is.null(render)) next
    out <- tryCatch(render(value), error = function(e) NULL)
    if (!is.null(out)) bundle[[mime]] <- paste(out, collapse = "\n")
  }
  bundle
}

# IRdisplay publishes through these options, as under IRkernel. With a
# `display_id` the output can be replaced later (`update = TRUE`).
publish_display <- function(data, metadata = NULL, display_id = NULL, update = FALSE) {
  data <- lapply(data, function(x) if (is.raw(x)) jsonlite::base64_enc(x) else paste(x, collapse = "\n"))
  message <- list(type = "display", data = data,
                  metadata = if (length(metadata)) metadata else setNames(list(), character()),
                  result = FALSE)
  if (!is.null(display_id)) {
    message$display_id <- display_id
    message$update <- isTRUE(update)
  }
  send_message(message)
}

publish_clear_output <- function(wait = TRUE) {
  send_message(list(type = "clear_output", wait = isTRUE(wait)))
}

# -- plots --------------------------------------------------------------------

open_plot_device <- function() {
  start_recording()
  # Every new plot passes here: it marks that something was drawn, and when it
  # starts a new page, shows the previous page before it is lost. (Panels of
  # par(mfrow) or layout() share a page: one picture, as in IRkernel and rpy2.)
  new_plot <- function() {
    if (graphics::par("page")) show_new_plot()
    state$drawn <- TRUE
  }
  new_page <- function() {
    show_new_plot()
    state$drawn <- TRUE
  }
  setHook("before.plot.new", new_plot)
  setHook("before.grid.newpage", new_page)
}

# Each cell draws on a blank page, so a plot equal to the last cell's is still shown.
reset_plot_device <- function() {
  if (!isTRUE(state$drawn) && identical(grDevices::dev.cur(), state$device) &&
      identical(state$bg, plot_background())) {
    return(invisible())
  }
  if (!is.null(state$device) && state$device %in% grDevices::dev.list()) {
    grDevices::dev.off(state$device)
  }
  start_recording()
}

# The background of the cell's plots; the recording device paints it, since a
# replayed page paints over the background of the device it is replayed on.
plot_background <- function() getOption("repr.plot.bg", "white")

# A null PDF device that records what is drawn, so plots can be replayed as images.
start_recording <- function() {
  state$bg <- plot_background()
  grDevices::pdf(NULL, bg = state$bg)
  grDevices::dev.control(displaylist = "enable")
  state$device <- grDevices::dev.cur()
  state$last_plot <- NULL
  state$drawn <- FALSE
}

show_new_plot <- function() {
  if (!isTRUE(state$drawn)) return(invisible())
  if (is.null(state$device) || grDevices::dev.cur() != state$device) return(invisible())
  plot <- grDevices::recordPlot()
  if (!length(plot[[1]]) || identical(plot[[1]], state$last_plot)) return(invisible())
  state$last_plot <- plot[[1]]
  rendered <- render_plot(plot)
  send_message(list(type = "display", data = rendered$data, metadata = rendered$metadata,
                    result = FALSE))
}

render_plot <- function(plot) {
  width <- getOption("repr.plot.width", 7)
  height <- getOption("repr.plot.height", 7)
  res <- getOption("repr.plot.res", 120)
  units <- getOption("tandem.plot.units", "in")
  pointsize <- getOption("repr.plot.pointsize", 12)
  bg <- plot_background()
  inches <- function(x) switch(units, px = x / 72, cm = x / 2.54, mm = x / 25.4, x)
  if (units == "px") res <- NA  # the size is in pixels already
  data <- list()
  file <- tempfile()
  on.exit(unlink(file))
  draw <- function(open) {
    open()
    on.exit({
      grDevices::dev.off()
      grDevices::dev.set(state$device)
    })
    grDevices::replayPlot(plot)
  }
  mimetypes <- getOption("jupyter.plot_mimetypes", c("text/plain", "image/png"))
  for (mime in mimetypes) {
    if (mime == "image/png") {
      draw(function() grDevices::png(file, width = width, height = height, units = units, res = res,
                                     pointsize = pointsize, bg = bg))
      data[[mime]] <- jsonlite::base64_enc(readBin(file, "raw", file.size(file)))
    } else if (mime == "image/svg+xml") {
      draw(function() grDevices::svg(file, width = inches(width), height = inches(height),
                                     pointsize = pointsize, bg = bg))
      data[[mime]] <- readChar(file, file.size(file), useBytes = TRUE)
    } else if (mime == "text/plain") {
      # IRkernel's text in the R-first kernel; in %%R cells, that of the IPython
      # image rpy2 shows.
      data[[mime]] <- if (isTRUE(state$r_first)) {
        "plot without title"
      } else if ("image/svg+xml" %in% mimetypes) {
        "<IPython.core.display.SVG object>"
      } else {
        "<IPython.core.display.Image object>"
      }
    }
  }
  list(data = data, metadata = setNames(list(), character()))
}

# Per-cell plot settings from the kernel (%%R -w -h -u -r, %Rdevice); returns a
# function that puts the previous ones back.
apply_plot_options <- function(plot) {
  if (is.null(plot) || !length(plot)) return(function() invisible())
  names_map <- c(width = "repr.plot.width", height = "repr.plot.height", res = "repr.plot.res",
                 pointsize = "repr.plot.pointsize", bg = "repr.plot.bg",
                 units = "tandem.plot.units", mimetypes = "jupyter.plot_mimetypes")
  given <- plot[intersect(names(plot), names(names_map))]
  new <- setNames(lapply(given, function(x) if (is.list(x)) unlist(x) else x), names_map[names(given)])
  old <- options(new)
  function() options(old)
}
