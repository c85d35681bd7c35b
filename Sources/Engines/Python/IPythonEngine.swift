import EmbeddedPython
import Foundation
import Futures
import JSON
import KernelCore
import Logging

/// Python cells, run by IPython inside the embedded interpreter through the `tandem`
/// Python package (`tandem._kernel`). It is the router's host: it also serves
/// history (IPython's, where other languages' cells are recorded too), comms, and
/// the magics (`%%R -i x`, `%R`, `%Rpush`), which reach their engines through the
/// bridges it offers the Python half.
public final class IPythonEngine: HostEngine {
  public static let declaration = LanguageDeclaration(
    language: Language("python"), cellMagics: ["%%python"], kernelspecName: "tandem",
    kernelspecLanguage: "python", displayName: "Python")
  /// Why Python could not be brought up, with the fix.
  public struct StartError: Error, CustomStringConvertible {
    public let description: String
  }

  public var declaration: LanguageDeclaration { Self.declaration }
  public private(set) var kernelInfo: JSONValue = [:]
  public private(set) var servedKinds: Set<RequestKind> = []
  /// The embedded interpreter's thread, on which every engine runs.
  public var thread: EngineThread { pythonThread }

  private let interpreter: PythonInterpreter
  private let pythonThread: PythonThread
  private let logger: Logger
  private var kernel: PyRef?
  private let slot = FrontendSlot()
  private let peers: [BridgedEngine]
  private let defaultLanguage: Language
  private let futures: LocalClient?
  private let metrics: MetricsEndpointState
  private let connectionFile: String?
  private let pythonDebugger: PythonDebugger
  /// The debugger of Python cells (debugpy), for debug_request.
  public var debugger: Debugger { pythonDebugger }

  /// `defaultLanguage` is the language of cells without a magic; each of `peers`
  /// serves the Python half's calls into its language (`r_call` for R's: `%%R`,
  /// `%R`, `r.x`), and its calls back into Python run here; `futures` is the
  /// broker's in-process client, through which Python runs the session's futures;
  /// `metrics` says where the metrics endpoint listens, if it does;
  /// `connectionFile` is the absolute path of the kernel's connection file.
  public init(
    python: PythonEnvironment, peers: [BridgedEngine] = [], defaultLanguage: Language = declaration.language,
    futures: LocalClient? = nil, metrics: MetricsEndpointState = MetricsEndpointState(),
    connectionFile: String? = nil, logger: Logger
  ) {
    interpreter = PythonInterpreter(environment: python, logger: logger)
    pythonThread = PythonThread(interpreter)
    pythonDebugger = PythonDebugger(interpreter)
    self.peers = peers
    self.defaultLanguage = defaultLanguage
    self.futures = futures
    self.metrics = metrics
    self.connectionFile = connectionFile
    self.logger = logger
  }

  /// Initialises Python, imports the Python half of the kernel and gives it the natives.
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
      var natives =
        try OutputNatives.make(slot) + InputNatives.make(slot, thread: pythonThread)
        + DebugNatives.make(pythonDebugger.events) + TelemetryNatives.make(metrics)
        + SessionNatives.make(connectionFile: connectionFile)
      for peer in peers {
        peer.attach(thread: pythonThread) { [weak self, language = peer.language] message in
          self?.serveCall(message, from: language) ?? .failed("the kernel is stopping")
        }
        natives += try BridgeNatives.make(slot, peer: peer)
      }
      if let futures {
        natives += try FuturesNatives.make(client: futures, thread: pythonThread)
      }
      try PyRef.importModule("tandem._natives").callMethod("provide", PyRef(dictionary: natives))
      pythonThread.interrupts = try PyRef.importModule("tandem._interrupts")
      pythonDebugger.probe()
      let kernel = try PyRef.importModule("tandem._kernel").callMethod(
        "start", PyRef(defaultLanguage.name))
      self.kernel = kernel
      let info = try kernel.callMethod("kernel_info").bytesValue ?? []
      kernelInfo = (try? JSONValue.parse(info)) ?? [:]
      servedKinds = Set(
        try kernel.callMethod("message_types").sequenceItems.compactMap {
          $0.stringValue.flatMap(RequestKind.init)
        })
    }
  }

  public func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply? {
    guard let kernel else { return nil }
    slot.bind(frontend)
    let buffers = PyRef(list: request.message.buffers.map { PyRef(bytes: $0) })
    let cell = request.cell ?? (defaultLanguage, 0)
    let reply = try kernel.callMethod(
      "handle", PyRef(request.kind.rawValue), PyRef(bytes: request.rawContent), buffers,
      PyRef(cell.language.name), PyRef(cell.magicLength), PyRef(Int(request.executionCount)))
    let parts = reply.sequenceItems
    guard parts.count == 2, let content = parts[1].bytesValue else { return nil }
    return Reply(status: Reply.Status(field: parts[0].stringValue), content: content)
  }

  public func recordHistory(_ code: String, executionCount: Int64) {
    do {
      _ = try kernel?.callMethod("record_history", PyRef(code), PyRef(Int(executionCount)))
    } catch {
      logger.error("cell \(executionCount) was not recorded in history: \(error)")
    }
  }

  /// A call into Python from a peer's language (R's `py$x`), on the Python thread
  /// that waits for that language.
  /// The Python half serves it in `serve_<language>` (`serve_r`).
  private func serveCall(_ message: BridgeMessage, from language: Language) -> BridgeMessage {
    do {
      guard let kernel else { throw PythonError(typeName: "RuntimeError", message: "Python is not ready") }
      let frames = PyRef(list: message.frames.map { PyRef(bytes: $0) })
      let serve = "serve_\(language.name)"
      let reply = try kernel.callMethod(serve, PyRef(bytes: message.body.serialized), frames)
        .sequenceItems
      guard reply.count == 2, let body = reply[0].bytesValue.flatMap({ try? JSONValue.parse($0) }) else {
        throw PythonError(typeName: "TypeError", message: "\(serve) must return [reply_json, frames]")
      }
      return BridgeMessage(body: body, frames: reply[1].sequenceItems.compactMap(\.bytesValue))
    } catch let error as PythonError where error.typeName == "KeyboardInterrupt" {
      // An interrupt that landed in Tandem's Python around the call: the caller stops as interrupted.
      return .interrupted
    } catch {
      return .failed("\(error)")
    }
  }

  public func cellStarting(_ frontend: Frontend) {
    slot.bind(frontend)
  }

  public func cellEnded() {
    _ = try? kernel?.callMethod("cell_ended")
  }

  public func requestFinished() {
    _ = try? kernel?.callMethod("after_request")
  }

  public func shutdown() {
    _ = try? kernel?.callMethod("shutdown")
  }
}
