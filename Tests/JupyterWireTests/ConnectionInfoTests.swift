import XCTest

@testable import JupyterWire

final class ConnectionInfoTests: XCTestCase {
  let sample = #"""
    {"shell_port": 5001, "iopub_port": 5002, "stdin_port": 5003, "control_port": 5004,
     "hb_port": 5005, "ip": "127.0.0.1", "key": "abc", "transport": "tcp",
     "signature_scheme": "hmac-sha256", "kernel_name": "tandem"}
    """#

  func testReadsJupyterClientFile() throws {
    let info = try ConnectionInfo(json: Array(sample.utf8))
    XCTAssertEqual(info.ports[.shell], 5001)
    XCTAssertEqual(info.ports[.hb], 5005)
    XCTAssertEqual(info.key, Array("abc".utf8))
    XCTAssertEqual(info.endpoint(.control), "tcp://127.0.0.1:5004")
  }

  func testIPCEndpoints() throws {
    let text = sample.replacingOccurrences(of: #""tcp""#, with: #""ipc""#)
      .replacingOccurrences(of: "127.0.0.1", with: "/tmp/kernel-x")
    let info = try ConnectionInfo(json: Array(text.utf8))
    XCTAssertEqual(info.endpoint(.iopub), "ipc:///tmp/kernel-x-5002")
  }

  func testIPv6Endpoint() {
    let info = ConnectionInfo(ip: "::1", ports: [.shell: 9], key: [])
    XCTAssertEqual(info.endpoint(.shell), "tcp://[::1]:9")
  }

  func testMissingPortIsNamed() {
    let text = sample.replacingOccurrences(of: #""hb_port": 5005,"#, with: "")
    XCTAssertThrowsError(try ConnectionInfo(json: Array(text.utf8))) { error in
      XCTAssertTrue("\(error)".contains("hb_port"))
    }
  }

  func testUnsupportedSchemeAndTransport() {
    XCTAssertThrowsError(
      try ConnectionInfo(json: Array(sample.replacingOccurrences(of: "hmac-sha256", with: "hmac-md5").utf8)))
    XCTAssertThrowsError(
      try ConnectionInfo(json: Array(sample.replacingOccurrences(of: #""tcp""#, with: #""udp""#).utf8)))
  }

  func testUnreadableFile() {
    XCTAssertThrowsError(try ConnectionInfo(contentsOf: "/nonexistent/conn.json")) { error in
      XCTAssertTrue("\(error)".contains("no such file"))
    }
  }
}
