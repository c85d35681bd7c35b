# Values between R and Python: the R half of the exchange format.
#
# A value crosses as a JSON header (its type tree) plus raw little-endian
# buffers, 64-byte aligned in one blob that travels as a ZeroMQ frame or, when
# large, as a file in shared memory (docs/exchange-format.md). Buffers are read
# and written with readBin()/writeBin(): one vectorised call per column.

exchange_version <- 1L
exchange_align <- 64
exchange_file_threshold <- 2^20
exchange_state <- new.env(parent = emptyenv())
exchange_state$counter <- 0L

no_mapping <- function(message) {
  structure(class = c("tandem_no_mapping", "error", "condition"),
            list(message = message, call = NULL))
}

# --- writing ------------------------------------------------------------------

new_writer <- function() {
  w <- new.env(parent = emptyenv())
  w$parts <- list()
  w$size <- 0
  w
}

# Adds one buffer: `x` is written with writeBin(x, size = size); `nbytes` is
# what that writes. Returns the buffer's index.
writer_add <- function(w, x, size, nbytes) {
  # writeBin takes plain vectors only; dropping attributes copies, so only when needed.
  if (!is.vector(x)) attributes(x) <- NULL
  offset <- ceiling(w$size / exchange_align) * exchange_align
  w$parts[[length(w$parts) + 1L]] <- list(x = x, size = size, offset = offset, nbytes = nbytes)
  w$size <- offset + nbytes
  length(w$parts) - 1L
}

# `na` is the mask itself or a function computing it from `x`, called only when
# `x` has NA (or NaN): most vectors have none, and the mask costs allocations.
add_na_mask <- function(node, w, na, x = NULL) {
  if (is.function(na)) {
    if (!anyNA(x)) return(node)
    na <- na(x)
  }
  if (any(na)) node[["na"]] <- writer_add(w, as.integer(na), 1L, length(na))
  node
}

na_not_nan <- function(x) is.na(x) & !is.nan(x)

# The header and the frames carrying the blob (none when it went to a file).
writer_finish <- function(w, header) {
  header[["exchange"]] <- exchange_version
  header[["buffers"]] <- lapply(w$parts, function(p) c(p$offset, p$nbytes))
  header[["size"]] <- w$size
  if (w$size >= exchange_file_threshold && nzchar(exchange_directory())) {
    exchange_state$counter <- exchange_state$counter + 1L
    path <- file.path(exchange_directory(),
                      sprintf("r-%d-%d", Sys.getpid(), exchange_state$counter))
    con <- file(path, "wb")
    on.exit(close(con))
    write_parts(w, con)
    header[["file"]] <- path
    return(list(header = header, frames = list()))
  }
  if (length(w$parts) == 0L) return(list(header = header, frames = list()))
  con <- rawConnection(raw(0), "wb")
  on.exit(close(con))
  write_parts(w, con)
  list(header = header, frames = list(rawConnectionValue(con)))
}

write_parts <- function(w, con) {
  position <- 0
  for (p in w$parts) {
    if (p$offset > position) writeBin(raw(p$offset - position), con)
    if (is.raw(p$x)) writeBin(p$x, con) else writeBin(p$x, con, size = p$size, endian = "little")
    position <- p$offset + p$nbytes
  }
}

exchange_directory <- function() Sys.getenv("TANDEM_EXCHANGE_DIR", "")

# --- encoding -----------------------------------------------------------------

# The type tree of `x`, its buffers added to the writer `w`.
encode_value <- function(x, w) {
  if (is.null(x)) return(list(kind = "null"))
  if (is.data.frame(x)) return(encode_frame(x, w))
  if (is.list(x) && !is.object(x)) {
    items <- lapply(seq_along(x), function(i) {
      tryCatch(encode_value(x[[i]], w), tandem_no_mapping = function(e) {
        stop(no_mapping(sprintf("element %s: %s", element_label(x, i), conditionMessage(e))))
      })
    })
    node <- list(kind = "list", items = items)
    if (!is.null(names(x))) node[["names"]] <- as.list(enc2utf8(names(x)))
    return(node)
  }
  if (is.atomic(x) || is.factor(x)) {
    node <- encode_column(x, w)
    if (!is.null(dim(x))) {
      node[["dim"]] <- as.list(dim(x))
    } else if (!is.null(names(x))) {
      node[["names"]] <- encode_strings(names(x), w)
    }
    return(node)
  }
  stop(no_mapping(sprintf("an R %s (class %s) has no Python counterpart",
                          typeof(x), paste(class(x), collapse = "/"))))
}

