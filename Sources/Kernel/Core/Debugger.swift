/// The debugger behind debug_request (JupyterLab's debugger panel): Debug Adapter
/// Protocol requests in, responses out, events published whenever they come. The
/// kernel serves its requests on a thread of its own, so they are answered while a
/// cell runs or is stopped at a breakpoint.
public protocol Debugger: AnyObject, Sendable {
  /// Whether it can debug (kernel_info's `debugger`).
  var isAvailable: Bool { get }

  /// Why it cannot debug, with the fix, for debug requests while it cannot.
  var unavailableReason: String { get }

  /// Where its events go (serialised DAP events); set once, before the first request.
  func setEventSink(_ sink: @escaping ([UInt8]) -> Void)

  /// Serves one request (a serialised DAP request); returns the serialised response.
  func serve(_ request: [UInt8]) -> [UInt8]
}
