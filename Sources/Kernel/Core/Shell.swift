import Foundation
import JSON
import JupyterWire
import Logging

/// One shell: its requests run one at a time, in arrival order, each between a
/// busy and an idle status. It is the frontend its engines publish to and read
/// input from while one of its requests runs.
///
/// A failed execution aborts the executions queued behind it (stop_on_error). The
/// main shell serves on the engine thread; a subshell (JEP 91) is another `Shell`,
/// with its own queue, served on a thread of its own (`serveUntilClosed`).
final class Shell: Frontend, @unchecked Sendable {
  /// The subshell's id; nil for the main shell.
  let subshellID: String?
  private let transport: KernelTransport
  private let router: RequestRouter
  private let output: CapturedOutput
  private let logger: Logger
  private let kernelInfo: () -> [UInt8]
  private let counter: ExecutionCounter
  private let queue = ShellQueue()
  private let stdin = InputMailbox()
  private let lock = NSLock()
  private var current: Message?
  private var executing = false
  private var allowStdin = false
  private var awaitingInput = false
  /// A subshell's: one signal per request queued, and one when it is closed.
  private let arrivals = DispatchSemaphore(value: 0)
  private var closed = false

  /// `kernelInfo` answers kernel_info_request; `counter` numbers the executions.
  /// `subshellID` makes it a subshell.
  init(
    transport: KernelTransport, router: RequestRouter, output: CapturedOutput, counter: ExecutionCounter,
    logger: Logger, subshellID: String? = nil, kernelInfo: @escaping () -> [UInt8]
  ) {
    self.subshellID = subshellID
    self.counter = counter
    self.transport = transport
    self.router = router
    self.output = output
    self.logger = logger
    self.kernelInfo = kernelInfo
  }

  /// Queues a request (from the transport's thread).
  func submit(_ message: Message) {
    queue.append(message)
    guard subshellID == nil else {
      arrivals.signal()
      return
    }
    router.thread.enqueue { [self] in serveAndRelease() }
  }

  /// A subshell's loop, on its own engine thread: serves its requests as they come
  /// until `close()`; what is still queued then is answered, not dropped.
  func serveUntilClosed() {
    while true {
      router.thread.waiting { arrivals.wait() }
      if lock.withLock({ closed }) { break }
      serveAndRelease()
    }
    for request in queue.removeAll(where: { _ in true }) {
      if request.msgType == RequestKind.execute.rawValue {
        abort(request)
      } else if let type = RequestKind.replyType(of: request.msgType) {
        transport.publishStatus("busy", parent: request)
        let error = Reply.error(ename: "SubshellDeleted", evalue: "subshell \(subshellID ?? "") was deleted")
        transport.reply(to: request, type: type, content: error.content, on: .shell)
        transport.publishStatus("idle", parent: request)
      }
    }
  }

  /// Ends a subshell's loop once its running request, if any, has ended.
  func close() {
    lock.withLock { closed = true }
    arrivals.signal()
  }

  private func serveAndRelease() {
    // Once a large request is handled and let go, its memory goes back.
    if serveNext() >= MemoryRelease.threshold { MemoryRelease.releaseFreeMemory() }
  }

  /// Interrupts the running request, if any.
  func interrupt() {
    lock.lock()
    let busy = executing
    lock.unlock()
    if busy { router.thread.interrupt() }
  }

  /// The value of an input_reply on the stdin channel.
  func inputReply(_ value: String) {
    stdin.put(value)
  }

  /// Whether one of this shell's requests asked for input and has no reply yet.
  var isAwaitingInput: Bool {
    lock.withLock { awaitingInput }
  }

  // MARK: - Serving (engine thread)

