# Loading, attaching and unloading a package run with interrupts held. An
# interrupt in the middle of them (a library() that a user stops because it is
# slow, or an interrupt aimed at the cell that lands there) could leave a package
# half-loaded for the rest of the session: registered but without its hooks run,
# or attached without its imports. R applies a held interrupt as soon as the
# load ends, so the cell still stops, only after the package is whole.
#
# The functions stay base's own (same arguments, same frame, so dynGet, on.exit
# and sys.call behave as before); only their bodies run inside
# suspendInterrupts(). Every caller (library, require, requireNamespace, `::`)
# goes through them.
hold_interrupts_while_loading <- function() {
  for (name in c("loadNamespace", "attachNamespace", "unloadNamespace")) {
    original <- get(name, envir = baseenv())
    if (isTRUE(attr(original, "tandem_held"))) next
    held <- original
    body(held) <- call("suspendInterrupts", body(original))
    held <- compiler::cmpfun(held)
    attr(held, "tandem_held") <- TRUE
    unlockBinding(name, baseenv())
    assign(name, held, envir = baseenv())
    lockBinding(name, baseenv())
  }
  invisible()
}
