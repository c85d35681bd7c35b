/// The language a worker runs.
public enum WorkerLanguage: String, Sendable, CaseIterable {
  case python = "py"
  case r = "r"

  /// How users name it in messages.
  public var displayName: String { self == .python ? "Python" : "R" }
}

/// A task as the broker holds it: who asked, and the frames the worker gets
/// (the broker never looks inside them).
struct QueuedTask: Equatable {
  /// The broker's own number for the task, unique across clients.
  let id: UInt64
  /// Routing id of the client socket that receives the outcome.
  let replyTo: [UInt8]
  /// The client's name for the task, echoed back with the outcome.
  let clientTaskID: [UInt8]
  let language: WorkerLanguage
  let payload: [[UInt8]]
}

/// Which task goes to which worker. Pure bookkeeping, no sockets or processes:
/// tasks wait in one queue per language and go to the ready worker of that
/// language holding the fewest; a worker holds at most `depth` tasks (one running,
/// the rest queued in the worker so it never waits for the broker in a long batch).
struct Scheduler {
  private struct Worker {
    let language: WorkerLanguage
    /// Tasks sent to the worker, oldest (the running one) first.
    var held: [QueuedTask] = []
  }

  private var queues: [WorkerLanguage: [QueuedTask]] = [:]
  private var heads: [WorkerLanguage: Int] = [:]
  private var workers: [[UInt8]: Worker] = [:]
  /// The most tasks a worker holds at once when the queue is long.
  let depth: Int

  init(depth: Int = 2) {
    self.depth = depth
  }

  /// Tasks waiting for a worker of `language`.
  func queuedCount(_ language: WorkerLanguage) -> Int {
    (queues[language]?.count ?? 0) - (heads[language] ?? 0)
  }

  /// Ready workers of `language`.
  func workerCount(_ language: WorkerLanguage) -> Int {
    workers.values.filter { $0.language == language }.count
  }

  /// The tasks a worker holds, running one first.
  func held(by worker: [UInt8]) -> [QueuedTask] { workers[worker]?.held ?? [] }

  /// Workers holding at least one task.
  var busyWorkers: [[UInt8]] { workers.filter { !$0.value.held.isEmpty }.map(\.key) }

  mutating func submit(_ task: QueuedTask) {
    queues[task.language, default: []].append(task)
  }

  mutating func addWorker(_ id: [UInt8], language: WorkerLanguage) {
    workers[id] = Worker(language: language)
  }

  /// Records that `worker` finished `taskID`; returns the task, or nil when the
  /// worker did not hold it (a task already given up, say).
  mutating func finish(_ taskID: UInt64, on worker: [UInt8]) -> QueuedTask? {
    guard let index = workers[worker]?.held.firstIndex(where: { $0.id == taskID }) else { return nil }
    return workers[worker]?.held.remove(at: index)
  }

  /// The task `worker` runs now (the oldest it holds), if any.
  func running(on worker: [UInt8]) -> QueuedTask? { workers[worker]?.held.first }

  /// Forgets a worker that ended. The task it was running is returned as lost;
  /// the ones it held but had not started go back to the front of the queue.
  mutating func removeWorker(_ id: [UInt8]) -> QueuedTask? {
    guard let worker = workers.removeValue(forKey: id) else { return nil }
    let waiting = Array(worker.held.dropFirst())
    if !waiting.isEmpty {
      compact(worker.language)
      queues[worker.language, default: []].insert(contentsOf: waiting, at: 0)
    }
    return worker.held.first
  }

  /// Hands queued tasks to workers with room; returns what to send to whom.
  mutating func assign() -> [(worker: [UInt8], task: QueuedTask)] {
    var sent: [(worker: [UInt8], task: QueuedTask)] = []
    for language in WorkerLanguage.allCases where queuedCount(language) > 0 {
      let ready = workers.filter { $0.value.language == language }.map(\.key)
      guard !ready.isEmpty else { continue }
      // Prefetch only when there is plenty to do: then no worker waits for the
      // broker between tasks, and a short queue still goes to idle workers first.
      let limit = queuedCount(language) >= 2 * ready.count ? depth : 1
      while queuedCount(language) > 0 {
        guard let worker = ready.min(by: { workers[$0]!.held.count < workers[$1]!.held.count }),
          workers[worker]!.held.count < limit
        else { break }
        let task = dequeue(language)
        workers[worker]!.held.append(task)
        sent.append((worker, task))
      }
      compact(language)
    }
    return sent
  }

  /// Removes a queued (not yet sent) task; returns whether it was queued.
  mutating func cancel(clientTaskID: [UInt8], replyTo: [UInt8]) -> Bool {
    for language in WorkerLanguage.allCases {
      compact(language)
      if let index = queues[language]?.firstIndex(where: {
        $0.clientTaskID == clientTaskID && $0.replyTo == replyTo
      }) {
        queues[language]!.remove(at: index)
        return true
      }
    }
    return false
  }

  /// Empties every queue; returns the tasks that were waiting.
  mutating func cancelQueued() -> [QueuedTask] {
    var dropped: [QueuedTask] = []
    for language in WorkerLanguage.allCases {
      compact(language)
      dropped += queues[language] ?? []
      queues[language] = []
    }
    return dropped
  }

  /// Takes every task a worker holds but has not started (for an interrupt: the
  /// running one is interrupted, these must not start).
  mutating func takeWaiting(on worker: [UInt8]) -> [QueuedTask] {
    guard let held = workers[worker]?.held, held.count > 1 else { return [] }
    workers[worker]!.held = [held[0]]
    return Array(held.dropFirst())
  }

  private mutating func dequeue(_ language: WorkerLanguage) -> QueuedTask {
    let head = heads[language] ?? 0
    heads[language] = head + 1
    return queues[language]![head]
  }

  /// Drops the consumed front of a queue (dequeue only moves a head index, so a
  /// long batch is not shifted once per task).
  private mutating func compact(_ language: WorkerLanguage) {
    guard let head = heads[language], head > 0 else { return }
    queues[language]!.removeFirst(head)
    heads[language] = 0
  }
}
