import Foundation
import JSON
import JupyterWire
import Logging

/// The kernel: takes messages from the transport, hands shell requests to the shell
/// they are for and answers control requests itself, at once, even while a cell runs.
///
/// It knows shells, not languages: which engine serves a request is the
/// `RequestRouter`'s choice. A new control request is a case of `ControlRequest`, served in
/// `serveControl`.
public final class Kernel: KernelTransportHandler, @unchecked Sendable {
  /// `implementation_version` in kernel_info_reply.
  public static let version = "0.1.0"

  private let transport: KernelTransport
  private let router: RequestRouter
  private let output: CapturedOutput
  private let logger: Logger
  private let finished = DispatchSemaphore(value: 0)
  private lazy var kernelInfoContent: [UInt8] = makeKernelInfo()
  private let counter = ExecutionCounter()
  private lazy var mainShell = makeShell(subshellID: nil)
  private let subshells = Subshells()
  private let usage = UsageReport()
  private let debugger: Debugger?
  /// Debug requests run here, one at a time, apart from the transport's thread.
  private let debugQueue = DispatchQueue(label: "tandem-debugger")
  private let debugParentLock = NSLock()
  /// The header of the last debug request: the parent of the debugger's events.
  private var debugParent: [UInt8] = Message.emptyObject

  /// Serves requests from `transport` through `router`; the text code writes is
  /// collected by `output` and published to the request that runs. `debugger`
  /// serves debug_request.
  public init(
    transport: KernelTransport, router: RequestRouter, output: CapturedOutput, debugger: Debugger? = nil,
    logger: Logger
  ) {
    self.transport = transport
    self.router = router
    self.output = output
    self.debugger = debugger
    self.logger = logger
  }

  /// Starts serving; returns once a shutdown request has closed the transport.
  public func run() {
    start()
    finished.wait()
  }

  /// Starts serving and returns.
  func start() {
    _ = kernelInfoContent
    let shell = mainShell
    output.setSink { stream, text in shell.publish(.stream(name: stream, text: text)) }
    debugger?.setEventSink { [weak self] event in self?.publishDebugEvent(event) }
    transport.start(handler: self)
  }

  /// Whether a shutdown request has been served; waits up to `timeout` seconds.
  func waitUntilFinished(timeout: Double) -> Bool {
    finished.wait(timeout: .now() + timeout) == .success
  }

  // MARK: - Routing (transport thread)

