import Foundation
import JSON
import ProcessStats

/// The answer to usage_request, which JupyterLab's resource panel
/// (jupyter-resource-usage) asks on control, in ipykernel's shape: the CPU and
/// memory of the whole process tree (the kernel, its R child, its workers) and of
/// the machine. CPU percents are over the time since the last request, as
/// psutil's are; a process first seen counts none yet.
final class UsageReport: @unchecked Sendable {
  private let lock = NSLock()
  private var lastCPU: [Int32: Double] = [:]
  private var lastTime: Double?
  private var lastHost: (busy: Double, total: Double)?

  /// The usage_reply content.
  func content() -> JSONValue {
    let tree = ProcessTree.read()
    let host = HostStats.cpuTicks()
    let now = ProcessInfo.processInfo.systemUptime
    let (treeCPU, hostCPU): (Double, Double?) = lock.withLock {
      defer {
        lastCPU = Dictionary(tree.processes.map { ($0.pid, $0.cpuSeconds) }, uniquingKeysWith: { $1 })
        lastTime = now
        lastHost = host
      }
      var percent = 0.0
      if let lastTime, now > lastTime {
        for process in tree.processes {
          guard let before = lastCPU[process.pid] else { continue }
          percent += max(0, process.cpuSeconds - before) / (now - lastTime) * 100
        }
      }
      var hostPercent: Double?
      if let host, let lastHost, host.total > lastHost.total {
        hostPercent = (host.busy - lastHost.busy) / (host.total - lastHost.total) * 100
      }
      return (percent, hostPercent)
    }
    var content: [String: JSONValue] = [
      "hostname": .string(ProcessInfo.processInfo.hostName),
      "pid": .int(Int64(getpid())),
      "kernel_cpu": .double(treeCPU),
      "kernel_memory": .int(Int64(tree.memory)),
      "cpu_count": .int(Int64(ProcessInfo.processInfo.activeProcessorCount)),
      "host_virtual_memory": .object(HostStats.memory().mapValues { .double($0) }),
      // Beyond ipykernel's: which processes were counted.
      "processes": .array(
        tree.processes.map {
          [
            "pid": .int(Int64($0.pid)), "memory": .int(Int64($0.memory)),
            "cpu_seconds": .double($0.cpuSeconds),
          ]
        }),
    ]
    // As ipykernel: no host figure until there is a span to measure it over.
    if let hostCPU, hostCPU != 0 { content["host_cpu_percent"] = .double(hostCPU) }
    return .object(content)
  }
}
