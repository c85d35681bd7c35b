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
  /// Routing id of the client that submitted it and receives the outcome.
  let replyTo: [UInt8]
  /// The client's name for the task, echoed back with the outcome.
  let clientTaskID: [UInt8]
  let language: WorkerLanguage
  let payload: [[UInt8]]
}

/// Which task goes to which worker. Pure bookkeeping, no sockets or processes:
/// tasks wait in one queue per language and go to an idle worker of that language.
/// A worker holds one task at a time, so that when it dies the task it was
/// running is known for sure (a worker's last messages die with it).
struct Scheduler {
  private struct Worker {
    let language: WorkerLanguage
    /// The task the worker runs.
    var task: QueuedTask?
  }

  private var queues: [WorkerLanguage: [QueuedTask]] = [:]
  private var heads: [WorkerLanguage: Int] = [:]
  private var workers: [[UInt8]: Worker] = [:]

  /// Tasks waiting for a worker of `language`.
  func queuedCount(_ language: WorkerLanguage) -> Int {
    (queues[language]?.count ?? 0) - (heads[language] ?? 0)
  }

  /// Ready workers of `language`.
  func workerCount(_ language: WorkerLanguage) -> Int {
    workers.values.filter { $0.language == language }.count
  }

  /// The task `worker` runs, if any.
  func running(on worker: [UInt8]) -> QueuedTask? { workers[worker]?.task }

  /// Workers running a task.
  var busyWorkers: [[UInt8]] { workers.filter { $0.value.task != nil }.map(\.key) }

  mutating func submit(_ task: QueuedTask) {
    queues[task.language, default: []].append(task)
  }

  mutating func addWorker(_ id: [UInt8], language: WorkerLanguage) {
    workers[id] = Worker(language: language)
  }

  /// Records that `worker` finished `taskID`; returns the task, or nil when the
  /// worker was not running it.
  mutating func finish(_ taskID: UInt64, on worker: [UInt8]) -> QueuedTask? {
    guard let task = workers[worker]?.task, task.id == taskID else { return nil }
    workers[worker]!.task = nil
    return task
  }

  /// Forgets a worker that ended; returns the task it was running (now lost).
  mutating func removeWorker(_ id: [UInt8]) -> QueuedTask? {
    workers.removeValue(forKey: id)?.task
  }

  /// Hands queued tasks to idle workers; returns what to send to whom.
  mutating func assign() -> [(worker: [UInt8], task: QueuedTask)] {
    var sent: [(worker: [UInt8], task: QueuedTask)] = []
    for language in WorkerLanguage.allCases where queuedCount(language) > 0 {
      for (id, worker) in workers where worker.language == language && worker.task == nil {
        guard queuedCount(language) > 0 else { break }
        let task = dequeue(language)
        workers[id]!.task = task
        sent.append((id, task))
      }
      // Now and then, not at every task: compacting moves the whole queue.
      if let head = heads[language], head * 2 >= queues[language]!.count || head >= 4096 {
        compact(language)
      }
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

  /// Whether a task waits in a queue (not yet sent to a worker).
  func isQueued(clientTaskID: [UInt8], replyTo: [UInt8]) -> Bool {
    queues.contains { language, tasks in
      tasks.dropFirst(heads[language] ?? 0).contains {
        $0.clientTaskID == clientTaskID && $0.replyTo == replyTo
      }
    }
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
