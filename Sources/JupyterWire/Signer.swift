@preconcurrency import COpenSSL
import Foundation

/// HMAC-SHA256 signatures of message frames, as the Jupyter protocol defines them.
///
/// An empty key disables signing: signatures are empty and every message verifies,
/// which is what jupyter_client does with an empty key.
public final class Signer: @unchecked Sendable {
  /// An HMAC context keyed once; each signature starts from a copy of it, which
  /// avoids looking the digest up again for every message.
  private let template: OpaquePointer?
  private let lock = NSLock()

  public init(key: [UInt8]) {
    guard !key.isEmpty, let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
      template = nil
      return
    }
    defer { EVP_MAC_free(mac) }
    let context = EVP_MAC_CTX_new(mac)
    let ok = "SHA256".withCString { digest in
      var params = [
        OSSL_PARAM_construct_utf8_string("digest", UnsafeMutablePointer(mutating: digest), 0),
        OSSL_PARAM_construct_end(),
      ]
      return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &params) }
    }
    template = ok == 1 ? context : nil
    if ok != 1 { EVP_MAC_CTX_free(context) }
  }

  deinit {
    if let template { EVP_MAC_CTX_free(template) }
  }

  /// Whether messages are signed at all.
  public var isEnabled: Bool { template != nil }

  /// The lowercase hex HMAC of the concatenated parts, or empty when signing is disabled.
  public func signature(of parts: [[UInt8]]) -> [UInt8] {
    guard let template else { return [] }
    lock.lock()
    let copy = EVP_MAC_CTX_dup(template)
    lock.unlock()
    guard let ctx = copy else { return [] }
    defer { EVP_MAC_CTX_free(ctx) }
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