element_label <- function(x, i) {
  nm <- names(x)[i]
  if (is.null(nm) || is.na(nm) || !nzchar(nm)) sprintf("[[%d]]", i) else sprintf("$%s", nm)
}

vector_node <- function(type, n, data) list(kind = "vector", type = type, length = n, data = data)

encode_column <- function(x, w) {
  n <- length(x)
  if (is.factor(x)) {
    codes <- unclass(x)
    if (anyNA(codes)) codes[is.na(codes)] <- 0L
    return(list(kind = "factor", length = n, data = writer_add(w, codes, 4L, 4 * n),
                levels = encode_strings(levels(x), w), ordered = is.ordered(x)))
  }
  if (inherits(x, "Date")) {
    days <- as.double(unclass(x))
    node <- vector_node("double", n, writer_add(w, days, 8L, 8 * n))
    node[["kind"]] <- "date"
    return(add_na_mask(node, w, is.na, days))
  }
  if (inherits(x, "POSIXlt")) x <- as.POSIXct(x)
  if (inherits(x, "POSIXct")) {
    tz <- attr(x, "tzone")
    tz <- if (is.null(tz)) "" else tz[[1]]
    seconds <- as.double(unclass(x))
    # A time without zone is a wall-clock time in Python: shift by R's local offset.
    if (!nzchar(tz) && !local_is_utc()) seconds <- seconds + as.POSIXlt(x)$gmtoff
    node <- vector_node("double", n, writer_add(w, seconds, 8L, 8 * n))
    node[["kind"]] <- "datetime"
    node[["tz"]] <- tz
    return(add_na_mask(node, w, is.na, seconds))
  }
  if (inherits(x, "difftime")) {
    seconds <- as.double(x, units = "secs")
    node <- vector_node("double", n, writer_add(w, seconds, 8L, 8 * n))
    node[["kind"]] <- "timedelta"
    return(add_na_mask(node, w, is.na, seconds))
  }
  if (inherits(x, "integer64")) {
    # writeBin writes the data of a vector whatever its attributes.
    node <- vector_node("int64", n, writer_add(w, unclass(x), 8L, 8 * n))
    return(add_na_mask(node, w, is.na(x)))
  }
  switch(typeof(x),
    logical = add_na_mask(vector_node("logical", n, writer_add(w, as.integer(x), 1L, n)), w, is.na, x),
    integer = add_na_mask(vector_node("integer", n, writer_add(w, x, 4L, 4 * n)), w, is.na, x),
    double = add_na_mask(vector_node("double", n, writer_add(w, x, 8L, 8 * n)), w, na_not_nan, x),
    complex = add_na_mask(vector_node("complex", n, writer_add(w, x, 16L, 16 * n)), w, na_not_nan, x),
    character = encode_strings(x, w),
    raw = vector_node("raw", n, writer_add(w, as.vector(x), 1L, n)),
    list = {
      items <- lapply(x, encode_value, w = w)
      list(kind = "list", items = items)
    },
    stop(no_mapping(sprintf("an R %s vector has no Python counterpart", typeof(x))))
  )
}

encode_strings <- function(x, w) {
  x <- enc2utf8(x)
  na <- NULL
  if (anyNA(x)) {
    na <- is.na(x)
    x[na] <- ""
  }
  nbytes <- sum(nchar(x, type = "bytes")) + length(x)
  node <- vector_node("string", length(x), writer_add(w, x, NA_integer_, nbytes))
  if (is.null(na)) node else add_na_mask(node, w, na)
}

