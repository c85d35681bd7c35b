import Foundation
import KernelCore

/// The frontend of the request being served, as the natives reach it: bound by the
/// engine for each request, read from the thread that serves it, from the thread
/// that completes futures and from threads the user's code started.
///
/// A subshell's thread reads its own subshell's frontend; every other thread reads
/// the main shell's.
final class FrontendSlot: @unchecked Sendable {
  private let lock = NSLock()
  private weak var main: Frontend?
  private static let key = "tandem.frontend"

  /// Holds a frontend in a thread's dictionary without keeping it alive.
  private final class WeakFrontend {
    weak var value: Frontend?
    init(_ value: Frontend) { self.value = value }
  }

  /// The frontend of the request this thread serves: its subshell's, else the main shell's.
  var frontend: Frontend? {
    if let own = Thread.current.threadDictionary[Self.key] as? WeakFrontend { return own.value }
    lock.lock()
    defer { lock.unlock() }
    return main
  }

  /// Binds the frontend of the request about to be served on this thread.
  func bind(_ frontend: Frontend) {
    if frontend.subshellID != nil {
      Thread.current.threadDictionary[Self.key] = WeakFrontend(frontend)
      return
    }
    lock.lock()
    main = frontend
    lock.unlock()
  }
}
