import EngineDoubles
import FakeR
import Foundation
import JSON
import JupyterWire
import Logging
import RSession
import XCTest

@testable import EngineR
@testable import KernelCore

/// The R-first kernel's cells, as IRkernel shows them: the input, R's values as
/// results under the cell's number, R's errors as "ERROR", an interrupt as a bare
/// KeyboardInterrupt.
final class RCellExecutionTests: XCTestCase {
  private var directory = ""
  private var engine: REngine!
  private let thread = ThreadDouble()
  private let frontend = FrontendDouble()

  override func setUpWithError() throws {
    directory = try FakeR.privateFolder("rcell-test")
    engine = try REngine(
      configuration: RConfiguration(executable: try FakeR.install(in: directory)), directory: directory,
      logger: Logger(label: "test"))
    engine.attach(thread: thread) { _ in .failed("unused") }
  }

  override func tearDown() {
    engine.shutdown()
    try? FileManager.default.removeItem(atPath: directory)
  }

  private func execute(_ code: String, count: Int64 = 7, _ extra: [String: JSONValue] = [:]) throws
    -> JSONValue
  {
    var content: [String: JSONValue] = ["code": .string(code), "silent": false]
    content.merge(extra) { $1 }
    let message = Message(
      header: MessageHeader(msgType: "execute_request", session: "client"),
      content: JSONValue.object(content).serialized)
    var request = try ShellRequest(message, kind: .execute)
    request.executionCount = count
    let reply = try XCTUnwrap(try engine.serve(request, frontend: frontend))
    return try JSONValue.parse(reply.content)
  }

  func testACellShowsItsInputAndItsValueUnderItsNumber() throws {
    let reply = try execute("show")
    XCTAssertEqual(reply["status"], "ok")
    XCTAssertEqual(reply["execution_count"], 7)
    XCTAssertEqual(frontend.published.map(\.type), ["execute_input", "execute_result", "display_data"])
    XCTAssertEqual(frontend.published[0].content["code"], "show")
    XCTAssertEqual(frontend.published[1].content["execution_count"], 7)
  }

  func testAnErrorIsIRkernelsError() throws {
    let reply = try execute("fail")
    XCTAssertEqual(reply["status"], "error")
    XCTAssertEqual(reply["ename"], "ERROR")
    XCTAssertEqual(reply["evalue"], "Error in f(): boom")
    XCTAssertEqual(reply["traceback"], ["Error in f(): boom", "Calls: f"])
    XCTAssertEqual(frontend.published.last?.type, "error")
    XCTAssertEqual(frontend.published.last?.content["ename"], "ERROR")
  }

  func testAnInterruptedCellShowsABareKeyboardInterrupt() throws {
    thread.interrupt(after: 0.3)
    let reply = try execute("until interrupt")
    XCTAssertEqual(reply["ename"], "KeyboardInterrupt")
    XCTAssertEqual(reply["traceback"], [])
  }

  func testASilentCellShowsNoInputAndACellOutOfHistoryTheLastNumber() throws {
    _ = try execute("1", ["silent": true])
    XCTAssertFalse(frontend.published.contains { $0.type == "execute_input" })
    let reply = try execute("1", count: 4, ["store_history": false])
    XCTAssertEqual(reply["execution_count"], 3)
  }
}
