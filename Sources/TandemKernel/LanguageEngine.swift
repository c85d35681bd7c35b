import JSON
import JupyterWire

/// The frontend that sent the request being served: where a language engine sends
/// output and asks for input. Bound to one request at a time by the kernel.
public protocol Frontend: AnyObject {
  /// Publishes an IOPub message (stream, display_data, error, comm_msg, ...) whose
  /// parent is the current request. Content and metadata are serialised JSON.
  func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]])

  /// Publishes an IOPub message whose parent is `parent` (a serialised header), for
  /// output that belongs to a request that may have ended. Text captured so far goes
  /// out first. Callable from any thread.
  func publish(_ msgType: String, content: [UInt8], parent: [UInt8])

  /// The serialised header of the request being served, if any. Callable from any thread.
  var currentParent: [UInt8]? { get }

  /// Sends input_request on the stdin channel. Throws when the request did not allow stdin.
  func sendInputRequest(prompt: String, password: Bool) throws

  /// The value of the input_reply to the last input request, if one came within `timeout`.
  func takeInputReply(timeout: Double) -> String?
}

/// A language the kernel runs cells in, in the manner of xeus's interpreter interface:
/// the kernel does the bookkeeping (busy/idle, replies, queueing, aborts), the engine
/// only runs requests.
public protocol LanguageEngine: AnyObject {
  /// The `language_info`, `banner` and `help_links` of kernel_info_reply.
  var kernelInfo: JSONValue { get }

  /// Runs work on the thread all of this engine's calls must happen on.
  func enqueue(_ work: @escaping () -> Void)

  /// The shell message types the engine serves; read from any thread.
  var servedTypes: Set<String> { get }

  /// Serves one request on the engine thread. Returns the reply content, or nil for
  /// messages that have no reply (comm messages).
  func serve(_ request: Message, frontend: Frontend) throws -> [UInt8]?

  /// Called on the engine thread after a request's reply and idle status went out:
  /// the place for deferred work that no client should wait for.
  func requestFinished()

  /// Interrupts the running request (called from any thread).
  func interrupt()

  /// Drops an interrupt that arrived after the request it was meant for had ended;
  /// called on the engine thread before each request.
  func discardStaleInterrupt()

  /// Orderly shutdown on the engine thread (history saved, atexit handlers run).
  func shutdown()
}