  public func handle(_ message: Message, from channel: Channel) {
    KernelMetrics.received(message.msgType)
    if !message.header.missingFields.isEmpty {
      rejectIncompleteHeader(message, on: channel)
      return
    }
    switch channel {
    case .shell:
      guard let id = message.header.subshellID else {
        mainShell.submit(message)
        return
      }
      if let subshell = subshells.shell(id) {
        subshell.submit(message)
      } else {
        rejectUnknownSubshell(message, id: id)
      }
    case .control:
      serveControl(message)
    case .stdin:
      if message.msgType == "input_reply" {
        let value = (try? message.parsedContent())?["value"]?.stringValue ?? ""
        // The shell that asked: a subshell's request may wait for input too.
        (subshells.all.first { $0.isAwaitingInput } ?? mainShell).inputReply(value)
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
    guard channel == .shell || channel == .control, let type = RequestKind.replyType(of: message.msgType)
    else { return }
    let error = Reply.error(ename: "InvalidMessage", evalue: "header field(s) missing: \(fields)")
    transport.reply(to: message, type: type, content: error.content, on: channel)
  }

  /// A shell request for a subshell that does not exist (any more): answered with an
  /// error naming it, never run elsewhere.
  private func rejectUnknownSubshell(_ message: Message, id: String) {
    logger.warning("\(message.msgType) for unknown subshell \(id)")
    guard let type = RequestKind.replyType(of: message.msgType) else { return }
    transport.publishStatus("busy", parent: message)
    let error = Reply.error(
      ename: "SubshellNotFound",
      evalue: "no subshell \(id): it was deleted or never created (create_subshell_request makes one)")
    transport.reply(to: message, type: type, content: error.content, on: .shell)
    transport.publishStatus("idle", parent: message)
  }

  private func makeShell(subshellID: String?) -> Shell {
    Shell(
      transport: transport, router: router, output: output, counter: counter, logger: logger,
      subshellID: subshellID, kernelInfo: { [unowned self] in kernelInfoContent })
  }

  // MARK: - Control (transport thread)

  private func serveControl(_ request: Message) {
    guard let kind = ControlRequest(rawValue: request.msgType) else {
      logger.warning("unknown message type \(request.msgType) on control")
      if let type = RequestKind.replyType(of: request.msgType) {
        let error = Reply.error(
          ename: "UnknownMessageType", evalue: "Tandem does not serve \(request.msgType) on control")
        transport.reply(to: request, type: type, content: error.content, on: .control)
      }
      return
    }
    if kind == .debug, let debugger, debugger.isAvailable {
      serveDebug(request, with: debugger)
      return
    }
    transport.publishStatus("busy", parent: request)
    defer { transport.publishStatus("idle", parent: request) }
    let content = (try? request.parsedContent()) ?? [:]
    let reply = { (content: [UInt8]) in
      self.transport.reply(to: request, type: kind.replyType, content: content, on: .control)
    }
    switch kind {
    case .kernelInfo:
      reply(kernelInfoContent)
    case .interrupt:
      mainShell.interrupt()
      reply(Reply.ok.content)
    case .shutdown:
      let restart = content["restart"]?.boolValue ?? false
      let answer: JSONValue = ["status": "ok", "restart": .bool(restart)]
      reply(answer.serialized)
      // ipykernel also publishes the reply, so every client learns of the shutdown.
      transport.send(
        Message(
          header: MessageHeader(msgType: kind.replyType, session: transport.session),
          parentHeader: request.rawHeader, content: answer.serialized), on: .iopub)
      let shutdown = Thread { [self] in shutDown() }
      shutdown.start()
    case .createSubshell:
      let id = UUID().uuidString.lowercased()
      let subshell = makeShell(subshellID: id)
      do {
        try router.thread.spawn(name: "subshell-\(id)") { subshell.serveUntilClosed() }
        subshells.add(subshell, id: id)
        reply((["status": "ok", "subshell_id": .string(id)] as JSONValue).serialized)
      } catch {
        logger.error("cannot start a subshell's thread: \(error)")
        reply(
          Reply.error(ename: "SubshellError", evalue: "cannot start a subshell's thread: \(error)").content)
      }
    case .deleteSubshell:
      let id = content["subshell_id"]?.stringValue ?? ""
      if let subshell = subshells.remove(id) {
        subshell.close()
        reply(Reply.ok.content)
      } else {
        reply(
          Reply.error(
            ename: "SubshellNotFound",
            evalue: "no subshell \(id) to delete (list_subshell_request lists them)"
          ).content)
      }
    case .usage:
      reply(usage.content().serialized)
    case .listSubshell:
      reply(
        (["status": "ok", "subshell_id": .array(subshells.ids.map { .string($0) })] as JSONValue).serialized)
    case .debug:
      let answer: JSONValue = [
        "type": "response", "request_seq": content["seq"] ?? 0, "success": false,
        "command": content["command"] ?? "",
        "message": .string(debugger?.unavailableReason ?? "this kernel has no debugger"),
      ]
      reply(answer.serialized)
    }
  }

  /// A debug request, served on the debugger's queue: answered while a cell runs
  /// or is stopped at a breakpoint.
  private func serveDebug(_ request: Message, with debugger: Debugger) {
    debugQueue.async { [self] in
      transport.publishStatus("busy", parent: request)
      debugParentLock.withLock { debugParent = request.rawHeader }
      let response = debugger.serve(request.content)
      transport.reply(to: request, type: "debug_reply", content: response, on: .control)
      transport.publishStatus("idle", parent: request)
    }
  }

  private func publishDebugEvent(_ event: [UInt8]) {
    let parent = debugParentLock.withLock { debugParent }
    transport.send(
      Message(
        header: MessageHeader(msgType: "debug_event", session: transport.session), parentHeader: parent,
        content: event), on: .iopub)
  }

  private func shutDown() {
    for subshell in subshells.removeAll() { subshell.close() }
    let done = DispatchSemaphore(value: 0)
    router.thread.enqueue { [router] in
      router.shutdown()
      done.signal()
    }
    // A cell that is still running does not hold up the shutdown for long.
    _ = done.wait(timeout: .now() + 2)
    output.flush()
    transport.stop()
    finished.signal()
  }

  private func makeKernelInfo() -> [UInt8] {
    var info = router.kernelInfo.objectValue ?? [:]
    info["status"] = "ok"
    info["protocol_version"] = .string(protocolVersion)
    info["implementation"] = "tandem"
    info["implementation_version"] = .string(Kernel.version)
    let debugs = debugger?.isAvailable ?? false
    info["debugger"] = .bool(debugs)
    info["supported_features"] = .array((debugs ? ["debugger"] : []) + ["kernel subshells"])
    return JSONValue.object(info).serialized
  }
}
