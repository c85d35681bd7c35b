import EngineDoubles
import FakeR
import Foundation
import JSON
import KernelCore
import Logging
import RSession
import XCTest

@testable import EngineR

/// The R engine driven against a fake R: replies and their frames, typed output,
/// calls into the host, what follows an interrupt (with a clock the test runs), a
/// dead R and the next one.
final class REngineTests: XCTestCase {
  private var directory = ""
  private var engine: REngine!
  private let thread = ThreadDouble()
  private let frontend = FrontendDouble()

  override func setUpWithError() throws {
    directory = try FakeR.privateFolder("rengine-test")
    let fakeR = try FakeR.install(in: directory)
    engine = try REngine(
      configuration: RConfiguration(executable: fakeR, library: "/nowhere/R-library"), directory: directory,
      logger: Logger(label: "test"))
  }

  override func tearDown() {
    engine.shutdown()
    try? FileManager.default.removeItem(atPath: directory)
  }

  private func call(_ code: String, frames: [[UInt8]] = [], resultCount: Int64? = nil) -> BridgeMessage {
    engine.call(
      BridgeMessage(body: ["type": "execute", "code": .string(code)], frames: frames), frontend: frontend,
      resultCount: resultCount)
  }

  func testRequestsAreNumberedAndTheirFramesComeBack() {
    engine.attach(thread: thread) { _ in .failed("unused") }
    let first = call("1 + 1", frames: [[1, 2, 3]])
    XCTAssertEqual(first["status"], "ok")
    XCTAssertEqual(first["echo"], "1 + 1")
    XCTAssertEqual(first["seq"], 1)
    XCTAssertEqual(first.frames, [[1, 2, 3]])
    XCTAssertEqual(call("again")["seq"], 2)
    XCTAssertEqual(engine.processes.map(\.name), ["r"])
    XCTAssertEqual(engine.processes.first?.pid, first["pid"]?.intValue.map(Int32.init))
  }

  func testValuesAndDisplaysReachTheFrontendTyped() {
    engine.attach(thread: thread) { _ in .failed("unused") }
    XCTAssertEqual(call("show", resultCount: 5)["status"], "ok")
    let published = frontend.published
    XCTAssertEqual(published.map(\.type), ["execute_result", "display_data"])
    XCTAssertEqual(published[0].content["execution_count"], 5)
    XCTAssertEqual(published[0].content["data"], ["text/plain": "[1] 2"])
    XCTAssertEqual(published[1].content["transient"], ["display_id": "bar"])
  }

  func testACallIntoTheHostIsServedAndAnswered() {
    var asked: [BridgeMessage] = []
    engine.attach(thread: thread) { message in
      asked.append(message)
      return BridgeMessage(body: ["status": "ok", "value": 42], frames: [[9]])
    }
    let reply = call("ask python")
    XCTAssertEqual(asked.first?["code"], "x")
    XCTAssertEqual(asked.first?.frames, [Array("to python".utf8)])
    XCTAssertEqual(reply["answer"]?["value"], 42)
    XCTAssertEqual(reply["answer"]?["type"], "reply")
    XCTAssertEqual(reply.frames, [[9]])
  }

  func testWithoutAHostRIsToldSo() {
    let reply = call("ask python")
    XCTAssertEqual(reply["answer"]?["status"], "error")
    XCTAssertEqual(reply["answer"]?["evalue"], "Python is not available")
  }

  func testAnInterruptRHoldsIsAnnouncedAndRIsEndedAfterTheGrace() throws {
    engine.attach(thread: thread) { _ in .failed("unused") }
    XCTAssertEqual(call("warm up")["status"], "ok")
    let held = try XCTUnwrap(engine.processes.first?.pid)
    // Half a second passes at each look at the clock: 30 s of silence in a moment.
    var now = 0.0
    engine.clock = {
      now += 0.5
      return now
    }
    thread.interrupt(after: 0)
    let reply = call("hold")
    XCTAssertEqual(reply["status"], "error")
    XCTAssertEqual(reply["traceback"], [reply["evalue"] ?? ""])
    XCTAssertTrue(
      reply["evalue"]?.stringValue?.hasPrefix("R did not stop within 30 s of the interrupt") ?? false,
      "\(reply.body)")
    let said = frontend.published.filter { $0.type == "stream" }.compactMap {
      $0.content["text"]?.stringValue
    }
    XCTAssertEqual(said.count, 1)
    XCTAssertTrue(said.first?.hasPrefix("Interrupting R: R is in code that holds interrupts") ?? false)
    XCTAssertNotEqual(kill(held, 0), 0, "the R that held the interrupt still runs")
  }

  func testARequestRFinishesWithoutSeeingTheInterruptEndsAsInterrupted() {
    engine.attach(thread: thread) { _ in .failed("unused") }
    thread.interrupt(after: 0.2)
    XCTAssertEqual(call("finish despite interrupt").body, ["status": "interrupted", "evalue": "interrupted"])
    XCTAssertEqual(call("after")["echo"], "after")
  }

  func testAnInterruptRTakesEndsTheRequestAsInterrupted() {
    engine.attach(thread: thread) { _ in .failed("unused") }
    thread.interrupt(after: 0.3)
    XCTAssertEqual(call("until interrupt")["status"], "interrupted")
    XCTAssertEqual(call("after")["echo"], "after")
  }

  func testADeadRIsReportedAndTheNextRequestStartsAFreshOne() {
    engine.attach(thread: thread) { _ in .failed("unused") }
    let first = call("warm up")["pid"]
    let died = call("crash")
    XCTAssertEqual(died["status"], "error")
    XCTAssertTrue(
      died["evalue"]?.stringValue?.hasSuffix("a fresh R session starts with the next R cell") ?? false,
      "\(died.body)")
    let again = call("again")
    XCTAssertEqual(again["echo"], "again")
    XCTAssertNotEqual(again["pid"], first)
    XCTAssertEqual(
      frontend.published.last?.content["text"],
      "R restarted: this is a fresh R session; earlier R variables are gone.\n")
  }

  func testRequestsFromASubshellAreRefused() {
    frontend.subshellID = "subshell-1"
    let reply = call("1")
    XCTAssertEqual(reply["status"], "error")
    XCTAssertTrue(reply["evalue"]?.stringValue?.hasPrefix("R code runs on the main shell only") ?? false)
    XCTAssertTrue(engine.processes.isEmpty, "R started for a request it refused")
  }
}
