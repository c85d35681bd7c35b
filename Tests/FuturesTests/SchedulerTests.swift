import XCTest

@testable import Futures

final class SchedulerTests: XCTestCase {
  private func task(_ id: UInt64, _ language: WorkerLanguage = .python) -> QueuedTask {
    QueuedTask(
      id: id, replyTo: Array("c".utf8), clientTaskID: Array("t\(id)".utf8), language: language, payload: [])
  }

  private let a = Array("w1".utf8)
  private let b = Array("w2".utf8)

  func testShortQueueGoesToIdleWorkersOneEach() {
    var scheduler = Scheduler(depth: 2)
    scheduler.addWorker(a, language: .python)
    scheduler.addWorker(b, language: .python)
    scheduler.submit(task(1))
    scheduler.submit(task(2))
    scheduler.submit(task(3))
    let sent = scheduler.assign()
    XCTAssertEqual(sent.map(\.task.id), [1, 2])
    XCTAssertEqual(Set(sent.map(\.worker)), [a, b])
    XCTAssertEqual(scheduler.queuedCount(.python), 1)
  }

  func testLongQueuePrefetchesUpToDepth() {
    var scheduler = Scheduler(depth: 2)
    scheduler.addWorker(a, language: .python)
    scheduler.addWorker(b, language: .python)
    for id in 1...10 { scheduler.submit(task(id)) }
    XCTAssertEqual(scheduler.assign().count, 4)
    XCTAssertEqual(scheduler.queuedCount(.python), 6)
    XCTAssertEqual(scheduler.held(by: a).count, 2)
  }

  func testTasksOnlyGoToWorkersOfTheirLanguage() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .r)
    scheduler.submit(task(1, .python))
    XCTAssertTrue(scheduler.assign().isEmpty)
    scheduler.submit(task(2, .r))
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2])
  }

  func testFinishFreesTheWorkerAndIgnoresUnknownTasks() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    scheduler.submit(task(1))
    scheduler.submit(task(2))
    _ = scheduler.assign()
    XCTAssertNil(scheduler.finish(99, on: a))
    XCTAssertEqual(scheduler.finish(1, on: a)?.id, 1)
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2])
  }

  func testLostWorkerFailsItsRunningTaskAndRequeuesTheRestFirst() {
    var scheduler = Scheduler(depth: 2)
    scheduler.addWorker(a, language: .python)
    for id in 1...5 { scheduler.submit(task(id)) }
    XCTAssertEqual(scheduler.assign().map(\.task.id), [1, 2])
    XCTAssertEqual(scheduler.removeWorker(a)?.id, 1)
    scheduler.addWorker(b, language: .python)
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2, 3])
  }

  func testCancelRemovesOnlyQueuedTasks() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    scheduler.submit(task(1))
    scheduler.submit(task(2))
    _ = scheduler.assign()
    XCTAssertFalse(scheduler.cancel(clientTaskID: Array("t1".utf8), replyTo: Array("c".utf8)))
    XCTAssertTrue(scheduler.cancel(clientTaskID: Array("t2".utf8), replyTo: Array("c".utf8)))
    XCTAssertEqual(scheduler.queuedCount(.python), 0)
  }

  func testInterruptTakesQueuedAndPrefetchedButNotRunningTasks() {
    var scheduler = Scheduler(depth: 2)
    scheduler.addWorker(a, language: .python)
    for id in 1...4 { scheduler.submit(task(id)) }
    _ = scheduler.assign()
    XCTAssertEqual(scheduler.cancelQueued().map(\.id), [3, 4])
    XCTAssertEqual(scheduler.busyWorkers, [a])
    XCTAssertEqual(scheduler.takeWaiting(on: a).map(\.id), [2])
    XCTAssertEqual(scheduler.running(on: a)?.id, 1)
  }
}
