@preconcurrency import CZeroMQ
import Foundation
import JSON
import Logging
import ZeroMQ

/// The ZeroMQ transport: owns the kernel's sockets and the one thread that uses them.
///
/// Shell, control, stdin and IOPub live on the server thread; the heartbeat echoes on
/// a thread of its own so that a busy server never looks dead. Any thread may `send`:
/// messages are queued and the server thread signs and writes them in order.
public final class KernelServer: KernelTransport, @unchecked Sendable {
  /// The session id of this kernel's own messages.
  public let session: String
  public let connection: ConnectionInfo

  private let context = ZMQContext()
  private let codec: WireCodec
  private let logger: Logger
  private var sockets: [Channel: ZMQSocket] = [:]
  /// What the server thread sends next; a push wakes its poll.
  private let outgoing: WakeQueue<Outgoing>
  private let stopped = DispatchSemaphore(value: 0)

  private enum Outgoing {
    case message(Channel, Message)
    /// Send what is queued before, then close the sockets.
    case stop
  }
  private weak var handler: KernelTransportHandler?

  /// Why the sockets could not be bound, in words a user can act on.
  public struct BindError: Error, CustomStringConvertible {
    public let channel: Channel
    public let endpoint: String
    public let underlying: ZMQError
    public var description: String {
      if underlying.errno == EADDRINUSE {
        return
          "\(channel.rawValue) port \(endpoint) is already in use: another process holds it; "
          + "start the kernel with a fresh connection file"
      }
      return "cannot bind the \(channel.rawValue) socket to \(endpoint): \(underlying)"
    }
  }

  /// The connection file asks for CurveZMQ, which this libzmq lacks.
  public struct EncryptionUnavailable: Error, CustomStringConvertible {
    public var description: String {
      "the connection file asks for CurveZMQ encryption, but this libzmq was built without it "
        + "(install a libzmq with libsodium, or start the kernel without transport_encryption)"
    }
  }

  /// Binds every socket to the address in the connection file.
  public init(connection: ConnectionInfo, session: String, logger: Logger) throws {
    self.connection = connection
    self.session = session
    self.logger = logger
    self.codec = WireCodec(key: connection.key, scheme: connection.signatureScheme)
    outgoing = try WakeQueue()
    let kinds: [(Channel, ZMQSocket.Kind)] = [
      (.shell, .router), (.control, .router), (.stdin, .router), (.iopub, .xpub), (.hb, .router),
    ]
    if connection.curveSecretKey != nil && !ZMQContext.has("curve") {
      throw EncryptionUnavailable()
    }
    for (channel, kind) in kinds {
      let socket = try ZMQSocket(context: context, kind: kind)
      if let secret = connection.curveSecretKey {
        try socket.makeCurveServer(secretKey: secret)
      }
      if channel == .iopub {
        // Every subscription is reported, so each new client gets its welcome.
        try socket.setOption(ZMQ_XPUB_VERBOSE, 1)
      }
      let endpoint = connection.endpoint(channel)
      do {
        try socket.bind(endpoint)
      } catch {
        throw BindError(channel: channel, endpoint: endpoint, underlying: error)
      }
      sockets[channel] = socket
    }
  }

  /// Starts the heartbeat and server threads.
  public func start(handler: KernelTransportHandler) {
    self.handler = handler
    let hb = sockets[.hb]!
    let heartbeat = Thread { ZMQSocket.proxy(hb, hb) }
    heartbeat.name = "tandem-heartbeat"
    heartbeat.start()
    let server = Thread { [self] in run() }
    server.name = "tandem-server"
    server.start()
  }

  /// Queues a message; the server thread signs and sends it.
  public func send(_ message: Message, on channel: Channel) {
    outgoing.push(.message(channel, message))
  }

  /// Sends what is queued, closes the sockets and returns once the server thread ends.
  public func stop() {
    outgoing.push(.stop)
    stopped.wait()
  }

  private func run() {
    let order: [Channel] = [.control, .shell, .stdin, .iopub]
    var poller = ZMQPoller()
    for channel in order { poller.add(sockets[channel]!) }
    poller.add(fd: outgoing.descriptor)
    while true {
      // Messages queued while sending the last batch go out without a wake-up.
      let ready = poller.poll(timeoutMilliseconds: outgoing.willSleep() ? -1 : 0)
      for (i, channel) in order.enumerated() where ready[i] {
        drain(channel)
      }
      if ready[order.count] { outgoing.clearSignal() }
      if flushOutgoing() { break }
    }
    for socket in sockets.values where socket !== sockets[.hb] { socket.close() }
    stopped.signal()
  }

  /// Sends everything queued; returns true when the server should stop.
  private func flushOutgoing() -> Bool {
    var stop = false
    while true {
      let batch = outgoing.take()
      if batch.isEmpty { return stop }
      for item in batch {
        guard case .message(let channel, var message) = item else {
          stop = true
          continue
        }
        if channel == .iopub && message.identities.isEmpty {
          message.identities = [Array("kernel.\(session).\(message.msgType)".utf8)]
        }
        do {
          try sockets[channel]!.send(codec.encode(message))
        } catch {
          logger.error("could not send \(message.msgType) on \(channel.rawValue): \(error)")
        }
      }
    }
  }

  /// Reads every message waiting on a socket (bounded, so control is never starved).
  private func drain(_ channel: Channel) {
    let socket = sockets[channel]!
    for _ in 0..<256 {
      let frames: [[UInt8]]?
      do {
        frames = try socket.receive(dontWait: true)
      } catch {
        logger.error("receive on \(channel.rawValue) failed: \(error)")
        return
      }
      guard let frames else { return }
      if channel == .iopub {
        subscriptionChanged(frames)
      } else {
        deliver(frames, from: channel)
      }
    }
  }

  private func deliver(_ frames: [[UInt8]], from channel: Channel) {
    do {
      let message = try codec.decode(frames)
      handler?.handle(message, from: channel)
    } catch {
      let type = WireCodec.peekHeader(frames).header?["msg_type"]?.stringValue ?? "?"
      logger.warning("dropped a message on \(channel.rawValue) (msg_type \(type)): \(error)")
    }
  }

  /// XPUB reports subscriptions as a frame starting with 1; answer each with a welcome
  /// (JEP 65) so the client knows IOPub is connected.
  private func subscriptionChanged(_ frames: [[UInt8]]) {
    guard let frame = frames.first, frame.first == 1 else { return }
    let topic = Array(frame.dropFirst())
    let content: JSONValue = ["subscription": .string(String(decoding: topic, as: UTF8.self))]
    let welcome = Message(
      identities: [topic], header: MessageHeader(msgType: "iopub_welcome", session: session),
      content: content.serialized)
    do {
      try sockets[.iopub]!.send(codec.encode(welcome))
    } catch {
      logger.error("could not send iopub_welcome: \(error)")
    }
  }
}
