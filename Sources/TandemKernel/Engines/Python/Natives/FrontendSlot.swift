import Foundation

/// The frontend of the request being served, as the natives reach it: set by the
/// engine for each request, read from the Python thread and from the thread that
/// completes futures.
final class FrontendSlot: @unchecked Sendable {
  private let lock = NSLock()
  private weak var value: Frontend?

  var frontend: Frontend? {
    get {
      lock.lock()
      defer { lock.unlock() }
      return value
    }
    set {
      lock.lock()
      value = newValue
      lock.unlock()
    }
  }
}
