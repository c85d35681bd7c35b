import Foundation
import JSON
import JupyterWire
import KernelCore
import Logging
import Metrics
import RSession

/// R cells, run by the child R session. R serves its own completion, inspection and
/// is_complete, and runs the R-first kernel's cells (`RCellExecution.swift`); the
/// host's R magics (`%%R -i x`, `%R`, `r.x`) call `run`. Calls happen on engine
/// threads, one at a time: a subshell's completion or inspection waits for the R
/// request running. R code runs for the main shell only: what R prints reaches the
/// kernel through the file descriptors the main shell's cells print to.
public final class REngine: BridgedEngine {
  public static let declaration = LanguageDeclaration(
    language: Language("r"), cellMagics: ["%%R"], kernelspecName: "tandem-r", kernelspecLanguage: "R",
    displayName: "R")
  public var declaration: LanguageDeclaration { Self.declaration }
  public let servedKinds = RequestKind.introspection.union([.execute])
  private let session: RSession
  private let logger: Logger
  private(set) var thread: EngineThread?
  /// Serves a call R makes into the host while it runs (`py$x`, `py_eval()`).
  private var host: ((BridgeMessage) -> BridgeMessage)?
  /// The number of the last request sent to R: each request carries its number,
  /// so that R can say whether it received a request that gets no answer.
  private var lastSequence: Int64 = 0
  /// How long R may stay silent after an interrupt before it is ended.
  private let interruptGrace: Double
  /// The clock that times R's silence after an interrupt; tests pass their own.
  var clock: () -> Double = InterruptWatch.monotonic
  /// Held by the thread whose request R runs; reentrant, for R's calls into Python
  /// that call R again.
  private let owner = NSRecursiveLock()

  /// The session's socket goes in `directory`, the kernel's private folder. R that
  /// answers nothing for `interruptGrace` seconds after an interrupt (stuck in code
  /// that never checks for interrupts) is ended, so that a cell never waits forever.
  public init(configuration: RConfiguration, directory: String, interruptGrace: Double = 30, logger: Logger)
    throws
  {
    session = try RSession(configuration: configuration, directory: directory, logger: logger)
    self.interruptGrace = interruptGrace
    self.logger = logger
  }

  /// The R launched last (it may have ended); any thread.
  public var processes: [EngineProcess] {
    session.launchedPID.map { [EngineProcess(name: "r", pid: $0)] } ?? []
  }

  /// R sessions started again after R ended; made at the first, after the kernel
  /// bootstrapped its metrics backend.
  private static let restarts = Counter(label: "tandem_r_session_restarts_total")

  public func attach(thread: EngineThread, host: @escaping (BridgeMessage) -> BridgeMessage) {
    self.thread = thread
    self.host = host
  }

  public func call(_ request: BridgeMessage, frontend: Frontend?, resultCount: Int64?) -> BridgeMessage {
    run(request.body, frames: request.frames, frontend: frontend, resultCount: resultCount)
  }

  /// R's `language_info`, banner and help links, for a kernel whose default is R.
  public private(set) lazy var kernelInfo: JSONValue = [
    "language_info": [
      "name": "R",
      "version": .string(RSession.installedVersion(executable: session.configuration.executable) ?? ""),
      "mimetype": "text/x-r-source", "file_extension": ".r", "pygments_lexer": "r", "codemirror_mode": "r",
    ],
    "banner": "Tandem: R with Python (%%python cells)\n",
    "help_links": [["text": "R documentation", "url": "https://www.r-project.org/help.html"]],
  ]

  /// Runs an R cell; completion, help and is_complete for R code, answered by R.
  public func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply? {
    if request.kind == .execute { return execute(request, frontend: frontend) }
    guard var body = request.content.objectValue else {
      return Reply.error(ename: "InvalidMessage", evalue: "content is not a JSON object")
    }
    body["type"] = .string(String(request.kind.rawValue.dropLast("_request".count)))
    var reply = run(.object(body), frontend: nil, resultCount: nil).body.objectValue ?? [:]
    reply["type"] = nil
    if request.kind == .isComplete, reply["status"]?.stringValue == "error" {
      reply = ["status": "unknown"]
    }
    return Reply(content: .object(reply))
  }

