import JSON

/// Why a multipart message was refused.
public enum WireError: Error, Equatable, CustomStringConvertible {
  case missingDelimiter
  case tooFewFrames(Int)
  case badSignature
  case replayedSignature
  case frameTooLarge(Int)
  case invalidHeader(String)
  case invalidContent(String)

  public var description: String {
    switch self {
    case .missingDelimiter: return "no <IDS|MSG> delimiter frame"
    case .tooFewFrames(let n): return "expected at least 5 frames after the delimiter, got \(n)"
    case .badSignature: return "signature does not match"
    case .replayedSignature: return "signature was already used (replayed message)"
    case .frameTooLarge(let n): return "a frame of \(n) bytes exceeds the size limit"
    case .invalidHeader(let why): return "invalid header: \(why)"
    case .invalidContent(let why): return "invalid content: \(why)"
    }
  }
}

/// Turns messages into signed multipart frames and back.
///
/// Frames: routing identities, `<IDS|MSG>`, signature, header, parent header,
/// metadata, content, then binary buffers. Decoding checks the signature before it
/// parses anything, and remembers signatures so a replayed message is refused.
public final class WireCodec: @unchecked Sendable {
  public static let delimiter: [UInt8] = Array("<IDS|MSG>".utf8)
  /// JSON frames larger than this are refused unparsed (see `Message.maximumContentBytes`).
  public let maximumJSONFrameBytes: Int

  private let signer: Signer
  private var seen: Set<[UInt8]> = []
  private var seenOrder: [[UInt8]] = []
  private var seenStart = 0
  private let replayWindow: Int

  /// `scheme` is the connection file's `signature_scheme` (`hmac-sha256` unless
  /// it says otherwise).
  public init(
    key: [UInt8], scheme: String = "hmac-sha256", maximumJSONFrameBytes: Int = Message.maximumContentBytes,
    replayWindow: Int = 65536
  ) {
    self.signer = Signer(key: key, digest: Signer.digestName(ofScheme: scheme) ?? "SHA256")
    self.maximumJSONFrameBytes = maximumJSONFrameBytes
    self.replayWindow = replayWindow
  }

  /// The frames of a message, signed.
  public func encode(_ message: Message) -> [[UInt8]] {
    let parts = [message.rawHeader, message.parentHeader, message.metadata, message.content]
    var frames = message.identities
    frames.reserveCapacity(frames.count + 6 + message.buffers.count)
    frames.append(WireCodec.delimiter)
    frames.append(signer.signature(of: parts))
    frames.append(contentsOf: parts)
    frames.append(contentsOf: message.buffers)
    return frames
  }

  /// Splits frames at the delimiter and returns the identities with the header frame,
  /// without verifying anything; for logging what was refused.
  public static func peekHeader(_ frames: [[UInt8]]) -> (identities: [[UInt8]], header: JSONValue?) {
    guard let d = frames.firstIndex(of: delimiter) else { return ([], nil) }
    let header = frames.count > d + 2 ? try? JSONValue.parse(frames[d + 2]) : nil
    return (Array(frames[..<d]), header)
  }

  /// Verifies and parses frames. Content is left unparsed (see `Message.parsedContent`).
  public func decode(_ frames: [[UInt8]]) throws(WireError) -> Message {
    guard let d = frames.firstIndex(of: WireCodec.delimiter) else { throw .missingDelimiter }
    let rest = frames.count - d - 1
    guard rest >= 5 else { throw .tooFewFrames(rest) }
    let signature = frames[d + 1]
    let parts = Array(frames[(d + 2)..<(d + 6)])
    // Oversized header parts are refused unread; oversized content is refused later,
    // once the header is known, so that the sender gets an error reply.
    if let big = parts[0..<3].first(where: { $0.count > maximumJSONFrameBytes }) {
      throw .frameTooLarge(big.count)
    }
    guard signer.verify(signature, parts: parts) else { throw .badSignature }
    if signer.isEnabled { try remember(signature) }
    let headerJSON: JSONValue
    do {
      headerJSON = try JSONValue.parse(parts[0])
    } catch {
      throw .invalidHeader(error.description)
    }
    let header = try MessageHeader(json: headerJSON)
    var message = Message(
      identities: Array(frames[..<d]), header: header, parentHeader: parts[1],
      metadata: parts[2], content: parts[3], buffers: Array(frames[(d + 6)...]))
    message.rawHeader = parts[0]
    return message
  }

  private func remember(_ signature: [UInt8]) throws(WireError) {
    guard seen.insert(signature).inserted else { throw .replayedSignature }
    seenOrder.append(signature)
    if seenOrder.count - seenStart > replayWindow {
      seen.remove(seenOrder[seenStart])
      seenStart += 1
      if seenStart > replayWindow {
        seenOrder.removeFirst(seenStart)
        seenStart = 0
      }
    }
  }
}
