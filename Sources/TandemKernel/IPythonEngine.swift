import Foundation
import Futures
import JSON
import JupyterWire
import Logging
import PythonEngine
import RSession

/// Python cells, run by IPython inside the embedded interpreter through the `tandem`
/// Python package (`tandem._kernel`).
public final class IPythonEngine: LanguageEngine, EngineWaiting {
  /// Why Python could not be brought up, with the fix.
  public struct StartError: Error, CustomStringConvertible {
    public let description: String
  }

  private let interpreter: PythonInterpreter
  private let logger: Logger
  private var kernel: PyRef?
  /// The kernel, once the first request came; futures' output reaches it from the
  /// thread that completes futures, hence the lock.
  private weak var servedFrontend: Frontend?
  private let frontendLock = NSLock()
  private var frontend: Frontend? {
    get {
      frontendLock.lock()
      defer { frontendLock.unlock() }
      return servedFrontend
    }
    set {
      frontendLock.lock()
      servedFrontend = newValue
      frontendLock.unlock()
    }
  }
  public private(set) var kernelInfo: JSONValue = [:]
  public private(set) var servedTypes: Set<String> = []

  private let rEngine: REngine?
  private let language: String
  private let broker: Broker?

  /// `language` is the default cell language ("python" or "r"); `rEngine` serves R
  /// cells (`%%R`, `%R`) when given; `broker` runs the session's futures (Python
  /// reaches it in-process).
  public init(
    python: PythonEnvironment, rEngine: REngine? = nil, language: String = "python", logger: Logger,
    broker: Broker? = nil
  ) {
    self.interpreter = PythonInterpreter(environment: python, logger: logger)
    self.rEngine = rEngine
    self.language = language
    self.logger = logger
    self.broker = broker
  }

  /// Initialises Python and imports the Python half of the kernel.
  public func start() throws {
    let python = interpreter.executable
    do {
      try interpreter.start()
    } catch {
      throw StartError(description: "cannot start Python from \(python): \(error)")
    }
    try interpreter.sync { [self] in
      // IPython first, so that an environment without it is named as such.
      for (name, fix) in [
        ("IPython", "install it with `\(python) -m pip install ipython`"),
        ("tandem._kernel", "install Tandem's Python half with `tandem install --python \(python)`"),
      ] {
        do {
          _ = try PyRef.importModule(name)
        } catch {
          throw StartError(
            description: "the Python environment of \(python) cannot import \(name.split(separator: ".")[0]) "
              + "(\(error)): \(fix)")
        }
      }
      let module = try PyRef.importModule("tandem._kernel")
      let publish = try PythonCallback.make(name: "publish") { [weak self] args in
        guard args.count == 4, let type = args[0].stringValue, let content = args[1].bytesValue,
          let metadata = args[2].bytesValue
        else {
          throw PythonError(typeName: "TypeError", message: "publish(type, content, metadata, buffers)")
        }
        let buffers = args[3].sequenceItems.compactMap(\.bytesValue)
        self?.frontend?.publish(type, content: content, metadata: metadata, buffers: buffers)
        return .none
      }
      let requestInput = try PythonCallback.make(name: "request_input") { [weak self] args in
        guard args.count == 2, let prompt = args[0].stringValue else {
          throw PythonError(typeName: "TypeError", message: "request_input(prompt, password)")
        }
        return PyRef(try self?.readInput(prompt: prompt, password: args[1].boolValue) ?? "")
      }
      var natives: [(String, PyRef)] = []
      if let rEngine {
        rEngine.attach(to: self) { [weak self] message in
          self?.serveR(message)
            ?? RMessage(body: ["status": "error", "evalue": "the kernel is stopping"], frames: [])
        }
        natives.append(("r_call", try makeRCall(rEngine)))
      }
      if let broker {
        natives += try futuresNatives(broker)
      }
      let kernel = try module.callMethod(
        "start", publish, requestInput, PyRef(dictionary: natives), PyRef(language))
      self.kernel = kernel
      let info = try kernel.callMethod("kernel_info").bytesValue ?? []
      kernelInfo = (try? JSONValue.parse(info)) ?? [:]
      servedTypes = Set(try kernel.callMethod("message_types").sequenceItems.compactMap(\.stringValue))
    }
  }

  public func enqueue(_ work: @escaping () -> Void) {
    interpreter.submit(work)
  }

  public func serve(_ request: Message, frontend: Frontend) throws -> [UInt8]? {
    guard let kernel else { return nil }
    self.frontend = frontend
    let buffers = PyRef(list: request.buffers.map { PyRef(bytes: $0) })
    let reply = try kernel.callMethod(
      "handle", PyRef(request.msgType), PyRef(bytes: request.content), buffers)
    return reply.isNone ? nil : reply.bytesValue
  }