  public func requestFinished() {}

  /// Stops R (kernel shutdown).
  public func shutdown() {
    session.stop()
  }

  /// `R.version.string` of the R that runs, or "" before R started.
  public var version: String { session.version }

  /// Spawns R now, to boot alongside the rest of the kernel; call before the engine
  /// thread uses R, then `startEagerly()` on that thread.
  public func launch() {
    do {
      try session.launch()
    } catch {
      logger.error("R did not start: \(error)")
    }
  }

  /// Starts R now rather than at the first R cell (on the engine thread).
  public func startEagerly() {
    do {
      try session.start()
    } catch {
      logger.error("R did not start: \(error)")
    }
  }

  /// Runs one request in R and serves what R sends meanwhile (output, input
  /// requests, calls into Python) until R's reply, which is returned. `frames` carry
  /// exchanged values. `resultCount` is the execution count for an
  /// `execute_result`, when R reports a cell's value. Reentrant: a call into Python
  /// may run another request in R.
  func run(_ request: JSONValue, frames: [[UInt8]] = [], frontend: Frontend?, resultCount: Int64?)
    -> BridgeMessage
  {
    if frontend?.subshellID != nil {
      return Self.failure(
        "R code runs on the main shell only, not in a subshell: what R prints would show in "
          + "another cell. Run it without a subshell (a notebook cell, not a console on a subshell).")
    }
    if !owner.try() {
      // Another shell's request runs in R: wait without holding the engine's lock.
      if let thread { thread.waiting { owner.lock() } } else { owner.lock() }
    }
    defer { owner.unlock() }
    do {
      let fresh = try session.start()
      if fresh && session.starts > 1 { Self.restarts.increment() }
      if fresh && session.starts > 1, let frontend {
        frontend.publish(
          .stream(
            name: "stderr", text: "R restarted: this is a fresh R session; earlier R variables are gone.\n"))
      }
      lastSequence += 1
      let sequence = lastSequence
      var request = request
      request["seq"] = .int(sequence)
      try session.send(request, frames: frames)
      var watch = InterruptWatch(grace: interruptGrace, clock: clock)
      while true {
        guard let message = try receive(watch: &watch) else {
          if watch.shouldPing() { try session.send(["type": "ping", "request": .int(sequence)]) }
          if watch.shouldAnnounce() { announceHeldInterrupt(grace: watch.grace, frontend: frontend) }
          if watch.gaveUp() { return abandon(after: watch.grace) }
          continue
        }
        switch message["type"]?.stringValue {
        case "reply":
          // R finished without seeing the interrupt passed to it (it was in C code
          // that does not check, or its reply was on the way), and drops it once
          // idle: the request still ends as interrupted, or a Python loop calling R
          // would lose the user's interrupt and run on.
          if watch.passed, message["status"]?.stringValue == "ok" { return .interrupted }
          return BridgeMessage(body: message.body, frames: message.frames)
        case "pong":
          // R reads a ping only between requests: if it never received this
          // request, no reply will come.
          if message["request"]?.intValue == sequence && message["received"]?.boolValue == false {
            logger.error("R did not receive request \(sequence); it ends as interrupted")
            return .interrupted
          }
        case "python":
          var reply =
            host?(BridgeMessage(body: message.body, frames: message.frames))
            ?? .failed("Python is not available")
          reply.body["type"] = "reply"
          try session.send(reply.body, frames: reply.frames)
        case "display":
          publishDisplay(message, frontend: frontend, resultCount: resultCount)
        case "clear_output":
          frontend?.publish(.clearOutput(wait: message["wait"]?.boolValue ?? false))
        case "input_request":
          try answerInputRequest(message, frontend: frontend)
        default:
          logger.warning("unexpected message from R: \(message["type"]?.stringValue ?? "?")")
        }
        // Counted once the message is handled: a call into Python, or a wait for
        // the user's input, may take long, and R then waits on the kernel.
        watch.heard()
      }
    } catch let error as RSessionError {
      let text: String
      switch error {
      case .died(let how):
        text = "\(how); a fresh R session starts with the next R cell"
      case .cannotStart(let why):
        text = "R could not start: \(why)"
      }
      return Self.failure(text)
    } catch {
      return Self.failure("\(error)")
    }
  }

