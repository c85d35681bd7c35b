import ChildProcess
import Foundation
import JSON
import Logging
import ZeroMQ

/// Where R is and where Tandem's R package lives.
public struct RConfiguration: Sendable {
  /// The `R` program (looked up on PATH unless absolute).
  public var executable: String
  /// A library folder holding the `tandem` R package; put first on `.libPaths()`.
  public var library: String?
  /// Where R makes its session's temporary folder (`tempdir()`, as `TMPDIR`); the
  /// system's when nil.
  public var temporaryDirectory: String?

  public init(executable: String = "R", library: String? = nil, temporaryDirectory: String? = nil) {
    self.executable = executable
    self.library = library
    self.temporaryDirectory = temporaryDirectory
  }
}

/// One message from R: a JSON object with a `type`, and the frames after it.
public struct RMessage {
  public var body: JSONValue
  public var frames: [[UInt8]]

  public init(body: JSONValue, frames: [[UInt8]]) {
    self.body = body
    self.frames = frames
  }

  public subscript(key: String) -> JSONValue? { body[key] }
}

/// Why talking to R failed.
public enum RSessionError: Error, CustomStringConvertible {
  /// R could not be started; the text says why and what to do.
  case cannotStart(String)
  /// R ended while a request was pending.
  case died(String)

  public var description: String {
    switch self {
    case .cannotStart(let why): return why
    case .died(let how): return how
    }
  }
}

/// The child R session: a separate process running Tandem's R server loop, connected
/// back over ZeroMQ. A crash of R never takes the kernel with it: the next `start()`
/// brings up a fresh R.
///
/// Messages are JSON objects with a `type`. Not thread-safe: one thread (the kernel's
/// Python thread, which runs every cell) uses it.
public final class RSession {
  public let configuration: RConfiguration
  private let logger: Logger
  private let context = ZMQContext()
  private let socket: ZMQSocket
  private let endpoint: String
  private var process: ChildProcess?
  private var peer: [UInt8]?
  /// How many R processes were started; more than one means R was restarted.
  public private(set) var starts = 0
  /// `R.version.string` of the running R.
  public private(set) var version = ""

  /// Binds the session's socket at `ipc://directory/r`. `directory` must be the
  /// kernel's private folder: only this user can reach the socket there, so no other
  /// user can pose as R (never a TCP port, which every local user can reach).
  public init(configuration: RConfiguration, directory: String, logger: Logger) throws {
    self.configuration = configuration
    self.logger = logger
    socket = try ZMQSocket(context: context, kind: .router)
    try socket.bind("ipc://\(directory)/r")
    endpoint = socket.lastEndpoint
  }

  deinit { stop() }

  /// Whether an R process is up and connected.
  public var isRunning: Bool { process?.isRunning == true && peer != nil }

  /// Spawns R without waiting for it to connect, so that it boots while the caller
  /// does other work; `start()` then waits for it. Call before anything uses the session.
  public func launch() throws {
    process?.terminate(grace: 0)
    peer = nil
    let arguments = Self.command(
      configuration, running: "tandem:::serve('\(Self.escape(endpoint))', \(getpid())L)")
    do {
      var environment = ProcessInfo.processInfo.environment
      // Values arriving from Python allocate many objects at once: a heap that grows
      // in larger steps spends less time in garbage collection (R's own setting).
      if environment["R_GC_MEM_GROW"] == nil { environment["R_GC_MEM_GROW"] = "3" }
      if let temporary = configuration.temporaryDirectory { environment["TMPDIR"] = temporary }
      process = try ChildProcess(arguments: arguments, environment: environment)
      pidLock.withLock { launched = process?.pid }
    } catch {
      throw RSessionError.cannotStart("\(error): is R installed (apt-get install r-base-core)?")
    }
    starts += 1
  }

