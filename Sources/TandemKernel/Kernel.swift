import Foundation
import JSON
import JupyterWire
import Logging

/// The kernel: routes requests from the server to the language engine, keeps the
/// execution queue, publishes busy/idle, and binds output to the request it belongs to.
///
/// Shell requests run one at a time on the engine's thread, in arrival order. Control
/// requests are answered on the server thread at once, even while a cell runs.
public final class Kernel: KernelServerHandler, Frontend, @unchecked Sendable {
  /// `implementation_version` in kernel_info_reply.
  public static let version = "0.1.0"

  private let server: KernelServer
  private let engine: LanguageEngine
  private let capture: OutputCapture
  private let logger: Logger
  private let queue = ShellQueue()
  private let stdin = InputMailbox()
  private let lock = NSLock()
  private var current: Message?
  private var executing = false
  private var allowStdin = false
  private let finished = DispatchSemaphore(value: 0)
  private lazy var kernelInfoContent: [UInt8] = makeKernelInfo()
  private let rEngine: REngine?
  private let defaultLanguage: CellLanguage
  private let rLanguageInfo: JSONValue?

  /// `engine` runs every cell (R cells through its magics); `rEngine`, when given,
  /// also completes and inspects R code. With `defaultLanguage` `.r`, kernel_info
  /// describes R (`rLanguageInfo`).
  public init(
    server: KernelServer, engine: LanguageEngine, capture: OutputCapture, logger: Logger,
    rEngine: REngine? = nil, defaultLanguage: CellLanguage = .python, rLanguageInfo: JSONValue? = nil
  ) {
    self.server = server
    self.engine = engine
    self.capture = capture
    self.logger = logger
    self.rEngine = rEngine
    self.defaultLanguage = defaultLanguage
    self.rLanguageInfo = rLanguageInfo
  }

  /// Serves until a shutdown request; returns when the sockets are closed.
  public func run() {
    _ = kernelInfoContent
    capture.setSink { [weak self] stream, text in
      guard let self else { return }
      let content: JSONValue = ["name": .string(stream), "text": .string(text)]
      self.publish("stream", content: content.serialized, metadata: Array("{}".utf8), buffers: [])
    }
    server.start(handler: self)
    finished.wait()
  }

  // MARK: - Routing (server thread)

  public func handle(_ message: Message, from channel: Channel) {
    if !message.header.missingFields.isEmpty {
      rejectIncompleteHeader(message, on: channel)
      return
    }
    switch channel {
    case .shell:
      queue.append(message)
      engine.enqueue { [self] in
        // Once a large request is handled and let go, its memory goes back.
        if serveNextShellRequest() >= MemoryRelease.threshold { MemoryRelease.releaseFreeMemory() }
      }
    case .control:
      serveControl(message)
    case .stdin:
      if message.msgType == "input_reply" {
        let value = (try? message.parsedContent())?["value"]?.stringValue ?? ""
        stdin.put(value)
      } else {
        logger.warning("ignored \(message.msgType) on stdin")
      }
    case .iopub, .hb:
      break
    }
  }

  /// A signed request whose header lacks required fields: answered with an error
  /// naming them, never run.
  private func rejectIncompleteHeader(_ message: Message, on channel: Channel) {
    let fields = message.header.missingFields.joined(separator: ", ")
    logger.warning("\(message.msgType) on \(channel.rawValue) without header field(s) \(fields)")
    guard channel == .shell || channel == .control, let type = Kernel.replyType(of: message.msgType)
    else { return }
    let error = Kernel.errorContent(ename: "InvalidMessage", evalue: "header field(s) missing: \(fields)")
    sendReply(to: message, type: type, content: error, on: channel)
  }

  // MARK: - Shell (engine thread)

  /// Serves the oldest waiting request; returns how many bytes its message held.
  private func serveNextShellRequest() -> Int {
    guard let request = queue.next() else { return 0 }
    setStatus("busy", parent: request)
    lock.lock()
    current = request
    executing = true
    lock.unlock()
    engine.discardStaleInterrupt()

    let reply = shellReply(to: request)

    lock.lock()
    executing = false
    allowStdin = false
    lock.unlock()
    capture.flush()
    // Requests queued before this reply goes out are the ones stop_on_error aborts;
    // a request the client sends after seeing the error runs normally.
    var aborted: [Message] = []
    if request.msgType == "execute_request", let (_, content) = reply,
      (try? JSONValue.parse(content))?["status"]?.stringValue == "error",
      (try? request.parsedContent())?["stop_on_error"]?.boolValue ?? true
    {
      aborted = queue.removeAll(where: { $0.msgType == "execute_request" })
    }
    if let (type, content) = reply {
      server.send(request.reply(type: type, content: content, session: server.session), on: .shell)
    }
    setStatus("idle", parent: request)
    // Output printed after the cell still goes to it, which needs only its
    // header: its content (possibly a large message) is let go.
    lock.lock()
    current?.content = []
    current?.buffers = []
    lock.unlock()
    for abortedRequest in aborted { abort(abortedRequest) }
    engine.requestFinished()
    return request.content.count + request.buffers.reduce(0) { $0 + $1.count }
      + aborted.reduce(0) { $0 + $1.content.count }
  }

