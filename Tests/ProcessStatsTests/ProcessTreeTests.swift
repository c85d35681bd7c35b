import Foundation
import XCTest

@testable import ProcessStats

/// The process tree and host figures, read from this machine's /proc.
final class ProcessTreeTests: XCTestCase {
  func testACommandNameWithSpacesAndParenthesesIsSkipped() {
    let line =
      "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 33 18446744073709551615"
    let stat = Stat(line)
    XCTAssertEqual(stat?.parent, 7)
    XCTAssertEqual(stat?.residentPages, 33)
    XCTAssertEqual(stat?.cpuSeconds ?? 0, 300 / Double(sysconf(Int32(_SC_CLK_TCK))), accuracy: 1e-9)
  }

  func testTheTreeHoldsTheProcessAndItsChildren() throws {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/sleep")
    child.arguments = ["5"]
    try child.run()
    defer { child.terminate() }
    let tree = ProcessTree.read()
    XCTAssertEqual(tree.processes.first?.pid, getpid())
    XCTAssertTrue(tree.processes.contains { $0.pid == child.processIdentifier })
    XCTAssertGreaterThan(tree.processes[0].memory, 1 << 20)
    XCTAssertEqual(tree.memory, tree.processes.reduce(0) { $0 + $1.memory })
    XCTAssertTrue(ProcessTree.read(root: 999_999_999).processes.isEmpty)
  }

  func testHostMemoryAddsUp() throws {
    let memory = HostStats.memory()
    let total = try XCTUnwrap(memory["total"])
    XCTAssertGreaterThan(total, 0)
    XCTAssertLessThanOrEqual(try XCTUnwrap(memory["available"]), total)
    XCTAssertEqual(
      try XCTUnwrap(memory["percent"]), (total - memory["available"]!) / total * 100, accuracy: 1e-9)
    let ticks = try XCTUnwrap(HostStats.cpuTicks())
    XCTAssertLessThanOrEqual(ticks.busy, ticks.total)
  }
}
