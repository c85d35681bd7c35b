import EmbeddedPython
import Foundation
import Logging

/// The project's own Python (`.venv`) embedded in the test process, as the kernel
/// embeds an environment. CPython runs once per process, so every test target that
/// needs it shares this one, started at first use.
public enum TestPython {
  private static let started: Result<PythonInterpreter, Error> = Result {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let python = root.appendingPathComponent(".venv/bin/python").path
    let interpreter = PythonInterpreter(
      environment: try PythonEnvironment.probe(python, modules: ["json"]), logger: Logger(label: "test"))
    try interpreter.start()
    return interpreter
  }

  /// The interpreter, or why it could not start (run `make setup` for `.venv`).
  public static var interpreter: PythonInterpreter {
    get throws { try started.get() }
  }
}
