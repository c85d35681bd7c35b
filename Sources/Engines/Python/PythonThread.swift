import EmbeddedPython
import Foundation
import KernelCore

/// The embedded interpreter's thread as the thread every engine runs on: waits
/// release the GIL, an interrupt is a SIGINT to it. Where an interrupt may land is
/// `tandem._interrupts`' to say, for cells of every language.
final class PythonThread: EngineThread {
  let interpreter: PythonInterpreter
  /// `tandem._interrupts`, once Tandem's Python half is imported.
  var interrupts: PyRef?

  private let spawnLock = NSLock()
  /// The bodies of threads being started, by token, until their thread takes them.
  private var spawning: [Int: () -> Void] = [:]
  private var lastToken = 0
  /// The one callback every spawned thread runs (callbacks live as long as the process).
  private var runSpawned: PyRef?

  init(_ interpreter: PythonInterpreter) {
    self.interpreter = interpreter
  }

  func enqueue(_ work: @escaping () -> Void) {
    interpreter.submit(work)
  }

  func interrupt() {
    interpreter.interrupt()
  }

  /// A Python thread (`tandem._subshells`), so that `threading` counts and names it.
  func spawn(name: String, _ body: @escaping () -> Void) throws {
    let token = spawnLock.withLock {
      lastToken += 1
      spawning[lastToken] = body
      return lastToken
    }
    do {
      try interpreter.withGIL {
        let run = try runner()
        _ = try PyRef.importModule("tandem._subshells").callMethod("start", PyRef(name), run, PyRef(token))
      }
    } catch {
      _ = spawnLock.withLock { spawning.removeValue(forKey: token) }
      throw error
    }
  }

  /// With the GIL held.
  private func runner() throws -> PyRef {
    if let runSpawned { return runSpawned }
    let run = try PythonCallback.make(name: "run_spawned") { [weak self] args in
      guard let self, let token = args.first?.doubleValue.map(Int.init) else { return .none }
      let body = spawnLock.withLock { self.spawning.removeValue(forKey: token) }
      body?()
      return .none
    }
    runSpawned = run
    return run
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
