@preconcurrency import CPython
import Foundation
import Logging

/// The embedded CPython and the one thread that runs it.
///
/// Python is initialised on a dedicated thread, which then runs every piece of Python
/// work submitted to it, in order. That thread is the only one with SIGINT unblocked
/// (the host blocks it everywhere else), so both a process-wide SIGINT and
/// `interrupt()` raise KeyboardInterrupt in the running Python code.
public final class PythonInterpreter: @unchecked Sendable {
  /// The `python` of the environment to use (a virtualenv's `bin/python`): it sets
  /// `sys.executable`, `sys.prefix` and so which site-packages are found.
  public let executable: String
  private let logger: Logger
  private let condition = NSCondition()
  private var queue: [() -> Void] = []
  private var pythonThread = pthread_t()
  private var startResult: Result<Void, PythonError>?

  public init(executable: String, logger: Logger) {
    self.executable = executable
    self.logger = logger
  }

  /// Starts the Python thread and initialises CPython on it.
  public func start() throws {
    let thread = Thread { [self] in main() }
    thread.name = "tandem-python"
    thread.stackSize = 16 << 20
    thread.start()
    condition.lock()
    while startResult == nil { condition.wait() }
    let result = startResult!
    condition.unlock()
    try result.get()
  }

  /// Queues work for the Python thread; it runs with the GIL held.
  public func submit(_ work: @escaping () -> Void) {
    condition.lock()
    queue.append(work)
    condition.signal()
    condition.unlock()
  }

  /// Runs work on the Python thread and waits for its result. Never call it from the
  /// Python thread itself.
  public func sync<T>(_ work: @escaping () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    var result: Result<T, Error>!
    submit {
      result = Result { try work() }
      done.signal()
    }
    done.wait()
    return try result.get()
  }

  /// Delivers SIGINT to the Python thread: running Python code raises KeyboardInterrupt
  /// within a few milliseconds, also inside `time.sleep` and blocking system calls.
  public func interrupt() {
    pthread_kill(pythonThread, SIGINT)
  }

  /// On the Python thread: runs `body` with the GIL released, for waits in Swift.
  public func allowingThreads<T>(_ body: () -> T) -> T {
    let state = PyEval_SaveThread()
    defer { PyEval_RestoreThread(state) }
    return body()
  }

  /// On the Python thread: runs pending signal handlers, throwing KeyboardInterrupt
  /// (as a `PythonError`, with the exception left set for Python) if one fired.
  public func checkSignals() throws {
    if PyErr_CheckSignals() != 0 {
      let error = PythonError.fetch()
      PythonCallback.raise(error)
      throw error
    }
  }

  /// On the Python thread: drops a SIGINT that arrived while no cell was running.
  public func discardPendingInterrupt() {
    _ = takePendingInterrupt()
  }

  /// On the Python thread: runs pending signal handlers; true (exception cleared) if
  /// one raised, as SIGINT does with KeyboardInterrupt.
  public func takePendingInterrupt() -> Bool {
    guard PyErr_CheckSignals() != 0 else { return false }
    PyErr_Clear()
    return true
  }

  private func main() {
    pythonThread = pthread_self()
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)

    let result = initialize()
    condition.lock()
    startResult = result
    condition.broadcast()
    condition.unlock()
    guard case .success = result else { return }

    var state = PyEval_SaveThread()
    while true {
      condition.lock()
      while queue.isEmpty { condition.wait() }
      let work = queue.removeFirst()
      condition.unlock()
      PyEval_RestoreThread(state)
      work()
      state = PyEval_SaveThread()
    }
  }

  private func initialize() -> Result<Void, PythonError> {
    let config = UnsafeMutablePointer<PyConfig>.allocate(capacity: 1)
    defer {
      PyConfig_Clear(config)
      config.deallocate()
    }
    PyConfig_InitPythonConfig(config)
    config.pointee.install_signal_handlers = 1
    config.pointee.parse_argv = 0
    var status = PyConfig_SetBytesString(config, &config.pointee.executable, executable)
    if PyStatus_Exception(status) == 0 {
      var argv: [UnsafeMutablePointer<CChar>?] = [strdup("")]
      defer { for pointer in argv { free(pointer) } }
      status = PyConfig_SetBytesArgv(config, 1, &argv)
    }
    if PyStatus_Exception(status) == 0 {
      status = Py_InitializeFromConfig(config)
    }
    if PyStatus_Exception(status) != 0 {
      let reason = status.err_msg.map { String(cString: $0) } ?? "unknown error"
      return .failure(PythonError(typeName: "PythonInitError", message: reason))
    }
    logger.debug("Python initialised from \(executable)")
    return .success(())
  }
}

extension PythonInterpreter {
  /// The version of the linked libpython, as `sys.version` shows it.
  public static var libraryVersion: String { String(cString: Py_GetVersion()) }

  /// The file the linked libpython was loaded from, or that it is linked in.
  public static var libraryPath: String {
    // procfs files report size 0, so read to the end rather than by size.
    let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data()
    let maps = String(decoding: data, as: UTF8.self)
    for line in maps.split(separator: "\n") {
      if let path = line.split(separator: " ").last, path.contains("libpython") { return String(path) }
    }
    let version = libraryVersion.split(separator: " ").first?.split(separator: ".").prefix(2).joined(
      separator: ".")
    return "libpython\(version ?? "3").a, linked in"
  }

  /// Imports a module on the Python thread and returns its `__version__` (or "").
  public func moduleVersion(_ name: String) throws -> String {
    try sync {
      let module = try PyRef.importModule(name)
      return module.attribute("__version__")?.text ?? ""
    }
  }
}
