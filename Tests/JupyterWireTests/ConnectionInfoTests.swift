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

  func testReadsCurveKeys() throws {
    let secret = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
    let withKeys = sample.replacingOccurrences(
      of: #""kernel_name""#,
      with:
        #""curve_publickey": "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", "curve_secretkey": "\#(secret)", "kernel_name""#
    )
    XCTAssertEqual(try ConnectionInfo(json: Array(withKeys.utf8)).curveSecretKey, secret)
    XCTAssertNil(try ConnectionInfo(json: Array(sample.utf8)).curveSecretKey)
    let short = withKeys.replacingOccurrences(of: secret, with: "short")
    XCTAssertThrowsError(try ConnectionInfo(json: Array(short.utf8))) { error in
      XCTAssertTrue("\(error)".contains("Z85"), "\(error)")
    }
    let alone = sample.replacingOccurrences(
      of: #""kernel_name""#, with: #""curve_secretkey": "\#(secret)", "kernel_name""#)
    XCTAssertThrowsError(try ConnectionInfo(json: Array(alone.utf8)))
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
      try ConnectionInfo(
        json: Array(sample.replacingOccurrences(of: "hmac-sha256", with: "hmac-nosuchhash").utf8))
    ) { error in
      XCTAssertTrue("\(error)".contains("hmac-nosuchhash"))
    }
    XCTAssertEqual(
      try ConnectionInfo(
        json: Array(sample.replacingOccurrences(of: "hmac-sha256", with: "hmac-sha512").utf8)
      )
      .signatureScheme, "hmac-sha512")
    XCTAssertThrowsError(
      try ConnectionInfo(json: Array(sample.replacingOccurrences(of: #""tcp""#, with: #""udp""#).utf8)))
  }

  func testUnreadableFile() {
    XCTAssertThrowsError(try ConnectionInfo(contentsOf: "/nonexistent/conn.json")) { error in
      XCTAssertTrue("\(error)".contains("no such file"))
    }
  }
}
