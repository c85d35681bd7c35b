import Foundation

/// Work handed to a thread that sleeps in `ZMQPoller.poll` beside its sockets.
///
/// `push` appends under a lock from any thread and, when the owner may be asleep,
/// writes a byte to a pipe whose read end (`descriptor`) the owner polls with its
/// sockets. The owner calls `willSleep()` just before polling and `take()` after:
/// a push between the two wakes it, a push while it works costs no write. Both
/// ends are non-blocking and close on exec, so no child inherits them.
public final class WakeQueue<Element>: @unchecked Sendable {
  /// The read end, for the owner's poller.
  public let descriptor: Int32
  private let writeEnd: Int32
  private let lock = NSLock()
  private var items: [Element] = []
  private var sleeping = false

  public init() throws {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { throw ZMQError(call: "pipe", errno: errno) }
    for end in ends {
      _ = fcntl(end, F_SETFD, FD_CLOEXEC)
      _ = fcntl(end, F_SETFL, O_NONBLOCK)
    }
    (descriptor, writeEnd) = (ends[0], ends[1])
  }

  deinit {
    close(descriptor)
    close(writeEnd)
  }

  /// Queues `item`, waking the owner if it sleeps. Any thread.
  public func push(_ item: Element) {
    lock.lock()
    items.append(item)
    let mustWake = sleeping
    sleeping = false
    lock.unlock()
    if mustWake { signal() }
  }

  /// Wakes the owner whatever it is doing, for work it keeps elsewhere. Any thread.
  public func wake() {
    lock.lock()
    sleeping = false
    lock.unlock()
    signal()
  }

  /// The owner, before polling: true when nothing is queued, and then the next
  /// push wakes it; false when it should look again without waiting.
  public func willSleep() -> Bool {
    lock.lock()
    defer { lock.unlock() }
    sleeping = items.isEmpty
    return sleeping
  }

  /// The owner: everything queued, in order.
  public func take() -> [Element] {
    lock.lock()
    defer { lock.unlock() }
    let taken = items
    items.removeAll(keepingCapacity: true)
    return taken
  }

  /// The owner, when the poller found `descriptor` readable: empties the pipe.
  public func clearSignal() {
    var sink = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    while withUnsafeMutableBytes(of: &sink, { read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
  }

  private func signal() {
    var byte: UInt8 = 1
    _ = write(writeEnd, &byte, 1)
  }
}
