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
    XCTAssertEqual(scheduler.finish(1, on: a)?.task.id, 1)
    XCTAssertEqual(scheduler.assign().map(\.task.id), [2])
  }

  func testLostWorkerReturnsItsTaskAndTheQueueMovesOn() {
    var scheduler = Scheduler()
    scheduler.addWorker(a, language: .python)
    for id in UInt64(1)...3 { scheduler.submit(task(id)) }
    XCTAssertEqual(scheduler.assign().map(\.task.id), [1])
    XCTAssertEqual(scheduler.removeWorker(a).map(\.id), [1])
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
    XCTAssertNil(scheduler.cancel(clientTaskID: Array("t1".utf8), replyTo: Array("c".utf8)))
    XCTAssertEqual(scheduler.cancel(clientTaskID: Array("t2".utf8), replyTo: Array("c".utf8))?.id, 2)
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
    _ = scheduler.finish(1, on: scheduler.held(by: a).contains { $0.id == 1 } ? a : b)
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
        XCTAssertNotNil(scheduler.cancel(clientTaskID: Array("t6001".utf8), replyTo: Array("c".utf8)))
      }
    }
    XCTAssertEqual(sent, Array(1...6_000) + Array(6_002...10_000))
  }

  func testWorkersOfAPrefetchingLanguageHoldSeveralShortTasks() {
    var scheduler = Scheduler(prefetching: [.python])
    scheduler.addWorker(a, language: .python)
    scheduler.addWorker(b, language: .python)
    let depth = UInt64(Scheduler.prefetch)
    for id in UInt64(1)...(3 * depth) { scheduler.submit(task(id)) }
    // Nothing known of the tasks yet: one each.
    XCTAssertEqual(scheduler.assign(at: 0).count, 2)
    let first = scheduler.held(by: a).contains { $0.id == 1 } ? a : b
    XCTAssertEqual(scheduler.finish(1, on: first, at: 100_000)?.task.id, 1)
    XCTAssertEqual(scheduler.depth(.python), Scheduler.prefetch)
    let sent = scheduler.assign(at: 100_000)
    XCTAssertEqual(sent.count, 2 * Scheduler.prefetch - 1)
    XCTAssertEqual(scheduler.held(by: a).count, Scheduler.prefetch)
    XCTAssertEqual(scheduler.held(by: b).count, Scheduler.prefetch)
    // In the order they were submitted, spread over both workers.
    XCTAssertEqual(sent.map(\.task.id), Array(3...(2 * depth + 1)))
    // Long tasks stop the prefetching.
    let held = scheduler.held(by: a)
    for (index, task) in held.enumerated() {
      _ = scheduler.finish(task.id, on: a, at: 100_000 + UInt64(index + 1) * 50_000_000)
    }
    XCTAssertEqual(scheduler.depth(.python), 1)
    XCTAssertEqual(scheduler.assign(at: 300_000_000).map(\.worker), [a])
  }

  func testLanguagesThatDoNotPrefetchHoldOneTask() {
    var scheduler = Scheduler(prefetching: [.python])
    scheduler.addWorker(a, language: .r)
    for id in UInt64(1)...5 { scheduler.submit(task(id, .r)) }
    _ = scheduler.assign(at: 0)
    _ = scheduler.finish(1, on: a, at: 1_000)
    XCTAssertEqual(scheduler.depth(.r), 1)
    XCTAssertEqual(scheduler.assign(at: 1_000).map(\.task.id), [2])
  }

  func testALostWorkersUnstartedTasksGoBackToTheFrontInOrder() {
    var scheduler = Scheduler(prefetching: [.python])
    scheduler.addWorker(a, language: .python)
    let depth = UInt64(Scheduler.prefetch)
    for id in UInt64(1)...(2 * depth + 2) { scheduler.submit(task(id)) }
    _ = scheduler.assign(at: 0)
    _ = scheduler.finish(1, on: a, at: 1_000)
    _ = scheduler.assign(at: 1_000)
    let held = scheduler.removeWorker(a)
    XCTAssertEqual(held.map(\.id), Array(2...(depth + 1)))
    scheduler.requeue(Array(held.dropFirst()))
    XCTAssertEqual(scheduler.queuedCount(.python), Int(2 * depth))
    scheduler.addWorker(b, language: .python)
    XCTAssertEqual(scheduler.assign(at: 2_000).map(\.task.id), Array(3...(depth + 2)))
  }

  func testTasksHeldBehindTheStartedOneAreTakenBack() {
    var scheduler = Scheduler(prefetching: [.python])
    scheduler.addWorker(a, language: .python)
    let depth = UInt64(Scheduler.prefetch)
    let last = depth + 2
    for id in UInt64(1)...last { scheduler.submit(task(id)) }
    _ = scheduler.assign(at: 0)
    _ = scheduler.finish(1, on: a, at: 1_000)
    _ = scheduler.assign(at: 1_000)
    XCTAssertEqual(scheduler.held(by: a).map(\.id), Array(2...(depth + 1)))
    XCTAssertTrue(scheduler.stealable(.python).isEmpty)
    scheduler.addWorker(b, language: .python)
    XCTAssertTrue(scheduler.stealable(.python).isEmpty, "the last task is still queued")
    XCTAssertEqual(scheduler.assign(at: 2_000).map(\.task.id), [last])
    _ = scheduler.finish(last, on: b, at: 3_000)
    XCTAssertEqual(scheduler.stealable(.python), [a])
    // Task 2 finished (its outcome on its way), 3 runs: the ones after it come back.
    XCTAssertEqual(scheduler.takeBack(from: a, started: 3).map(\.id), Array(4...(depth + 1)))
    XCTAssertEqual(scheduler.held(by: a).map(\.id), [2, 3])
    // A started task the worker no longer holds: it holds nothing it started.
    XCTAssertEqual(scheduler.takeBack(from: a, started: 1).map(\.id), [2, 3])
    XCTAssertTrue(scheduler.held(by: a).isEmpty)
  }
}
