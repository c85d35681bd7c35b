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

  private static let executeDurations: [String: Timer] = Dictionary(
    uniqueKeysWithValues: CellLanguage.allCases.map {
      ($0.rawValue, Timer(label: "tandem_execute_duration_seconds", dimensions: [("language", $0.rawValue)]))
    })

  private static let busy = FloatingPointCounter(label: "tandem_busy_seconds_total")
  private static let rRestarts = Counter(label: "tandem_r_session_restarts_total")

  private static let exchangeBytes: [ExchangeDirection: Counter] = Dictionary(
    uniqueKeysWithValues: ExchangeDirection.allCases.map {
      ($0, Counter(label: "tandem_exchange_bytes_total", dimensions: [("direction", $0.rawValue)]))
    })
  private static let exchangeDurations: [ExchangeDirection: Timer] = Dictionary(
    uniqueKeysWithValues: ExchangeDirection.allCases.map {
      ($0, Timer(label: "tandem_exchange_duration_seconds", dimensions: [("direction", $0.rawValue)]))
    })

  /// Which way values crossed between Python and R.
  enum ExchangeDirection: String, CaseIterable {
    case pythonToR = "python_to_r"
    case rToPython = "r_to_python"
  }

  /// A request arrived (any channel).
  static func received(_ msgType: String) {
    (requests[msgType] ?? requests["other"]!).increment()
  }

  /// A cell of `language` ran for `nanoseconds`.
  static func executed(_ language: CellLanguage, nanoseconds: UInt64) {
    executeDurations[language.rawValue]!.recordNanoseconds(Int64(clamping: nanoseconds))
  }

  /// A shell was busy (between its busy and idle status) for `nanoseconds`.
  static func wasBusy(nanoseconds: UInt64) {
    busy.increment(by: Double(nanoseconds) / 1e9)
  }

  /// R came up again after its session ended.
  static func rRestarted() { rRestarts.increment() }

  /// Values of `bytes` crossed `direction`, taking `seconds` in Python's half.
  static func exchanged(_ direction: ExchangeDirection, bytes: Int, seconds: Double) {
    exchangeBytes[direction]!.increment(by: max(0, bytes))
    exchangeDurations[direction]!.recordSeconds(max(0, seconds))
  }

  /// A task that ran on a Dask cluster ended (`state` as `tandem_tasks_total` names
  /// outcomes), on `worker`, taking `seconds` from submission to its outcome.
  static func daskTaskEnded(language: String, state: String, worker: String, seconds: Double) {
    Counter(
      label: "tandem_dask_tasks_total",
      dimensions: [("language", language), ("state", state), ("worker", worker)]
    ).increment()
    Timer(label: "tandem_dask_task_duration_seconds", dimensions: [("language", language)])
      .recordSeconds(max(0, seconds))
  }

  /// Resident memory and CPU time of the kernel process and of its R child, as gauges read
  /// at each scrape (`rPID` nil when R is not running).
  public static func recordProcesses(rPID: Int32?) {
    processes.lock.withLock {
      for (series, pid) in [(processes.kernel, getpid()), (processes.r, rPID)] {
        if let pid, let figures = ProcessTree.process(pid, proportional: false) { series.record(figures) }
      }
    }
  }

  private static let processes = Processes()

  /// The kernel's and R's series, written by whichever thread scrapes.
  private final class Processes: @unchecked Sendable {
    let lock = NSLock()
    let kernel = ProcessSeries(
      memory: "tandem_process_resident_memory_bytes", cpu: "tandem_process_cpu_seconds_total",
      dimensions: [("process", "kernel")])
    let r = ProcessSeries(
      memory: "tandem_process_resident_memory_bytes", cpu: "tandem_process_cpu_seconds_total",
      dimensions: [("process", "r")])
  }
}
