import Foundation
import TestPython
import XCTest

@testable import EmbeddedPython

/// The project's own Python (`.venv`) embedded in the test process, as the kernel
/// embeds an environment: its description, running Python on its thread, errors as
/// PythonError, Swift callbacks, interrupts, and waits that let other threads in.
/// One interpreter serves the whole process (`TestPython`), so every test shares it.
final class PythonInterpreterTests: XCTestCase {
  private var interpreter: PythonInterpreter { get throws { try TestPython.interpreter } }

  func testTheProbeDescribesTheEnvironmentAsItsPythonDoes() throws {
    let environment = try interpreter.environment
    XCTAssertNil(environment.problem)
    XCTAssertTrue(environment.executable.hasSuffix(".venv/bin/python"))
    let version = try interpreter.sync {
      try PyRef.importModule("platform").callMethod("python_version").stringValue
    }
    XCTAssertEqual(environment.version, version)
    XCTAssertEqual(environment.modules["json"].map { "\($0)" }?.isEmpty, false)
  }

  func testAProgramThatIsNotPythonIsNamed() {
    XCTAssertThrowsError(try PythonEnvironment.probe("/bin/false")) { error in
      XCTAssertTrue(
        "\(error)".hasPrefix("/bin/false does not run as Python: exited with status 1"), "\(error)")
    }
  }

  func testPythonRunsOnItsThreadAndItsValuesCrossBack() throws {
    let root = try interpreter.sync {
      try PyRef.importModule("math").callMethod("sqrt", PyRef(16)).doubleValue
    }
    XCTAssertEqual(root, 4)
    let joined = try interpreter.sync {
      try PyRef("-").callMethod("join", PyRef(list: [PyRef("a"), PyRef("é")])).stringValue
    }
    XCTAssertEqual(joined, "a-é")
    XCTAssertEqual(try interpreter.sync { PyRef(bytes: [0, 255]).bytesValue }, [0, 255])
  }

  func testAnExceptionIsAPythonErrorWithItsTypeAndMessage() throws {
    XCTAssertThrowsError(try interpreter.sync { try PyRef.importModule("tandem_no_such_module") }) { error in
      let error = error as? PythonError
      XCTAssertEqual(error?.typeName, "ModuleNotFoundError")
      XCTAssertEqual(error?.message, "No module named 'tandem_no_such_module'")
    }
  }

  func testACallbackIsCalledFromPythonAndItsErrorIsRaisedThere() throws {
    // A TypeError, an EOFError and a KeyboardInterrupt keep their type; another
    // error is a RuntimeError naming it.
    let doubled = try interpreter.sync {
      let twice = try PythonCallback.make(name: "twice") { args in PyRef(Int((args[0].doubleValue ?? 0) * 2))
      }
      return try twice.call([PyRef(21)]).doubleValue
    }
    XCTAssertEqual(doubled, 42)
    let caught = try interpreter.sync { () -> String? in
      let refuse = try PythonCallback.make(name: "refuse") { args in
        throw PythonError(typeName: args.isEmpty ? "TypeError" : "ValueError", message: "not today")
      }
      let namespace = PyRef(dictionary: [("refuse", refuse)])
      let code = """
        try:
            refuse()
        except TypeError as e:
            caught = str(e)
        try:
            refuse(1)
        except RuntimeError as e:
            caught += " / " + str(e)
        """
      let builtins = try PyRef.importModule("builtins")
      _ = try builtins.callMethod("exec", PyRef(code), namespace)
      return try namespace.callMethod("get", PyRef("caught")).stringValue
    }
    XCTAssertEqual(caught, "not today / ValueError: not today")
  }

  func testAnInterruptStopsRunningPythonCode() throws {
    let interpreter = try interpreter
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { interpreter.interrupt() }
    let started = Date()
    XCTAssertThrowsError(
      try interpreter.sync { try PyRef.importModule("time").callMethod("sleep", PyRef(30)) }
    ) { error in
      XCTAssertEqual((error as? PythonError)?.typeName, "KeyboardInterrupt")
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    XCTAssertFalse(
      try interpreter.sync { interpreter.takePendingInterrupt() }, "the interrupt was taken twice")
  }

  func testAWaitOnThePythonThreadLetsOtherThreadsRunPython() throws {
    let interpreter = try interpreter
    let other = DispatchSemaphore(value: 0)
    let answered = try interpreter.sync { () -> Bool in
      DispatchQueue.global().async {
        // The object is released inside too: Python objects are touched only with the GIL.
        let value = interpreter.withGIL {
          try? PyRef.importModule("math").callMethod("floor", PyRef(2)).doubleValue
        }
        if value == 2 { other.signal() }
      }
      return interpreter.allowingThreads { other.wait(timeout: .now() + 10) == .success }
    }
    XCTAssertTrue(answered)
  }
}
