import Foundation
import XCTest

@testable import ChildProcess

/// Programs run to their end for what they print: streams as asked, the exit
/// status, and a stop at the limit that takes the program's own children along.
final class ProgramRunTests: XCTestCase {
  func testOutputAndErrorsAreOneTextInTheOrderWritten() throws {
    let run = try ProgramRun.run(
      ["/bin/sh", "-c", "echo one; echo two >&2; echo three; exit 3"], timeout: 10)
    XCTAssertEqual(run.output, "one\ntwo\nthree\n")
    XCTAssertEqual(run.status, 3)
    XCTAssertFalse(run.timedOut)
    XCTAssertEqual(run.ending, "exited with status 3")
  }

  func testOnlyOutputLeavesErrorsOut() throws {
    let run = try ProgramRun.run(["/bin/sh", "-c", "echo out; echo err >&2"], capture: .output, timeout: 10)
    XCTAssertEqual(run.output, "out\n")
    XCTAssertEqual(run.status, 0)
  }

  func testAProgramPastTheLimitIsStoppedWithItsChildren() throws {
    let start = Date()
    // The background sleep holds the pipe too: only stopping the group ends the read.
    let run = try ProgramRun.run(["/bin/sh", "-c", "echo started; sleep 30 & sleep 30"], timeout: 0.5)
    XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    XCTAssertTrue(run.timedOut)
    XCTAssertNil(run.status)
    XCTAssertEqual(run.output, "started\n")
    XCTAssertEqual(run.ending, "did not end within 0.5 s")
  }

  func testTheEnvironmentIsTheOneGivenAndNoDescriptorLeaks() throws {
    // Not close-on-exec, and numbered above anything the child opens itself (ls's
    // folder takes the lowest free number), so that only a leak can show it.
    let opened = open("/dev/null", O_RDONLY)
    let leaked = fcntl(opened, F_DUPFD, 200)
    close(opened)
    defer { close(leaked) }
    let run = try ProgramRun.run(
      ["/bin/sh", "-c", "echo $TANDEM_TEST_VALUE; ls /proc/self/fd"],
      environment: ["TANDEM_TEST_VALUE": "given"],
      capture: .output, timeout: 10)
    let lines = run.output.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "given")
    // 0, 1, 2, and the descriptor ls opens to read the folder.
    XCTAssertFalse(lines.dropFirst().contains(String(leaked)), run.output)
  }

  func testAMissingProgramThrows() {
    XCTAssertThrowsError(try ProgramRun.run(["tandem-no-such-program"], timeout: 10)) { error in
      XCTAssertEqual("\(error)", "cannot start tandem-no-such-program: no such program")
    }
  }

  func testWithoutCaptureTheStatusStillCounts() throws {
    let run = try ProgramRun.run(["/bin/sh", "-c", "exit 7"], capture: .nothing, timeout: 10)
    XCTAssertEqual(run.status, 7)
    XCTAssertEqual(run.output, "")
  }
}
