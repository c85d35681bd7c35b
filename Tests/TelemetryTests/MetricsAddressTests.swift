import XCTest

@testable import Telemetry

final class MetricsAddressTests: XCTestCase {
  func testAddressesParse() throws {
    XCTAssertEqual(
      try MetricsAddress(parsing: "127.0.0.1:9464"), MetricsAddress(host: "127.0.0.1", port: 9464))
    XCTAssertEqual(try MetricsAddress(parsing: "9464"), MetricsAddress(host: "127.0.0.1", port: 9464))
    XCTAssertEqual(try MetricsAddress(parsing: " localhost:0 "), MetricsAddress(host: "localhost", port: 0))
    XCTAssertEqual(try MetricsAddress(parsing: "[::1]:9464"), MetricsAddress(host: "::1", port: 9464))
    XCTAssertEqual(try MetricsAddress(parsing: "0.0.0.0:9464").description, "0.0.0.0:9464")
    XCTAssertEqual(MetricsAddress(host: "::1", port: 80).description, "[::1]:80")
  }

  func testOnlyLoopbackCountsAsLocal() throws {
    XCTAssertTrue(try MetricsAddress(parsing: "9464").isLoopback)
    XCTAssertTrue(try MetricsAddress(parsing: "[::1]:1").isLoopback)
    XCTAssertTrue(try MetricsAddress(parsing: "localhost:1").isLoopback)
    XCTAssertFalse(try MetricsAddress(parsing: "0.0.0.0:1").isLoopback)
    XCTAssertFalse(try MetricsAddress(parsing: "192.168.1.5:1").isLoopback)
  }

  func testBadAddressesNameTheFormExpected() {
    for text in ["", "host:", ":80", "127.0.0.1:http", "127.0.0.1:70000", "::1:80", "[::1]80", "-1"] {
      XCTAssertThrowsError(try MetricsAddress(parsing: text), text) { error in
        XCTAssertTrue("\(error)".contains("give HOST:PORT"), "\(error)")
      }
    }
  }
}
