import XCTest

@testable import JSON

final class JSONValueTests: XCTestCase {
  func testParsesEveryKind() throws {
    let value = try JSONValue.parse(
      #" {"a": [1, -2.5e3, true, false, null], "s": "x\"y\\n\u00e9\ud83d\ude00"} "#)
    XCTAssertEqual(value["a"], [1, -2500.0, true, false, nil])
    XCTAssertEqual(value["s"]?.stringValue, "x\"y\\né😀")
  }

  func testKeepsIntegersExact() throws {
    let value = try JSONValue.parse("[9007199254740993, 1.0]")
    XCTAssertEqual(value.arrayValue?[0], .int(9_007_199_254_740_993))
    XCTAssertEqual(value.arrayValue?[1], .double(1.0))
  }

  func testRoundTripsThroughSerialisation() throws {
    let original: JSONValue = [
      "text": "line\nbreak\ttab \u{1} \"quoted\" ünïcödé", "n": 42, "f": 0.25, "list": [nil, true],
      "nested": ["empty": [:], "arr": []],
    ]
    XCTAssertEqual(try JSONValue.parse(original.serialized), original)
  }

  func testEscapesControlCharacters() {
    XCTAssertEqual(JSONValue.string("\u{1}\n").serializedString, #""\u0001\n""#)
  }

  func testNonFiniteDoublesBecomeNull() {
    XCTAssertEqual(JSONValue.double(.nan).serializedString, "null")
  }

  func testRejectsMalformedInput() {
    for text in [
      "", "{", "[1,]", "{\"a\" 1}", "tru", "\"unterminated", "01x", "[1] 2", "\"\u{1}\"", "-", "1e",
    ] {
      XCTAssertThrowsError(try JSONValue.parse(text), "accepted \(text)")
    }
  }

  func testRefusesDeepNesting() {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    XCTAssertThrowsError(try JSONValue.parse(deep)) { error in
      XCTAssertEqual((error as? JSONParseError)?.reason, "nesting too deep")
    }
  }

  func testLoneSurrogateBecomesReplacementCharacter() throws {
    XCTAssertEqual(try JSONValue.parse(#""\ud800x""#).stringValue, "\u{FFFD}x")
  }
}
