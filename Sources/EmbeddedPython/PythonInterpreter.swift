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
  /// The environment to embed: its `python` (a virtualenv's `bin/python`) sets
  /// `sys.executable`, `sys.prefix` and so which site-packages are found; its
  /// libpython is loaded at start.
  public let environment: PythonEnvironment
  public var executable: String { environment.executable }
  private let logger: Logger
  private let condition = NSCondition()
  private var queue: [() -> Void] = []
  private var pythonThread = pthread_t()
  private var startResult: Result<Void, PythonError>?

  public init(environment: PythonEnvironment, logger: Logger) {
    self.environment = environment
    self.logger = logger
  }

  /// Loads the environment's libpython, starts the Python thread and initialises
  /// CPython on it. In a python hosting the kernel, takes that python's own API and
  /// hands the interpreter to its main thread instead (`serveHostThread`).
  public func start() throws {
    if let problem = environment.problem {
      throw PythonError(typeName: "PythonLoadError", message: problem)
    }
    let hosted = Self.host.isHosted
    guard hosted || environment.library != nil else {
      throw PythonError(typeName: "PythonLoadError", message: environment.missingLibrary)
    }
    var error = [CChar](repeating: 0, count: 1024)
    guard tandem_python_load(hosted ? nil : environment.library!, &error, error.count) == 0 else {
      let reason = String(cString: error)
      throw PythonError(
        typeName: "PythonLoadError", message: "cannot load \(environment.library ?? "Python"): \(reason)")
    }
    if hosted {
      Self.host.hand(self)
    } else {
      let thread = Thread { [self] in main(hosted: false) }
      thread.name = "tandem-python"
      thread.stackSize = 16 << 20
      thread.start()
    }
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

  /// On a thread that holds the GIL (the Python thread, or a Python thread that
  /// called into Swift): runs `body` with the GIL released, for waits in Swift.
  public func allowingThreads<T>(_ body: () -> T) -> T {
    let state = PyEval_SaveThread()
    defer { PyEval_RestoreThread(state) }
    return body()
  }

  /// From a thread that does not hold the GIL (the transport's): runs `body` with it
  /// held, without waiting for the Python thread to be idle. For short work only, such
  /// as starting a Python thread.
  public func withGIL<T>(_ body: () throws -> T) rethrows -> T {
    let state = PyGILState_Ensure()
    defer { PyGILState_Release(state) }
    return try body()
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

  private func main(hosted: Bool) {
    pythonThread = pthread_self()
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)

    let result = hosted ? adopt() : initialize()
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

  /// In a hosting python, on its main thread: Python runs already; this thread
  /// takes the GIL for good (the loop lends it out between pieces of work).
  private func adopt() -> Result<Void, PythonError> {
    _ = PyGILState_Ensure()
    let argv = PyRef(list: [PyRef("")])
    PySys_SetObject("argv", argv.pointer)
    // os.environ is what this python read when it started; the kernel has set
    // variables since (where values travel, the futures broker), which an embedded
    // Python would have read. Updated, not replaced: modules may hold the mapping.
    do {
      let os = try PyRef.importModule("os")
      guard let mapping = os.attribute("environ") else { throw PythonError.fetch() }
      var entry = environ
      while let pointer = entry.pointee {
        // Bytes decoded as os.environ decodes them, so any value survives unchanged.
        let bytes = Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer))).map {
          UInt8(bitPattern: $0)
        }
        if let equals = bytes.firstIndex(of: UInt8(ascii: "=")), equals > 0 {
          let name = try os.callMethod("fsdecode", PyRef(bytes: Array(bytes[..<equals])))
          let value = try os.callMethod("fsdecode", PyRef(bytes: Array(bytes[(equals + 1)...])))
          _ = try mapping.callMethod("__setitem__", name, value)
        }
        entry += 1
      }
    } catch {
      return .failure(error as? PythonError ?? PythonError(typeName: "PythonInitError", message: "\(error)"))
    }
    logger.debug("Python \(environment.version) hosts the kernel: \(executable)")
    return .success(())
  }

  private func initialize() -> Result<Void, PythonError> {
    // The program name locates the environment, as for its own `python`: a venv's
    // pyvenv.cfg beside it, its site-packages. (PyConfig would say the same, but its
    // layout differs between versions; this call is in every one of 3.10-3.13.)
    guard let name = Py_DecodeLocale(executable, nil) else {
      return .failure(PythonError(typeName: "PythonInitError", message: "cannot decode \(executable)"))
    }
    Py_SetProgramName(name)  // kept: Python reads it for as long as it runs
    Py_InitializeEx(1)  // Python's own SIGINT handler raises KeyboardInterrupt
    // As `python -c` has it, without the kernel's own arguments.
    let argv = PyRef(list: [PyRef("")])
    PySys_SetObject("argv", argv.pointer)
    logger.debug("Python \(environment.version) initialised from \(executable)")
    return .success(())
  }
}

extension PythonInterpreter {
  /// Marks this process as a python that loaded the kernel (`python -m tandem._host`):
  /// `start()` then uses that python instead of loading a libpython.
  public static func hostedHere() { host.markHosted() }

  /// Whether this process is a python hosting the kernel.
  public static var isHosted: Bool { host.isHosted }

  /// On the hosting python's main thread, which holds no GIL: waits for `start()`,
  /// then is the interpreter's Python thread for as long as the process runs.
  public static func serveHostThread() -> Never {
    let interpreter = host.waitForInterpreter()
    interpreter.main(hosted: true)
    // Only a failed start returns here; start() reports it and the command exits.
    while true { pause() }
  }

  /// The hosting python's main thread and the interpreter it waits for.
  final class Host: @unchecked Sendable {
    private let condition = NSCondition()
    private var hosted = false
    private var interpreter: PythonInterpreter?

    var isHosted: Bool { condition.withLock { hosted } }
    func markHosted() { condition.withLock { hosted = true } }

    func hand(_ interpreter: PythonInterpreter) {
      condition.withLock {
        self.interpreter = interpreter
        condition.broadcast()
      }
    }

    func waitForInterpreter() -> PythonInterpreter {
      condition.lock()
      defer { condition.unlock() }
      while interpreter == nil { condition.wait() }
      return interpreter!
    }
  }

  static let host = Host()
}

extension PythonInterpreter {
  /// `sys.version` of the embedded interpreter.
  public func version() throws -> String {
    try sync { String(cString: Py_GetVersion()) }
  }
}