  /// How the Python half reaches the futures broker in-process: `futures_send(frames)`,
  /// `futures_receive(timeout) -> [frames, ...]` (the GIL released while it waits),
  /// `futures_interrupt()` (every interrupt of the kernel calls it),
  /// `futures_cancel(task_id) -> bool` and `futures_queued(task_id) -> bool` (whether
  /// a task has not started, answered at once); and the cell a
  /// task's output belongs to: `futures_parent()` (the running request's header) and
  /// `futures_publish(parent, msg_type, content)`.
  private func futuresNatives(_ broker: Broker) throws -> [(String, PyRef)] {
    let send = try PythonCallback.make(name: "futures_send") { args in
      guard args.count == 1 else { throw PythonError(typeName: "TypeError", message: "futures_send(frames)") }
      broker.sendLocal(args[0].sequenceItems.map { $0.bytesValue ?? [] })
      return .none
    }
    let receive = try PythonCallback.make(name: "futures_receive") { [interpreter] args in
      let timeout = args.first?.doubleValue ?? 1
      let messages = interpreter.allowingThreads { broker.receiveLocal(timeout: timeout) }
      return PyRef(list: messages.map { PyRef(list: $0.map { PyRef(bytes: $0) }) })
    }
    let interrupt = try PythonCallback.make(name: "futures_interrupt") { _ in
      broker.interrupt()
      return .none
    }
    let parent = try PythonCallback.make(name: "futures_parent") { [weak self] _ in
      guard let header = self?.frontend?.currentParent else { return .none }
      return PyRef(bytes: header)
    }
    let publish = try PythonCallback.make(name: "futures_publish") { [weak self] args in
      guard args.count == 3, let parent = args[0].bytesValue, let type = args[1].stringValue,
        let content = args[2].bytesValue
      else {
        throw PythonError(typeName: "TypeError", message: "futures_publish(parent, msg_type, content)")
      }
      self?.frontend?.publish(type, content: content, parent: parent)
      return .none
    }
    let cancel = try PythonCallback.make(name: "futures_cancel") { args in
      guard args.count == 1, let id = args[0].bytesValue else {
        throw PythonError(typeName: "TypeError", message: "futures_cancel(task_id)")
      }
      return PyRef(broker.cancelLocal(id))
    }
    let queued = try PythonCallback.make(name: "futures_queued") { args in
      guard args.count == 1, let id = args[0].bytesValue else {
        throw PythonError(typeName: "TypeError", message: "futures_queued(task_id)")
      }
      return PyRef(broker.isQueuedLocal(id))
    }
    return [
      ("futures_send", send), ("futures_receive", receive), ("futures_interrupt", interrupt),
      ("futures_parent", parent), ("futures_publish", publish), ("futures_cancel", cancel),
      ("futures_queued", queued),
    ]
  }

  /// `r_call(request_json, frames) -> [reply_json, frames]`: how the Python half
  /// talks to R (the R magics, the `r` object).
  private func makeRCall(_ rEngine: REngine) throws -> PyRef {
    try PythonCallback.make(name: "r_call") { [weak self] args in
      guard args.count == 2, let bytes = args[0].bytesValue, let request = try? JSONValue.parse(bytes) else {
        throw PythonError(typeName: "TypeError", message: "r_call(request_json, frames)")
      }
      let frames = args[1].sequenceItems.compactMap(\.bytesValue)
      let count = request["result"]?.boolValue == true ? request["execution_count"]?.intValue : nil
      let reply = rEngine.run(request, frames: frames, frontend: self?.frontend, resultCount: count)
      return PyRef(list: [
        PyRef(bytes: reply.body.serialized), PyRef(list: reply.frames.map { PyRef(bytes: $0) }),
      ])
    }
  }

  /// A call from R into Python (`py$x`), on the Python thread that waits for R.
  private func serveR(_ message: RMessage) -> RMessage {
    do {
      guard let kernel else { throw PythonError(typeName: "RuntimeError", message: "Python is not ready") }
      let frames = PyRef(list: message.frames.map { PyRef(bytes: $0) })
      let reply = try kernel.callMethod("serve_r", PyRef(bytes: message.body.serialized), frames)
        .sequenceItems
      guard reply.count == 2, let body = reply[0].bytesValue.flatMap({ try? JSONValue.parse($0) }) else {
        throw PythonError(typeName: "TypeError", message: "serve_r must return [reply_json, frames]")
      }
      return RMessage(body: body, frames: reply[1].sequenceItems.compactMap(\.bytesValue))
    } catch {
      return RMessage(body: ["status": "error", "evalue": .string("\(error)")], frames: [])
    }
  }

  public func waiting<T>(_ body: () -> T) -> T {
    interpreter.allowingThreads(body)
  }

  public func takeInterrupt() -> Bool {
    interpreter.takePendingInterrupt()
  }

  public func requestFinished() {
    _ = try? kernel?.callMethod("after_request")
  }

  public func interrupt() {
    interpreter.interrupt()
  }

  public func discardStaleInterrupt() {
    interpreter.discardPendingInterrupt()
  }

  public func shutdown() {
    rEngine?.stop()
    _ = try? kernel?.attribute("shell")?.callMethod("atexit_operations")
  }

  /// `input()` on the Python thread: ask the frontend, then wait with the GIL released,
  /// checking for an interrupt between waits.
  private func readInput(prompt: String, password: Bool) throws -> String {
    guard let frontend else { throw PythonError(typeName: "EOFError", message: "no frontend") }
    try frontend.sendInputRequest(prompt: prompt, password: password)
    while true {
      if let value = interpreter.allowingThreads({ frontend.takeInputReply(timeout: 0.05) }) {
        return value
      }
      try interpreter.checkSignals()
    }
  }
}
