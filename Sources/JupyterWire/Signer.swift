@preconcurrency import COpenSSL
import Foundation

/// HMAC signatures of message frames, as the Jupyter protocol defines them, with
/// any hash OpenSSL offers (`hmac-sha256` is the usual `signature_scheme`).
///
/// An empty key disables signing: signatures are empty and every message verifies,
/// which is what jupyter_client does with an empty key.
public final class Signer: @unchecked Sendable {
  /// An HMAC context keyed once; each signature starts from a copy of it, which
  /// avoids looking the digest up again for every message.
  private let template: OpaquePointer?
  private let lock = NSLock()

  /// `digest` is OpenSSL's name of the hash (see `digestName(ofScheme:)`).
  public init(key: [UInt8], digest: String = "SHA256") {
    guard !key.isEmpty, let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
      template = nil
      return
    }
    defer { EVP_MAC_free(mac) }
    let context = EVP_MAC_CTX_new(mac)
    let ok = digest.withCString { digest in
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
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length = 0
    guard EVP_MAC_final(ctx, &digest, &length, digest.count) == 1 else { return [] }
    return Signer.hex(digest[0..<length])
  }

  /// OpenSSL's name of the hash of a connection file's `signature_scheme`
  /// (`hmac-` and a name of Python's hashlib, which jupyter_client uses: `sha256`,
  /// `sha512`, `sha3_256`, `blake2b`...), or nil when OpenSSL has no such hash.
  public static func digestName(ofScheme scheme: String) -> String? {
    guard scheme.hasPrefix("hmac-") else { return nil }
    let hash = scheme.dropFirst("hmac-".count).lowercased()
    let aliases = ["blake2b": "BLAKE2B-512", "blake2s": "BLAKE2S-256"]
    let name = aliases[hash] ?? hash.replacingOccurrences(of: "_", with: "-").uppercased()
    guard !name.isEmpty, let md = EVP_MD_fetch(nil, name, nil) else { return nil }
    EVP_MD_free(md)
    return name
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
