import XCTest

@testable import Futures

final class TaskHistoryTests: XCTestCase {
  private let second: UInt64 = 1_000_000_000

  func testTheLatestDurationsAreKeptOldestFirst() {
    var history = TaskHistory(limit: 3)
    XCTAssertEqual(history.recent, [])
    for index in 1...5 {
      history.ran(.python, seconds: Double(index), failed: index == 4)
    }
    XCTAssertEqual(history.recent.map(\.seconds), [3, 4, 5])
    XCTAssertEqual(history.recent.map(\.failed), [false, true, false])
    history.ran(.r, seconds: 6, failed: false)
    XCTAssertEqual(history.recent.map(\.seconds), [4, 5, 6])
    XCTAssertEqual(history.recent.last?.language, "r")
  }

  func testFailuresCountOnlyTheLastMinute() {
    var history = TaskHistory(limit: 3)
    let start = 1_000 * second
    XCTAssertEqual(history.failures(before: start), 0)
    history.failed(at: start)
    history.failed(at: start + second / 2)
    history.failed(at: start + 30 * second)
    XCTAssertEqual(history.failures(before: start + 30 * second), 3)
    XCTAssertEqual(history.failures(before: start + 59 * second), 3)
    // The first second's two have aged out; the one at 30 s is still in.
    XCTAssertEqual(history.failures(before: start + 60 * second), 1)
    // A slot reused a minute later counts afresh.
    history.failed(at: start + 61 * second)
    XCTAssertEqual(history.failures(before: start + 61 * second), 2)
    XCTAssertEqual(history.failures(before: start + 200 * second), 0)
  }
}
