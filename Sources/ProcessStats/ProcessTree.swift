import Foundation

/// A process and its descendants as `/proc` shows them (Linux): what the kernel,
/// its R child and its workers hold together.
public struct ProcessTree: Sendable {
  /// One process's figures.
  public struct Process: Sendable, Equatable {
    public let pid: Int32
    /// User plus system CPU time, in seconds.
    public let cpuSeconds: Double
    /// Proportional set size (shared pages split among their users), or the
    /// resident set size where the kernel gives no PSS or it was not asked for, in bytes.
    public let memory: UInt64

    public init(pid: Int32, cpuSeconds: Double, memory: UInt64) {
      self.pid = pid
      self.cpuSeconds = cpuSeconds
      self.memory = memory
    }

    init(pid: Int32, stat: Stat, pageSize: UInt64, proportional: Bool = true) {
      self.pid = pid
      cpuSeconds = stat.cpuSeconds
      let resident = stat.residentPages * pageSize
      memory = proportional ? ProcessTree.proportionalSetSize(pid) ?? resident : resident
    }
  }

  /// The root first, then its descendants.
  public let processes: [Process]

  /// The figures of `root` and every process below it; empty if `root` is gone.
  public static func read(root: Int32 = getpid()) -> ProcessTree {
    // One pass over /proc: each process's stat is read once, for its parent and its figures.
    var stats: [Int32: Stat] = [:]
    var children: [Int32: [Int32]] = [:]
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
      guard let pid = Int32(entry), let stat = Stat(pid: pid) else { continue }
      stats[pid] = stat
      children[stat.parent, default: []].append(pid)
    }
    guard stats[root] != nil else { return ProcessTree(processes: []) }
    var order: [Int32] = [root]
    var index = 0
    while index < order.count {
      order += children[order[index]] ?? []
      index += 1
    }
    let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
    return ProcessTree(
      processes: order.compactMap { pid in
        stats[pid].map { Process(pid: pid, stat: $0, pageSize: pageSize) }
      })
  }

  /// One process's figures, without its descendants; nil if it is gone. Its memory
  /// is its PSS when `proportional`, else its resident set size: reading PSS walks
  /// every mapping of the process and costs milliseconds for a large one.
  public static func process(_ pid: Int32, proportional: Bool = true) -> Process? {
    guard let stat = Stat(pid: pid) else { return nil }
    let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
    return Process(pid: pid, stat: stat, pageSize: pageSize, proportional: proportional)
  }

  /// The sum of the processes' memory, in bytes.
  public var memory: UInt64 { processes.reduce(0) { $0 + $1.memory } }

  fileprivate static func proportionalSetSize(_ pid: Int32) -> UInt64? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else {
      return nil
    }
    for line in text.split(separator: "\n") where line.hasPrefix("Pss:") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if fields.count >= 2, let kilobytes = UInt64(fields[1]) { return kilobytes * 1024 }
    }
    return nil
  }
}

/// The fields of `/proc/<pid>/stat` that are read.
struct Stat {
  let parent: Int32
  let cpuSeconds: Double
  let residentPages: UInt64

  init?(pid: Int32) {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
    self.init(text)
  }

  /// The command name (field 2) is in parentheses and may hold spaces and
  /// parentheses itself: the fields after it start after its last ")".
  init?(_ text: String) {
    guard let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24.
    guard fields.count > 21, let parent = Int32(fields[1]), let user = Double(fields[11]),
      let system = Double(fields[12]), let resident = UInt64(fields[21])
    else { return nil }
    self.parent = parent
    cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    residentPages = resident
  }
}
