@preconcurrency import COpenSSL
import Foundation

/// HMAC-SHA256 signatures of message frames, as the Jupyter protocol defines them.
///
/// An empty key disables signing: signatures are empty and every message verifies,
/// which is what jupyter_client does with an empty key.
public final class Signer: @unchecked Sendable {
  private let key: [UInt8]
  private let mac: OpaquePointer?
  // OSSL_PARAM keeps the pointer it is given, so the digest name lives as long as we do.
  private let digestName: UnsafeMutablePointer<CChar>

  public init(key: [UInt8]) {
    self.key = key
    self.digestName = strdup("SHA256")!
    self.mac = key.isEmpty ? nil : EVP_MAC_fetch(nil, "HMAC", nil)
  }

  deinit {
    if let mac { EVP_MAC_free(mac) }
    free(digestName)
  }

  /// Whether messages are signed at all.
  public var isEnabled: Bool { mac != nil }

  /// The lowercase hex HMAC of the concatenated parts, or empty when signing is disabled.
  public func signature(of parts: [[UInt8]]) -> [UInt8] {
    guard let mac, let ctx = EVP_MAC_CTX_new(mac) else { return [] }
    defer { EVP_MAC_CTX_free(ctx) }
    var params = [
      OSSL_PARAM_construct_utf8_string("digest", digestName, 0),
      OSSL_PARAM_construct_end(),
    ]
    let ok = key.withUnsafeBufferPointer { k in
      EVP_MAC_init(ctx, k.baseAddress, k.count, &params)
    }
    guard ok == 1 else { return [] }
    for part in parts {
      part.withUnsafeBufferPointer { p in _ = EVP_MAC_update(ctx, p.baseAddress, p.count) }
    }
    var digest = [UInt8](repeating: 0, count: 32)
    var length = 0
    guard EVP_MAC_final(ctx, &digest, &length, digest.count) == 1 else { return [] }
    return Signer.hex(digest[0..<length])
  }

  /// Constant-time check of `signature` against the parts.
  public func verify(_ signature: [UInt8], parts: [[UInt8]]) -> Bool {
    guard isEnabled else { return true }
    let expected = self.signature(of: parts)
    guard expected.count == signature.count, !expected.isEmpty else { return false }
    return expected.withUnsafeBytes { e in
      signature.withUnsafeBytes { s in CRYPTO_memcmp(e.baseAddress, s.baseAddress, e.count) == 0 }
    }
  }

  static func hex(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0xF)])
    }
    return out
  }
}
