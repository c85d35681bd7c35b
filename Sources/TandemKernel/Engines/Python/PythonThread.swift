import PythonEngine

/// The embedded interpreter's thread as the thread every engine runs on: waits
/// release the GIL, an interrupt is a SIGINT to it.
final class PythonThread: EngineThread {
  let interpreter: PythonInterpreter

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
  }

  func waiting<T>(_ body: () -> T) -> T {
    interpreter.allowingThreads(body)
  }

  func takeInterrupt() -> Bool {
    interpreter.takePendingInterrupt()
  }
}
