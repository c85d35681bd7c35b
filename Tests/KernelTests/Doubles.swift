import Foundation
import JSON
import JupyterWire

@testable import KernelCore

/// A transport that records what the kernel sends; requests are handed to the
/// kernel by calling `deliver`.
final class TransportDouble: KernelTransport, @unchecked Sendable {
  let session = "kernel-session"
  private let lock = NSLock()
  private var sent: [(Channel, Message)] = []
  private weak var handler: KernelTransportHandler?
  private(set) var stopped = false

  func start(handler: KernelTransportHandler) {
    self.handler = handler
  }

  func send(_ message: Message, on channel: Channel) {
    lock.lock()
    sent.append((channel, message))
    lock.unlock()
  }

  func stop() {
    lock.lock()
    stopped = true
    lock.unlock()
  }

  func deliver(_ message: Message, on channel: Channel) {
    handler?.handle(message, from: channel)
  }

  var messages: [(channel: Channel, message: Message)] {
    lock.lock()
    defer { lock.unlock() }
    return sent
  }

  /// The messages whose parent is `request`, in order, as "channel:msg_type" or
  /// "status:busy"/"status:idle".
  func trace(of request: Message) -> [String] {
    messages.filter { $0.message.parentHeader == request.rawHeader }.map { channel, message in
      if message.msgType == "status" {
        return "status:" + ((try? message.parsedContent())?["execution_state"]?.stringValue ?? "?")
      }
      return "\(channel.rawValue):\(message.msgType)"
    }
  }

  /// The content of the reply to `request`, once it came (within `timeout` seconds).
  func reply(to request: Message, timeout: Double = 5) -> JSONValue? {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
      if let reply = messages.first(where: {
        $0.message.parentHeader == request.rawHeader && $0.message.msgType.hasSuffix("_reply")
      }) {
        return try? reply.message.parsedContent()
      }
      Thread.sleep(forTimeInterval: 0.005)
    }
    return nil
  }

  /// Waits until `request` has gone idle.
  func waitForIdle(_ request: Message, timeout: Double = 5) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
      if trace(of: request).contains("status:idle") { return true }
      Thread.sleep(forTimeInterval: 0.005)
    }
    return false
  }
}

/// The engine thread as a serial queue; interrupts are counted.
final class SerialThread: EngineThread, @unchecked Sendable {
  private let queue = DispatchQueue(label: "engine")
  private let lock = NSLock()
  private(set) var interrupts = 0

  func enqueue(_ work: @escaping () -> Void) {
    // The kernel's work runs on this one queue only, as on the engine thread.
    nonisolated(unsafe) let work = work
    queue.async { work() }
  }

  func interrupt() {
    lock.lock()
    interrupts += 1
    lock.unlock()
  }

  func spawn(name: String, _ body: @escaping () -> Void) throws {
    nonisolated(unsafe) let body = body
    Thread { body() }.start()
  }

  func discardStaleInterrupt() {}
  func waiting<T>(_ body: () -> T) -> T { body() }
  func takeInterrupt() -> Bool { false }
  func interruptible<T>(_ body: () -> T) -> T? { body() }
}

/// An engine that records what it serves (and, as a host, the history it is given);
/// a request whose code is "wait" blocks until `gate` is signalled. An execution's
/// reply carries the code and execution count it was given.
final class EngineDouble: HostEngine, @unchecked Sendable {
  /// How many cells ended (`cellEnded`).
  var cellsEnded = 0
  let declaration: LanguageDeclaration
  let servedKinds: Set<RequestKind>
  let kernelInfo: JSONValue
  let gate = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private(set) var served: [(kind: RequestKind, content: JSONValue)] = []
  private(set) var shutDown = false
  private(set) var history: [(code: String, count: Int64)] = []

  /// `magic` marks cells of `language`.
  init(language: String, magic: String, kinds: Set<RequestKind>) {
    declaration = LanguageDeclaration(
      language: Language(language), cellMagics: [magic], kernelspecName: "test-\(language)",
      kernelspecLanguage: language, displayName: language)
    servedKinds = kinds
    kernelInfo = ["language_info": ["name": .string(language)]]
  }

  func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply? {
    lock.lock()
    served.append((request.kind, request.content))
    lock.unlock()
    let code = request.code ?? ""
    if code == "wait" { gate.wait() }
    switch request.kind {
    case .execute:
      if code == "input" {
        try frontend.sendInputRequest(prompt: "name?", password: false)
        let value = frontend.takeInputReply(timeout: 5) ?? "<none>"
        return Reply(content: ["status": "ok", "value": .string(value)])
      }
      return code.hasPrefix("fail")
        ? Reply(content: ["status": "error", "ename": "Boom", "evalue": "", "traceback": []])
        : Reply(content: [
          "status": "ok", "code": .string(code), "engine": .string(language.name),
          "execution_count": .int(request.executionCount),
        ])
    case .complete:
      return Reply(content: [
        "status": "ok", "matches": .array([.string(language.name)]),
        "cursor_start": request.content["cursor_pos"] ?? 0, "cursor_end": request.content["cursor_pos"] ?? 0,
      ])
    case .commMsg, .commOpen, .commClose:
      return nil
    default:
      return Reply(content: ["status": "ok", "engine": .string(language.name)])
    }
  }

  var servedCount: Int {
    lock.lock()
    defer { lock.unlock() }
    return served.count
  }

  func recordHistory(_ code: String, executionCount: Int64) {
    lock.lock()
    history.append((code, executionCount))
    lock.unlock()
  }

  func cellStarting(_ frontend: Frontend) {}

  func cellEnded() {
    lock.lock()
    cellsEnded += 1
    lock.unlock()
  }

  func requestFinished() {}
  func shutdown() { shutDown = true }
}

/// Captured output that holds nothing: the kernel's ordering of flushes is its own.
final class OutputDouble: CapturedOutput, @unchecked Sendable {
  func setSink(_ sink: @escaping Sink) {}
  func flush(then: () -> Void) { then() }
}

/// A request of `type` with `content`.
func request(_ type: String, _ content: JSONValue = [:]) -> Message {
  Message(header: MessageHeader(msgType: type, session: "client"), content: content.serialized)
}

/// A debugger that echoes each request's command and sends one event per request.
final class DebuggerDouble: Debugger, @unchecked Sendable {
  let isAvailable = true
  let unavailableReason = "never: it is always available"
  private var sink: (([UInt8]) -> Void)?

  func setEventSink(_ sink: @escaping ([UInt8]) -> Void) {
    self.sink = sink
  }

  func serve(_ request: [UInt8]) -> [UInt8] {
    let parsed = (try? JSONValue.parse(request)) ?? [:]
    sink?(
      (["type": "event", "event": "output", "body": ["echo": parsed["command"] ?? ""]] as JSONValue)
        .serialized)
    let response: JSONValue = [
      "type": "response", "success": true, "request_seq": parsed["seq"] ?? 0,
      "command": parsed["command"] ?? "",
    ]
    return response.serialized
  }
}
