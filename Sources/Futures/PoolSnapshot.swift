import Foundation

/// What the pool is doing at one moment: each worker, the queues, the totals and
/// the latest task durations. `tandem.status()` shows it; the metrics endpoint
/// reads its gauges from it. Encoded as JSON for the Python and R halves.
public struct PoolSnapshot: Codable, Sendable, Equatable {
  /// One worker process.
  public struct Worker: Codable, Sendable, Equatable {
    /// The pool's name for it ("w3").
    public var name: String
    /// "py" or "r".
    public var language: String
    public var pid: Int32
    /// "starting", "idle" or "busy".
    public var state: String
    /// The broker's number of the task it runs, and for how many seconds it has.
    public var task: UInt64?
    public var taskSeconds: Double?
    /// Tasks it holds (the running one and those sent ahead).
    public var held: Int
    /// Its tasks that returned, and that raised.
    public var done: Int
    public var failed: Int
    /// Its CPU time and memory (PSS, or RSS for the metrics) from /proc; nil once it is gone.
    public var cpuSeconds: Double?
    public var memory: UInt64?
  }

  /// A task that finished lately.
  public struct Recent: Codable, Sendable, Equatable {
    public var language: String
    public var seconds: Double
    public var failed: Bool
  }

  public var workers: [Worker]
  /// Tasks waiting for a worker, by language.
  public var queued: [String: Int]
  /// Tasks that ended, by language and outcome (finished, failed, cancelled, lost).
  public var ended: [String: [String: Int]]
  /// The last tasks to end (at most `Broker.recentLimit`), oldest first.
  public var recent: [Recent]
  /// Tasks that failed or were lost in the last 60 seconds.
  public var failuresLastMinute: Int
  /// A task running longer than this many seconds counts as stuck.
  public var stuckAfter: Double

  /// The snapshot as JSON text.
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }
}