  /// The reply type and content for a shell request, or nil when none is due.
  private func shellReply(to request: Message) -> (String, [UInt8])? {
    let type = request.msgType
    let replyType = Kernel.replyType(of: type)
    let content: JSONValue
    do {
      content = try request.parsedContent()
    } catch {
      logger.warning("\(type) with unusable content: \(error)")
      return replyType.map { ($0, Kernel.errorContent(ename: "InvalidMessage", evalue: "\(error)")) }
    }
    if type == "kernel_info_request" { return ("kernel_info_reply", kernelInfoContent) }
    guard engine.servedTypes.contains(type) else {
      logger.warning("unknown message type \(type) on shell")
      return replyType.map {
        ($0, Kernel.errorContent(ename: "UnknownMessageType", evalue: "Tandem does not serve \(type)"))
      }
    }
    if Kernel.introspectionTypes.contains(type), let code = content["code"]?.stringValue,
      let reply = introspect(request, content: content, code: code, replyType: replyType)
    {
      return reply
    }
    if type == "execute_request" {
      lock.lock()
      allowStdin = content["allow_stdin"]?.boolValue ?? false
      lock.unlock()
    }
    return serve(request, replyType: replyType)
  }

  private func serve(_ request: Message, replyType: String?) -> (String, [UInt8])? {
    do {
      guard let reply = try engine.serve(request, frontend: self) else { return nil }
      return replyType.map { ($0, reply) }
    } catch {
      logger.error("\(request.msgType) failed: \(error)")
      return replyType.map { ($0, Kernel.errorContent(ename: "KernelError", evalue: "\(error)")) }
    }
  }

  static let introspectionTypes: Set<String> = ["complete_request", "inspect_request", "is_complete_request"]

  /// Completion, inspection and is_complete for a cell whose first line names another
  /// language (`%%R`, `%%python`) or whose language is R: served by that language, with
  /// the magic line cut off and cursor positions moved to match. Nil for a plain cell
  /// of the default language, which the engine serves as it is.
  private func introspect(_ request: Message, content: JSONValue, code: String, replyType: String?)
    -> (String, [UInt8])?
  {
    let type = request.msgType
    let (language, offset) = CellLanguage.of(code, defaultLanguage: defaultLanguage)
    // A cell magic (`%%R`, `%%python`) goes on until a blank line, as IPython says
    // of every cell magic, so that a console does not run it after its first line.
    if type == "is_complete_request", offset > 0 {
      let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
      let blank = { (line: Substring) in line.allSatisfy(\.isWhitespace) }
      let complete = lines.count >= 3 && blank(lines[lines.count - 1]) && blank(lines[lines.count - 2])
      let reply = complete ? #"{"status":"complete"}"# : #"{"status":"incomplete","indent":""}"#
      return ("is_complete_reply", Array(reply.utf8))
    }
    let body = CellLanguage.strip(content, offset: offset)
    if language == .r, let rEngine, let replyType {
      return (replyType, introspectR(type, content: body, rEngine, offset))
    }
    guard offset > 0 else { return nil }
    var stripped = request
    stripped.content = body.serialized
    return serve(stripped, replyType: replyType).map { type, reply in
      (
        type,
        (try? JSONValue.parse(reply)).map { CellLanguage.unstrip($0, offset: offset).serialized } ?? reply
      )
    }
  }

  /// Completion, help and is_complete for R code, answered by R.
  private func introspectR(_ type: String, content: JSONValue, _ rEngine: REngine, _ offset: Int) -> [UInt8] {
    guard var request = content.objectValue else {
      return Kernel.errorContent(ename: "InvalidMessage", evalue: "")
    }
    request["type"] = .string(String(type.dropLast("_request".count)))
    var reply = rEngine.run(.object(request), frontend: nil, resultCount: nil).body.objectValue ?? [:]
    reply["type"] = nil
    if type == "is_complete_request", reply["status"]?.stringValue == "error" {
      reply = ["status": "unknown"]
    }
    return CellLanguage.unstrip(.object(reply), offset: offset).serialized
  }

  /// Answers an execution queued behind a failed one (stop_on_error) as "aborted".
  private func abort(_ request: Message) {
    setStatus("busy", parent: request)
    let content: JSONValue = ["status": "aborted"]
    server.send(
      request.reply(type: "execute_reply", content: content.serialized, session: server.session),
      on: .shell)
    setStatus("idle", parent: request)
  }

  // MARK: - Control (server thread)

