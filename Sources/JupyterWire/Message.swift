import Foundation
import JSON

/// The protocol version Tandem speaks.
public let protocolVersion = "5.5"

/// A message header: who sent what, when.
public struct MessageHeader: Sendable, Equatable {
  public var msgID: String
  public var msgType: String
  public var session: String
  public var username: String
  public var date: String
  public var version: String

  public init(
    msgID: String = MessageHeader.newID(), msgType: String, session: String,
    username: String = "tandem", date: String = MessageHeader.now(),
    version: String = protocolVersion
  ) {
    self.msgID = msgID
    self.msgType = msgType
    self.session = session
    self.username = username
    self.date = date
    self.version = version
  }

  /// Required fields that the received header lacked (filled with ""). A request
  /// with a type but an incomplete header can still be answered with an error.
  public var missingFields: [String] = []

  /// The subshell a shell request is for (JEP 91); nil for the main shell.
  public var subshellID: String?

  /// Reads a header frame. Only `msg_type` is needed to read it; other missing
  /// required fields are listed in `missingFields`.
  public init(json: JSONValue) throws(WireError) {
    guard json.objectValue != nil else { throw .invalidHeader("header is not a JSON object") }
    guard let type = json["msg_type"]?.stringValue else {
      throw .invalidHeader("header field \"msg_type\" is missing or not a string")
    }
    var missing: [String] = []
    func field(_ name: String, required: Bool) -> String {
      if let s = json[name]?.stringValue { return s }
      if required { missing.append(name) }
      return ""
    }
    msgType = type
    msgID = field("msg_id", required: true)
    session = field("session", required: true)
    username = field("username", required: false)
    date = field("date", required: false)
    version = field("version", required: false)
    subshellID = json["subshell_id"]?.stringValue
    missingFields = missing
  }

  public var json: JSONValue {
    [
      "msg_id": .string(msgID), "msg_type": .string(msgType), "session": .string(session),
      "username": .string(username), "date": .string(date), "version": .string(version),
    ]
  }

  /// A fresh message id: a random per-process prefix and a counter, unique without
  /// asking the system for randomness for every message.
  public static func newID() -> String {
    idLock.lock()
    idCounter += 1
    let n = idCounter
    idLock.unlock()
    return "\(idPrefix)_\(n)"
  }

  private static let idPrefix = UUID().uuidString.lowercased()
  private static let idLock = NSLock()
  nonisolated(unsafe) private static var idCounter: UInt64 = 0

  /// The current time in ISO 8601 with microseconds and a UTC offset, as Jupyter writes it.
  public static func now() -> String {
    var tv = timeval()
    gettimeofday(&tv, nil)
    clockLock.lock()
    if tv.tv_sec != clockSecond {
      // The date and time to the second change once a second: format them then.
      var t = time_t(tv.tv_sec)
      var parts = tm()
      gmtime_r(&t, &parts)
      clockSecond = tv.tv_sec
      var text = pad(parts.tm_year + 1900, 4)
      text += "-" + pad(parts.tm_mon + 1, 2)
      text += "-" + pad(parts.tm_mday, 2)
      text += "T" + pad(parts.tm_hour, 2)
      text += ":" + pad(parts.tm_min, 2)
      text += ":" + pad(parts.tm_sec, 2) + "."
      clockPrefix = text
    }
    let prefix = clockPrefix
    clockLock.unlock()
    return prefix + pad(Int32(tv.tv_usec), 6) + "Z"
  }

  private static func pad(_ value: Int32, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }

  private static let clockLock = NSLock()
  nonisolated(unsafe) private static var clockSecond = -1
  nonisolated(unsafe) private static var clockPrefix = ""

  /// The header as compact JSON, written directly (it is made for every message).
  public var serialized: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(160 + msgID.utf8.count + session.utf8.count)
    func field(_ name: StaticString, _ value: String, last: Bool = false) {
      out.append(UInt8(ascii: "\""))
      out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
      out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
      JSONValue.writeString(value, to: &out)
      if !last { out.append(UInt8(ascii: ",")) }
    }
    out.append(UInt8(ascii: "{"))
    field("date", date)
    field("msg_id", msgID)
    field("msg_type", msgType)
    field("session", session)
    field("username", username)
    field("version", version, last: true)
    out.append(UInt8(ascii: "}"))
    return out
  }
}

/// One Jupyter message as it travels: routing identities, the four JSON parts, and buffers.
///
/// The parent header, metadata and content are kept as serialised JSON so that content
/// made elsewhere (by the Python half, for example) is signed and sent without re-encoding.
public struct Message: Sendable {
  public var identities: [[UInt8]]
  public var header: MessageHeader
  /// The header exactly as received, so replies echo it byte for byte as their parent.
  public var rawHeader: [UInt8]
  public var parentHeader: [UInt8]
  public var metadata: [UInt8]
  public var content: [UInt8]
  public var buffers: [[UInt8]]

  /// `{}`: an empty parent header, metadata or content.
  public static let emptyObject: [UInt8] = Array("{}".utf8)

  public init(
    identities: [[UInt8]] = [], header: MessageHeader, parentHeader: [UInt8] = Message.emptyObject,
    metadata: [UInt8] = Message.emptyObject, content: [UInt8], buffers: [[UInt8]] = []
  ) {
    self.identities = identities
    self.header = header
    self.rawHeader = header.serialized
    self.parentHeader = parentHeader
    self.metadata = metadata
    self.content = content
    self.buffers = buffers
  }

  /// Content larger than this is not parsed: the request gets an error reply.
  public static let maximumContentBytes = 64 << 20

  /// The message type, for routing.
  public var msgType: String { header.msgType }

  /// The content parsed as JSON.
  public func parsedContent() throws(WireError) -> JSONValue {
    guard content.count <= Message.maximumContentBytes else {
      throw .invalidContent(
        "content of \(content.count) bytes exceeds the \(Message.maximumContentBytes >> 20) MiB limit")
    }
    let value: JSONValue
    do {
      value = try JSONValue.parse(content)
    } catch {
      throw .invalidContent(error.description)
    }
    guard value.objectValue != nil else { throw .invalidContent("content is not a JSON object") }
    return value
  }

  /// A message answering this one: same session, this header as parent.
  public func reply(
    type: String, content: [UInt8], session: String, metadata: [UInt8] = Message.emptyObject
  ) -> Message {
    Message(
      identities: identities,
      header: MessageHeader(msgType: type, session: session),
      parentHeader: rawHeader, metadata: metadata, content: content)
  }
}
