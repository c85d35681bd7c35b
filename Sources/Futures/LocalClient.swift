import Foundation

/// The broker's in-process client: the kernel's own Python, which talks to the
/// broker through memory rather than a socket. Its messages are framed as a socket
/// client's would be, without the routing id. Every method may be called from any
/// thread; `receive` from one thread at a time.
public final class LocalClient: @unchecked Sendable {
  /// The routing id standing for this client (ZeroMQ ids never start with a zero
  /// byte, so no socket peer has it).
  static let peer: [UInt8] = [0]

  private weak var broker: Broker?
  private let inboxLock = NSLock()
  private var inbox: [[[UInt8]]] = []
  private var outbox: [[[UInt8]]] = []
  private let outboxReady = NSCondition()

  init() {}

  /// Binds the client to its broker, once, when the broker is made.
  func attach(to broker: Broker) {
    self.broker = broker
  }

  /// Sends one message to the broker.
  public func send(_ frames: [[UInt8]]) {
    inboxLock.lock()
    inbox.append(frames)
    let wake = inbox.count == 1
    inboxLock.unlock()
    if wake { broker?.wake() }
  }

  /// The broker's messages, waiting up to `timeout` seconds for the first (without
  /// a bound when nil); empty when none came.
  public func receive(timeout: Double?) -> [[[UInt8]]] {
    outboxReady.lock()
    defer { outboxReady.unlock() }
    if outbox.isEmpty {
      if let timeout {
        _ = outboxReady.wait(until: Date(timeIntervalSinceNow: timeout))
      } else {
        outboxReady.wait()
      }
    }
    let messages = outbox
    outbox.removeAll()
    return messages
  }

  /// Takes a task off the queue if no worker has it yet; returns whether it did (as
  /// `concurrent.futures` cancels only what has not started).
  public func cancel(_ clientTaskID: [UInt8]) -> Bool {
    taskWaits(clientTaskID, removing: true)
  }

  /// Whether a task still waits for a worker.
  public func isQueued(_ clientTaskID: [UInt8]) -> Bool {
    taskWaits(clientTaskID, removing: false)
  }

  /// The pool's state as JSON (`PoolSnapshot`), for `tandem.status()`.
  public func status() -> String {
    broker?.snapshot().json ?? "{}"
  }

  /// Sets how many seconds a task may run before it counts as stuck.
  public func setStuckThreshold(_ seconds: Double) {
    broker?.setStuckThreshold(seconds)
  }

  /// Cancels every queued task and interrupts the running ones, of every client.
  public func interruptAll() {
    broker?.interrupt()
  }

  // MARK: - The broker's side

  /// The messages sent since the last call (broker thread).
  func takeInbox() -> [[[UInt8]]] {
    inboxLock.lock()
    defer { inboxLock.unlock() }
    let messages = inbox
    inbox.removeAll()
    return messages
  }

  /// Hands a message from the broker to this client (broker thread).
  func deliver(_ frames: [[UInt8]]) {
    outboxReady.lock()
    outbox.append(frames)
    outboxReady.signal()
    outboxReady.unlock()
  }

  /// Whether the task waits: sent but not read by the broker's thread yet, or in
  /// the scheduler's queue; `removing` takes it out of either.
  private func taskWaits(_ clientTaskID: [UInt8], removing: Bool) -> Bool {
    guard let broker else { return false }
    return broker.withScheduler { scheduler in
      inboxLock.lock()
      let unread = inbox.firstIndex { $0.count >= 2 && $0[0] == Verb.submit && $0[1] == clientTaskID }
      if let unread, removing { inbox.remove(at: unread) }
      inboxLock.unlock()
      if unread != nil { return true }
      guard removing else { return scheduler.isQueued(clientTaskID: clientTaskID, replyTo: Self.peer) }
      guard let task = scheduler.cancel(clientTaskID: clientTaskID, replyTo: Self.peer) else { return false }
      broker.count(task, .cancelled)
      return true
    }
  }
}
