import PythonEngine

/// The embedded interpreter's thread as the thread every engine runs on: waits
/// release the GIL, an interrupt is a SIGINT to it. Where an interrupt may land is
/// `tandem._interrupts`' to say, for cells of every language.
final class PythonThread: EngineThread {
  let interpreter: PythonInterpreter
  /// `tandem._interrupts`, once Tandem's Python half is imported.
  var interrupts: PyRef?

  init(_ interpreter: PythonInterpreter) {
    self.interpreter = interpreter
  }

  func enqueue(_ work: @escaping () -> Void) {
    interpreter.submit(work)
  }

  func interrupt() {
    interpreter.interrupt()
  }

  func discardStaleInterrupt() {
    interpreter.discardPendingInterrupt()
    _ = try? interrupts?.callMethod("drop_pending")
  }

  func waiting<T>(_ body: () -> T) -> T {
    interpreter.allowingThreads(body)
  }

  func takeInterrupt() -> Bool {
    interpreter.takePendingInterrupt()
  }

  func interruptible<T>(_ body: () -> T) -> T? {
    guard let window = try? interrupts?.callMethod("allowed") else { return body() }
    do {
      // Entering sets a flag, and raises KeyboardInterrupt for an interrupt that
      // came before the cell's code started: its only failure.
      _ = try window.callMethod("__enter__")
    } catch {
      return nil
    }
    defer { _ = try? window.callMethod("__exit__", .none, .none, .none) }
    return body()
  }
}
