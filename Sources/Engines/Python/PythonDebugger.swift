import EmbeddedPython
import JSON
import KernelCore

/// Python cells' debugger: `tandem._debugger` (debugpy's pydevd in this process),
/// reached from the kernel's debugger thread with the GIL taken for each request,
/// so it answers while the Python thread runs a cell or is stopped in one.
/// `isAvailable` is set once, by `probe()` on the Python thread, before the kernel
/// serves requests; afterwards it is only read.
final class PythonDebugger: Debugger, @unchecked Sendable {
  private let interpreter: PythonInterpreter
  let events = DebugNatives.EventSink()
  private(set) var isAvailable = false
  let unavailableReason =
    "this kernel's Python environment has no debugger: install debugpy in it, then restart the kernel"

  init(_ interpreter: PythonInterpreter) {
    self.interpreter = interpreter
  }

  /// On the Python thread, once Tandem's Python half is imported.
  func probe() {
    isAvailable = (try? PyRef.importModule("tandem._debugger").callMethod("available"))?.boolValue ?? false
  }

  func setEventSink(_ sink: @escaping ([UInt8]) -> Void) {
    events.set(sink)
  }

  func serve(_ request: [UInt8]) -> [UInt8] {
    do {
      return try interpreter.withGIL {
        try PyRef.importModule("tandem._debugger").callMethod("handle", PyRef(bytes: request)).bytesValue
          ?? []
      }
    } catch {
      let parsed = (try? JSONValue.parse(request)) ?? [:]
      let response: JSONValue = [
        "type": "response", "request_seq": parsed["seq"] ?? 0, "success": false,
        "command": parsed["command"] ?? "", "message": .string("the debugger failed: \(error)"),
      ]
      return response.serialized
    }
  }
}
