import ArgumentParser
import ChildProcess
import EmbeddedPython
import EnginePython
import EngineR
import Exchange
import Foundation
import Futures
import JSON
import JupyterWire
import KernelCore
import KernelRouting
import Logging
import RSession
import Telemetry

/// `tandem kernel -f CONNECTION_FILE`: what Jupyter runs.
struct KernelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kernel",
    abstract: "Run the kernel for a Jupyter client (started by Jupyter, not by hand).",
    discussion: """
      Binds the sockets named in the connection file, starts Python from the given
      environment, and serves until a shutdown request.
      """
  )

  @Option(
    name: [.customShort("f"), .customLong("connection-file")], help: "The connection file Jupyter wrote.")
  var connectionFile: String

  @Option(help: "The python of the environment to embed (its site-packages are used).")
  var python: String = PythonLocation.defaultExecutable()

  @Option(
    help: "The environment's libpython and Python version as `tandem install` found them (LIB@VERSION).")
  var libpython: String?

  @Option(help: "The default cell language: python (R in %%R cells) or r (Python in %%python cells).")
  var language: Language = Languages.host.language

  @Option(name: .customLong("r"), help: "The R program for R cells.")
  var rExecutable = "R"

  @Option(
    help: "The library folder holding Tandem's R package (default: R-library beside the Python environment).")
  var rLibrary: String?

  @Option(help: "Log level (trace, debug, info, notice, warning, error, critical); also TANDEM_LOG_LEVEL.")
  var logLevel: Logger.Level?

  @Option(
    help: ArgumentHelp(
      "Serve Prometheus metrics on http://ADDRESS/metrics (HOST:PORT, or PORT on 127.0.0.1; port 0 picks a "
        + "free one); also TANDEM_METRICS. Off by default.", valueName: "address"))
  var metrics: String?

  func run() throws {
    // Only the Python thread may take SIGINT: block it before any thread exists.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_BLOCK, &set, nil)
    // A write to a closed pipe must not kill the kernel.
    signal(SIGPIPE, SIG_IGN)

    let logger = makeLogger(level: logLevel)
    let connection: ConnectionInfo
    do {
      connection = try ConnectionInfo(contentsOf: connectionFile)
    } catch {
      fail("\(error)")
    }
    guard FileManager.default.isExecutableFile(atPath: python) else {
      fail("Python executable \(python) not found: pass --python /path/to/venv/bin/python")
    }
    let metricsAddress = metricsAddress(logger: logger)
    let environment: PythonEnvironment
    do {
      // What install recorded, while it still holds; else ask the interpreter.
      let recorded = libpython.flatMap { value -> PythonEnvironment? in
        guard let at = value.lastIndex(of: "@") else { return nil }
        return PythonEnvironment.recorded(
          executable: python, library: String(value[..<at]), version: String(value[value.index(after: at)...])
        )
      }
      environment =
        try PythonInterpreter.isHosted
        ? PythonEnvironment.hosted(executable: python) : recorded ?? PythonEnvironment.probe(python)
    } catch {
      fail("\(error)")
    }
    if let problem = environment.problem { fail(problem) }
    let server: KernelServer
    do {
      server = try KernelServer(connection: connection, session: MessageHeader.newID(), logger: logger)
    } catch {
      fail("\(error)")
    }
    let capture: OutputCapture
    do {
      capture = try OutputCapture()
      // What C code prints (extension modules, libraries) shows a line at a time.
      setvbuf(stdout, nil, _IOLBF, 0)
    } catch {
      fail("cannot capture output: \(error)")
    }
    LogOutput.fd = capture.originalStderr
    // Before Python and R start, so that both inherit where large values travel.
    // The private channels live there too: without it there is no R and no pool.
    let folder: PrivateFolder
    do {
      folder = try PrivateFolder.create()
      setenv(PrivateFolder.environmentVariable, folder.path, 1)
    } catch {
      fail("cannot make the kernel's private folder: \(error)")
    }
    // R's temporary folders and the debugger's cell files, on disk: a kernel that
    // is killed leaves them in a folder the next kernel's start removes.
    let scratch: PrivateFolder
    do {
      scratch = try PrivateFolder.create(root: PrivateFolder.scratchRoot)
      setenv(PrivateFolder.scratchVariable, scratch.path, 1)
    } catch {
      folder.remove()
      fail("cannot make the kernel's scratch folder: \(error)")
    }
    let cleanUp = {
      folder.remove()
      scratch.remove()
    }
    let library = rLibrary ?? InstalledFiles.rLibrary(python: python)
    // Where Tandem's R package is, for R workers the kernel's Python starts
    // elsewhere (beside the Dask workers of a cluster it starts itself).
    if let library { setenv("TANDEM_R_LIBRARY", library, 1) }
    let rEngine: REngine
    do {
      let grace = ProcessInfo.processInfo.environment["TANDEM_R_INTERRUPT_GRACE"].flatMap(Double.init) ?? 30
      rEngine = try REngine(
        configuration: RConfiguration(
          executable: rExecutable, library: library, temporaryDirectory: scratch.path),
        directory: folder.path,
        interruptGrace: grace, logger: logger)
    } catch {
      cleanUp()
      fail("cannot set up the R session: \(error)")
    }
    exportSystemTimeZone()
    // Before anything records a metric: handles made earlier would stay no-ops.
    let registry = metricsAddress.map { _ in MetricsEndpoint.bootstrap() }
    // The engines besides the host: each serves its own cells and the host's calls into its language.
    let others: [BridgedEngine] = [rEngine]
    let broker = startBroker(directory: folder.path, rLibrary: library, logger: logger)
    var metricsState = MetricsEndpointState()
    var endpoint: MetricsEndpoint?
    if let metricsAddress, let registry {
      do {
        // Each engine's `processes` may be read from any thread.
        nonisolated(unsafe) let engines = others
        endpoint = try MetricsEndpoint(metricsAddress, registry: registry) {
          broker?.recordGauges()
          KernelMetrics.recordProcesses(engines.flatMap(\.processes))
        }
        metricsState.url = "http://\(endpoint!.address)/metrics"
        logger.notice("serving metrics on \(metricsState.url!)")
      } catch {
        // The kernel runs on without metrics (another kernel may hold the port).
        metricsState.problem = "\(error)"
        logger.error("\(error); the kernel runs without metrics")
      }
    }
    let rFirst = language == rEngine.language
    if rFirst {
      // R-first: R boots while Python initialises.
      rEngine.launch()
    }
    let pythonEngine = IPythonEngine(
      python: environment, peers: others, defaultLanguage: language, futures: broker?.local,
      metrics: metricsState, connectionFile: URL(fileURLWithPath: connectionFile).standardizedFileURL.path,
      logger: logger)
    do {
      try pythonEngine.start()
    } catch {
      capture.flush()
      cleanUp()
      fail("\(error)")
    }
    if rFirst {
      // R-first: start R now, so the first cell does not wait for it.
      pythonEngine.thread.enqueue { rEngine.startEagerly() }
    }
    let router = CellRouter(
      host: pythonEngine, others: others, defaultLanguage: language, thread: pythonEngine.thread)
    let kernel = Kernel(
      transport: server, router: router, output: capture, debugger: pythonEngine.debugger, logger: logger)
    logger.info("serving \(connection.endpoint(.shell)) with Python \(python)")
    exitWithParent(logger: logger) { cleanUp() }
    kernel.run()
    endpoint?.stop()
    broker?.stop()
    cleanUp()
    Foundation.exit(0)
  }
}