  /// Starts R unless it runs (or waits for a launched R to connect); returns true
  /// when a new R process came up.
  @discardableResult
  public func start(timeout: Double = 60) throws -> Bool {
    if isRunning { return false }
    if peer != nil || process?.isRunning != true { try launch() }
    guard let child = process else { throw RSessionError.cannotStart("R was not launched") }
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
      guard child.isRunning else {
        throw RSessionError.cannotStart(
          "R \(child.exitDescription) while starting; check that the tandem R package is installed"
            + (configuration.library.map { " in \($0)" } ?? "")
            + " (run `make install`, or `make setup` in the source tree)")
      }
      if socket.hasMessage(within: 20), let frames = try? socket.receive(dontWait: true),
        frames.count >= 2, let hello = try? JSONValue.parse(frames[1]), hello["type"]?.stringValue == "ready"
      {
        // Only the R this kernel started becomes "R".
        guard hello["pid"]?.intValue == Int64(child.pid) else {
          logger.warning("dropped a ready message from a peer that is not the R started (pid \(child.pid))")
          continue
        }
        peer = frames[0]
        version = hello["version"]?.stringValue ?? ""
        logger.info("R started (pid \(child.pid)): \(version)")
        return true
      }
    }
    child.terminate(grace: 0)
    throw RSessionError.cannotStart("R did not connect within \(Int(timeout)) s")
  }

  /// Sends one message to R; `frames` (exchanged values) follow the JSON frame.
  public func send(_ message: JSONValue, frames: [[UInt8]] = []) throws {
    guard let peer, let process, process.isRunning else {
      throw RSessionError.died("R is not running")
    }
    try socket.send([peer, message.serialized] + frames)
  }

  /// The next message from R, or nil if none came within `timeout` seconds.
  /// Throws `.died` once R has ended.
  public func receive(timeout: Double) throws -> RMessage? {
    if socket.hasMessage(within: Int(timeout * 1000)) {
      while let frames = try socket.receive(dontWait: true) {
        // Messages from an R that has since been replaced are dropped.
        guard frames.count >= 2, frames[0] == peer else { continue }
        do {
          return RMessage(body: try JSONValue.parse(frames[1]), frames: Array(frames.dropFirst(2)))
        } catch {
          logger.error("unreadable message from R: \(error)")
        }
      }
    }
    if let process, !process.isRunning {
      peer = nil
      throw RSessionError.died("R \(process.exitDescription)")
    }
    return nil
  }

  /// Sends SIGINT to R: the running request ends with status "interrupted".
  public func interrupt() {
    process?.signal(SIGINT)
  }

  /// Asks R to quit, then makes sure it has.
  public func stop() {
    guard let process else { return }
    if process.isRunning, let peer {
      _ = try? socket.send([peer, JSONValue.object(["type": "shutdown"]).serialized], dontWait: true)
    }
    process.terminate(grace: 1)
    self.process = nil
    self.peer = nil
  }

  /// The process id of the running R, if any.
  public var pid: Int32? { process?.isRunning == true ? process?.pid : nil }

  /// The process id of the R launched last, which may have ended; any thread
  /// (unlike `pid`, which reaps).
  public var launchedPID: Int32? { pidLock.withLock { launched } }
  private let pidLock = NSLock()
  private var launched: Int32?

  /// `text` escaped for a single-quoted R string literal.
  public static func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
  }

  /// How to run R `code` with Tandem's R library first on `.libPaths()`: the R of
  /// the session, of each R worker and of the package check are started alike.
  public static func command(_ configuration: RConfiguration, running code: String) -> [String] {
    let library = configuration.library.map { "'\(escape($0))'" } ?? "character()"
    return [
      configuration.executable, "--no-echo", "--vanilla", "-e",
      ".libPaths(c(\(library), .libPaths())); \(code)",
    ]
  }
}

extension RSession {
  /// The version of the installed R ("4.2.2"), read from `R --version` without
  /// starting an R session; nil when R is not found.
  public static func installedVersion(executable: String = "R") -> String? {
    guard let output = run([executable, "--version"]) else { return nil }
    let words = output.split(separator: " ")
    guard let index = words.firstIndex(of: "version"), index + 1 < words.count else { return nil }
    return String(words[index + 1])
  }

  /// For each R package, whether R can load it (with `library` first on the path).
  public static func packageStatus(_ packages: [String], executable: String = "R", library: String?)
    -> [String: Bool]
  {
    let names = packages.map { "'\($0)'" }.joined(separator: ",")
    let check = "for (p in c(\(names))) cat(p, requireNamespace(p, quietly = TRUE), '\\n')"
    let output = run(command(RConfiguration(executable: executable, library: library), running: check)) ?? ""
    var status: [String: Bool] = [:]
    for line in output.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count >= 2 { status[String(parts[0])] = parts[1] == "TRUE" }
    }
    return status
  }

  /// What R prints to standard output, or nil when it cannot run; an R that hangs
  /// (a site profile waiting on the network) is stopped after two minutes.
  private static func run(_ arguments: [String]) -> String? {
    (try? ProgramRun.run(arguments, capture: .output, timeout: 120))?.output
  }

}
