import EmbeddedPython
import KernelCore

/// `input()` and `getpass()`: `request_input(prompt, password) -> str` asks the
/// frontend and waits with the GIL released; an interrupt meanwhile raises
/// KeyboardInterrupt in the caller.
enum InputNatives {
  static func make(_ slot: FrontendSlot, thread: PythonThread) throws -> [(String, PyRef)] {
    let requestInput = try PythonCallback.make(name: "request_input") { args in
      guard args.count == 2, let prompt = args[0].stringValue else {
        throw PythonError(typeName: "TypeError", message: "request_input(prompt, password)")
      }
      guard let frontend = slot.frontend else {
        throw PythonError(typeName: "EOFError", message: "no frontend")
      }
      try frontend.sendInputRequest(prompt: prompt, password: args[1].boolValue)
      let value = try frontend.awaitInputReply(on: thread) { try thread.interpreter.checkSignals() }
      return PyRef(value)
    }
    return [("request_input", requestInput)]
  }
}
