import EmbeddedPython
import Foundation
import KernelCore

/// The debugger's events, from the Python half: `debug_event(event_json)` publishes
/// a DAP event through the sink the kernel set (`EventSink`).
enum DebugNatives {
  /// Where events go once the kernel has said; events before that are dropped
  /// (no frontend has asked for the debugger yet).
  final class EventSink: @unchecked Sendable {
    private let lock = NSLock()
    private var sink: (([UInt8]) -> Void)?

    func set(_ sink: @escaping ([UInt8]) -> Void) {
      lock.withLock { self.sink = sink }
    }

    func send(_ event: [UInt8]) {
      lock.withLock { sink }?(event)
    }
  }

  static func make(_ events: EventSink) throws -> [(String, PyRef)] {
    let debugEvent = try PythonCallback.make(name: "debug_event") { args in
      guard args.count == 1, let event = args[0].bytesValue else {
        throw PythonError(typeName: "TypeError", message: "debug_event(event_json)")
      }
      events.send(event)
      return .none
    }
    return [("debug_event", debugEvent)]
  }
}
