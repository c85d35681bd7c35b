import JSON

/// What the kernel's shells serve requests through: the engines behind one
/// interface, so that the core knows shells and not languages (KernelRouting's
/// `CellRouter` is the kernel's).
public protocol RequestRouter: AnyObject {
  /// The thread every engine runs on.
  var thread: EngineThread { get }

  /// The language part of kernel_info_reply (`language_info`, `banner`, `help_links`).
  var kernelInfo: JSONValue { get }

  /// Whether some engine serves `kind`.
  func serves(_ kind: RequestKind) -> Bool

  /// Serves a request on the engine thread. Returns the reply, or nil for messages
  /// that have no reply (comm messages).
  func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply?

  /// After each request, on the engine thread.
  func requestFinished()

  /// Shuts every engine down, on the engine thread.
  func shutdown()
}
