# Values between R and Python: the R half of the exchange format.
#
# A value crosses as a JSON header (its type tree) plus raw little-endian
# buffers, 64-byte aligned in one blob that travels as a ZeroMQ frame or, when
# large, as a file in shared memory (docs/exchange-format.md). The bytes move in
# C (src/exchange.c): straight between R's vectors and the blob, one copy.

exchange_version <- 1L
# Buffers of an arena at least this large are mapped rather than copied.
map_threshold <- 1048576
exchange_align <- 64
exchange_file_threshold <- 2^20

no_mapping <- function(message) {
  structure(class = c("tandem_no_mapping", "error", "condition"),
            list(message = message, call = NULL))
}

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
  # POSIXlt (strptime()'s) is a list of fields: encode_column makes it POSIXct.
  if (is.atomic(x) || is.factor(x) || inherits(x, "POSIXlt")) {
    node <- encode_column(x, w)
    if (length(dim(x)) == 1L && !is.null(dimnames(x)[[1L]])) {
      # A 1-d array with names (table(), tapply()): a named vector, names kept.
      node[["names"]] <- encode_strings(dimnames(x)[[1L]], w)
    } else if (!is.null(dim(x))) {
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
    if (anyNA(levels(x))) {
      stop(no_mapping(paste(
        "a factor with NA as a level (as addNA() makes) has no pandas counterpart,",
        "whose categories cannot be missing; drop that level with factor(x, exclude = NA)"
      )))
    }
    # The factor's own integers are its codes: copied only to mark NA as 0.
    codes <- x
    if (anyNA(x)) {
      codes <- unclass(x)
      codes[is.na(codes)] <- 0L
    }
    return(list(kind = "factor", length = n, data = writer_add(w, codes, part_data, 4 * n),
                levels = encode_strings(levels(x), w), ordered = is.ordered(x)))
  }
  if (inherits(x, "POSIXlt")) x <- as.POSIXct(x)
  if (inherits(x, c("Date", "POSIXct", "difftime"))) return(encode_time(x, w))
  if (inherits(x, "integer64")) {
    node <- vector_node("int64", n, writer_add(w, x, part_data, 8 * n))
    if (anyNA(x)) node[["na"]] <- writer_add(w, is.na(x), part_logical, n)
    return(node)
  }
  switch(typeof(x),
    logical = add_na_mask(vector_node("logical", n, writer_add(w, x, part_logical, n)), w, x),
    integer = add_na_mask(vector_node("integer", n, writer_add(w, x, part_data, 4 * n)), w, x),
    double = add_na_mask(vector_node("double", n, writer_add(w, x, part_data, 8 * n)), w, x),
    complex = add_na_mask(vector_node("complex", n, writer_add(w, x, part_data, 16 * n)), w, x),
    character = encode_strings(x, w),
    raw = vector_node("raw", n, writer_add(w, x, part_data, n)),
    list = list(kind = "list", items = lapply(x, encode_value, w = w)),
    stop(no_mapping(sprintf("an R %s vector has no Python counterpart", typeof(x))))
  )
}

# Date (days), POSIXct (seconds, with its zone) and difftime (seconds) as doubles.
encode_time <- function(x, w) {
  n <- length(x)
  if (inherits(x, "difftime")) {
    seconds <- if (identical(units(x), "secs")) x else as.double(x, units = "secs")
    kind <- "timedelta"
  } else if (inherits(x, "Date")) {
    seconds <- x
    kind <- "date"
  } else {
    tz <- attr(x, "tzone")
    tz <- if (is.null(tz)) "" else tz[[1]]
    seconds <- x
    # A time without zone is a wall-clock time in Python: shift by R's local offset.
    if (!nzchar(tz) && !local_is_utc()) seconds <- as.double(x) + as.POSIXlt(x)$gmtoff
    kind <- "datetime"
  }
  if (!is.double(seconds)) seconds <- as.double(seconds)
  node <- add_na_mask(vector_node("double", n, writer_add(w, seconds, part_data, 8 * n)), w, seconds)
  node[["kind"]] <- kind
  if (kind == "datetime") node[["tz"]] <- tz
  node
}

encode_strings <- function(x, w) {
  packed <- .Call(tnd_pack_strings, x)
  nbytes <- if (is.raw(packed)) length(packed) else attr(packed, "size")
  node <- vector_node("string", length(x), writer_add(w, packed, part_data, nbytes))
  # A vector that arrived lazily and was not used knows its NA without making its
  # strings (which anyNA() would).
  na <- .Call(tnd_lazy_na, x)
  if (is.null(na)) return(add_na_mask(node, w, x))
  if (any(na)) node[["na"]] <- writer_add(w, na, part_logical, length(na))
  node
}

