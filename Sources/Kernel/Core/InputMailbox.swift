import Foundation

/// The value of an input_reply, handed from the server thread to the waiting engine.
final class InputMailbox: @unchecked Sendable {
  private let condition = NSCondition()
  private var value: String?

  func put(_ reply: String) {
    condition.lock()
    value = reply
    condition.signal()
    condition.unlock()
  }

  func clear() {
    condition.lock()
    value = nil
    condition.unlock()
  }

  /// Waits up to `timeout` seconds for a reply and takes it.
  func take(timeout: Double) -> String? {
    condition.lock()
    defer { condition.unlock() }
    let deadline = Date(timeIntervalSinceNow: timeout)
    while value == nil {
      if !condition.wait(until: deadline) { break }
    }
    defer { value = nil }
    return value
  }
}
