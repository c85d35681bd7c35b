import JSON
import XCTest

@testable import KernelCore

/// Engines' typed output becomes the IOPub messages ipykernel sends; every control
/// request has its reply type and is counted by name.
final class EngineOutputTests: XCTestCase {
  func testEachOutputIsTheMessageIpykernelSends() {
    let data: JSONValue = ["text/plain": "1"]
    let cases: [(EngineOutput, String, JSONValue)] = [
      (.stream(name: "stdout", text: "hi\n"), "stream", ["name": "stdout", "text": "hi\n"]),
      (.executeInput(code: "1", count: 3), "execute_input", ["code": "1", "execution_count": 3]),
      (
        .displayData(data: data, metadata: [:], transient: ["display_id": "d"]), "display_data",
        ["data": data, "metadata": [:], "transient": ["display_id": "d"]]
      ),
      (
        .updateDisplayData(data: data, metadata: [:], transient: ["display_id": "d"]), "update_display_data",
        ["data": data, "metadata": [:], "transient": ["display_id": "d"]]
      ),
      (
        .executeResult(count: 2, data: data, metadata: [:]), "execute_result",
        ["execution_count": 2, "data": data, "metadata": [:]]
      ),
      (
        .error(ename: "ERROR", evalue: "boom", traceback: ["boom"]), "error",
        ["ename": "ERROR", "evalue": "boom", "traceback": ["boom"]]
      ),
      (.clearOutput(wait: true), "clear_output", ["wait": true]),
    ]
    for (output, type, content) in cases {
      XCTAssertEqual(output.msgType, type)
      XCTAssertEqual(output.content, content, type)
    }
  }

  func testEveryControlRequestHasAReplyAndIsCountedByName() {
    for request in ControlRequest.allCases {
      XCTAssertEqual(request.replyType, request.rawValue.replacingOccurrences(of: "_request", with: "_reply"))
      XCTAssertTrue(KernelMetrics.knownTypes.contains(request.rawValue), request.rawValue)
    }
    XCTAssertEqual(ControlRequest(rawValue: "usage_request"), .usage)
    XCTAssertNil(ControlRequest(rawValue: "execute_request"))
  }
}
