import XCTest

@testable import Futures

final class SchedulerTests: XCTestCase {
  private func task(_ id: UInt64, _ language: WorkerLanguage = .python) -> QueuedTask {
    QueuedTask(
      id: id, replyTo: Array("c".utf8), clientTaskID: Array("t\(id)".utf8), language: language, payload: [])
  }

  private let a = Array("w1".utf8)
  private let b = Array("w2".utf8)

  func testTasksGoToIdleWorkersOneEach() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    scheduler.addWorker(b, language: .python)
    for id in UInt64(1)...3 { scheduler.submit(task(id)) }
    let sent = scheduler.assign()
    XCTAssertEqual(sent.map(\.task.id).sorted(), [1, 2])
    XCTAssertEqual(Set(sent.map(\.worker)), [a, b])
    XCTAssertEqual(scheduler.queuedCount(.python), 1)
    XCTAssertTrue(scheduler.assign().isEmpty)
  }

  func testTasksOnlyGoToWorkersOfTheirLanguage() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .r)
    scheduler.submit(task(1, .python))
    XCTAssertTrue(scheduler.assign().isEmpty)
    scheduler.submit(task(2, .r))
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2])
  }

  func testFinishFreesTheWorkerAndIgnoresOtherTasks() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    scheduler.submit(task(1))
    scheduler.submit(task(2))
    _ = scheduler.assign()
    XCTAssertNil(scheduler.finish(99, on: a))
    XCTAssertNil(scheduler.finish(1, on: b))
    XCTAssertEqual(scheduler.finish(1, on: a)?.id, 1)
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2])
  }

  func testLostWorkerReturnsItsTaskAndTheQueueMovesOn() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    for id in UInt64(1)...3 { scheduler.submit(task(id)) }
    XCTAssertEqual(scheduler.assign().map(\.task.id), [1])
    XCTAssertEqual(scheduler.removeWorker(a)?.id, 1)
    XCTAssertEqual(scheduler.workerCount(.python), 0)
    scheduler.addWorker(b, language: .python)
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2])
  }

  func testCancelRemovesOnlyQueuedTasks() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    scheduler.submit(task(1))
    scheduler.submit(task(2))
    _ = scheduler.assign()
    XCTAssertFalse(scheduler.isQueued(clientTaskID: Array("t1".utf8), replyTo: Array("c".utf8)))
    XCTAssertTrue(scheduler.isQueued(clientTaskID: Array("t2".utf8), replyTo: Array("c".utf8)))
    XCTAssertFalse(scheduler.isQueued(clientTaskID: Array("t2".utf8), replyTo: Array("other".utf8)))
    XCTAssertFalse(scheduler.cancel(clientTaskID: Array("t1".utf8), replyTo: Array("c".utf8)))
    XCTAssertTrue(scheduler.cancel(clientTaskID: Array("t2".utf8), replyTo: Array("c".utf8)))
    XCTAssertEqual(scheduler.queuedCount(.python), 0)
    XCTAssertFalse(scheduler.isQueued(clientTaskID: Array("t2".utf8), replyTo: Array("c".utf8)))
  }

  func testInterruptEmptiesTheQueueAndNamesBusyWorkers() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    scheduler.addWorker(b, language: .python)
    for id in UInt64(1)...4 { scheduler.submit(task(id)) }
    _ = scheduler.assign()
    XCTAssertEqual(scheduler.cancelQueued().map(\.id), [3, 4])
    XCTAssertEqual(Set(scheduler.busyWorkers), [a, b])
    _ = scheduler.finish(1, on: scheduler.running(on: a)?.id == 1 ? a : b)
    XCTAssertEqual(scheduler.busyWorkers.count, 1)
  }

  func testALongQueueGoesOutInOrderAndStaysCancellable() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    for id in UInt64(1)...10_000 { scheduler.submit(task(id)) }
    var sent: [UInt64] = []
    while let next = scheduler.assign().first {
      sent.append(next.task.id)
      _ = scheduler.finish(next.task.id, on: a)
      if next.task.id == 6_000 {
        XCTAssertEqual(scheduler.queuedCount(.python), 4_000)
        XCTAssertFalse(scheduler.isQueued(clientTaskID: Array("t5999".utf8), replyTo: Array("c".utf8)))
        XCTAssertTrue(scheduler.cancel(clientTaskID: Array("t6001".utf8), replyTo: Array("c".utf8)))
      }
    }
    XCTAssertEqual(sent, Array(1...6_000) + Array(6_002...10_000))
  }
}
