import CZeroMQ
import ChildProcess
import Foundation
import Logging
import ZeroMQ

/// How the pool starts a worker.
public struct WorkerLaunch: Sendable {
  /// The command line of a worker of a language, without the endpoint and id the
  /// broker appends (`--connect ENDPOINT --id ID`).
  public var command: @Sendable (WorkerLanguage) -> [String]
  /// The workers' environment.
  public var environment: [String: String]

  public init(command: @escaping @Sendable (WorkerLanguage) -> [String], environment: [String: String]) {
    self.command = command
    self.environment = environment
  }
}

/// The futures broker: a ZeroMQ ROUTER that clients (the kernel's Python, the R
/// session) submit tasks to, and a pool of long-lived worker processes per language
/// that run them. Workers start at the first task of their language; a worker that
/// dies fails only the task it was running and is replaced.
///
/// The broker runs on its own thread; `interrupt()` and `stop()` may be called from
/// any thread.
public final class Broker: @unchecked Sendable {
  /// Where clients and workers connect.
  public let endpoint: String

  private let launch: WorkerLaunch
  private let logger: Logger
  private let context = ZMQContext()
  private let socket: ZMQSocket
  private var scheduler = Scheduler(prefetching: [.python])
  private var workers: [[UInt8]: WorkerProcess] = [:]
  private var poolSize: [WorkerLanguage: Int] = [:]
  private var nextWorker = 1
  private var nextTask: UInt64 = 1
  /// Where workers' state pages are made (each is unlinked once its worker maps it).
  private let stateDirectory: String
  /// Why the last workers of a language could not start, while none is running.
  private var startFailures: [WorkerLanguage: Int] = [:]