  private func serveControl(_ request: Message) {
    setStatus("busy", parent: request)
    defer { setStatus("idle", parent: request) }
    let content = (try? request.parsedContent()) ?? [:]
    switch request.msgType {
    case "kernel_info_request":
      sendReply(to: request, type: "kernel_info_reply", content: kernelInfoContent, on: .control)
    case "interrupt_request":
      interrupt()
      sendReply(to: request, type: "interrupt_reply", content: Array(#"{"status":"ok"}"#.utf8), on: .control)
    case "shutdown_request":
      let restart = content["restart"]?.boolValue ?? false
      let reply: JSONValue = ["status": "ok", "restart": .bool(restart)]
      sendReply(to: request, type: "shutdown_reply", content: reply.serialized, on: .control)
      // ipykernel also publishes the reply, so every client learns of the shutdown.
      server.send(
        Message(
          header: MessageHeader(msgType: "shutdown_reply", session: server.session),
          parentHeader: request.rawHeader, content: reply.serialized), on: .iopub)
      let shutdown = Thread { [self] in shutDown() }
      shutdown.start()
    case "debug_request":
      let reply: JSONValue = [
        "type": "response", "request_seq": content["seq"] ?? 0, "success": false,
        "command": content["command"] ?? "", "message": "Tandem has no debugger",
      ]
      sendReply(to: request, type: "debug_reply", content: reply.serialized, on: .control)
    default:
      logger.warning("unknown message type \(request.msgType) on control")
      if let type = Kernel.replyType(of: request.msgType) {
        let error = Kernel.errorContent(
          ename: "UnknownMessageType", evalue: "Tandem does not serve \(request.msgType) on control")
        sendReply(to: request, type: type, content: error, on: .control)
      }
    }
  }

  /// Interrupts the running request, if any. Signal-mode SIGINTs reach Python directly.
  public func interrupt() {
    lock.lock()
    let busy = executing
    lock.unlock()
    if busy { engine.interrupt() }
  }

  private func shutDown() {
    let done = DispatchSemaphore(value: 0)
    engine.enqueue { [engine] in
      engine.shutdown()
      done.signal()
    }
    // A cell that is still running does not hold up the shutdown for long.
    _ = done.wait(timeout: .now() + 2)
    capture.flush()
    server.stop()
    finished.signal()
  }

  // MARK: - Frontend (engine thread)

  public func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]]) {
    let parent = currentParent ?? Array("{}".utf8)
    let message = Message(
      header: MessageHeader(msgType: msgType, session: server.session), parentHeader: parent,
      metadata: metadata, content: content, buffers: buffers)
    if msgType == "stream" {
      server.send(message, on: .iopub)
    } else {
      // Text written before this message goes out first.
      capture.flush { server.send(message, on: .iopub) }
    }
  }

  public func publish(_ msgType: String, content: [UInt8], parent: [UInt8]) {
    let message = Message(
      header: MessageHeader(msgType: msgType, session: server.session), parentHeader: parent,
      metadata: Array("{}".utf8), content: content, buffers: [])
    capture.flush { server.send(message, on: .iopub) }
  }

  public var currentParent: [UInt8]? {
    lock.lock()
    defer { lock.unlock() }
    return current?.rawHeader
  }

  public func sendInputRequest(prompt: String, password: Bool) throws {
    lock.lock()
    let request = current
    let allowed = allowStdin
    lock.unlock()
    guard let request, allowed else {
      throw InputNotAllowed()
    }
    capture.flush()
    stdin.clear()
    let content: JSONValue = ["prompt": .string(prompt), "password": .bool(password)]
    server.send(
      request.reply(type: "input_request", content: content.serialized, session: server.session),
      on: .stdin)
  }

  public func takeInputReply(timeout: Double) -> String? {
    stdin.take(timeout: timeout)
  }

  // MARK: - Helpers

  private func setStatus(_ state: String, parent: Message) {
    let content = Array(#"{"execution_state":""#.utf8) + Array(state.utf8) + Array(#""}"#.utf8)
    server.send(
      Message(
        header: MessageHeader(msgType: "status", session: server.session),
        parentHeader: parent.rawHeader, content: content), on: .iopub)
  }

  private func sendReply(to request: Message, type: String, content: [UInt8], on channel: Channel) {
    server.send(request.reply(type: type, content: content, session: server.session), on: channel)
  }

  private func makeKernelInfo() -> [UInt8] {
    var info = engine.kernelInfo.objectValue ?? [:]
    if defaultLanguage == .r, let rLanguageInfo {
      info["language_info"] = rLanguageInfo
      info["banner"] = .string("Tandem: R with Python (%%python cells)\n")
      info["help_links"] = [["text": "R documentation", "url": "https://www.r-project.org/help.html"]]
    }
    info["status"] = "ok"
    info["protocol_version"] = .string(protocolVersion)
    info["implementation"] = "tandem"
    info["implementation_version"] = .string(Kernel.version)
    info["debugger"] = false
    info["supported_features"] = []
    return JSONValue.object(info).serialized
  }

  static func replyType(of requestType: String) -> String? {
    guard requestType.hasSuffix("_request") else { return nil }
    return String(requestType.dropLast("_request".count)) + "_reply"
  }

  static func errorContent(ename: String, evalue: String) -> [UInt8] {
    let content: JSONValue = [
      "status": "error", "ename": .string(ename), "evalue": .string(evalue), "traceback": [],
    ]
    return content.serialized
  }
}

/// input() was called in a request that did not allow stdin.
struct InputNotAllowed: Error, CustomStringConvertible {
  var description: String { "this frontend does not support input requests" }
}
