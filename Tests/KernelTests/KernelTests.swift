import Foundation
import JSON
import JupyterWire
import Logging
import XCTest

@testable import KernelCore
@testable import KernelRouting

/// The kernel core driven through a transport double: routing, the shell queue,
/// stop_on_error, control while a cell runs, input, shutdown.
final class KernelTests: XCTestCase {
  private var transport: TransportDouble!
  private var thread: SerialThread!
  private var python: EngineDouble!
  private var r: EngineDouble!
  private var kernel: Kernel!

  private var debugger: DebuggerDouble?

  private func startKernel(defaultLanguage: String = "python", more: [EngineDouble] = []) {
    transport = TransportDouble()
    thread = SerialThread()
    python = EngineDouble(
      language: "python", magic: "%%python",
      kinds: [
        .execute, .complete, .inspect, .isComplete, .history, .commInfo, .commOpen, .commMsg, .commClose,
      ])
    r = EngineDouble(language: "r", magic: "%%R", kinds: RequestKind.introspection.union([.execute]))
    let router = CellRouter(
      host: python, others: [r] + more, defaultLanguage: Language(defaultLanguage), thread: thread)
    kernel = Kernel(
      transport: transport, router: router, output: OutputDouble(), debugger: debugger,
      logger: Logger(label: "test"))
    kernel.start()
  }

  private func execute(_ code: String, _ extra: [String: JSONValue] = [:]) -> Message {
    var content: [String: JSONValue] = ["code": .string(code), "silent": false]
    content.merge(extra) { $1 }
    let message = request("execute_request", .object(content))
    transport.deliver(message, on: .shell)
    return message
  }

  func testExecuteIsBusyThenReplyThenIdle() {
    startKernel()
    let message = execute("1 + 1")
    XCTAssertEqual(transport.reply(to: message)?["status"], "ok")
    XCTAssertTrue(transport.waitForIdle(message))
    XCTAssertEqual(transport.trace(of: message), ["status:busy", "shell:execute_reply", "status:idle"])
    XCTAssertEqual(python.served.first?.content["code"], "1 + 1")
  }

  func testFailedExecutionAbortsOnlyTheExecutionsQueuedBehindIt() {
    startKernel()
    let blocker = execute("wait")
    let failing = execute("fail")
    let next = execute("after")
    let complete = request("complete_request", ["code": "pri", "cursor_pos": 3])
    transport.deliver(complete, on: .shell)
    let last = execute("last")
    python.gate.signal()
    XCTAssertEqual(transport.reply(to: blocker)?["status"], "ok")
    XCTAssertEqual(transport.reply(to: failing)?["status"], "error")
    XCTAssertEqual(transport.reply(to: next)?["status"], "aborted")
    XCTAssertEqual(transport.reply(to: last)?["status"], "aborted")
    XCTAssertEqual(transport.reply(to: complete)?["status"], "ok")
    XCTAssertTrue(transport.waitForIdle(last))
    XCTAssertEqual(transport.trace(of: next), ["status:busy", "shell:execute_reply", "status:idle"])
    // The aborted cells never reached the engine; the completion did.
    XCTAssertEqual(python.served.map(\.kind), [.execute, .execute, .complete])
    // A cell sent after the error ran normally.
    let later = execute("later")
    XCTAssertEqual(transport.reply(to: later)?["status"], "ok")
  }

  func testStopOnErrorFalseAbortsNothing() {
    startKernel()
    let blocker = execute("wait")
    _ = execute("fail", ["stop_on_error": false])
    let next = execute("after")
    python.gate.signal()
    XCTAssertEqual(transport.reply(to: blocker)?["status"], "ok")
    XCTAssertEqual(transport.reply(to: next)?["status"], "ok")
  }

