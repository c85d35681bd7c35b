import Foundation
import JupyterWire

/// Shell requests waiting for the engine, in arrival order. A request taken off
/// the queue is no longer held by it, so a large message is freed once its request
/// ends.
final class ShellQueue: @unchecked Sendable {
  private let lock = NSLock()
  /// Taken requests leave a nil behind until the taken prefix is cut off.
  private var items: [Message?] = []
  private var head = 0

  func append(_ message: Message) {
    lock.lock()
    items.append(message)
    lock.unlock()
  }

  /// The oldest waiting request, removed from the queue.
  func next() -> Message? {
    lock.lock()
    defer { lock.unlock() }
    guard head < items.count else { return nil }
    let message = items[head]
    items[head] = nil
    head += 1
    if head == items.count || (head > 64 && head * 2 > items.count) {
      items.removeFirst(head)
      head = 0
    }
    return message
  }

  /// Removes and returns the waiting requests that match, keeping the others in order.
  func removeAll(where matches: (Message) -> Bool) -> [Message] {
    lock.lock()
    defer { lock.unlock() }
    let waiting = items[head...].compactMap { $0 }
    items = waiting.filter { !matches($0) }
    head = 0
    return waiting.filter(matches)
  }
}
