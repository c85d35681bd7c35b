import XCTest

@testable import JupyterWire

final class SignerTests: XCTestCase {
  func testMatchesRFC4231Vector() {
    let signer = Signer(key: Array("Jefe".utf8))
    let signature = signer.signature(of: [Array("what do ya want ".utf8), Array("for nothing?".utf8)])
    XCTAssertEqual(
      String(decoding: signature, as: UTF8.self),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  }

  /// RFC 4231's (and RFC 2202's) "Jefe" case, under each scheme jupyter_client
  /// allows; the values are Python's `hmac.new(b"Jefe", msg, hashlib.<name>)`.
  func testEverySchemeMatchesPythonsHMAC() throws {
    let expected = [
      "hmac-sha256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "hmac-sha384":
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
      "hmac-sha512":
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
      "hmac-sha1": "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
      "hmac-md5": "750c783e6ab0b503eaa86e310a5db738",
      "hmac-sha224": "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
      "hmac-sha3_256": "c7d4072e788877ae3596bbb0da73b887c9171f93095b294ae857fbe2645e1ba5",
      "hmac-blake2b":
        "6ff884f8ddc2a6586b3c98a4cd6ebdf14ec10204b6710073eb5865ade37a2643b8807c1335d107ecdb9ffeaeb6828c4625ba172c66379efcd222c2de11727ab4",
    ]
    for (scheme, hex) in expected {
      let digest = try XCTUnwrap(Signer.digestName(ofScheme: scheme), scheme)
      let signer = Signer(key: Array("Jefe".utf8), digest: digest)
      let signature = signer.signature(of: [Array("what do ya want for nothing?".utf8)])
      XCTAssertEqual(String(decoding: signature, as: UTF8.self), hex, scheme)
      XCTAssertTrue(signer.verify(signature, parts: [Array("what do ya want for nothing?".utf8)]))
    }
    XCTAssertNil(Signer.digestName(ofScheme: "hmac-nosuchhash"))
    XCTAssertNil(Signer.digestName(ofScheme: "rsa-sha256"))
  }

  func testVerifiesAndRejects() {
    let signer = Signer(key: Array("secret".utf8))
    let parts = [Array("a".utf8), Array("b".utf8)]
    let good = signer.signature(of: parts)
    XCTAssertTrue(signer.verify(good, parts: parts))
    var bad = good
    bad[0] = bad[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
    XCTAssertFalse(signer.verify(bad, parts: parts))
    XCTAssertFalse(signer.verify([], parts: parts))
    XCTAssertFalse(signer.verify(good, parts: [Array("a".utf8), Array("c".utf8)]))
  }

  func testEmptyKeyDisablesSigning() {
    let signer = Signer(key: [])
    XCTAssertFalse(signer.isEnabled)
    XCTAssertEqual(signer.signature(of: [[1, 2]]), [])
    XCTAssertTrue(signer.verify([], parts: [[1, 2]]))
  }
}
