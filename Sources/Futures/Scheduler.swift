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
  /// When it was submitted (nanoseconds, `DispatchTime`'s clock), for the queue wait.
  var queuedAt: UInt64 = 0
}

/// Which task goes to which worker. Pure bookkeeping, no sockets or processes:
/// tasks wait in one queue per language and go to the workers of that language.
///
/// A worker holds one task at a time unless its language's tasks are short: then
/// it also holds the next few (`prefetch`), so that it never waits for the broker
/// between tasks and ZeroMQ carries several messages per wake-up. Only workers
/// that tell the broker which task they started (through their state page) may
/// hold more than one: the broker can then take back the tasks such a worker has
/// not started, for an idle worker or when it dies.
struct Scheduler {
  /// Tasks a worker of a prefetching language holds at most.
  static let prefetch = 8
  /// Below this service time (nanoseconds) a language's tasks count as short.
  static let shortTask = 1_000_000.0

  private struct Held {
    let task: QueuedTask
    let sentAt: UInt64
  }

  private struct Worker {
    let language: WorkerLanguage
    /// The tasks sent to the worker, in the order it runs them.
    var held: [Held] = []
    /// When its last outcome came.
    var lastDone: UInt64 = 0
  }

  private let prefetching: Set<WorkerLanguage>
  private var queues: [WorkerLanguage: [QueuedTask]] = [:]
  private var heads: [WorkerLanguage: Int] = [:]
  private var workers: [[UInt8]: Worker] = [:]
  /// A moving average of each language's service time per task, in nanoseconds.
  private var serviceTime: [WorkerLanguage: Double] = [:]

  /// `prefetching`: the languages whose workers may hold several tasks.
  init(prefetching: Set<WorkerLanguage> = []) {
    self.prefetching = prefetching
  }

  /// Tasks waiting for a worker of `language`.
  func queuedCount(_ language: WorkerLanguage) -> Int {
    (queues[language]?.count ?? 0) - (heads[language] ?? 0)
  }

  /// Ready workers of `language`.
  func workerCount(_ language: WorkerLanguage) -> Int {
    workers.values.filter { $0.language == language }.count
  }

  /// The tasks `worker` holds, in the order it runs them.
  func held(by worker: [UInt8]) -> [QueuedTask] { workers[worker]?.held.map(\.task) ?? [] }

  /// Workers holding a task.
  var busyWorkers: [[UInt8]] { workers.filter { !$0.value.held.isEmpty }.map(\.key) }

  /// How many tasks a worker of `language` may hold now.
  func depth(_ language: WorkerLanguage) -> Int {
    guard prefetching.contains(language), let time = serviceTime[language], time < Self.shortTask else {
      return 1
    }
    return Self.prefetch
  }

  mutating func submit(_ task: QueuedTask) {
    queues[task.language, default: []].append(task)
  }

  /// Puts tasks back at the front of their queue, in their order: tasks taken
  /// back from a worker, or held by a worker that died.
  mutating func requeue(_ tasks: [QueuedTask]) {
    for task in tasks.reversed() {
      compact(task.language)
      queues[task.language, default: []].insert(task, at: 0)
    }
  }

  mutating func addWorker(_ id: [UInt8], language: WorkerLanguage) {
    workers[id] = Worker(language: language)
  }

  /// The task `worker` runs (the first it holds) and since when: its last outcome
  /// or, if later, when the task was sent.
  func running(on worker: [UInt8]) -> (task: QueuedTask, since: UInt64)? {
    guard let state = workers[worker], let first = state.held.first else { return nil }
    return (first.task, max(first.sentAt, state.lastDone))
  }

  /// Records that `worker` finished `taskID` at `now` (nanoseconds, any monotonic
  /// clock); returns the task and when it began, or nil when the worker does not
  /// hold it.
  mutating func finish(_ taskID: UInt64, on worker: [UInt8], at now: UInt64 = 0) -> (
    task: QueuedTask, began: UInt64
  )? {
    guard let index = workers[worker]?.held.firstIndex(where: { $0.task.id == taskID }) else { return nil }
    let held = workers[worker]!.held.remove(at: index)
    let began = max(held.sentAt, workers[worker]!.lastDone)
    workers[worker]!.lastDone = now
    if now >= began {
      let language = held.task.language
      let time = Double(now - began)
      serviceTime[language] = serviceTime[language].map { $0 * 0.8 + time * 0.2 } ?? time
    }
    return (held.task, began)
  }

  /// Takes back the tasks `worker` holds after `started` (all of them when it does
  /// not hold `started`: it finished that one); returns them in order.
  mutating func takeBack(from worker: [UInt8], started: UInt64) -> [QueuedTask] {
    guard let held = workers[worker]?.held else { return [] }
    let cut = held.firstIndex { $0.task.id == started }.map { $0 + 1 } ?? 0
    workers[worker]!.held.removeSubrange(cut...)
    return held[cut...].map(\.task)
  }

  /// Workers holding tasks they may not have started while another worker of
  /// their language is idle and nothing is queued: what to take back from.
  func stealable(_ language: WorkerLanguage) -> [[UInt8]] {
    guard prefetching.contains(language), queuedCount(language) == 0,
      workers.values.contains(where: { $0.language == language && $0.held.isEmpty })
    else { return [] }
    return workers.filter { $0.value.language == language && $0.value.held.count > 1 }.map(\.key)
  }

  /// Forgets a worker that ended; returns the tasks it held, in the order it runs them.
  mutating func removeWorker(_ id: [UInt8]) -> [QueuedTask] {
    workers.removeValue(forKey: id)?.held.map(\.task) ?? []
  }

  /// Hands queued tasks to workers with room, one round of the workers at a time
  /// (so a short batch spreads over all of them); returns what to send to whom.
  mutating func assign(at now: UInt64 = 0) -> [(worker: [UInt8], task: QueuedTask)] {
    var sent: [(worker: [UInt8], task: QueuedTask)] = []
    for language in WorkerLanguage.allCases where queuedCount(language) > 0 {
      let ids = workers.filter { $0.value.language == language }.map(\.key)
      for round in 0..<depth(language) {
        for id in ids where workers[id]!.held.count <= round {
          guard queuedCount(language) > 0 else { break }
          let task = dequeue(language)
          workers[id]!.held.append(Held(task: task, sentAt: now))
          sent.append((id, task))
        }
      }
      // Now and then, not at every task: compacting moves the whole queue.
      if let head = heads[language], head * 2 >= queues[language]!.count || head >= 4096 {
        compact(language)
      }
    }
    return sent
  }

  /// Removes a queued (not yet sent) task; returns it, or nil when it was not queued.
  mutating func cancel(clientTaskID: [UInt8], replyTo: [UInt8]) -> QueuedTask? {
    for language in WorkerLanguage.allCases {
      compact(language)
      if let index = queues[language]?.firstIndex(where: {
        $0.clientTaskID == clientTaskID && $0.replyTo == replyTo
      }) {
        return queues[language]!.remove(at: index)
      }
    }
    return nil
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
