import JSON
import XCTest

@testable import JupyterWire

final class WireCodecTests: XCTestCase {
  let key = Array("0123456789abcdef".utf8)

  func makeMessage() -> Message {
    Message(
      identities: [Array("client".utf8)],
      header: MessageHeader(msgType: "execute_request", session: "s1"),
      content: Array(#"{"code":"1+1"}"#.utf8), buffers: [[0, 1, 2]])
  }

  func testRoundTrip() throws {
    let codec = WireCodec(key: key)
    let frames = codec.encode(makeMessage())
    XCTAssertEqual(frames[0], Array("client".utf8))
    XCTAssertEqual(frames[1], WireCodec.delimiter)
    XCTAssertEqual(frames.count, 8)
    let decoded = try WireCodec(key: key).decode(frames)
    XCTAssertEqual(decoded.identities, [Array("client".utf8)])
    XCTAssertEqual(decoded.header.msgType, "execute_request")
    XCTAssertEqual(decoded.header.session, "s1")
    XCTAssertEqual(try decoded.parsedContent()["code"], "1+1")
    XCTAssertEqual(decoded.buffers, [[0, 1, 2]])
  }

  func testTamperedFramesAreRefused() {
    let frames = WireCodec(key: key).encode(makeMessage())
    for index in 3..<7 {
      var tampered = frames
      tampered[index].append(UInt8(ascii: " "))
      XCTAssertThrowsError(try WireCodec(key: key).decode(tampered)) {
        XCTAssertEqual($0 as? WireError, .badSignature)
      }
    }
    XCTAssertThrowsError(try WireCodec(key: Array("other".utf8)).decode(frames)) {
      XCTAssertEqual($0 as? WireError, .badSignature)
    }
  }

  func testReplayIsRefused() throws {
    let frames = WireCodec(key: key).encode(makeMessage())
    let codec = WireCodec(key: key)
    _ = try codec.decode(frames)
    XCTAssertThrowsError(try codec.decode(frames)) {
      XCTAssertEqual($0 as? WireError, .replayedSignature)
    }
  }

  func testReplayWindowForgetsOldestSignatures() throws {
    let codec = WireCodec(key: key, replayWindow: 4)
    let first = WireCodec(key: key).encode(makeMessage())
    _ = try codec.decode(first)
    for _ in 0..<10 { _ = try codec.decode(WireCodec(key: key).encode(makeMessage())) }
    XCTAssertNoThrow(try codec.decode(first))
  }

  func testStructuralErrors() {
    let frames = WireCodec(key: key).encode(makeMessage())
    XCTAssertThrowsError(try WireCodec(key: key).decode(Array(frames.dropFirst(2)))) {
      XCTAssertEqual($0 as? WireError, .missingDelimiter)
    }
    XCTAssertThrowsError(try WireCodec(key: key).decode(Array(frames.prefix(5)))) {
      XCTAssertEqual($0 as? WireError, .tooFewFrames(3))
    }
  }

  func testHeaderWithoutSessionIsReadWithTheGapNamed() throws {
    let signer = Signer(key: key)
    let parts = [
      Array(#"{"msg_id":"1","msg_type":"execute_request"}"#.utf8), Array("{}".utf8), Array("{}".utf8),
      Array("{}".utf8),
    ]
    let message = try WireCodec(key: key).decode([WireCodec.delimiter, signer.signature(of: parts)] + parts)
    XCTAssertEqual(message.header.missingFields, ["session"])
  }

  func testHeaderWithoutTypeIsRefused() {
    let signer = Signer(key: key)
    let parts = [
      Array(#"{"msg_id":"1","session":"s"}"#.utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8),
    ]
    let frames = [WireCodec.delimiter, signer.signature(of: parts)] + parts
    XCTAssertThrowsError(try WireCodec(key: key).decode(frames)) { error in
      guard case .invalidHeader(let why) = error as? WireError else { return XCTFail("\(error)") }
      XCTAssertTrue(why.contains("msg_type"))
    }
  }

  func testOversizedContentIsRefusedWhenParsed() throws {
    var message = makeMessage()
    message.content = Array(repeating: UInt8(ascii: " "), count: Message.maximumContentBytes + 1)
    let decoded = try WireCodec(key: key).decode(WireCodec(key: key).encode(message))
    XCTAssertThrowsError(try decoded.parsedContent())
  }

  func testReplyEchoesParentHeaderAndIdentities() throws {
    let request = try WireCodec(key: key).decode(WireCodec(key: key).encode(makeMessage()))
    let reply = request.reply(type: "execute_reply", content: Array("{}".utf8), session: "kernel")
    XCTAssertEqual(reply.parentHeader, request.rawHeader)
    XCTAssertEqual(reply.identities, request.identities)
    XCTAssertEqual(reply.header.session, "kernel")
    XCTAssertEqual(reply.header.version, protocolVersion)
  }
}

final class MessageHeaderTests: XCTestCase {
  func testSerialisedHeaderIsTheJSONOfItsFields() throws {
    let header = MessageHeader(msgType: "status", session: "s\"1", username: "ü")
    XCTAssertEqual(try JSONValue.parse(header.serialized), header.json)
  }

  func testIDsAreUnique() {
    let ids = (0..<1000).map { _ in MessageHeader.newID() }
    XCTAssertEqual(Set(ids).count, ids.count)
  }
}
