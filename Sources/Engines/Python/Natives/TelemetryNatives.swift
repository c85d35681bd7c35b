import EmbeddedPython
import KernelCore
import Metrics

/// What the Python half needs of the kernel's metrics:
/// - `metrics_address() -> {"url": str | None, "problem": str | None}`: where the
///   metrics endpoint listens, or why it does not (the `%tandem` magic says it);
/// - `metrics_exchange(direction, nbytes, seconds)`, a crossing of values between
///   Python and R (`python_to_r` or `r_to_python`), timed in Python's half;
/// - `metrics_dask_task(language, state, worker, seconds)`, a task that ran on a
///   Dask cluster ended (`py` or `r`; `finished`, `failed`, `cancelled`, `lost`).
enum TelemetryNatives {
  static func make(_ endpoint: MetricsEndpointState) throws -> [(String, PyRef)] {
    let address = try PythonCallback.make(name: "metrics_address") { _ in
      PyRef(dictionary: [
        ("url", endpoint.url.map { PyRef($0) } ?? .none),
        ("problem", endpoint.problem.map { PyRef($0) } ?? .none),
      ])
    }
    let exchange = try PythonCallback.make(name: "metrics_exchange") { args in
      guard args.count == 3, let name = args[0].stringValue,
        let direction = ExchangeMetrics.Direction(rawValue: name), let bytes = args[1].doubleValue,
        let seconds = args[2].doubleValue
      else {
        throw PythonError(
          typeName: "TypeError", message: "metrics_exchange('python_to_r' | 'r_to_python', nbytes, seconds)")
      }
      ExchangeMetrics.record(direction, bytes: Int(bytes), seconds: seconds)
      return .none
    }
    let daskTask = try PythonCallback.make(name: "metrics_dask_task") { args in
      guard args.count == 4, let language = args[0].stringValue, ["py", "r"].contains(language),
        let state = args[1].stringValue, ["finished", "failed", "cancelled", "lost"].contains(state),
        let worker = args[2].stringValue, let seconds = args[3].doubleValue
      else {
        throw PythonError(
          typeName: "TypeError",
          message:
            "metrics_dask_task('py' | 'r', 'finished' | 'failed' | 'cancelled' | 'lost', worker, seconds)")
      }
      KernelMetrics.daskTaskEnded(language: language, state: state, worker: worker, seconds: seconds)
      return .none
    }
    return [("metrics_address", address), ("metrics_exchange", exchange), ("metrics_dask_task", daskTask)]
  }
}

/// Values crossing between Python and R, as Python's half times them.
private enum ExchangeMetrics {
  /// Which way values crossed.
  enum Direction: String, CaseIterable {
    case pythonToR = "python_to_r"
    case rToPython = "r_to_python"
  }

  // Made at the first crossing, after the kernel bootstrapped its metrics backend.
  private static let bytes: [Direction: Counter] = Dictionary(
    uniqueKeysWithValues: Direction.allCases.map {
      ($0, Counter(label: "tandem_exchange_bytes_total", dimensions: [("direction", $0.rawValue)]))
    })
  private static let durations: [Direction: Timer] = Dictionary(
    uniqueKeysWithValues: Direction.allCases.map {
      ($0, Timer(label: "tandem_exchange_duration_seconds", dimensions: [("direction", $0.rawValue)]))
    })

  static func record(_ direction: Direction, bytes count: Int, seconds: Double) {
    bytes[direction]!.increment(by: max(0, count))
    durations[direction]!.recordSeconds(max(0, seconds))
  }
}

/// Whether the kernel serves metrics: the endpoint's URL, or why it does not
/// (both nil when metrics are off).
public struct MetricsEndpointState: Sendable {
  public var url: String?
  public var problem: String?

  public init(url: String? = nil, problem: String? = nil) {
    self.url = url
    self.problem = problem
  }
}
