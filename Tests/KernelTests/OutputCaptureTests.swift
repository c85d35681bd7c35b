import Foundation
import XCTest

@testable import KernelCore

/// Output capture on descriptors of the test's own (not 1 and 2, which the test
/// runner needs): streams kept apart, batching, UTF-8 split across writes.
final class OutputCaptureTests: XCTestCase {
  private final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [(String, String)] = []

    func add(_ stream: String, _ text: String) {
      lock.lock()
      chunks.append((stream, text))
      lock.unlock()
    }

    var all: [(stream: String, text: String)] {
      lock.lock()
      defer { lock.unlock() }
      return chunks
    }

    func text(_ stream: String) -> String { all.filter { $0.stream == stream }.map(\.text).joined() }
  }

  private func capture() throws -> (OutputCapture, Received, out: Int32, err: Int32) {
    let out = open("/dev/null", O_WRONLY)
    let err = open("/dev/null", O_WRONLY)
    let capture = try OutputCapture(stdout: out, stderr: err)
    let received = Received()
    capture.setSink { received.add($0, $1) }
    return (capture, received, out, err)
  }

  private func write(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)
    XCTAssertEqual(Foundation.write(fd, &bytes, bytes.count), bytes.count)
  }

  func testStreamsArriveApartAndInOrderByFlush() throws {
    let (capture, received, out, err) = try capture()
    write("one\n", to: out)
    write("warning\n", to: err)
    write("two\n", to: out)
    capture.flush()
    XCTAssertEqual(received.text("stdout"), "one\ntwo\n")
    XCTAssertEqual(received.text("stderr"), "warning\n")
  }

  func testManySmallWritesBecomeFewMessages() throws {
    let (capture, received, out, _) = try capture()
    for i in 0..<2000 { write("line \(i)\n", to: out) }
    capture.flush()
    XCTAssertEqual(received.text("stdout"), (0..<2000).map { "line \($0)\n" }.joined())
    XCTAssertLessThan(received.all.count, 50)
  }

  func testACharacterSplitAcrossWritesStaysWhole() throws {
    let (capture, received, out, _) = try capture()
    var first: [UInt8] = [0x61, 0xC3]  // "a" and the first byte of "é"
    var second: [UInt8] = [0xA9, 0x0A]
    _ = Foundation.write(out, &first, 2)
    // Longer than the batching window, so the reader emits what it has meanwhile.
    Thread.sleep(forTimeInterval: 0.1)
    _ = Foundation.write(out, &second, 2)
    capture.flush()
    XCTAssertEqual(received.text("stdout"), "aé\n")
  }

  func testCompleteUTF8Prefix() {
    XCTAssertEqual(OutputCapture.completeUTF8Prefix(Array("abc".utf8)), 3)
    XCTAssertEqual(OutputCapture.completeUTF8Prefix([0x61, 0xE2, 0x82]), 1)  // "a" + 2 of €'s 3 bytes
    XCTAssertEqual(OutputCapture.completeUTF8Prefix(Array("a€".utf8)), 4)
    XCTAssertEqual(OutputCapture.completeUTF8Prefix([0x61, 0xF0, 0x9F, 0x98]), 1)
  }
}

extension OutputCaptureTests {
  func testTheReaderEndsWhenBothStreamsAreClosed() throws {
    let (capture, received, out, err) = try capture()
    write("last words\n", to: out)
    close(out)
    XCTAssertEqual(capture.readerEnded.wait(timeout: .now() + 0.2), .timedOut)  // stderr is still open
    close(err)
    // Instead of polling two closed pipes forever, the reader hands over what was
    // left and ends.
    XCTAssertEqual(capture.readerEnded.wait(timeout: .now() + 5), .success)
    XCTAssertEqual(received.text("stdout"), "last words\n")
  }
}
