import Foundation
import JupyterWire
import Metrics
import ProcessStats

/// The kernel's own metrics, recorded through swift-metrics: no-ops unless the
/// kernel bootstrapped a backend (`tandem kernel --metrics`), which it does before
/// anything records. Names follow Prometheus's conventions (`tandem_` prefix, base
/// units, `_total` counters); the pool's are in `Futures`' `PoolMetrics`.
public enum KernelMetrics {
  /// The message types counted by name; any other counts as "other", so that a
  /// client cannot grow the metrics without bound.
  static let knownTypes: Set<String> = Set(
    RequestKind.allCases.map(\.rawValue) + ControlRequest.allCases.map(\.rawValue) + ["input_reply"])

  private static let requests: [String: Counter] = Dictionary(
    uniqueKeysWithValues: (knownTypes + ["other"]).map {
      ($0, Counter(label: "tandem_requests_total", dimensions: [("msg_type", $0)]))
    })

  private static let busy = FloatingPointCounter(label: "tandem_busy_seconds_total")

  /// A request arrived (any channel).
  static func received(_ msgType: String) {
    (requests[msgType] ?? requests["other"]!).increment()
  }

  /// A cell of `language` ran for `nanoseconds`.
  public static func executed(_ language: Language, nanoseconds: UInt64) {
    Timer(label: "tandem_execute_duration_seconds", dimensions: [("language", language.name)])
      .recordNanoseconds(Int64(clamping: nanoseconds))
  }

  /// A shell was busy (between its busy and idle status) for `nanoseconds`.
  static func wasBusy(nanoseconds: UInt64) {
    busy.increment(by: Double(nanoseconds) / 1e9)
  }

  /// A task that ran on a Dask cluster ended (`state` as `tandem_tasks_total` names
  /// outcomes), on `worker`, taking `seconds` from submission to its outcome.
  public static func daskTaskEnded(language: String, state: String, worker: String, seconds: Double) {
    Counter(
      label: "tandem_dask_tasks_total",
      dimensions: [("language", language), ("state", state), ("worker", worker)]
    ).increment()
    Timer(label: "tandem_dask_task_duration_seconds", dimensions: [("language", language)])
      .recordSeconds(max(0, seconds))
  }

  /// Resident memory and CPU time of the kernel process and of the processes its
  /// engines run (`children`), as gauges read at each scrape.
  public static func recordProcesses(_ children: [EngineProcess]) {
    processes.lock.withLock {
      for (name, pid) in [("kernel", getpid())] + children.map({ ($0.name, $0.pid) }) {
        guard let figures = ProcessTree.process(pid, proportional: false) else { continue }
        processes.series(name).record(figures)
      }
    }
  }

  private static let processes = Processes()

  /// Each process's series by name, written by whichever thread scrapes.
  private final class Processes: @unchecked Sendable {
    let lock = NSLock()
    private var byName: [String: ProcessSeries] = [:]

    /// With `lock` held.
    func series(_ name: String) -> ProcessSeries {
      if let series = byName[name] { return series }
      let series = ProcessSeries(
        memory: "tandem_process_resident_memory_bytes", cpu: "tandem_process_cpu_seconds_total",
        dimensions: [("process", name)])
      byName[name] = series
      return series
    }
  }
}
