import Metrics

/// One process's resident memory (a gauge) and CPU time (a counter) as metrics,
/// recorded from `/proc` figures at each scrape. The counter only goes up: when
/// the process behind the series changes (R restarted), the new one's CPU time
/// counts on from where the old one's stopped.
public final class ProcessSeries {
  private let memory: Gauge
  private let cpu: FloatingPointCounter
  private var pid: Int32 = 0
  private var cpuSeen = 0.0

  /// `memory` and `cpu` name the two metrics; `dimensions` label both.
  public init(memory: String, cpu: String, dimensions: [(String, String)]) {
    self.memory = Gauge(label: memory, dimensions: dimensions)
    self.cpu = FloatingPointCounter(label: cpu, dimensions: dimensions)
  }

  public func record(_ figures: ProcessTree.Process) {
    memory.record(figures.memory)
    let before = figures.pid == pid ? cpuSeen : 0
    if figures.cpuSeconds > before { cpu.increment(by: figures.cpuSeconds - before) }
    pid = figures.pid
    cpuSeen = figures.cpuSeconds
  }

  /// Removes both series (the process is gone for good).
  public func destroy() {
    memory.destroy()
    cpu.destroy()
  }
}
