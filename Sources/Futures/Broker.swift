import CZeroMQ
import Foundation
import Logging
import ProcessStats
import ZeroMQ

// Over 400 lines on purpose: the broker's routing is one state machine (tasks,
// workers, clients, interrupts) that its thread owns without locks; the frames,
// the pool, the scheduler and the snapshots are in files of their own.

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

  /// The kernel's own Python, which reaches the broker in-process.
  public let local = LocalClient()

  private let logger: Logger
  private let context = ZMQContext()
  private let socket: ZMQSocket
  private var scheduler = Scheduler(prefetching: [.python])
  private let pool: WorkerPool
  private var nextTask: UInt64 = 1
  let metrics = PoolMetrics()
  /// Outcomes by language, the latest tasks' durations and when tasks failed: what
  /// the status panel shows besides the workers.
  private var ended: [WorkerLanguage: [PoolMetrics.Outcome: Int]] = [:]
  private var history = TaskHistory(limit: Broker.recentLimit)
  private var stuckAfter: Double
  /// How many finished tasks the snapshot keeps the durations of.
  public static let recentLimit = 200

  /// Held by the broker's thread while it works (not while it waits), so that the
  /// in-process client can ask about its tasks from its own thread.
  private let stateLock = NSLock()
  /// Interrupts and stops for the broker's thread; the in-process client's
  /// messages wake it through the same pipe.
  private let commands: WakeQueue<Command>
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)

  private enum Command { case interrupt, stop }

  /// Binds the broker at `ipc://directory/futures`; `directory` must be the
  /// kernel's private folder, which only this user can enter: whoever can connect
  /// can run code as this user, so the broker never listens on a TCP port.
  /// `poolSize` workers per language, the number of cores by default.
  /// A task running longer than `stuckAfter` seconds counts as stuck.
  public init(
    directory: String, launch: WorkerLaunch, poolSize: Int? = nil, stuckAfter: Double = 300, logger: Logger
  ) throws {
    self.logger = logger
    self.stuckAfter = stuckAfter
    socket = try ZMQSocket(context: context, kind: .router)
    // A long batch of results for one client must queue, not be dropped.
    try socket.setOption(ZMQ_SNDHWM, 0)
    try socket.setOption(ZMQ_RCVHWM, 0)
    try socket.bind("ipc://\(directory)/futures")
    endpoint = socket.lastEndpoint
    pool = WorkerPool(
      launch: launch, endpoint: endpoint, stateDirectory: directory,
      size: max(1, poolSize ?? ProcessInfo.processInfo.activeProcessorCount))
    commands = try WakeQueue()
    local.attach(to: self)
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

  /// Sets how many seconds a task may run before it counts as stuck. Any thread.
  public func setStuckThreshold(_ seconds: Double) {
    withScheduler { _ in stuckAfter = seconds }
  }

  /// What the pool does now, with each worker's CPU time and memory (PSS when
  /// `proportional`, else RSS, which is cheaper to read). Any thread.
  public func snapshot(proportional: Bool = true) -> PoolSnapshot {
    var snapshot: PoolSnapshot = withScheduler { scheduler in
      // Read under the lock: no task the broker sent or finished is later than it.
      let now = Self.now()
      let workers = pool.workers.map { id, worker in
        let running = scheduler.running(on: id)
        let held = scheduler.held(by: id).count
        return PoolSnapshot.Worker(
          name: worker.name, language: worker.language.rawValue, pid: worker.process.pid,
          state: !worker.ready ? "starting" : held == 0 ? "idle" : "busy",
          task: running?.task.id,
          taskSeconds: running.map { Double(now > $0.since ? now - $0.since : 0) / 1e9 }, held: held,
          done: worker.done, failed: worker.failed)
      }
      return PoolSnapshot(
        workers: workers.sorted {
          ($0.language, $0.name.count, $0.name) < ($1.language, $1.name.count, $1.name)
        },
        queued: Dictionary(
          uniqueKeysWithValues: WorkerLanguage.allCases.map { ($0.rawValue, scheduler.queuedCount($0)) }),
        ended: Dictionary(
          uniqueKeysWithValues: ended.map { language, counts in
            (language.rawValue, Dictionary(uniqueKeysWithValues: counts.map { ($0.rawValue, $1) }))
          }),
        recent: history.recent, failuresLastMinute: history.failures(before: now), stuckAfter: stuckAfter)
    }
    // /proc is read outside the lock: the broker's thread need not wait for it.
    for index in snapshot.workers.indices {
      let figures = ProcessTree.process(snapshot.workers[index].pid, proportional: proportional)
      snapshot.workers[index].cpuSeconds = figures?.cpuSeconds
      snapshot.workers[index].memory = figures?.memory
    }
    return snapshot
  }

  /// Sets the pool's gauges (tasks queued and running, workers by state, stuck
  /// tasks, each worker's CPU time and resident memory) from a snapshot. The
  /// metrics endpoint calls it before each scrape. Any thread.
  public func recordGauges() {
    metrics.record(snapshot(proportional: false))
  }

  /// Runs `body` with the broker's state, while the broker's thread does not use it.
  func withScheduler<T>(_ body: (inout Scheduler) -> T) -> T {
    stateLock.lock()
    defer { stateLock.unlock() }
    return body(&scheduler)
  }

  /// Wakes the broker's thread to read the in-process client's messages.
  func wake() { commands.wake() }

  private func post(_ command: Command) { commands.push(command) }

  // MARK: - The broker thread

  private func run() {
    while true {
      var poller = ZMQPoller()
      poller.add(socket)
      poller.add(fd: commands.descriptor)
      // A worker's end makes its descriptor readable: the broker sleeps until
      // something happens. Without such descriptors it looks once a second.
      let exits = pool.workers.values.map(\.process.exitDescriptor)
      for case let fd? in exits { poller.add(fd: fd) }
      let looks = exits.contains(nil)
      let ready = poller.poll(timeoutMilliseconds: !commands.willSleep() ? 0 : looks ? 1000 : -1)
      stateLock.lock()
      defer { stateLock.unlock() }
      if ready[0] {
        while let frames = try? socket.receive(dontWait: true) { handle(frames) }
      }
      if ready[1] { commands.clearSignal() }
      for frames in local.takeInbox() { handle([LocalClient.peer] + frames) }
      for command in commands.take() {
        switch command {
        case .interrupt: interruptAll()
        case .stop:
          shutDownWorkers()
          socket.close()
          return
        }
      }
      if ready.dropFirst(2).contains(true) || looks { reap() }
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
        payload: Array(frames.dropFirst(4)), queuedAt: Self.now())
      nextTask += 1
      scheduler.submit(task)
      metrics.submitted(language)
      ensurePool(language)
    case Verb.cancel where frames.count >= 3:
      if let task = scheduler.cancel(clientTaskID: frames[2], replyTo: peer) {
        count(task, .cancelled)
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
      guard let worker = pool.ready(peer) else {
        logger.warning("futures broker: dropped a ready message from a peer it did not start")
        return
      }
      scheduler.addWorker(peer, language: worker.language)
      logger.debug("\(worker.language.displayName) worker \(worker.name) ready (pid \(worker.process.pid))")
    case Verb.done where frames.count >= 3:
      let now = Self.now()
      guard let id = UInt64(frame: frames[2]), let (task, began) = scheduler.finish(id, on: peer, at: now)
      else {
        return
      }
      let failed = frames.count > 3 && frames[3] != Verb.ok
      let seconds = now >= began ? now - began : 0
      count(task, failed ? .failed : .finished, ranNanoseconds: seconds)
      if let worker = pool.workers[peer] {
        if failed { worker.failed += 1 } else { worker.done += 1 }
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
    if frames[0] == LocalClient.peer {
      local.deliver(Array(frames.dropFirst()))
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

  /// Counts how a task ended, for the metrics and the status panel.
  func count(_ task: QueuedTask, _ outcome: PoolMetrics.Outcome, ranNanoseconds: UInt64? = nil) {
    metrics.ended(task.language, outcome, runNanoseconds: ranNanoseconds)
    ended[task.language, default: [:]][outcome, default: 0] += 1
    if outcome == .failed || outcome == .lost { history.failed(at: Self.now()) }
    if let ranNanoseconds, outcome == .finished || outcome == .failed {
      history.ran(task.language, seconds: Double(ranNanoseconds) / 1e9, failed: outcome == .failed)
    }
  }

  private func dispatch() {
    // An idle worker gets the tasks others hold but have not started.
    for id in scheduler.stealable(.python) { scheduler.requeue(takeBack(from: id)) }
    let now = Self.now()
    for (worker, task) in scheduler.assign(at: now) {
      pool.workers[worker]?.sent += 1
      metrics.sent(task.language, waitedNanoseconds: now >= task.queuedAt ? now - task.queuedAt : 0)
      send([worker, Verb.task, task.id.frame] + task.payload)
    }
  }

  /// Takes back the tasks a worker holds but has not started; returns them.
  private func takeBack(from id: [UInt8]) -> [QueuedTask] {
    guard let worker = pool.workers[id], let state = worker.state else { return [] }
    return state.takeBack(sent: worker.sent) { scheduler.takeBack(from: id, started: $0) }
  }

  // MARK: - The pool's tasks

  /// Starts the pool of a language at its first task (or tops it up).
  private func ensurePool(_ language: WorkerLanguage) {
    while pool.count(language) < pool.size(language) {
      guard spawn(language) else { return }
    }
  }

  @discardableResult
  private func spawn(_ language: WorkerLanguage) -> Bool {
    do {
      try pool.spawn(language)
      return true
    } catch {
      fail(language, because: "cannot start a \(language.displayName) worker: \(error)")
      return false
    }
  }

  private func resize(_ language: WorkerLanguage, to size: Int) {
    pool.setSize(language, size)
    if pool.count(language) > 0 { ensurePool(language) }
    for id in pool.workers.keys { retireIfSurplus(id) }
  }

  /// Stops an idle worker while its language has more than the pool size.
  private func retireIfSurplus(_ id: [UInt8]) {
    guard let worker = pool.workers[id], !worker.retiring, scheduler.held(by: id).isEmpty,
      pool.count(worker.language) > pool.size(worker.language)
    else { return }
    worker.retiring = true
    _ = scheduler.removeWorker(id)
    send([id, Verb.stop])
  }

  /// Notices workers that ended: fails the task each was running and starts a
  /// replacement.
  private func reap() {
    for ended in pool.reap(runningWorkers: { scheduler.workerCount($0) }) {
      let worker = ended.worker
      metrics.restarted(worker.language, cause: ended.cause)
      guard worker.ready else {
        logger.error("\(ended.how) while starting")
        if ended.givesUp {
          fail(worker.language, because: "\(ended.how) while starting (its error is in the output above)")
        } else {
          spawn(worker.language)
        }
        continue
      }
      logger.warning("\(ended.how)")
      let held = scheduler.removeWorker(ended.id)
      // The task it was running fails; the others go to another worker. (A task
      // before the running one finished, but its outcome died with the worker: it
      // runs again.)
      let running = worker.state?.started ?? held.first?.id
      for task in held where task.id == running {
        count(task, .lost)
        send([
          task.replyTo, Verb.failed, task.clientTaskID, Verb.lost,
          Array("\(ended.how) while running this task".utf8),
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
        count(task, .lost)
        send([task.replyTo, Verb.failed, task.clientTaskID, Verb.lost, Array(reason.utf8)])
      } else {
        keep.append(task)
      }
    }
    for task in keep { scheduler.submit(task) }
    pool.stopStarting(language)
  }

  private func interruptAll() {
    let unstarted = scheduler.busyWorkers.flatMap { takeBack(from: $0) }
    for task in unstarted + scheduler.cancelQueued() {
      count(task, .cancelled)
      send([task.replyTo, Verb.failed, task.clientTaskID, Verb.cancelled, Self.interrupted])
    }
    for id in scheduler.busyWorkers { pool.signal(id, SIGINT) }
  }

  private func shutDownWorkers() {
    for id in pool.workers.keys { send([id, Verb.stop]) }
    pool.terminateAll()
  }
}
