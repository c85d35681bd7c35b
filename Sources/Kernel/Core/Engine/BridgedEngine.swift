import JSON

/// One message of a bridge between engines: a JSON object and the frames of the
/// values it carries (the exchange format, docs/exchange-format.md).
public struct BridgeMessage {
  public var body: JSONValue
  public var frames: [[UInt8]]

  public init(body: JSONValue, frames: [[UInt8]] = []) {
    self.body = body
    self.frames = frames
  }

  public subscript(key: String) -> JSONValue? { body[key] }

  /// The reply saying that what was asked failed: the asking side raises `evalue`,
  /// showing `traceback` when given. (The host's own failures are mapped in its
  /// language's half; these are the kernel's, around the call.)
  public static func failed(_ evalue: String, traceback: [String]? = nil) -> BridgeMessage {
    var body: JSONValue = ["status": "error", "evalue": .string(evalue)]
    if let traceback { body["traceback"] = .array(traceback.map(JSONValue.string)) }
    return BridgeMessage(body: body)
  }

  /// The reply saying that what was asked was interrupted: the asking side
  /// signals an interrupt.
  public static var interrupted: BridgeMessage {
    BridgeMessage(body: ["status": "interrupted", "evalue": "interrupted"])
  }
}

/// An engine the host's language calls into (the host's magics for it, its proxy
/// object), and that calls back into the host while it runs: R's `py$x` during
/// `%%R`. The host offers each one to its language's half as `<language>_call`.
public protocol BridgedEngine: LanguageEngine {
  /// Sets the thread requests run on, and who serves the engine's calls into the host.
  func attach(thread: EngineThread, host: @escaping (BridgeMessage) -> BridgeMessage)

  /// Runs one request of the engine's protocol on the engine thread, serving what
  /// the engine asks meanwhile, and returns its reply. `resultCount` numbers an
  /// `execute_result` the request shows, when it shows one.
  func call(_ request: BridgeMessage, frontend: Frontend?, resultCount: Int64?) -> BridgeMessage
}
