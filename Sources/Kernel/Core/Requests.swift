import JSON
import JupyterWire

/// The shell requests Tandem serves, by msg_type.
public enum RequestKind: String, Sendable, CaseIterable {
  case execute = "execute_request"
  case complete = "complete_request"
  case inspect = "inspect_request"
  case isComplete = "is_complete_request"
  case history = "history_request"
  case commInfo = "comm_info_request"
  case kernelInfo = "kernel_info_request"
  case commOpen = "comm_open"
  case commMsg = "comm_msg"
  case commClose = "comm_close"

  /// The kinds about a piece of code, which a cell's first line may give to another
  /// language (`%%R`, `%%python`).
  public static let introspection: Set<RequestKind> = [.complete, .inspect, .isComplete]

  /// `x_request` → `x_reply`; nil for a type that is not a request.
  public static func replyType(of msgType: String) -> String? {
    guard msgType.hasSuffix("_request") else { return nil }
    return String(msgType.dropLast("_request".count)) + "_reply"
  }
}

/// A request on the control channel, which the kernel answers itself, at once, even
/// while a cell runs. `Kernel` switches over these cases (a new one does not compile
/// until it is served) and `KernelMetrics` counts each by name.
public enum ControlRequest: String, Sendable, CaseIterable {
  case kernelInfo = "kernel_info_request"
  case interrupt = "interrupt_request"
  case shutdown = "shutdown_request"
  case createSubshell = "create_subshell_request"
  case deleteSubshell = "delete_subshell_request"
  case listSubshell = "list_subshell_request"
  case usage = "usage_request"
  case debug = "debug_request"

  /// The reply's message type.
  public var replyType: String { RequestKind.replyType(of: rawValue)! }
}

/// A shell request read once: what it asks for and its parsed content. The raw
/// content travels on to engines that parse it themselves (the Python half).
public struct ShellRequest {
  public let message: Message
  public let kind: RequestKind
  public private(set) var content: JSONValue
  public private(set) var rawContent: [UInt8]

  /// Reads `message`; throws when its content is not a JSON object.
  init(_ message: Message, kind: RequestKind) throws {
    self.message = message
    self.kind = kind
    content = try message.parsedContent()
    rawContent = message.content
  }

  /// The language of the cell and how many characters its magic line takes, as the
  /// router found them; engines need not look at the first line again.
  public var cell: (language: Language, magicLength: Int)?

  /// The execution count of an execute request, given by the kernel: the number
  /// the cell shows, which the engine that runs it uses.
  public internal(set) var executionCount: Int64 = 0

  /// The cell's code, for requests about code.
  public var code: String? { content["code"]?.stringValue }

  /// Whether an execute request's cell is kept in history and takes a number:
  /// `store_history`, which defaults to true; never for a silent cell, nor for a
  /// blank one, as IPython numbers them.
  public var storesHistory: Bool {
    let silent = content["silent"]?.boolValue ?? false
    let blank = code?.allSatisfy(\.isWhitespace) ?? true
    return !silent && !blank && (content["store_history"]?.boolValue ?? true)
  }

  /// The same request with other content (a cell with its magic line cut off).
  public func with(content: JSONValue) -> ShellRequest {
    var copy = self
    copy.content = content
    copy.rawContent = content.serialized
    return copy
  }
}

/// An engine's answer to a request: the reply content and its status, which the
/// kernel acts on (stop_on_error) without reading the content again.
public struct Reply: Sendable {
  public enum Status: String, Sendable {
    case ok, error, aborted

    /// The outcome a reply's `status` field gives: is_complete's "incomplete" or
    /// "invalid" are answers, not failures.
    public init(field: String?) {
      self = field.flatMap(Status.init(rawValue:)) ?? .ok
    }
  }

  public var status: Status
  /// Serialised JSON.
  public var content: [UInt8]

  public init(status: Status, content: [UInt8]) {
    self.status = status
    self.content = content
  }

  /// A reply with `status` taken from the content.
  public init(content: JSONValue) {
    self.init(
      status: Status(field: content["status"]?.stringValue), content: content.serialized)
  }

  /// `{"status": "ok"}` and nothing else.
  public static let ok = Reply(content: ["status": "ok"])

  /// An execution skipped because an earlier one in its queue failed.
  public static let aborted = Reply(content: ["status": "aborted"])

  /// An error reply naming the problem.
  public static func error(ename: String, evalue: String) -> Reply {
    Reply(
      content: ["status": "error", "ename": .string(ename), "evalue": .string(evalue), "traceback": []])
  }
}