encode_frame <- function(x, w) {
  columns <- lapply(seq_along(x), function(i) {
    if (!is.null(dim(x[[i]]))) {
      stop(no_mapping(sprintf(
        "column %s is a matrix or data frame inside the frame; give each of its columns its own column first",
        names(x)[i]
      )))
    }
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
      codes <- read_buffer(r, node[["data"]], "integer", n)
      codes[codes == 0L] <- NA_integer_
      levels <- decode_column(node[["levels"]], r)
      structure(codes, levels = levels,
                class = if (isTRUE(node[["ordered"]])) c("ordered", "factor") else "factor")
    },
    date = structure(set_na(read_buffer(r, node[["data"]], "double", n)), class = "Date"),
    datetime = {
      seconds <- set_na(read_buffer(r, node[["data"]], "double", n))
      tz <- if (is.null(node[["tz"]])) "" else node[["tz"]]
      if (!nzchar(tz) && !local_is_utc()) {
        wall <- as.POSIXlt(.POSIXct(seconds, tz = "UTC"))
        attr(wall, "tzone") <- ""
        wall$isdst <- -1L
        return(as.POSIXct(wall))
      }
      .POSIXct(seconds, tz = tz)
    },
    timedelta = structure(set_na(read_buffer(r, node[["data"]], "double", n)),
                          units = "secs", class = "difftime"),
    list = lapply(node[["items"]], decode_value, r = r),
    vector = switch(node[["type"]],
      logical = set_na(read_buffer(r, node[["data"]], "logical", n)),
      integer = int64_override(set_na(read_buffer(r, node[["data"]], "integer", n)), node),
      double = int64_override(set_na(read_buffer(r, node[["data"]], "double", n)), node),
      complex = set_na(read_buffer(r, node[["data"]], "complex", n)),
      string = read_strings(r, node[["data"]], n, na),
      raw = read_buffer(r, node[["data"]], "raw", n),
      int64 = decode_int64(read_buffer(r, node[["data"]], "double", n), na, node),
      stop(sprintf("unknown vector type %s", node[["type"]]))
    ),
    stop(sprintf("unknown kind %s", node[["kind"]]))
  )
}

# Python's 64-bit integers arrive as integer when they fit, as double when they
# are exact in a double (Python chose, by their values); options(tandem.int64 =
# "double") makes them all double, "integer64" all bit64::integer64.
int64_override <- function(x, node) {
  option <- getOption("tandem.int64")
  if (is.null(option) || is.null(node[["dtype"]]) || !grepl("int", node[["dtype"]], ignore.case = TRUE)) {
    return(x)
  }
  if (identical(option, "double")) return(as.double(x))
  if (identical(option, "integer64") && requireNamespace("bit64", quietly = TRUE)) return(bit64::as.integer64(x))
  x
}

# Integers beyond 2^53 arrive as bit64::integer64 (their bits in a double vector),
# or as double with options(tandem.int64 = "double"). Functions that do not know
# integer64 (lm, for one) read its bits as doubles: Python said so in the cell.
# (Python sends integers that fit R's integer or double as those.) R's own
# integer64 going back (`dtype` "integer64") stays integer64 whatever the option.
decode_int64 <- function(bits, na, node) {
  if (!is.null(na)) bits[na] <- integer64_na_bits
  x <- structure(bits, class = "integer64")
  if (!requireNamespace("bit64", quietly = TRUE)) {
    warning("64-bit integers arrived as integer64 but the bit64 package is not installed")
    return(x)
  }
  if (identical(getOption("tandem.int64"), "double") && !identical(node[["dtype"]], "integer64")) {
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
encode_values <- function(values, inline = FALSE) {
  w <- new_writer()
  nodes <- list()
  errors <- list()
  for (name in names(values)) {
    # Whatever stops a value from encoding, it is that value's error alone.
    node <- tryCatch(
      encode_value(values[[name]], w),
      error = function(e) structure(e, class = c("tandem_no_mapping", class(e)))
    )
    if (inherits(node, "tandem_no_mapping")) {
      errors[[name]] <- sprintf(
        "%s (R class %s) cannot cross to Python: %s. Convert it to a type in Tandem's conversion table first",
        name, paste(class(values[[name]]), collapse = "/"), conditionMessage(node))
    } else {
      # A value Python assigned goes back with the dtypes it came with.
      origin <- origin_for(values[[name]])
      if (!is.null(origin)) node$origin <- origin
      nodes[[name]] <- node
    }
  }
  packed <- writer_finish(w, list(values = if (length(nodes)) nodes else structure(list(), names = character())),
                          inline = inline)
  packed$errors <- errors
  packed
}

# The named list of values of one message.
decode_values <- function(header, frames) {
  r <- new_reader(header, frames)
  on.exit(close_reader(r))
  lapply(header[["values"]], decode_value, r = r)
}