  func testUnknownAndUnreadableRequestsGetErrorsNamingThem() {
    startKernel()
    let unknown = request("frobnicate_request")
    transport.deliver(unknown, on: .shell)
    let reply = transport.reply(to: unknown)
    XCTAssertEqual(reply?["ename"], "UnknownMessageType")
    XCTAssertEqual(reply?["evalue"]?.stringValue?.contains("frobnicate_request"), true)
    // Answered between busy and idle, as every shell request (idle follows the reply).
    XCTAssertTrue(transport.waitForIdle(unknown))
    XCTAssertEqual(transport.trace(of: unknown), ["status:busy", "shell:frobnicate_reply", "status:idle"])

    var garbled = request("execute_request")
    garbled.content = Array("[1, 2".utf8)
    transport.deliver(garbled, on: .shell)
    XCTAssertEqual(transport.reply(to: garbled)?["ename"], "InvalidMessage")

    let header = try! MessageHeader(json: ["msg_type": "execute_request", "msg_id": "m1"])
    let incomplete = Message(header: header, content: Array("{}".utf8))
    transport.deliver(incomplete, on: .shell)
    XCTAssertEqual(transport.reply(to: incomplete)?["evalue"], "header field(s) missing: session")
    XCTAssertEqual(python.servedCount, 0)
  }

  func testCommMessagesGetNoReplyButBusyAndIdle() {
    startKernel()
    let comm = request("comm_msg", ["comm_id": "c1", "data": [:]])
    transport.deliver(comm, on: .shell)
    XCTAssertTrue(transport.waitForIdle(comm))
    XCTAssertEqual(transport.trace(of: comm), ["status:busy", "status:idle"])
    XCTAssertEqual(python.served.first?.kind, .commMsg)
  }

  func testASubshellServesItsRequestsWhileTheMainShellIsBusy() {
    startKernel()
    let create = request("create_subshell_request")
    transport.deliver(create, on: .control)
    guard let id = transport.reply(to: create)?["subshell_id"]?.stringValue else {
      return XCTFail("no subshell id")
    }
    let list = request("list_subshell_request")
    transport.deliver(list, on: .control)
    XCTAssertEqual(transport.reply(to: list)?["subshell_id"], [.string(id)])

    func onSubshell(_ code: String) -> Message {
      var message = request("execute_request", ["code": .string(code), "silent": false])
      message.header.subshellID = id
      transport.deliver(message, on: .shell)
      return message
    }
    // Served while the main shell waits.
    let blocker = execute("wait")
    XCTAssertTrue(waitUntil { self.python.servedCount == 1 })
    XCTAssertEqual(transport.reply(to: onSubshell("1 + 1"))?["status"], "ok")
    XCTAssertNil(transport.reply(to: blocker, timeout: 0.05))
    python.gate.signal()
    XCTAssertEqual(transport.reply(to: blocker)?["status"], "ok")
    // A failure aborts what waits in the subshell's own queue.
    let waiting = onSubshell("wait")
    XCTAssertTrue(waitUntil { self.python.servedCount == 3 })
    let failing = onSubshell("fail")
    let behind = onSubshell("after")
    python.gate.signal()
    XCTAssertEqual(transport.reply(to: waiting)?["status"], "ok")
    XCTAssertEqual(transport.reply(to: failing)?["status"], "error")
    XCTAssertEqual(transport.reply(to: behind)?["status"], "aborted")

    let delete = request("delete_subshell_request", ["subshell_id": .string(id)])
    transport.deliver(delete, on: .control)
    XCTAssertEqual(transport.reply(to: delete)?["status"], "ok")
    var orphan = request("execute_request", ["code": "1", "silent": false])
    orphan.header.subshellID = id
    transport.deliver(orphan, on: .shell)
    XCTAssertEqual(transport.reply(to: orphan)?["ename"], "SubshellNotFound")
    let again = request("delete_subshell_request", ["subshell_id": .string(id)])
    transport.deliver(again, on: .control)
    XCTAssertEqual(transport.reply(to: again)?["ename"], "SubshellNotFound")
  }

  func testDebugRequestsAreServedWhileACellRunsAndTheirEventsNameThem() {
    debugger = DebuggerDouble()
    startKernel()
    let info = request("kernel_info_request")
    transport.deliver(info, on: .control)
    XCTAssertEqual(transport.reply(to: info)?["debugger"], true)
    XCTAssertEqual(transport.reply(to: info)?["supported_features"], ["debugger", "kernel subshells"])
    let blocker = execute("wait")
    XCTAssertTrue(waitUntil { self.python.servedCount == 1 })
    let debug = request("debug_request", ["type": "request", "seq": 7, "command": "stackTrace"])
    transport.deliver(debug, on: .control)
    XCTAssertEqual(transport.reply(to: debug)?["request_seq"], 7)
    XCTAssertTrue(transport.waitForIdle(debug))
    XCTAssertEqual(
      transport.trace(of: debug), ["status:busy", "iopub:debug_event", "control:debug_reply", "status:idle"])
    python.gate.signal()
    XCTAssertEqual(transport.reply(to: blocker)?["status"], "ok")
  }

