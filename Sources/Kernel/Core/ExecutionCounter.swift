import Foundation

/// The kernel's execution count. Every engine numbers its cells from it, so a
/// notebook that mixes R and Python cells counts them as one sequence, whichever
/// engine ran each. Shells share it, as ipykernel's subshells share one count.
final class ExecutionCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var next: Int64 = 1

  /// The count of an execution about to start: a cell kept in history takes the
  /// next number; one that is not (silent, `store_history: false`) shows the
  /// current one without using it up, as IPython does.
  func take(storing: Bool) -> Int64 {
    lock.withLock {
      defer { if storing { next += 1 } }
      return next
    }
  }
}
