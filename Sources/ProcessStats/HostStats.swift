import Foundation

/// The machine's memory and CPU time, as `/proc/meminfo` and `/proc/stat` give them.
public enum HostStats {
  /// Memory in psutil's `virtual_memory()` terms (what JupyterLab's resource
  /// panel reads from ipykernel), in bytes, and `percent` in use.
  public static func memory() -> [String: Double] {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return [:] }
    var info: [String: Double] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, let kilobytes = Double(parts[1].split(separator: " ").first ?? "") else {
        continue
      }
      info[String(parts[0])] = kilobytes * 1024
    }
    let total = info["MemTotal"] ?? 0
    let free = info["MemFree"] ?? 0
    let buffers = info["Buffers"] ?? 0
    let cached = (info["Cached"] ?? 0) + (info["SReclaimable"] ?? 0)
    let available = info["MemAvailable"] ?? free + buffers + cached
    let used = max(0, total - free - buffers - cached)
    return [
      "total": total, "available": available, "percent": total > 0 ? (total - available) / total * 100 : 0,
      "used": used, "free": free, "active": info["Active"] ?? 0, "inactive": info["Inactive"] ?? 0,
      "buffers": buffers, "cached": cached, "shared": info["Shmem"] ?? 0, "slab": info["Slab"] ?? 0,
    ]
  }

  /// All CPUs' busy and total time since boot, in clock ticks.
  public static func cpuTicks() -> (busy: Double, total: Double)? {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
      let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
    else { return nil }
    let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard values.count >= 4 else { return nil }
    let idle = values[3] + (values.count > 4 ? values[4] : 0)  // idle + iowait
    let total = values.reduce(0, +)
    return (total - idle, total)
  }
}