  /// Held by the broker's thread while it works (not while it waits), so that the
  /// in-process client can ask about its tasks from its own thread.
  private let stateLock = NSLock()
  private let commandLock = NSLock()
  private var commands: [Command] = []
  private var wakeRead: Int32 = -1
  private var wakeWrite: Int32 = -1
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)

  private enum Command { case interrupt, stop }

  /// The routing id standing for the in-process client (ZeroMQ ids never start
  /// with a zero byte, so no socket peer has it).
  private static let localPeer: [UInt8] = [0]
  private var localInbox: [[[UInt8]]] = []
  private var localOutbox: [[[UInt8]]] = []
  private let localOutboxReady = NSCondition()

  /// Binds the broker at `ipc://directory/futures`; `directory` must be the
  /// kernel's private folder, which only this user can enter: whoever can connect
  /// can run code as this user, so the broker never listens on a TCP port.
  /// `poolSize` workers per language, the number of cores by default.
  public init(directory: String, launch: WorkerLaunch, poolSize: Int? = nil, logger: Logger) throws {
    self.launch = launch
    self.logger = logger
    stateDirectory = directory
    socket = try ZMQSocket(context: context, kind: .router)
    // A long batch of results for one client must queue, not be dropped.
    try socket.setOption(ZMQ_SNDHWM, 0)
    try socket.setOption(ZMQ_RCVHWM, 0)
    try socket.bind("ipc://\(directory)/futures")
    endpoint = socket.lastEndpoint
    let size = max(1, poolSize ?? ProcessInfo.processInfo.activeProcessorCount)
    for language in WorkerLanguage.allCases { self.poolSize[language] = size }
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw ZMQError(call: "pipe", errno: errno) }
    wakeRead = fds[0]
    wakeWrite = fds[1]
    _ = fcntl(wakeRead, F_SETFD, FD_CLOEXEC)
    _ = fcntl(wakeWrite, F_SETFD, FD_CLOEXEC)
    _ = fcntl(wakeWrite, F_SETFL, O_NONBLOCK)
  }

  /// Starts the broker's thread.
  public func start() {
    let thread = Thread { [self] in
      run()
      finished.signal()
    }
    thread.name = "futures broker"
    self.thread = thread
    thread.start()
  }

  /// Cancels every queued task and interrupts the running ones (their futures end
  /// with KeyboardInterrupt / an R interrupt). Any thread.
  public func interrupt() { post(.interrupt) }

  /// Stops the workers and the broker's thread. Any thread.
  public func stop() {
    guard thread != nil else { return }
    post(.stop)
    _ = finished.wait(timeout: .now() + 3)
  }

  /// The in-process client (the kernel's own Python): sends one message, framed
  /// as a socket client's would be (without the routing id). Any thread.
  public func sendLocal(_ frames: [[UInt8]]) {
    commandLock.lock()
    localInbox.append(frames)
    let wake = localInbox.count == 1
    commandLock.unlock()
    if wake {
      var byte: UInt8 = 0
      _ = write(wakeWrite, &byte, 1)
    }
  }

  /// The in-process client's messages from the broker, waiting up to `timeout`
  /// seconds for the first; empty when none came. Any one thread.
  public func receiveLocal(timeout: Double) -> [[[UInt8]]] {
    localOutboxReady.lock()
    defer { localOutboxReady.unlock() }
    if localOutbox.isEmpty {
      _ = localOutboxReady.wait(until: Date(timeIntervalSinceNow: timeout))
    }
    let messages = localOutbox
    localOutbox.removeAll()
    return messages
  }

  /// Takes the in-process client's task off the queue if no worker has it yet;
  /// returns whether it did (as `concurrent.futures` cancels only what has not
  /// started). Any thread.
  public func cancelLocal(_ clientTaskID: [UInt8]) -> Bool {
    localTaskWaits(clientTaskID, removing: true)
  }

  /// Whether the in-process client's task still waits for a worker. Any thread.
  public func isQueuedLocal(_ clientTaskID: [UInt8]) -> Bool {
    localTaskWaits(clientTaskID, removing: false)
  }

  /// Whether the task waits: submitted but not read by the broker's thread yet, or
  /// in the scheduler's queue; `removing` takes it out of either.
  private func localTaskWaits(_ clientTaskID: [UInt8], removing: Bool) -> Bool {
    stateLock.lock()
    defer { stateLock.unlock() }
    commandLock.lock()
    let unread = localInbox.firstIndex { $0.count >= 2 && $0[0] == Verb.submit && $0[1] == clientTaskID }
    if let unread, removing { localInbox.remove(at: unread) }
    commandLock.unlock()
    if unread != nil { return true }
    return removing
      ? scheduler.cancel(clientTaskID: clientTaskID, replyTo: Self.localPeer)
      : scheduler.isQueued(clientTaskID: clientTaskID, replyTo: Self.localPeer)
  }

  private func post(_ command: Command) {
    commandLock.lock()
    commands.append(command)
    commandLock.unlock()
    var byte: UInt8 = 1
    _ = write(wakeWrite, &byte, 1)
  }

  // MARK: - The broker thread

  private func run() {
    var lastReap = Date()
    while true {
      var poller = ZMQPoller()
      poller.add(socket)
      poller.add(fd: wakeRead)
      // With workers alive, wake up now and then to notice one that died.
      let ready = poller.poll(timeoutMilliseconds: workers.isEmpty ? -1 : 100)
      stateLock.lock()
      defer { stateLock.unlock() }
      if ready[0] {
        while let frames = try? socket.receive(dontWait: true) { handle(frames) }
      }
      if ready[1] {
        var buffer = [UInt8](repeating: 0, count: 64)
        _ = read(wakeRead, &buffer, buffer.count)
        commandLock.lock()
        let pending = commands
        commands.removeAll()
        let local = localInbox
        localInbox.removeAll()
        commandLock.unlock()
        for frames in local { handle([Self.localPeer] + frames) }
        for command in pending {
          switch command {
          case .interrupt: interruptAll()
          case .stop:
            shutDownWorkers()
            socket.close()
            return
          }
        }
      }
      if !workers.isEmpty && (!ready[0] || Date().timeIntervalSince(lastReap) > 0.1) {
        reap()
        lastReap = Date()
      }
      dispatch()
    }
  }

  private func handle(_ frames: [[UInt8]]) {
    guard frames.count >= 2 else { return }
    let peer = frames[0]
    let verb = frames[1]
    switch verb {
    case Verb.hello:
      // A socket client says hello first, to know the broker is there.
      send([peer, Verb.hello])
    case Verb.submit where frames.count >= 4:
      guard let language = WorkerLanguage(rawValue: String(decoding: frames[3], as: UTF8.self)) else {
        send([peer, Verb.failed, frames[2], Verb.lost, Array("unknown worker language".utf8)])
        return
      }
      let task = QueuedTask(
        id: nextTask, replyTo: peer, clientTaskID: frames[2], language: language,
        payload: Array(frames.dropFirst(4)))
      nextTask += 1
      scheduler.submit(task)
      ensurePool(language)
    case Verb.cancel where frames.count >= 3:
      if scheduler.cancel(clientTaskID: frames[2], replyTo: peer) {
        send([peer, Verb.failed, frames[2], Verb.cancelled, Array("cancelled".utf8)])
      }
    case Verb.resize where frames.count >= 4:
      if let language = WorkerLanguage(rawValue: String(decoding: frames[2], as: UTF8.self)),
        let size = Int(String(decoding: frames[3], as: UTF8.self)), size > 0
      {
        resize(language, to: size)
      }
    case Verb.ready where frames.count >= 3:
      // Only a worker this broker started (and named) becomes a worker.
      guard let worker = workers[peer] else {
        logger.warning("futures broker: dropped a ready message from a peer it did not start")
        return
      }
      worker.ready = true
      startFailures[worker.language] = nil
      worker.state?.unlink()
      scheduler.addWorker(peer, language: worker.language)
      logger.debug("\(worker.language.displayName) worker \(worker.name) ready (pid \(worker.process.pid))")
    case Verb.done where frames.count >= 3:
      guard let id = UInt64(frame: frames[2]), let task = scheduler.finish(id, on: peer, at: Self.now())
      else {
        return
      }
      send([task.replyTo, Verb.done, task.clientTaskID] + frames.dropFirst(3))
      retireIfSurplus(peer)
    case Verb.output where frames.count >= 5:
      // Output of a task that was given up still reaches its client.
      guard let id = UInt64(frame: frames[2]),
        let task = scheduler.held(by: peer).first(where: { $0.id == id })
      else { return }
      send([task.replyTo, Verb.output, task.clientTaskID, frames[3], frames[4]])
    default:
      logger.warning("futures broker: unexpected message \(String(decoding: verb.prefix(32), as: UTF8.self))")
    }
  }

  private func send(_ frames: [[UInt8]]) {
    if frames[0] == Self.localPeer {
      localOutboxReady.lock()
      localOutbox.append(Array(frames.dropFirst()))
      localOutboxReady.signal()
      localOutboxReady.unlock()
      return
    }
    do {
      try socket.send(frames, dontWait: true)
    } catch {
      logger.warning("futures broker: cannot send: \(error)")
    }
  }

  private static let interrupted = Array("cancelled by an interrupt".utf8)

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

  private func dispatch() {
    // An idle worker gets the tasks others hold but have not started.
    for id in scheduler.stealable(.python) { scheduler.requeue(takeBack(from: id)) }
    for (worker, task) in scheduler.assign(at: Self.now()) {
      workers[worker]?.sent += 1
      send([worker, Verb.task, task.id.frame] + task.payload)
    }
  }

  /// Takes back the tasks a worker holds but has not started; returns them.
  private func takeBack(from id: [UInt8]) -> [QueuedTask] {
    guard let worker = workers[id], let state = worker.state else { return [] }
    return state.takeBack(sent: worker.sent) { scheduler.takeBack(from: id, started: $0) }
  }

  // MARK: - The pool

  private func count(_ language: WorkerLanguage) -> Int {
    workers.values.reduce(0) { $0 + ($1.language == language && !$1.retiring ? 1 : 0) }
  }

  /// Starts the pool of a language at its first task (or tops it up).
  private func ensurePool(_ language: WorkerLanguage) {
    while count(language) < poolSize[language]! {
      guard spawn(language) else { return }
    }
  }

  @discardableResult
  private func spawn(_ language: WorkerLanguage) -> Bool {
    let name = "w\(nextWorker)"
    nextWorker += 1
    var arguments = launch.command(language) + ["--connect", endpoint, "--id", name]
    var state: WorkerState?
    if language == .python {
      do {
        state = try WorkerState(path: "\(stateDirectory)/worker-\(getpid())-\(name)")
      } catch {
        fail(language, because: "cannot start a \(language.displayName) worker: \(error)")
        return false
      }
      arguments += ["--state", state!.path]
    }
    do {
      let process = try ChildProcess(arguments: arguments, environment: launch.environment)
      workers[Array(name.utf8)] = WorkerProcess(
        name: name, language: language, process: process, state: state)
      return true
    } catch {
      state?.unlink()
      fail(language, because: "cannot start a \(language.displayName) worker: \(error)")
      return false
    }
  }

  private func resize(_ language: WorkerLanguage, to size: Int) {
    poolSize[language] = size
    if count(language) > 0 { ensurePool(language) }
    for id in workers.keys { retireIfSurplus(id) }
  }

  /// Stops an idle worker while its language has more than the pool size.
  private func retireIfSurplus(_ id: [UInt8]) {
    guard let worker = workers[id], !worker.retiring, scheduler.held(by: id).isEmpty,
      count(worker.language) > poolSize[worker.language]!
    else { return }
    worker.retiring = true
    _ = scheduler.removeWorker(id)
    send([id, Verb.stop])
  }

  /// Notices workers that ended: fails the task each was running and starts a
  /// replacement.
  private func reap() {
    for (id, worker) in workers where !worker.process.isRunning {
      workers[id] = nil
      worker.state?.unlink()
      if worker.retiring { continue }
      let how =
        "\(worker.language.displayName) worker \(worker.name) (pid \(worker.process.pid)) "
        + worker.process.exitDescription
      guard worker.ready else {
        // It never came up: give up on this language once every attempt failed, so
        // a broken setup fails the tasks instead of restarting workers forever.
        let failures = (startFailures[worker.language] ?? 0) + 1
        startFailures[worker.language] = failures
        logger.error("\(how) while starting")
        if failures >= poolSize[worker.language]! && scheduler.workerCount(worker.language) == 0 {
          fail(worker.language, because: "\(how) while starting (its error is in the output above)")
        } else {
          spawn(worker.language)
        }
        continue
      }
      logger.warning("\(how)")
      let held = scheduler.removeWorker(id)
      // The task it was running fails; the others go to another worker. (A task
      // before the running one finished, but its outcome died with the worker: it
      // runs again.)
      let running = worker.state?.started ?? held.first?.id
      for task in held where task.id == running {
        send([
          task.replyTo, Verb.failed, task.clientTaskID, Verb.lost,
          Array("\(how) while running this task".utf8),
        ])
      }
      scheduler.requeue(held.filter { $0.id != running })
      spawn(worker.language)
    }
  }

  /// Fails every queued task of a language and forgets its starting workers.
  private func fail(_ language: WorkerLanguage, because reason: String) {
    var keep: [QueuedTask] = []
    for task in scheduler.cancelQueued() {
      if task.language == language {
        send([task.replyTo, Verb.failed, task.clientTaskID, Verb.lost, Array(reason.utf8)])
      } else {
        keep.append(task)
      }
    }
    for task in keep { scheduler.submit(task) }
    for (id, worker) in workers where worker.language == language && !worker.ready {
      worker.process.terminate(grace: 0)
      workers[id] = nil
    }
    startFailures[language] = nil
  }

  private func interruptAll() {
    let unstarted = scheduler.busyWorkers.flatMap { takeBack(from: $0) }
    for task in unstarted + scheduler.cancelQueued() {
      send([task.replyTo, Verb.failed, task.clientTaskID, Verb.cancelled, Self.interrupted])
    }
    for id in scheduler.busyWorkers {
      workers[id]?.process.signal(SIGINT)
    }
  }

  private func shutDownWorkers() {
    for id in workers.keys { send([id, Verb.stop]) }
    let deadline = Date(timeIntervalSinceNow: 1)
    for worker in workers.values {
      worker.process.terminate(grace: max(0, deadline.timeIntervalSinceNow))
      worker.state?.unlink()
    }
    workers.removeAll()
  }
}

/// One worker process of the pool.
private final class WorkerProcess {
  let name: String
  let language: WorkerLanguage
  let process: ChildProcess
  /// Its state page (Python workers).
  let state: WorkerState?
  /// How many tasks it was sent.
  var sent: UInt64 = 0
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