extension KernelCommand {
  /// The address metrics are served on (`--metrics`, else `TANDEM_METRICS`), or nil
  /// when they are off. A bad address ends the kernel with the form expected; an
  /// address beyond loopback is served as asked, with a warning.
  fileprivate func metricsAddress(logger: Logger) -> MetricsAddress? {
    guard let text = metrics ?? ProcessInfo.processInfo.environment["TANDEM_METRICS"], !text.isEmpty else {
      return nil
    }
    do {
      let address = try MetricsAddress(parsing: text)
      if !address.isLoopback {
        logger.warning(
          "metrics on \(address) can be read from other machines: use 127.0.0.1 to keep them local")
      }
      return address
    } catch {
      fail("\(error)")
    }
  }
}

/// R asks systemd (`timedatectl`) for the time zone when TZ is unset, which prints
/// errors where systemd does not run (containers); /etc/localtime says the same.
private func exportSystemTimeZone() {
  guard ProcessInfo.processInfo.environment["TZ"] == nil,
    let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/etc/localtime"),
    let range = target.range(of: "zoneinfo/")
  else { return }
  setenv("TZ", String(target[range.upperBound...]), 1)
}

extension KernelCommand {
  /// The futures broker, started before Python and R so that both find it in
  /// `TANDEM_FUTURES`; its workers are this program's `worker` command.
  fileprivate func startBroker(directory: String, rLibrary library: String?, logger: Logger) -> Broker? {
    var environment = ProcessInfo.processInfo.environment
    // Workers send values as messages: the exchange area's files belong to the kernel.
    environment[PrivateFolder.environmentVariable] = nil
    // R workers' temporary folders go with the kernel's scratch folder.
    if let scratch = environment[PrivateFolder.scratchVariable] { environment["TMPDIR"] = scratch }
    let executable = InstalledFiles.executable
    let launch = WorkerLaunch(
      command: { [python, rExecutable] language in
        [executable, "worker", "--language", language.rawValue, "--python", python, "--r", rExecutable]
          + (library.map { ["--r-library", $0] } ?? [])
      }, environment: environment)
    let size = ProcessInfo.processInfo.environment["TANDEM_WORKERS"].flatMap { Int($0) }
    var stuckAfter = 300.0
    if let text = ProcessInfo.processInfo.environment["TANDEM_STUCK_AFTER"] {
      if let seconds = Double(text), seconds > 0 {
        stuckAfter = seconds
      } else {
        logger.warning(
          "TANDEM_STUCK_AFTER=\(text) is not a positive number of seconds; tasks count as stuck after 300 s")
      }
    }
    do {
      let broker = try Broker(
        directory: directory, launch: launch, poolSize: size, stuckAfter: stuckAfter, logger: logger)
      setenv("TANDEM_FUTURES", broker.endpoint, 1)
      broker.start()
      return broker
    } catch {
      logger.warning("no futures broker (\(error)); tandem.submit and plan(tandem::workers) are unavailable")
      return nil
    }
  }
}

/// Like ipykernel: a kernel whose launcher (the Jupyter server, nbclient) died
/// without shutting it down exits instead of running on as an orphan; R follows it.
private func exitWithParent(logger: Logger, cleanUp: @escaping @Sendable () -> Void) {
  let parent = getppid()
  guard parent != 1 else { return }  // started by init: nothing to watch
  let watcher = Thread {
    if let exit = ChildProcess.exitDescriptor(of: parent), getppid() == parent {
      // Sleeps until the parent ends, rather than looking every second.
      var parentEnds = pollfd(fd: exit, events: Int16(POLLIN), revents: 0)
      while poll(&parentEnds, 1, -1) < 0 && errno == EINTR {}
      close(exit)
    }
    while getppid() == parent { Thread.sleep(forTimeInterval: 1) }
    logger.warning("the process that started the kernel is gone; exiting")
    cleanUp()
    Foundation.exit(0)
  }
  watcher.name = "parent watcher"
  watcher.start()
}