  /// Says, in the log and in the cell, why an interrupted request has not ended.
  private func announceHeldInterrupt(grace: Double, frontend: Frontend?) {
    logger.info("R has not stopped 1 s after an interrupt; waiting up to \(Int(grace)) s")
    frontend?.publish(
      .stream(
        name: "stderr",
        text: "Interrupting R: R is in code that holds interrupts (loading a package) or does not check for "
          + "them; the interrupt takes effect when that code ends, or R is restarted after \(Int(grace)) s.\n"
      ))
  }

  /// Ends an R that stayed silent after an interrupt; the cell gets why.
  private func abandon(after grace: Double) -> BridgeMessage {
    logger.error("R did not answer within \(Int(grace)) s of an interrupt; ending it")
    session.stop()
    return Self.failure(
      "R did not stop within \(Int(grace)) s of the interrupt (it was busy in code that does not check "
        + "for interrupts), so it was ended; a fresh R session starts with the next R cell")
  }

  /// The kernel's own failure around a request (R could not start, died, or was
  /// ended): shown as the text alone, without R's "Error:".
  private static func failure(_ text: String) -> BridgeMessage {
    .failed(text, traceback: [text])
  }

  /// The next message from R, waiting briefly with the engine's lock released; an
  /// interrupt meanwhile is passed on to R, whose request then ends as "interrupted".
  private func receive(watch: inout InterruptWatch) throws -> RMessage? {
    let poll = { [session] () -> Result<RMessage?, Error> in
      Result {
        // Most replies come within a fraction of a millisecond: poll without
        // sleeping that long first, since waking a sleeping thread costs as much.
        let spinUntil = DispatchTime.now().uptimeNanoseconds + 300_000
        while DispatchTime.now().uptimeNanoseconds < spinUntil {
          if let message = try session.receive(timeout: 0) { return message }
        }
        return try session.receive(timeout: 0.05)
      }
    }
    let message = try (thread.map { $0.waiting(poll) } ?? poll()).get()
    if thread?.takeInterrupt() == true {
      session.interrupt()
      watch.interrupted()
    }
    return message
  }

  private func publishDisplay(_ message: RMessage, frontend: Frontend?, resultCount: Int64?) {
    let data = message["data"] ?? [:]
    let metadata = message["metadata"] ?? [:]
    if message["result"]?.boolValue == true, let resultCount {
      frontend?.publish(.executeResult(count: resultCount, data: data, metadata: metadata))
    } else if let id = message["display_id"] {
      // An output R replaces later (progress): update_display_data finds it by id.
      let transient: JSONValue = ["display_id": id]
      frontend?.publish(
        message["update"]?.boolValue == true
          ? .updateDisplayData(data: data, metadata: metadata, transient: transient)
          : .displayData(data: data, metadata: metadata, transient: transient))
    } else {
      frontend?.publish(.displayData(data: data, metadata: metadata, transient: [:]))
    }
  }

  /// R asked for input: the frontend answers (input_request/input_reply), R gets it.
  private func answerInputRequest(_ message: RMessage, frontend: Frontend?) throws {
    guard let frontend, let thread else { return }
    let prompt = message["prompt"]?.stringValue ?? ""
    do {
      try frontend.sendInputRequest(prompt: prompt, password: message["password"]?.boolValue ?? false)
    } catch {
      // R checked allow_stdin first; answer so it does not wait forever.
      try session.send(["type": "input_reply", "value": ""])
      return
    }
    let value: String
    do {
      value = try frontend.awaitInputReply(on: thread) {
        if thread.takeInterrupt() { throw InputInterrupted() }
        if session.pid == nil { throw RSessionError.died("R ended while waiting for input") }
      }
    } catch is InputInterrupted {
      // R, interrupted while it waits, ends the request as interrupted.
      session.interrupt()
      return
    }
    try session.send(["type": "input_reply", "value": .string(value)])
  }
}

private struct InputInterrupted: Error {}
