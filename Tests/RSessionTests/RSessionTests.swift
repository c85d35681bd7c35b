import FakeR
import Foundation
import JSON
import Logging
import XCTest

@testable import RSession

/// The session's start, restart and failure logic, with a fake R child.
final class RSessionTests: XCTestCase {
  private var directory = ""
  private var fakeR = ""

  override func setUpWithError() throws {
    directory = try FakeR.privateFolder("rsession-test")
    fakeR = try FakeR.install(in: directory)
  }

  override func tearDown() {
    unsetenv("FAKE_R_IMPOSTOR")
    unsetenv("FAKE_R_EXIT_AT_START")
    try? FileManager.default.removeItem(atPath: directory)
  }

  private func session() throws -> RSession {
    try RSession(
      configuration: RConfiguration(executable: fakeR, library: "/nowhere/R-library"), directory: directory,
      logger: Logger(label: "test"))
  }

  private func roundTrip(_ session: RSession, _ code: String) throws -> RMessage? {
    try session.send(["type": "execute", "code": .string(code)], frames: [[1, 2, 3]])
    let deadline = Date(timeIntervalSinceNow: 10)
    while Date() < deadline {
      if let message = try session.receive(timeout: 0.1) { return message }
    }
    return nil
  }

  func testStartsOnceAndCarriesFrames() throws {
    let session = try session()
    XCTAssertTrue(try session.start())
    XCTAssertFalse(try session.start())  // already running: no second R
    XCTAssertEqual(session.starts, 1)
    XCTAssertEqual(session.version, "fake R 1.0")
    let reply = try roundTrip(session, "1 + 1")
    XCTAssertEqual(reply?["echo"], "1 + 1")
    XCTAssertEqual(reply?.frames, [[1, 2, 3]])
    XCTAssertEqual(reply?["pid"]?.intValue, session.pid.map(Int64.init))
    session.stop()
    XCTAssertNil(session.pid)
  }

  func testADeadRIsReportedAndTheNextStartIsFresh() throws {
    let session = try session()
    try session.start()
    let first = session.pid
    try session.send(["type": "crash"])
    var died: RSessionError?
    let deadline = Date(timeIntervalSinceNow: 10)
    while died == nil && Date() < deadline {
      do {
        _ = try session.receive(timeout: 0.1)
      } catch let error as RSessionError {
        died = error
      }
    }
    guard case .died(let how)? = died else { return XCTFail("no died error: \(String(describing: died))") }
    XCTAssertTrue(how.contains("status 3"), how)
    XCTAssertThrowsError(try session.send(["type": "execute", "code": "x"]))
    XCTAssertTrue(try session.start())
    XCTAssertEqual(session.starts, 2)
    XCTAssertNotEqual(session.pid, first)
    XCTAssertEqual(try roundTrip(session, "again")?["echo"], "again")
    session.stop()
  }

  func testOnlyTheStartedProcessBecomesR() throws {
    setenv("FAKE_R_IMPOSTOR", "1", 1)
    let session = try session()
    try session.start()
    XCTAssertEqual(session.version, "fake R 1.0")
    XCTAssertEqual(try roundTrip(session, "me")?["pid"]?.intValue, session.pid.map(Int64.init))
    session.stop()
  }

  func testAnRThatExitsWhileStartingNamesTheLibrary() throws {
    setenv("FAKE_R_EXIT_AT_START", "1", 1)
    let session = try session()
    XCTAssertThrowsError(try session.start(timeout: 10)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("status 2"), text)
      XCTAssertTrue(text.contains("/nowhere/R-library"), text)
    }
  }

  func testAMissingRSaysHowToInstallIt() throws {
    let session = try RSession(
      configuration: RConfiguration(executable: directory + "/no-such-R"), directory: directory,
      logger: Logger(label: "test"))
    XCTAssertThrowsError(try session.start()) { error in
      XCTAssertTrue("\(error)".contains("apt-get install r-base-core"), "\(error)")
    }
  }

  func testTheCommandPutsTheLibraryFirstAndEscapesIt() {
    let command = RSession.command(RConfiguration(executable: "R", library: "/a'b"), running: "f()")
    XCTAssertEqual(Array(command.prefix(4)), ["R", "--no-echo", "--vanilla", "-e"])
    XCTAssertEqual(command[4], ".libPaths(c('/a\\'b', .libPaths())); f()")
  }
}
