import Foundation
import XCTest

@testable import ChildProcess

/// A child's end is an event: its exit descriptor turns readable when it ends, so
/// the broker can sleep until a worker dies instead of looking every so often.
final class ChildProcessTests: XCTestCase {
  /// Whether `fd` is readable within `milliseconds`.
  private func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
    var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&item, 1, milliseconds) == 1
  }

  func testTheExitDescriptorTurnsReadableWhenTheChildEnds() throws {
    let child = try ChildProcess(arguments: ["/bin/sleep", "30"], environment: [:])
    let fd = try XCTUnwrap(child.exitDescriptor, "pidfd_open is available on Linux 5.3+ with glibc 2.36+")
    XCTAssertFalse(readable(fd, within: 100), "readable while the child runs")
    XCTAssertTrue(child.isRunning)
    child.signal(SIGTERM)
    XCTAssertTrue(readable(fd, within: 5000), "not readable once the child ended")
    XCTAssertFalse(child.isRunning)
    XCTAssertEqual(child.exitDescription, "was killed by signal 15 (Terminated)")
  }

  func testTheExitDescriptorOfAnotherProcessWatchesThatProcess() throws {
    let child = try ChildProcess(arguments: ["/bin/sleep", "30"], environment: [:])
    let fd = try XCTUnwrap(ChildProcess.exitDescriptor(of: child.pid))
    defer { close(fd) }
    XCTAssertFalse(readable(fd, within: 100))
    child.terminate(grace: 0)
    XCTAssertTrue(readable(fd, within: 5000))
    XCTAssertNil(ChildProcess.exitDescriptor(of: child.pid), "a reaped process has no descriptor")
  }

  func testAMissingProgramIsNamed() {
    XCTAssertThrowsError(try ChildProcess(arguments: ["tandem-no-such-program"], environment: [:])) { error in
      XCTAssertEqual("\(error)", "cannot start tandem-no-such-program: no such program")
    }
  }
}
