import EmbeddedPython
import EngineDoubles
import JSON
import KernelCore
import TestPython
import XCTest

@testable import EnginePython

/// The natives the Python half calls, called as it calls them (Python callables,
/// on the Python thread): output to the bound frontend, a peer engine's bridge,
/// telemetry, the connection file; wrong arguments raise TypeError naming the form.
final class NativesTests: XCTestCase {
  private var interpreter: PythonInterpreter { get throws { try TestPython.interpreter } }
  private let frontend = FrontendDouble()

  /// The natives made by `make`, by name, called with `arguments` on the Python
  /// thread; what `read` makes of the result.
  private func call<T>(
    _ natives: @escaping () throws -> [(String, PyRef)], _ name: String, _ arguments: @escaping () -> [PyRef],
    read: @escaping (PyRef) -> T
  ) throws -> T {
    try interpreter.sync {
      let callable = try XCTUnwrap(try natives().first { $0.0 == name }?.1, "no native \(name)")
      return read(try callable.call(arguments()))
    }
  }

  func testOutputGoesToTheBoundFrontendAndToTheParentGiven() throws {
    let slot = FrontendSlot()
    slot.bind(frontend)
    frontend.currentParent = Array(#"{"msg_id":"m1"}"#.utf8)
    _ = try call(
      { try OutputNatives.make(slot) }, "publish",
      {
        [
          PyRef("stream"), PyRef(bytes: Array(#"{"text":"hi"}"#.utf8)), PyRef(bytes: [123, 125]),
          PyRef(list: []),
        ]
      },
      read: { $0.isNone })
    _ = try call(
      { try OutputNatives.make(slot) }, "publish_to",
      {
        [
          PyRef(bytes: Array(#"{"msg_id":"m0"}"#.utf8)), PyRef("display_data"), PyRef(bytes: [123, 125]),
          PyRef(bytes: [123, 125]), PyRef(list: []),
        ]
      }, read: { $0.isNone })
    XCTAssertEqual(frontend.published.map(\.type), ["stream", "display_data"])
    XCTAssertEqual(frontend.published[0].content["text"], "hi")
    XCTAssertEqual(frontend.parents, [Array(#"{"msg_id":"m0"}"#.utf8)])
    let parent = try call({ try OutputNatives.make(slot) }, "parent", { [] }, read: { $0.bytesValue })
    XCTAssertEqual(parent, frontend.currentParent)
  }

  func testWrongArgumentsRaiseTypeErrorNamingTheForm() throws {
    let slot = FrontendSlot()
    XCTAssertThrowsError(
      try call({ try OutputNatives.make(slot) }, "publish", { [PyRef("stream")] }, read: { $0 })
    ) { error in
      XCTAssertEqual((error as? PythonError)?.typeName, "TypeError")
      XCTAssertEqual((error as? PythonError)?.message, "publish(msg_type, content, metadata, buffers)")
    }
    XCTAssertThrowsError(
      try call(
        { try TelemetryNatives.make(MetricsEndpointState()) }, "metrics_exchange",
        { [PyRef("sideways"), PyRef(1), PyRef(1)] }, read: { $0 })
    ) { error in
      XCTAssertEqual(
        (error as? PythonError)?.message, "metrics_exchange('python_to_r' | 'r_to_python', nbytes, seconds)")
    }
  }

  func testAPeersBridgeIsNamedAfterItsLanguageAndCarriesFrames() throws {
    let slot = FrontendSlot()
    slot.bind(frontend)
    let peer = PeerDouble()
    let natives = { try BridgeNatives.make(slot, peer: peer) }
    XCTAssertEqual(try interpreter.sync { try natives().map(\.0) }, ["julia_call"])
    let reply = try call(
      natives, "julia_call",
      {
        [
          PyRef(bytes: Array(#"{"type":"get","name":"x","result":true,"execution_count":3}"#.utf8)),
          PyRef(list: [PyRef(bytes: [1, 2])]),
        ]
      },
      read: { reply in
        reply.sequenceItems.map { $0.bytesValue ?? $0.sequenceItems.compactMap(\.bytesValue).first ?? [] }
      })
    XCTAssertEqual(try JSONValue.parse(reply[0]), ["status": "ok", "asked": "x"])
    XCTAssertEqual(reply[1], [1, 2])
    XCTAssertEqual(peer.resultCounts, [3])
    XCTAssertTrue(peer.frontends.first.flatMap { $0 } === frontend)
  }

  func testTheSessionAndMetricsSayWhereTheyAre() throws {
    let file = try call(
      { try SessionNatives.make(connectionFile: "/run/kernel-1.json") }, "connection_file", { [] },
      read: { $0.stringValue })
    XCTAssertEqual(file, "/run/kernel-1.json")
    let url = try call(
      { try TelemetryNatives.make(MetricsEndpointState(url: "http://127.0.0.1:9/metrics")) },
      "metrics_address",
      { [] }, read: { try? $0.callMethod("get", PyRef("url")).stringValue })
    XCTAssertEqual(url, "http://127.0.0.1:9/metrics")
  }
}

/// A language the host calls into, answering each request with the name it asked
/// for and the frames it was given.
final class PeerDouble: BridgedEngine {
  let declaration = LanguageDeclaration(
    language: Language("julia"), cellMagics: ["%%julia"], kernelspecName: "tandem-julia",
    kernelspecLanguage: "julia", displayName: "Julia")
  let kernelInfo: JSONValue = [:]
  let servedKinds: Set<RequestKind> = []
  private(set) var resultCounts: [Int64?] = []
  private(set) var frontends: [Frontend?] = []

  func attach(thread: EngineThread, host: @escaping (BridgeMessage) -> BridgeMessage) {}

  func call(_ request: BridgeMessage, frontend: Frontend?, resultCount: Int64?) -> BridgeMessage {
    resultCounts.append(resultCount)
    frontends.append(frontend)
    return BridgeMessage(body: ["status": "ok", "asked": request["name"] ?? .null], frames: request.frames)
  }

  func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply? { nil }
  func requestFinished() {}
  func shutdown() {}
}
