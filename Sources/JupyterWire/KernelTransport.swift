/// Receives the verified messages a transport reads.
public protocol KernelTransportHandler: AnyObject, Sendable {
  /// Called for every message whose signature verified, on the transport's thread.
  /// Must return quickly: hand long work to another thread.
  func handle(_ message: Message, from channel: Channel)
}

/// Where a kernel's messages come from and go to. `KernelServer` is the ZeroMQ
/// implementation; the kernel knows only this, so it can be driven without sockets.
public protocol KernelTransport: AnyObject, Sendable {
  /// The session id of the kernel's own messages.
  var session: String { get }

  /// Starts delivering messages to `handler`.
  func start(handler: KernelTransportHandler)

  /// Sends a message; callable from any thread, messages go out in call order.
  func send(_ message: Message, on channel: Channel)

  /// Sends what is queued, stops delivering and returns once the transport is closed.
  func stop()
}