encode_frame <- function(x, w) {
  columns <- lapply(seq_along(x), function(i) {
    tryCatch(encode_column(x[[i]], w), tandem_no_mapping = function(e) {
      stop(no_mapping(sprintf("column %s: %s", names(x)[i], conditionMessage(e))))
    })
  })
  node <- list(kind = "dataframe", length = nrow(x), columns = columns,
               names = as.list(enc2utf8(names(x))))
  rn <- attr(x, "row.names")
  if (.row_names_info(x) > 0L || is.character(rn)) {
    node[["rownames"]] <- if (is.integer(rn)) encode_column(rn, w) else encode_strings(rn, w)
    index_name <- attr(x, "tandem.index.name")
    if (!is.null(index_name)) node[["index_name"]] <- index_name
  }
  node
}

local_is_utc <- function() {
  offsets <- as.POSIXlt(.POSIXct(c(0, 15552000), tz = ""))$gmtoff
  all(is.na(offsets) | offsets == 0)
}

# --- reading ------------------------------------------------------------------

# A reader over the blob of one message: a file in shared memory or one frame.
new_reader <- function(header, frames) {
  if (!identical(as.integer(header[["exchange"]]), exchange_version)) {
    stop(sprintf("exchange format version %s, expected %d",
                 format(header[["exchange"]]), exchange_version))
  }
  r <- new.env(parent = emptyenv())
  r$layout <- header[["buffers"]]
  if (!is.null(header[["file"]])) {
    r$path <- header[["file"]]
    r$con <- file(header[["file"]], "rb")
  } else {
    r$blob <- if (length(frames)) frames[[1]] else raw(0)
  }
  r
}

close_reader <- function(r) {
  if (!is.null(r$con)) {
    close(r$con)
    unlink(r$path)
    r$con <- NULL
  }
}

read_buffer <- function(r, index, what, n, size) {
  place <- r$layout[[index + 1L]]
  offset <- place[[1]]
  nbytes <- place[[2]]
  if (!is.null(r$con)) {
    seek(r$con, offset)
    source <- r$con
  } else {
    source <- r$blob[seq.int(offset + 1, length.out = nbytes)]
  }
  if (identical(what, "raw")) return(readBin(source, "raw", nbytes))
  if (identical(what, "character")) return(readBin(source, "character", n))
  values <- readBin(source, what, n, size = size, endian = "little")
  if (length(values) != n) stop(sprintf("buffer %d holds fewer than %d values", index, n))
  values
}

read_na <- function(node, r) {
  if (is.null(node[["na"]])) return(NULL)
  read_buffer(r, node[["na"]], "integer", node[["length"]], 1L) != 0L
}

# The R value of one type tree.
decode_value <- function(node, r) {
  switch(node[["kind"]],
    null = NULL,
    list = {
      items <- lapply(node[["items"]], decode_value, r = r)
      if (!is.null(node[["names"]])) names(items) <- as.character(unlist(node[["names"]]))
      items
    },
    dataframe = decode_frame(node, r),
    {
      x <- decode_column(node, r)
      if (!is.null(node[["dim"]])) {
        dim(x) <- unlist(node[["dim"]])
      } else if (!is.null(node[["names"]])) {
        names(x) <- decode_column(node[["names"]], r)
      }
      x
    }
  )
}

