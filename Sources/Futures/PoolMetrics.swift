import Foundation
import Metrics
import ProcessStats

/// The pool's metrics, recorded through swift-metrics (no-ops until the kernel
/// bootstraps a backend, as `tandem kernel --metrics` does). Names follow
/// Prometheus's conventions: `tandem_` prefix, base units, `_total` counters.
/// Every handle is made once: recording a task then costs a few atomic adds.
final class PoolMetrics {
  /// How a task the broker took ended.
  enum Outcome: String, CaseIterable {
    /// The task ran and returned.
    case finished
    /// The task ran and raised (an R error, a Python exception).
    case failed
    /// Taken off the queue, by `cancel` or an interrupt.
    case cancelled
    /// Its worker died running it.
    case lost
  }

  /// A worker's state, as `tandem_workers` counts them.
  enum WorkerPhase: String, CaseIterable {
    case starting, idle, busy
  }

  private struct PerLanguage {
    let submitted: Counter
    let outcomes: [Outcome: Counter]
    let queued: Gauge
    let running: Gauge
    let duration: Timer
    let wait: Timer
    let workers: [WorkerPhase: Gauge]
    let stuck: Gauge
    let oldest: Gauge
  }

  private let languages: [WorkerLanguage: PerLanguage]

  init() {
    var languages: [WorkerLanguage: PerLanguage] = [:]
    for language in WorkerLanguage.allCases {
      let name = ("language", language.rawValue)
      languages[language] = PerLanguage(
        submitted: Counter(label: "tandem_tasks_submitted_total", dimensions: [name]),
        outcomes: Dictionary(
          uniqueKeysWithValues: Outcome.allCases.map {
            ($0, Counter(label: "tandem_tasks_total", dimensions: [name, ("state", $0.rawValue)]))
          }),
        queued: Gauge(label: "tandem_tasks", dimensions: [name, ("state", "queued")]),
        running: Gauge(label: "tandem_tasks", dimensions: [name, ("state", "running")]),
        duration: Timer(label: "tandem_task_duration_seconds", dimensions: [name]),
        wait: Timer(label: "tandem_task_queue_wait_seconds", dimensions: [name]),
        workers: Dictionary(
          uniqueKeysWithValues: WorkerPhase.allCases.map {
            ($0, Gauge(label: "tandem_workers", dimensions: [name, ("state", $0.rawValue)]))
          }),
        stuck: Gauge(label: "tandem_tasks_stuck", dimensions: [name]),
        oldest: Gauge(label: "tandem_task_oldest_running_seconds", dimensions: [name]))
    }
    self.languages = languages
  }

  func submitted(_ language: WorkerLanguage) {
    languages[language]!.submitted.increment()
  }

  func ended(_ language: WorkerLanguage, _ outcome: Outcome, runNanoseconds: UInt64? = nil) {
    let metrics = languages[language]!
    metrics.outcomes[outcome]!.increment()
    if let runNanoseconds { metrics.duration.recordNanoseconds(Int64(clamping: runNanoseconds)) }
  }

  func sent(_ language: WorkerLanguage, waitedNanoseconds: UInt64) {
    languages[language]!.wait.recordNanoseconds(Int64(clamping: waitedNanoseconds))
  }

  /// The gauges, from a snapshot of the pool: tasks queued and running, workers by
  /// state, stuck tasks and the oldest running one, and each worker's memory and
  /// CPU time (a worker's series go when it does).
  func record(_ snapshot: PoolSnapshot) {
    for (language, metrics) in languages {
      let workers = snapshot.workers.filter { $0.language == language.rawValue }
      let ages = workers.compactMap(\.taskSeconds)
      metrics.queued.record(snapshot.queued[language.rawValue] ?? 0)
      metrics.running.record(ages.count)
      for phase in WorkerPhase.allCases {
        metrics.workers[phase]!.record(workers.filter { $0.state == phase.rawValue }.count)
      }
      metrics.stuck.record(ages.filter { $0 > snapshot.stuckAfter }.count)
      metrics.oldest.record(ages.max() ?? 0)
    }
    seriesLock.withLock {
      var seen = Set<String>()
      for worker in snapshot.workers {
        seen.insert(worker.name)
        let handles =
          series[worker.name]
          ?? ProcessSeries(
            memory: "tandem_worker_resident_memory_bytes", cpu: "tandem_worker_cpu_seconds_total",
            dimensions: [("worker", worker.name), ("language", worker.language), ("pid", String(worker.pid))])
        series[worker.name] = handles
        if let memory = worker.memory, let cpu = worker.cpuSeconds {
          handles.record(ProcessTree.Process(pid: worker.pid, cpuSeconds: cpu, memory: memory))
        }
      }
      for (name, handles) in series where !seen.contains(name) {
        handles.destroy()
        series[name] = nil
      }
    }
  }

  /// Written by whichever thread scrapes (one at a time).
  private let seriesLock = NSLock()
  private var series: [String: ProcessSeries] = [:]

  /// A worker that died (not one the pool retired), and why: `exited` or `killed`
  /// by a signal, while running a task or idle, or while starting.
  func restarted(_ language: WorkerLanguage, cause: String) {
    Counter(
      label: "tandem_worker_restarts_total", dimensions: [("language", language.rawValue), ("cause", cause)]
    ).increment()
  }
}