  func testControlIsAnsweredWhileACellRuns() {
    startKernel()
    let blocker = execute("wait")
    let info = request("kernel_info_request")
    transport.deliver(info, on: .control)
    let reply = transport.reply(to: info)
    XCTAssertEqual(reply?["implementation"], "tandem")
    XCTAssertEqual(reply?["language_info"]?["name"], "python")
    // An interrupt reaches the engine thread only while a request runs.
    XCTAssertTrue(waitUntil { self.python.servedCount == 1 })
    transport.deliver(request("interrupt_request"), on: .control)
    XCTAssertEqual(thread.interrupts, 1)
    python.gate.signal()
    XCTAssertTrue(transport.waitForIdle(blocker))
    let interrupt = request("interrupt_request")
    transport.deliver(interrupt, on: .control)
    XCTAssertEqual(transport.reply(to: interrupt)?["status"], "ok")
    XCTAssertEqual(thread.interrupts, 1)
    let unknown = request("frobnicate_request")
    transport.deliver(unknown, on: .control)
    XCTAssertEqual(transport.reply(to: unknown)?["ename"], "UnknownMessageType")
  }

  func testIntrospectionOfAnRCellReachesRWithTheMagicCutOff() {
    startKernel()
    let code = "%%R\nprint(x)"
    let complete = request("complete_request", ["code": .string(code), "cursor_pos": 9])
    transport.deliver(complete, on: .shell)
    let reply = transport.reply(to: complete)
    XCTAssertEqual(reply?["matches"], ["r"])
    // R saw "print(x)" with the cursor at 5; the reply's range is in the whole cell.
    XCTAssertEqual(r.served.first?.content["code"], "print(x)")
    XCTAssertEqual(r.served.first?.content["cursor_pos"], 5)
    XCTAssertEqual(reply?["cursor_start"], 9)

    // A cell magic is complete once it ends in a blank line.
    let open = request("is_complete_request", ["code": "%%R\nx <- 1"])
    transport.deliver(open, on: .shell)
    XCTAssertEqual(transport.reply(to: open)?["status"], "incomplete")
    let closed = request("is_complete_request", ["code": "%%R\nx <- 1\n\n"])
    transport.deliver(closed, on: .shell)
    XCTAssertEqual(transport.reply(to: closed)?["status"], "complete")

    // Executing an R cell is the host's: it gets the whole cell.
    let cell = execute(code)
    XCTAssertEqual(transport.reply(to: cell)?["code"], .string(code))
    XCTAssertEqual(r.served.count, 1)
  }

  func testWithRAsTheDefaultPlainCellsAreRsAndPythonCellsPythons() {
    startKernel(defaultLanguage: "r")
    let info = request("kernel_info_request")
    transport.deliver(info, on: .shell)
    XCTAssertEqual(transport.reply(to: info)?["language_info"]?["name"], "r")
    let plain = request("inspect_request", ["code": "mean", "cursor_pos": 2])
    transport.deliver(plain, on: .shell)
    XCTAssertEqual(transport.reply(to: plain)?["engine"], "r")
    let python = request("inspect_request", ["code": "%%python\nlen", "cursor_pos": 11])
    transport.deliver(python, on: .shell)
    XCTAssertEqual(transport.reply(to: python)?["engine"], "python")
    XCTAssertEqual(self.python.served.last?.content["code"], "len")
    XCTAssertEqual(self.python.served.last?.content["cursor_pos"], 2)
  }

  func testPlainCellsRunInTheDefaultLanguageAndCellsWithAMagicInTheHost() {
    startKernel(defaultLanguage: "r")
    let plain = execute("x <- 1")
    XCTAssertEqual(transport.reply(to: plain)?["engine"], "r")
    // The host's magics read the first line's options.
    let magic = execute("%%R -i df\nsummary(df)")
    XCTAssertEqual(transport.reply(to: magic)?["engine"], "python")
    let python = execute("%%python\nx = 1")
    XCTAssertEqual(transport.reply(to: python)?["engine"], "python")
    XCTAssertEqual(self.python.served.last?.content["code"], "%%python\nx = 1")
    XCTAssertEqual(r.served.count, 1)
  }