  /// Serves the oldest waiting request; returns how many bytes its message held.
  private func serveNext() -> Int {
    guard let request = queue.next() else { return 0 }
    let busySince = DispatchTime.now().uptimeNanoseconds
    defer { KernelMetrics.wasBusy(nanoseconds: DispatchTime.now().uptimeNanoseconds - busySince) }
    transport.publishStatus("busy", parent: request)
    lock.lock()
    current = request
    executing = true
    lock.unlock()
    if subshellID == nil { router.thread.discardStaleInterrupt() }

    let (read, reply) = serve(request)

    lock.lock()
    executing = false
    allowStdin = false
    awaitingInput = false
    lock.unlock()
    output.flush()
    // Requests queued before this reply goes out are the ones stop_on_error aborts;
    // a request the client sends after seeing the error runs normally.
    var aborted: [Message] = []
    if let read, read.kind == .execute, reply?.status == .error,
      read.content["stop_on_error"]?.boolValue ?? true
    {
      aborted = queue.removeAll(where: { $0.msgType == RequestKind.execute.rawValue })
    }
    if let reply, let type = RequestKind.replyType(of: request.msgType) {
      transport.reply(to: request, type: type, content: reply.content, on: .shell)
    }
    transport.publishStatus("idle", parent: request)
    // Output printed after the cell still goes to it, which needs only its
    // header: its content (possibly a large message) is let go.
    lock.lock()
    current?.content = []
    current?.buffers = []
    lock.unlock()
    for abortedRequest in aborted { abort(abortedRequest) }
    router.requestFinished()
    return request.content.count + request.buffers.reduce(0) { $0 + $1.count }
      + aborted.reduce(0) { $0 + $1.content.count }
  }

  /// The request as read, if it could be, and its reply, if one is due.
  private func serve(_ message: Message) -> (ShellRequest?, Reply?) {
    guard let kind = RequestKind(rawValue: message.msgType), router.serves(kind) || kind == .kernelInfo else {
      logger.warning("unknown message type \(message.msgType) on shell")
      return (
        nil, Reply.error(ename: "UnknownMessageType", evalue: "Tandem does not serve \(message.msgType)")
      )
    }
    var request: ShellRequest
    do {
      request = try ShellRequest(message, kind: kind)
    } catch {
      logger.warning("\(message.msgType) with unusable content: \(error)")
      return (nil, Reply.error(ename: "InvalidMessage", evalue: "\(error)"))
    }
    if kind == .kernelInfo { return (request, Reply(status: .ok, content: kernelInfo())) }
    if kind == .execute {
      request.executionCount = counter.take(storing: request.storesHistory)
      lock.lock()
      allowStdin = request.content["allow_stdin"]?.boolValue ?? false
      lock.unlock()
    }
    do {
      return (request, try router.serve(request, frontend: self))
    } catch {
      logger.error("\(message.msgType) failed: \(error)")
      return (request, Reply.error(ename: "KernelError", evalue: "\(error)"))
    }
  }

  /// Answers an execution queued behind a failed one (stop_on_error) as "aborted".
  private func abort(_ request: Message) {
    transport.publishStatus("busy", parent: request)
    transport.reply(
      to: request, type: "execute_reply", content: Reply.aborted.content, on: .shell)
    transport.publishStatus("idle", parent: request)
  }

  // MARK: - Frontend (engine thread)

  func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]]) {
    let message = Message(
      header: MessageHeader(msgType: msgType, session: transport.session),
      parentHeader: currentParent ?? Message.emptyObject, metadata: metadata, content: content,
      buffers: buffers)
    if msgType == "stream" {
      transport.send(message, on: .iopub)
    } else {
      // Text written before this message goes out first.
      output.flush { transport.send(message, on: .iopub) }
    }
  }

  func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]], parent: [UInt8]) {
    let message = Message(
      header: MessageHeader(msgType: msgType, session: transport.session), parentHeader: parent,
      metadata: metadata, content: content, buffers: buffers)
    output.flush { transport.send(message, on: .iopub) }
  }

  var currentParent: [UInt8]? {
    lock.lock()
    defer { lock.unlock() }
    return current?.rawHeader
  }

  func sendInputRequest(prompt: String, password: Bool) throws {
    lock.lock()
    let request = current
    let allowed = allowStdin
    lock.unlock()
    guard let request, allowed else { throw InputNotAllowed() }
    output.flush()
    stdin.clear()
    lock.withLock { awaitingInput = true }
    let content: JSONValue = ["prompt": .string(prompt), "password": .bool(password)]
    transport.reply(to: request, type: "input_request", content: content.serialized, on: .stdin)
  }

  func takeInputReply(timeout: Double) -> String? {
    guard let value = stdin.take(timeout: timeout) else { return nil }
    lock.withLock { awaitingInput = false }
    return value
  }
}

/// input() was called in a request that did not allow stdin.
struct InputNotAllowed: Error, CustomStringConvertible {
  var description: String { "this frontend does not support input requests" }
}