decode_column <- function(node, r) {
  n <- node[["length"]]
  na <- read_na(node, r)
  set_na <- function(x) {
    if (!is.null(na)) x[na] <- NA
    x
  }
  switch(node[["kind"]],
    factor = {
      codes <- read_buffer(r, node[["data"]], "integer", n, 4L)
      codes[codes == 0L] <- NA_integer_
      levels <- decode_column(node[["levels"]], r)
      structure(codes, levels = levels,
                class = if (isTRUE(node[["ordered"]])) c("ordered", "factor") else "factor")
    },
    date = structure(set_na(read_buffer(r, node[["data"]], "double", n, 8L)), class = "Date"),
    datetime = {
      seconds <- set_na(read_buffer(r, node[["data"]], "double", n, 8L))
      tz <- if (is.null(node[["tz"]])) "" else node[["tz"]]
      if (!nzchar(tz) && !local_is_utc()) {
        wall <- as.POSIXlt(.POSIXct(seconds, tz = "UTC"))
        attr(wall, "tzone") <- ""
        wall$isdst <- -1L
        return(as.POSIXct(wall))
      }
      .POSIXct(seconds, tz = tz)
    },
    timedelta = structure(set_na(read_buffer(r, node[["data"]], "double", n, 8L)),
                          units = "secs", class = "difftime"),
    list = lapply(node[["items"]], decode_value, r = r),
    vector = switch(node[["type"]],
      logical = set_na(read_buffer(r, node[["data"]], "integer", n, 1L) != 0L),
      integer = set_na(read_buffer(r, node[["data"]], "integer", n, 4L)),
      double = set_na(read_buffer(r, node[["data"]], "double", n, 8L)),
      complex = set_na(read_buffer(r, node[["data"]], "complex", n, 16L)),
      string = {
        x <- if (n > 0) read_buffer(r, node[["data"]], "character", n) else character()
        if (!l10n_info()$`UTF-8`) Encoding(x) <- "UTF-8"
        set_na(x)
      },
      raw = read_buffer(r, node[["data"]], "raw", n),
      int64 = decode_int64(read_buffer(r, node[["data"]], "double", n, 8L), na),
      stop(sprintf("unknown vector type %s", node[["type"]]))
    ),
    stop(sprintf("unknown kind %s", node[["kind"]]))
  )
}

# 64-bit integers arrive as bit64::integer64 (their bits in a double vector), or
# as double when the user set options(tandem.int64 = "double").
decode_int64 <- function(bits, na) {
  if (!is.null(na)) bits[na] <- integer64_na_bits
  x <- structure(bits, class = "integer64")
  if (!requireNamespace("bit64", quietly = TRUE)) {
    warning("64-bit integers arrived as integer64 but the bit64 package is not installed")
    return(x)
  }
  if (identical(getOption("tandem.int64"), "double")) {
    d <- bit64::as.double.integer64(x)
    if (any(abs(d) > 2^53, na.rm = TRUE)) {
      warning("64-bit integers beyond 2^53 lost precision as double (options(tandem.int64 = \"double\"))")
    }
    return(d)
  }
  x
}

integer64_na_bits <- readBin(as.raw(c(0, 0, 0, 0, 0, 0, 0, 0x80)), "double", 1L, 8L, endian = "little")

decode_frame <- function(node, r) {
  columns <- lapply(node[["columns"]], decode_value, r = r)
  names(columns) <- unlist(node[["names"]])
  if (length(columns) == 0L) names(columns) <- character()
  class(columns) <- "data.frame"
  if (is.null(node[["rownames"]])) {
    attr(columns, "row.names") <- .set_row_names(node[["length"]])
  } else {
    attr(columns, "row.names") <- decode_column(node[["rownames"]], r)
    if (!is.null(node[["index_name"]])) attr(columns, "tandem.index.name") <- node[["index_name"]]
  }
  columns
}

# --- messages -----------------------------------------------------------------

# Encodes a named list of values into one message. Values that cannot cross are
# left out and named in `errors`, so that the others still arrive.
encode_values <- function(values) {
  w <- new_writer()
  nodes <- list()
  errors <- list()
  for (name in names(values)) {
    node <- tryCatch(encode_value(values[[name]], w), tandem_no_mapping = function(e) e)
    if (inherits(node, "tandem_no_mapping")) {
      errors[[name]] <- sprintf(
        "%s (R class %s) cannot cross to Python: %s. Convert it to a type in Tandem's conversion table first",
        name, paste(class(values[[name]]), collapse = "/"), conditionMessage(node))
    } else {
      nodes[[name]] <- node
    }
  }
  packed <- writer_finish(w, list(values = if (length(nodes)) nodes else structure(list(), names = character())))
  packed$errors <- errors
  packed
}

# The named list of values of one message.
decode_values <- function(header, frames) {
  r <- new_reader(header, frames)
  on.exit(close_reader(r))
  lapply(header[["values"]], decode_value, r = r)
}
