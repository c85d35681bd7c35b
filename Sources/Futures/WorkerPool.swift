import ChildProcess
import Foundation

/// How the pool starts a worker.
public struct WorkerLaunch: Sendable {
  /// The command line of a worker of a language, without the endpoint and id the
  /// pool appends (`--connect ENDPOINT --id ID`).
  public var command: @Sendable (WorkerLanguage) -> [String]
  /// The workers' environment.
  public var environment: [String: String]

  public init(command: @escaping @Sendable (WorkerLanguage) -> [String], environment: [String: String]) {
    self.command = command
    self.environment = environment
  }
}

/// The worker processes of every language: starting them, their sizes, noticing
/// which ended. Which tasks they run is the broker's business. Used on the broker's
/// thread only.
final class WorkerPool {
  private let launch: WorkerLaunch
  private let endpoint: String
  /// Where workers' state pages are made (each is unlinked once its worker maps it).
  private let stateDirectory: String
  private(set) var workers: [[UInt8]: WorkerProcess] = [:]
  private var sizes: [WorkerLanguage: Int] = [:]
  private var nextWorker = 1
  /// How many workers of a language failed to start since one last did.
  private var startFailures: [WorkerLanguage: Int] = [:]

  /// `size` workers per language; they connect to `endpoint`.
  init(launch: WorkerLaunch, endpoint: String, stateDirectory: String, size: Int) {
    self.launch = launch
    self.endpoint = endpoint
    self.stateDirectory = stateDirectory
    for language in WorkerLanguage.allCases { sizes[language] = size }
  }

  /// The size asked for a language.
  func size(_ language: WorkerLanguage) -> Int { sizes[language]! }

  func setSize(_ language: WorkerLanguage, _ size: Int) { sizes[language] = size }

  /// The workers of a language that are not retiring.
  func count(_ language: WorkerLanguage) -> Int {
    workers.values.reduce(0) { $0 + ($1.language == language && !$1.retiring ? 1 : 0) }
  }

  /// Starts one worker; throws why it cannot.
  func spawn(_ language: WorkerLanguage) throws {
    let name = "w\(nextWorker)"
    nextWorker += 1
    var arguments = launch.command(language) + ["--connect", endpoint, "--id", name]
    var state: WorkerState?
    if language == .python {
      state = try WorkerState(path: "\(stateDirectory)/worker-\(getpid())-\(name)")
      arguments += ["--state", state!.path]
    }
    do {
      let process = try ChildProcess(arguments: arguments, environment: launch.environment)
      workers[Array(name.utf8)] = WorkerProcess(
        name: name, language: language, process: process, state: state)
    } catch {
      state?.unlink()
      throw error
    }
  }

  /// A worker this pool started announced itself; nil for a peer it did not start.
  func ready(_ id: [UInt8]) -> WorkerProcess? {
    guard let worker = workers[id] else { return nil }
    worker.ready = true
    startFailures[worker.language] = nil
    worker.state?.unlink()
    return worker
  }

  /// A worker that ended, and what follows for its language.
  struct Ended {
    let id: [UInt8]
    let worker: WorkerProcess
    /// "Python worker w3 (pid 123) exited with status 1".
    let how: String
    /// It never came up, and neither did as many others as the pool has: give up
    /// on the language rather than restarting workers forever.
    let givesUp: Bool
    /// For the restart metric: `killed` (by a signal), `exited`, or `start_failed`.
    var cause: String {
      !worker.ready ? "start_failed" : worker.process.endedBySignal == true ? "killed" : "exited"
    }
  }

  /// Removes the workers that ended (retiring ones silently) and says which.
  func reap(runningWorkers: (WorkerLanguage) -> Int) -> [Ended] {
    var ended: [Ended] = []
    for (id, worker) in workers where !worker.process.isRunning {
      workers[id] = nil
      worker.state?.unlink()
      if worker.retiring { continue }
      let how =
        "\(worker.language.displayName) worker \(worker.name) (pid \(worker.process.pid)) "
        + worker.process.exitDescription
      var givesUp = false
      if !worker.ready {
        let failures = (startFailures[worker.language] ?? 0) + 1
        startFailures[worker.language] = failures
        givesUp = failures >= size(worker.language) && runningWorkers(worker.language) == 0
      }
      ended.append(Ended(id: id, worker: worker, how: how, givesUp: givesUp))
    }
    return ended
  }

  /// Stops the workers of a language that have not come up yet.
  func stopStarting(_ language: WorkerLanguage) {
    for (id, worker) in workers where worker.language == language && !worker.ready {
      worker.process.terminate(grace: 0)
      workers[id] = nil
    }
    startFailures[language] = nil
  }

  func signal(_ id: [UInt8], _ signal: Int32) {
    workers[id]?.process.signal(signal)
  }

  /// Ends every worker within a second (they were asked to stop).
  func terminateAll() {
    let deadline = Date(timeIntervalSinceNow: 1)
    for worker in workers.values {
      worker.process.terminate(grace: max(0, deadline.timeIntervalSinceNow))
      worker.state?.unlink()
    }
    workers.removeAll()
  }
}

/// One worker process of the pool.
final class WorkerProcess {
  let name: String
  let language: WorkerLanguage
  let process: ChildProcess
  /// Its state page (Python workers).
  let state: WorkerState?
  /// How many tasks it was sent.
  var sent: UInt64 = 0
  /// Its tasks that returned, and that raised.
  var done = 0
  var failed = 0
  /// Connected and announced itself.
  var ready = false
  /// Asked to stop because the pool shrank.
  var retiring = false

  init(name: String, language: WorkerLanguage, process: ChildProcess, state: WorkerState?) {
    self.name = name
    self.language = language
    self.process = process
    self.state = state
  }
}
