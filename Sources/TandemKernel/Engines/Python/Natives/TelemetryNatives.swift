import PythonEngine

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
        let direction = KernelMetrics.ExchangeDirection(rawValue: name), let bytes = args[1].doubleValue,
        let seconds = args[2].doubleValue
      else {
        throw PythonError(
          typeName: "TypeError", message: "metrics_exchange('python_to_r' | 'r_to_python', nbytes, seconds)")
      }
      KernelMetrics.exchanged(direction, bytes: Int(bytes), seconds: seconds)
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
