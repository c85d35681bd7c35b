/// The words of the broker protocol (first frame after the routing id). The frames
/// that follow are documented in docs/futures-protocol.md.
enum Verb {
  // client -> broker (and back, as the answer that the client is known)
  static let hello = Array("hello".utf8)
  // client -> broker
  static let submit = Array("submit".utf8)
  static let cancel = Array("cancel".utf8)
  static let resize = Array("resize".utf8)
  // worker -> broker
  static let ready = Array("ready".utf8)
  static let done = Array("done".utf8)
  static let output = Array("out".utf8)
  // broker -> worker
  static let task = Array("task".utf8)
  static let stop = Array("stop".utf8)
  // broker -> client (also `done` and `out`)
  static let failed = Array("failed".utf8)
  static let lost = Array("lost".utf8)
  static let cancelled = Array("cancelled".utf8)
  // the status of a worker's outcome that is not an error
  static let ok = Array("ok".utf8)
}

extension UInt64 {
  /// Eight little-endian bytes: how task numbers travel.
  var frame: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }

  init?(frame: [UInt8]) {
    guard frame.count == 8 else { return nil }
    self = frame.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
  }
}
