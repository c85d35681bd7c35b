@preconcurrency import CZeroMQ
import Foundation
import JSON
import Logging
import XCTest
import ZeroMQ

@testable import JupyterWire

/// The ZeroMQ transport with real client sockets: signed messages reach the
/// handler by channel and unsigned ones do not, replies reach the client that
/// asked, IOPub welcomes a subscriber and publishes to it, the heartbeat echoes,
/// and stop sends what was queued first.
final class KernelServerTests: XCTestCase {
  private var folder = ""
  private var server: KernelServer!
  private let handler = RecordingHandler()
  private let context = ZMQContext()
  private var sockets: [ZMQSocket] = []
  private let key = Array("test-key".utf8)
  private lazy var codec = WireCodec(key: key)

  override func setUpWithError() throws {
    folder = NSTemporaryDirectory() + "tandem-server-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    let ports: [Channel: Int] = [.shell: 1, .control: 2, .stdin: 3, .iopub: 4, .hb: 5]
    server = try KernelServer(
      connection: ConnectionInfo(transport: "ipc", ip: folder + "/kernel", ports: ports, key: key),
      session: "kernel-session", logger: Logger(label: "test"))
    server.start(handler: handler)
  }

  override func tearDown() {
    for socket in sockets { socket.close() }
    server.stop()
    try? FileManager.default.removeItem(atPath: folder)
  }

  private func client(_ kind: ZMQSocket.Kind, _ channel: Channel) throws -> ZMQSocket {
    let socket = try ZMQSocket(context: context, kind: kind)
    try socket.setOption(ZMQ_LINGER, 0)
    try socket.connect(server.connection.endpoint(channel))
    sockets.append(socket)
    return socket
  }

  /// The next message on `socket`, within `seconds`.
  private func next(_ socket: ZMQSocket, within seconds: Int = 5) -> [[UInt8]]? {
    guard socket.hasMessage(within: seconds * 1000) else { return nil }
    return try? socket.receive(dontWait: true)
  }

  private func request(_ type: String) -> Message {
    Message(header: MessageHeader(msgType: type, session: "client"), content: Message.emptyObject)
  }

  func testSignedRequestsReachTheHandlerAndRepliesTheirClient() throws {
    let shell = try client(.dealer, .shell)
    let control = try client(.dealer, .control)
    _ = try shell.send(codec.encode(request("execute_request")))
    _ = try control.send(codec.encode(request("interrupt_request")))
    let delivered = try XCTUnwrap(handler.wait(for: 2))
    XCTAssertEqual(
      Set(delivered.map { "\($0.1.rawValue):\($0.0.msgType)" }),
      [
        "shell:execute_request", "control:interrupt_request",
      ])
    let asked = try XCTUnwrap(delivered.first { $0.1 == .shell }?.0)
    var reply = Message(
      header: MessageHeader(msgType: "execute_reply", session: server.session), content: Message.emptyObject)
    reply.identities = asked.identities
    reply.parentHeader = asked.rawHeader
    server.send(reply, on: .shell)
    let frames = try XCTUnwrap(next(shell))
    let answer = try codec.decode(frames)
    XCTAssertEqual(answer.msgType, "execute_reply")
    XCTAssertEqual(answer.parentHeader, asked.rawHeader)
  }

  func testAMessageWithABadSignatureIsDropped() throws {
    let shell = try client(.dealer, .shell)
    var forged = WireCodec(key: Array("other-key".utf8)).encode(request("execute_request"))
    _ = try shell.send(forged)
    forged[1] = Array(repeating: UInt8(ascii: "0"), count: 64)
    _ = try shell.send(forged)
    _ = try shell.send(codec.encode(request("kernel_info_request")))
    let delivered = try XCTUnwrap(handler.wait(for: 1))
    XCTAssertEqual(delivered.map(\.0.msgType), ["kernel_info_request"])
  }

  func testIOPubWelcomesASubscriberAndPublishesToIt() throws {
    let iopub = try client(.sub, .iopub)
    try iopub.setOption(ZMQ_SUBSCRIBE, bytes: [])
    let welcome = try codec.decode(try XCTUnwrap(next(iopub)))
    XCTAssertEqual(welcome.msgType, "iopub_welcome")
    server.send(
      Message(
        header: MessageHeader(msgType: "status", session: server.session), content: Message.emptyObject),
      on: .iopub)
    let frames = try XCTUnwrap(next(iopub))
    XCTAssertEqual(frames[0], Array("kernel.kernel-session.status".utf8))
    XCTAssertEqual(try codec.decode(frames).msgType, "status")
  }

  func testTheHeartbeatEchoes() throws {
    let heartbeat = try client(.req, .hb)
    _ = try heartbeat.send([Array("ping".utf8)])
    XCTAssertEqual(next(heartbeat), [Array("ping".utf8)])
  }

  func testStopSendsWhatWasQueuedFirst() throws {
    let iopub = try client(.sub, .iopub)
    try iopub.setOption(ZMQ_SUBSCRIBE, bytes: [])
    XCTAssertNotNil(next(iopub))  // the welcome: connected
    for number in 0..<50 {
      server.send(
        Message(
          header: MessageHeader(msgType: "stream", session: server.session),
          content: (["n": .int(Int64(number))] as JSONValue).serialized), on: .iopub)
    }
    server.stop()
    var received: [Int64] = []
    while let frames = next(iopub, within: 2), let message = try? codec.decode(frames) {
      received.append((try? message.parsedContent())?["n"]?.intValue ?? -1)
    }
    XCTAssertEqual(received, Array(0..<50))
    server = try KernelServer(
      connection: ConnectionInfo(transport: "ipc", ip: folder + "/again", ports: [.hb: 6], key: key),
      session: "again", logger: Logger(label: "test"))  // for tearDown's stop
    server.start(handler: handler)
  }
}

/// Records what the server delivers.
final class RecordingHandler: KernelTransportHandler, @unchecked Sendable {
  private let condition = NSCondition()
  private var delivered: [(Message, Channel)] = []

  func handle(_ message: Message, from channel: Channel) {
    condition.lock()
    delivered.append((message, channel))
    condition.broadcast()
    condition.unlock()
  }

  /// The first `count` messages delivered, once they came (within 5 s); then a
  /// moment more, to see that no other comes.
  func wait(for count: Int) -> [(Message, Channel)]? {
    let deadline = Date(timeIntervalSinceNow: 5)
    condition.lock()
    defer { condition.unlock() }
    while delivered.count < count {
      guard condition.wait(until: deadline) else { return nil }
    }
    condition.wait(until: Date(timeIntervalSinceNow: 0.2))
    return delivered
  }
}
