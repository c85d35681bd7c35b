import Foundation

/// Keeps a flood of log records from one place in the code (a fuzzer's 10,000 bad
/// messages, a peer that keeps knocking) to one line, then a count of the others
/// every `window` seconds.
final class RepeatLimiter: @unchecked Sendable {
  private struct Site {
    var windowStart: Double
    var suppressed = 0
    var last = ""
  }

  private let window: Double
  private let emit: @Sendable (String) -> Void
  private let lock = NSLock()
  private var sites: [String: Site] = [:]

  init(window: Double = 5, emit: @escaping @Sendable (String) -> Void) {
    self.window = window
    self.emit = emit
  }

  /// Writes `line`, unless another record from `site` was written less than
  /// `window` seconds ago: then it is counted, and the count written when the
  /// window ends.
  func log(_ line: String, site: String) {
    let now = Self.now()
    lock.lock()
    if var current = sites[site], now - current.windowStart < window {
      current.suppressed += 1
      current.last = line
      sites[site] = current
      let firstSuppressed = current.suppressed == 1
      lock.unlock()
      if firstSuppressed {
        let delay = current.windowStart + window - now
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in flush(site) }
      }
      return
    }
    sites[site] = Site(windowStart: now)
    lock.unlock()
    emit(line)
  }

  /// Writes how many records of `site` the window held back, and starts a new
  /// window so that a flood that goes on is counted again.
  private func flush(_ site: String) {
    lock.lock()
    guard var current = sites[site], current.suppressed > 0 else {
      lock.unlock()
      return
    }
    let count = current.suppressed
    let last = current.last
    current.suppressed = 0
    current.windowStart = Self.now()
    current.last = ""
    sites[site] = current
    lock.unlock()
    emit("\(last) [and \(count - 1) more like it in the last \(Int(window)) s]")
  }

  private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
