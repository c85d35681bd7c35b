# The blob a value travels in between R and Python (docs/exchange-format.md):
# the writer that lays buffers out 64-byte aligned, in a frame or a file in the
# kernel's shared memory, and the reader over a received one. What the buffers
# hold is decided in exchange.R; the bytes move in C (src/exchange.c).

# --- writing ------------------------------------------------------------------

new_writer <- function() {
  w <- new.env(parent = emptyenv())
  w$parts <- list()
  w$size <- 0
  w
}

# How src/exchange.c writes a part: the vector's own bytes, logicals as one byte
# each, or the NA mask of a vector (one byte each). Strings are packed first.
part_data <- 0L
part_logical <- 1L
part_mask <- 2L

# Adds one buffer: vector `x` written as `kind`, `nbytes` long. Returns its index.
writer_add <- function(w, x, kind, nbytes) {
  offset <- ceiling(w$size / exchange_align) * exchange_align
  w$parts[[length(w$parts) + 1L]] <- list(x = x, kind = kind, offset = offset, nbytes = nbytes)
  w$size <- offset + nbytes
  length(w$parts) - 1L
}

# Adds the NA mask of `x` when it has NA (NaN is a value, not NA).
add_na_mask <- function(node, w, x) {
  if (anyNA(x) && .Call(tnd_has_na, x)) node[["na"]] <- writer_add(w, x, part_mask, length(x))
  node
}

# The header and the frames carrying the blob (none when it went to a file).
# `inline` keeps large blobs in the frames too (messages that may wait in a queue).
writer_finish <- function(w, header, inline = FALSE) {
  header[["exchange"]] <- exchange_version
  header[["buffers"]] <- lapply(w$parts, function(p) c(p$offset, p$nbytes))
  header[["size"]] <- w$size
  if (length(w$parts) == 0L) return(list(header = header, frames = list()))
  xs <- lapply(w$parts, `[[`, "x")
  kinds <- vapply(w$parts, `[[`, 0L, "kind")
  offsets <- vapply(w$parts, `[[`, 0, "offset")
  directories <- if (!inline && w$size >= exchange_file_threshold) exchange_directories()
  for (directory in directories) {
    # Arena files are reused: their pages stay allocated, so writing is a copy.
    # Python maps the file and hands out views of it, so an arena is free again
    # only once those are gone.
    path <- .Call(tnd_claim_arena, directory, "r-arena")
    # A file system that cannot hold the arena (a full or small /dev/shm): the
    # next one, or the message itself.
    if (!is.na(path) && .Call(tnd_write, xs, kinds, offsets, w$size, path)) {
      header[["file"]] <- path
      header[["arena"]] <- TRUE
      return(list(header = header, frames = list()))
    }
  }
  list(header = header, frames = list(.Call(tnd_write, xs, kinds, offsets, w$size, NULL)))
}

# Where large values cross, in order: the kernel's folder in shared memory, then
# its scratch folder on disk, for values that shared memory cannot hold.
exchange_directories <- function() {
  directories <- Sys.getenv(c("TANDEM_EXCHANGE_DIR", "TANDEM_SCRATCH_DIR"), "")
  directories[nzchar(directories)]
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
    r$source <- header[["file"]]
    # A one-off file is the reader's to delete; an arena is the writer's to reuse.
    r$path <- if (isTRUE(header[["arena"]])) NULL else header[["file"]]
    r$arena_size <- if (isTRUE(header[["arena"]])) header[["size"]]
  } else {
    r$source <- if (length(frames)) frames[[1]] else raw(0)
  }
  r
}

close_reader <- function(r) {
  if (!is.null(r$path)) {
    unlink(r$path)
    r$path <- NULL
  }
}

# Large numeric buffers of an arena are not copied: R's vectors point into a
# mapping of it (src/mapped_vectors.c), which lives as long as they do.
read_buffer <- function(r, index, what, n) {
  place <- r$layout[[index + 1L]]
  if (!is.null(r$arena_size) && place[[2]] >= map_threshold && what %in% c("double", "integer")) {
    if (is.null(r$blob)) r$blob <- .Call(tnd_map_blob, r$source, r$arena_size)
    return(.Call(tnd_mapped_vector, r$blob, place[[1]], place[[2]], what, n))
  }
  .Call(tnd_read, r$source, place[[1]], place[[2]], what, n)
}

# Long character vectors make their strings when first used (src/lazy_strings.c).
read_strings <- function(r, index, n, na) {
  place <- r$layout[[index + 1L]]
  .Call(tnd_read_strings, r$source, place[[1]], place[[2]], n, na)
}

read_na <- function(node, r) {
  if (is.null(node[["na"]])) return(NULL)
  read_buffer(r, node[["na"]], "mask", node[["length"]])
}
