/// What the status panel shows of the tasks that ended: the latest durations and
/// the failures of the last minute. Both are bounded and cost O(1) per task, so a
/// fan-out of millions of tasks neither grows them nor slows the broker.
struct TaskHistory {
  /// How many durations are kept.
  let limit: Int
  private var durations: [PoolSnapshot.Recent] = []
  /// Where the next duration goes once `durations` is full (the oldest is there).
  private var next = 0
  /// Failures counted per second, in 60 slots: the second each slot counts, and how many.
  private var failureSecond = [UInt64](repeating: .max, count: 60)
  private var failureCount = [Int](repeating: 0, count: 60)

  init(limit: Int) {
    self.limit = limit
  }

  /// A task ran for `seconds`, returning or raising.
  mutating func ran(_ language: WorkerLanguage, seconds: Double, failed: Bool) {
    let entry = PoolSnapshot.Recent(language: language.rawValue, seconds: seconds, failed: failed)
    if durations.count < limit {
      durations.append(entry)
    } else {
      durations[next] = entry
      next = (next + 1) % limit
    }
  }

  /// A task failed or was lost at `now` (nanoseconds of a monotonic clock).
  mutating func failed(at now: UInt64) {
    let second = now / 1_000_000_000
    let slot = Int(second % 60)
    if failureSecond[slot] != second {
      failureSecond[slot] = second
      failureCount[slot] = 0
    }
    failureCount[slot] += 1
  }

  /// The durations kept, oldest first.
  var recent: [PoolSnapshot.Recent] { Array(durations[next...] + durations[..<next]) }

  /// Failures in the 60 seconds up to `now`.
  func failures(before now: UInt64) -> Int {
    let second = now / 1_000_000_000
    return zip(failureSecond, failureCount).reduce(0) { sum, slot in
      slot.0 <= second && second - slot.0 < 60 ? sum + slot.1 : sum
    }
  }
}