  func testAThirdLanguageIsAnEngineGivenToTheRouter() {
    let julia = EngineDouble(language: "julia", magic: "%%julia", kinds: [.execute, .complete])
    startKernel(defaultLanguage: "julia", more: [julia])
    XCTAssertEqual(transport.reply(to: execute("x = 1"))?["engine"], "julia")
    XCTAssertEqual(transport.reply(to: execute("%%julia\nx = 1"))?["engine"], "python")
    let complete = request("complete_request", ["code": "%%julia\npri", "cursor_pos": 11])
    transport.deliver(complete, on: .shell)
    XCTAssertEqual(transport.reply(to: complete)?["matches"], ["julia"])
    XCTAssertEqual(transport.reply(to: complete)?["cursor_start"], 11)
    XCTAssertEqual(julia.served.last?.content["code"], "pri")
    XCTAssertEqual(transport.reply(to: execute("%%R\nx"))?["engine"], "python")
    XCTAssertEqual(python.history.map(\.code), ["x = 1"])
  }

  func testEveryEngineNumbersItsCellsFromOneCountAndTheHostKeepsTheirHistory() {
    startKernel(defaultLanguage: "r")
    let first = execute("x <- 1")
    let second = execute("%%python\nprint(1)")
    let silent = execute("y <- 2", ["silent": true])
    let unstored = execute("z <- 3", ["store_history": false])
    let blank = execute(" \n")
    let third = execute("x")
    XCTAssertEqual(transport.reply(to: first)?["execution_count"], 1)
    XCTAssertEqual(transport.reply(to: second)?["execution_count"], 2)
    // Cells kept out of history take no number of their own.
    XCTAssertEqual(transport.reply(to: silent)?["execution_count"], 3)
    XCTAssertEqual(transport.reply(to: unstored)?["execution_count"], 3)
    XCTAssertEqual(transport.reply(to: blank)?["execution_count"], 3)
    XCTAssertEqual(transport.reply(to: third)?["execution_count"], 3)
    // The host recorded the R cells kept in history; its own cells it records itself.
    XCTAssertEqual(python.history.map(\.code), ["x <- 1", "x"])
    XCTAssertEqual(python.history.map(\.count), [1, 3])
    XCTAssertTrue(r.history.isEmpty)
  }

  func testInputIsAskedOnStdinOnlyWhenAllowed() {
    startKernel()
    let refused = execute("input", ["allow_stdin": false])
    XCTAssertEqual(transport.reply(to: refused)?["ename"], "KernelError")
    let allowed = execute("input", ["allow_stdin": true])
    XCTAssertTrue(
      waitUntil {
        self.transport.messages.contains { $0.channel == .stdin && $0.message.msgType == "input_request" }
      })
    let inputRequest = transport.messages.first { $0.channel == .stdin }!.message
    XCTAssertEqual(inputRequest.parentHeader, allowed.rawHeader)
    XCTAssertEqual((try? inputRequest.parsedContent())?["prompt"], "name?")
    transport.deliver(request("input_reply", ["value": "Ada"]), on: .stdin)
    XCTAssertEqual(transport.reply(to: allowed)?["value"], "Ada")
  }

  func testShutdownRepliesOnControlAndIOPubThenStops() {
    startKernel()
    let shutdown = request("shutdown_request", ["restart": false])
    transport.deliver(shutdown, on: .control)
    XCTAssertTrue(kernel.waitUntilFinished(timeout: 5))
    let replies = transport.messages.filter { $0.message.msgType == "shutdown_reply" }.map(\.channel)
    XCTAssertEqual(replies, [.control, .iopub])
    XCTAssertTrue(python.shutDown)
    XCTAssertTrue(r.shutDown)
    XCTAssertTrue(transport.stopped)
  }

  private func waitUntil(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
      if condition() { return true }
      Thread.sleep(forTimeInterval: 0.005)
    }
    return false
  }
}
