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
