import JSON

/// A language the kernel runs cells in, in the manner of xeus's interpreter interface:
/// the kernel does the bookkeeping (busy/idle, replies, queues, aborts), the router
/// picks the engine for each cell, and the engine only serves requests.
///
/// A new language is a new engine: conform to this, declare the language (its cell
/// magics, its kernelspec), serve the kinds it can, and give it to the
/// `CellRouter`. Requests it does not serve go to the router's host engine.
public protocol LanguageEngine: AnyObject {
  /// The language of the cells this engine runs, its cell magics and its kernelspec.
  var declaration: LanguageDeclaration { get }

  /// The processes the engine's language runs in now, besides the kernel (for the
  /// metrics); read from any thread.
  var processes: [EngineProcess] { get }

  /// The `language_info`, `banner` and `help_links` of kernel_info_reply, used when
  /// this engine's language is the kernel's default.
  var kernelInfo: JSONValue { get }

  /// The requests this engine serves; read from any thread.
  var servedKinds: Set<RequestKind> { get }

  /// Serves one request on the engine thread. Returns the reply, or nil for
  /// messages that have no reply (comm messages).
  func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply?

  /// Called on the engine thread after a request's reply and idle status went out:
  /// the place for deferred work that no client should wait for.
  func requestFinished()

  /// Orderly shutdown on the engine thread (history saved, atexit handlers run).
  func shutdown()
}

extension LanguageEngine {
  /// The language of the cells this engine runs.
  public var language: Language { declaration.language }

  public var processes: [EngineProcess] { [] }
}

/// The router's host: the engine that serves what no other engine serves (history,
/// comms, cells whose first line is a magic) and keeps the kernel's history, in
/// which the cells other engines run are recorded too.
public protocol HostEngine: LanguageEngine {
  /// Records a cell that another engine ran, under its execution count.
  func recordHistory(_ code: String, executionCount: Int64)
  /// Another engine is about to run a cell: what Python shows meanwhile (R's calls
  /// into Python, the pool panel) goes to that cell.
  func cellStarting(_ frontend: Frontend)
  /// A cell of any language ended; its reply is not sent yet.
  func cellEnded()
}

/// The thread the main shell's requests are served on, by every engine. Python owns
/// it (R's calls into Python must run there), so it is where waits release Python's
/// lock and where an interrupt lands. Subshells are served on threads it spawns;
/// "on the thread" below means on any of them, unless it says the main one.
public protocol EngineThread: AnyObject {
  /// Runs work on the thread, in order.
  func enqueue(_ work: @escaping () -> Void)

  /// Interrupts the main thread's running request (called from any thread).
  func interrupt()

  /// Starts another thread on which engines serve requests (a subshell's): `body`
  /// runs there as the main thread's work does, holding the thread's lock except in
  /// `waiting`, and the thread ends when it returns. Called from any thread.
  func spawn(name: String, _ body: @escaping () -> Void) throws

  /// Drops an interrupt that arrived after the request it was meant for had ended;
  /// called on the main thread before each request.
  func discardStaleInterrupt()

  /// On the thread: runs `body` with the interpreter lock released, for waits.
  func waiting<T>(_ body: () -> T) -> T

  /// On the thread: whether an interrupt arrived since the last call (consumed);
  /// always false on a subshell's thread, as interrupts are for the main shell.
  /// Only where a cell's code runs (inside `interruptible`, or in a host cell's
  /// code): an interrupt that lands elsewhere waits for the cell it was meant for.
  func takeInterrupt() -> Bool

  /// On the thread: runs `body`, a cell's code run outside the thread's language
  /// (R's), as the place an interrupt is meant for: `takeInterrupt()` reports
  /// interrupts meanwhile. Returns nil without running `body` when an interrupt
  /// arrived before it, for the cell it was meant for.
  func interruptible<T>(_ body: () -> T) -> T?
}

/// The frontend that sent the request being served: where an engine sends output
/// and asks for input. Bound to one request at a time by its shell.
public protocol Frontend: AnyObject {
  /// Publishes an IOPub message (stream, display_data, error, comm_msg, ...) whose
  /// parent is the current request. Content and metadata are serialised JSON.
  func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]])

  /// Publishes an IOPub message whose parent is `parent` (a serialised header), for
  /// output that belongs to a request that may have ended. Text captured so far goes
  /// out first. Callable from any thread.
  func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]], parent: [UInt8])

  /// The serialised header of the request being served, if any. Callable from any thread.
  var currentParent: [UInt8]? { get }

  /// The subshell (JEP 91) whose requests this frontend serves, on a thread of its
  /// own; nil for the main shell.
  var subshellID: String? { get }

  /// Sends input_request on the stdin channel. Throws when the request did not allow stdin.
  func sendInputRequest(prompt: String, password: Bool) throws

  /// The value of the input_reply to the last input request, if one came within `timeout`.
  func takeInputReply(timeout: Double) -> String?
}

extension Frontend {
  /// Waits on the engine thread for the reply to an input request, releasing the
  /// thread's lock between short waits; `check` runs between them and ends the
  /// wait by throwing (an interrupt, a child that died).
  public func awaitInputReply(on thread: EngineThread, check: () throws -> Void) throws -> String {
    while true {
      if let value = thread.waiting({ takeInputReply(timeout: 0.05) }) { return value }
      try check()
    }
  }
}
