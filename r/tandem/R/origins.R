# Python dtypes that R's types do not keep: Python's int64 arrives as integer (or
# double) because that is what R computes with correctly. For each variable that
# Python assigned, R remembers those dtypes (the `dtype` marks of the value's type
# tree) together with the object assigned; while the variable still holds that
# very object, it goes back to Python with them (see docs/exchange-format.md).

origins <- new.env(parent = emptyenv())

# Records the dtypes of values Python assigned (`nodes`: their type trees).
remember_origins <- function(nodes, values) {
  for (name in names(values)) {
    origin <- origin_of(nodes[[name]])
    if (is.null(origin)) {
      if (exists(name, envir = origins, inherits = FALSE)) rm(list = name, envir = origins)
    } else {
      assign(name, list(address = .Call(tnd_address, values[[name]]), origin = origin), envir = origins)
    }
  }
}

# The marks of a type tree (`dtype`, and `array` for a numpy array of length 1),
# pruned to where there are any; NULL for none.
origin_of <- function(node) {
  marks <- node[intersect(c("dtype", "array"), names(node))]
  if (length(marks)) return(marks)
  for (inner in c("columns", "items")) {
    if (!is.null(node[[inner]])) {
      parts <- lapply(node[[inner]], origin_of)
      if (all(vapply(parts, is.null, TRUE))) return(NULL)
      return(structure(list(parts), names = inner))
    }
  }
  NULL
}

# Values R read from Python that no assignment from Python names (`x <- py$v`,
# a worker's inputs), with their marks, held while R code still refers to them.
# Holding a value makes R copy it before any change, so a held value is one
# Python sent, unchanged.
held <- new.env(parent = emptyenv())
held$entries <- list()

remember_held <- function(node, value) {
  prune_held()
  origin <- origin_of(node)
  if (!is.null(origin)) held$entries[[length(held$entries) + 1L]] <- list(value = value, origin = origin)
}

# Drops the values nothing but this list refers to any more.
prune_held <- function() {
  if (length(held$entries)) {
    held$entries <- held$entries[vapply(held$entries, function(entry) .Call(tnd_refcount, entry$value) > 1L, TRUE)]
  }
}

forget_held <- function() held$entries <- list()

# The remembered dtypes of `value`, if a variable Python assigned still holds it,
# or R holds it as read from Python.
origin_for <- function(value) {
  address <- .Call(tnd_address, value)
  prune_held()
  for (entry in held$entries) {
    if (identical(.Call(tnd_address, entry$value), address)) return(entry$origin)
  }
  if (!length(origins)) return(NULL)
  for (name in ls(origins)) {
    entry <- get(name, envir = origins, inherits = FALSE)
    if (identical(entry$address, address) && exists(name, envir = globalenv(), inherits = FALSE) &&
        identical(.Call(tnd_address, get(name, envir = globalenv())), address)) {
      return(entry$origin)
    }
  }
  NULL
}
