@preconcurrency import CZeroMQ
import Foundation

/// A ZeroMQ failure with the call that failed and libzmq's reason.
public struct ZMQError: Error, CustomStringConvertible {
  public let call: String
  public let errno: Int32

  public init(call: String, errno: Int32) {
    self.call = call
    self.errno = errno
  }

  public var description: String { "\(call): \(String(cString: zmq_strerror(errno)))" }

  static func last(_ call: String) -> ZMQError { ZMQError(call: call, errno: zmq_errno()) }
}

/// A ZeroMQ context; one per process is enough.
public final class ZMQContext: @unchecked Sendable {
  let handle: UnsafeMutableRawPointer

  public init() {
    handle = zmq_ctx_new()
  }

  deinit {
    zmq_ctx_term(handle)
  }

  /// Whether libzmq was built with `capability` ("curve", "ipc"...).
  public static func has(_ capability: String) -> Bool {
    zmq_has(capability) != 0
  }

  /// The libzmq version as "major.minor.patch".
  public static var libraryVersion: String {
    var major: Int32 = 0
    var minor: Int32 = 0
    var patch: Int32 = 0
    zmq_version(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
  }
}

/// A ZeroMQ socket. Not thread-safe: it belongs to the one thread that uses it.
public final class ZMQSocket: @unchecked Sendable {
  public enum Kind: Int32, Sendable {
    case router, xpub, pub, sub, dealer, rep, req, pair, push, pull
    var raw: Int32 {
      switch self {
      case .router: return ZMQ_ROUTER
      case .xpub: return ZMQ_XPUB
      case .pub: return ZMQ_PUB
      case .sub: return ZMQ_SUB
      case .dealer: return ZMQ_DEALER
      case .rep: return ZMQ_REP
      case .req: return ZMQ_REQ
      case .pair: return ZMQ_PAIR
      case .push: return ZMQ_PUSH
      case .pull: return ZMQ_PULL
      }
    }
  }

  let handle: UnsafeMutableRawPointer
  private var closed = false
  /// Held so that the context outlives the socket: terminating a context waits for
  /// its open sockets, so an owner whose context went first would hang.
  private let context: ZMQContext

  public init(context: ZMQContext, kind: Kind) throws(ZMQError) {
    guard let h = zmq_socket(context.handle, kind.raw) else { throw .last("zmq_socket") }
    handle = h
    self.context = context
    // A short linger keeps zmq_ctx_term from hanging at shutdown on unsent messages.
    try setOption(ZMQ_LINGER, 1000)
  }

  deinit { close() }

  public func close() {
    if !closed {
      zmq_close(handle)
      closed = true
    }
  }

  public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
    var v = value
    guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
      throw .last("zmq_setsockopt(\(option))")
    }
  }

  public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
    let rc = bytes.withUnsafeBufferPointer { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
    guard rc == 0 else { throw .last("zmq_setsockopt(\(option))") }
  }

  /// Makes this socket a CurveZMQ server with `secretKey` (Z85): peers must know
  /// its public key, and everything on the connection is encrypted. Before `bind`.
  public func makeCurveServer(secretKey: String) throws(ZMQError) {
    try setOption(ZMQ_CURVE_SERVER, 1)
    try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(secretKey.utf8) + [0])
  }

  public func bind(_ endpoint: String) throws(ZMQError) {
    guard zmq_bind(handle, endpoint) == 0 else { throw .last("zmq_bind(\(endpoint))") }
  }

  /// Connects to a bound socket (the other side's `bind`).
  public func connect(_ endpoint: String) throws(ZMQError) {
    guard zmq_connect(handle, endpoint) == 0 else { throw .last("zmq_connect(\(endpoint))") }
  }

  /// The endpoint actually bound (resolves a wildcard port).
  public var lastEndpoint: String {
    var buffer = [CChar](repeating: 0, count: 256)
    var size = buffer.count
    zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Sends all frames as one message. With `dontWait`, returns false when the
  /// message could not be queued right now.
  @discardableResult
  public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
    for (i, frame) in frames.enumerated() {
      var flags: Int32 = i < frames.count - 1 ? ZMQ_SNDMORE : 0
      if dontWait { flags |= ZMQ_DONTWAIT }
      let rc = frame.withUnsafeBufferPointer { zmq_send(handle, $0.baseAddress, $0.count, flags) }
      if rc < 0 {
        if zmq_errno() == EAGAIN && i == 0 { return false }
        throw .last("zmq_send")
      }
    }
    return true
  }

  /// Whether a message waits to be received, waiting up to `milliseconds` for one
  /// (-1: without end).
  public func hasMessage(within milliseconds: Int) -> Bool {
    var poller = ZMQPoller()
    poller.add(self)
    return poller.poll(timeoutMilliseconds: milliseconds)[0]
  }

  /// Receives one whole multipart message; nil when `dontWait` and nothing is queued.
  public func receive(dontWait: Bool = false) throws(ZMQError) -> [[UInt8]]? {
    var frames: [[UInt8]] = []
    var more: Int32 = 1
    while more != 0 {
      var msg = zmq_msg_t()
      zmq_msg_init(&msg)
      defer { zmq_msg_close(&msg) }
      let rc = zmq_msg_recv(&msg, handle, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0)
      if rc < 0 {
        if zmq_errno() == EAGAIN && frames.isEmpty { return nil }
        throw .last("zmq_msg_recv")
      }
      let size = zmq_msg_size(&msg)
      if let data = zmq_msg_data(&msg) {
        frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
      } else {
        frames.append([])
      }
      more = zmq_msg_more(&msg)
    }
    return frames
  }

  /// Forwards messages between two sockets until the context ends; with the same
  /// socket on both sides this is the heartbeat echo.
  public static func proxy(_ frontend: ZMQSocket, _ backend: ZMQSocket) {
    zmq_proxy(frontend.handle, backend.handle, nil)
  }
}

/// Waits until any of the sockets or file descriptors is readable.
public struct ZMQPoller {
  private var items: [zmq_pollitem_t] = []

  public init() {}

  public mutating func add(_ socket: ZMQSocket) {
    items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
  }

  public mutating func add(fd: Int32) {
    items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
  }

  /// Polls; returns, for each item in the order added, whether it is readable.
  public mutating func poll(timeoutMilliseconds: Int) -> [Bool] {
    let count = Int32(items.count)
    let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, count, timeoutMilliseconds) }
    if rc <= 0 { return Array(repeating: false, count: items.count) }
    return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
  }
}
