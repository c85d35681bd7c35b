import CZeroMQ
import Foundation
import Logging
import XCTest
import ZeroMQ

@testable import Futures

/// The broker's routing and pool, with real ZeroMQ peers: the test's own sockets
/// play the socket client and the worker that the broker started (a worker process
/// that never connects stands behind its name), and the in-process client is the
/// broker's own.
final class BrokerTests: XCTestCase {
  private var folder = ""
  private var broker: Broker?
  private let context = ZMQContext()
  private var sockets: [ZMQSocket] = []

  override func setUpWithError() throws {
    folder = NSTemporaryDirectory() + "tandem-broker-\(UUID().uuidString)"
    // Only this user may reach the broker's socket, as in the kernel's private folder.
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
  }

  override func tearDown() {
    for socket in sockets { socket.close() }
    broker?.stop()
    try? FileManager.default.removeItem(atPath: folder)
  }

  /// A broker whose R workers run `script` (sh): one per pool.
  private func startBroker(workers script: String) throws -> Broker {
    let launch = WorkerLaunch(command: { _ in ["/bin/sh", "-c", script, "worker"] }, environment: [:])
    let broker = try Broker(directory: folder, launch: launch, poolSize: 1, logger: Logger(label: "test"))
    broker.start()
    self.broker = broker
    return broker
  }

  /// A DEALER answering for the pool's worker `id`, once the pool has started it (a
  /// ready message from a worker the pool has not started yet is dropped).
  private func worker(_ broker: Broker, id: String) throws -> ZMQSocket {
    let deadline = Date(timeIntervalSinceNow: 10)
    while !broker.snapshot().workers.contains(where: { $0.name == id }) && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.01)
    }
    return try peer(broker, id: id)
  }

  /// A DEALER connected to the broker, named `id`.
  private func peer(_ broker: Broker, id: String) throws -> ZMQSocket {
    let socket = try ZMQSocket(context: context, kind: .dealer)
    try socket.setOption(ZMQ_ROUTING_ID, bytes: Array(id.utf8))
    try socket.setOption(ZMQ_LINGER, 0)
    try socket.connect(broker.endpoint)
    sockets.append(socket)
    return socket
  }

  /// The next message on `socket`, waiting up to `seconds`; nil when none came.
  private func next(_ socket: ZMQSocket, within seconds: Int = 5) -> [[UInt8]]? {
    guard socket.hasMessage(within: seconds * 1000) else { return nil }
    return try? socket.receive(dontWait: true)
  }

  /// The in-process client's next message, waiting up to `seconds`.
  private func nextLocal(_ broker: Broker, within seconds: Double = 5) -> [[UInt8]]? {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
      if let message = broker.local.receive(timeout: 0.1).first { return message }
    }
    return nil
  }

  private func submit(_ broker: Broker, task: String, payload: String) {
    broker.local.send([Verb.submit, Array(task.utf8), Array("r".utf8), Array(payload.utf8)])
  }

  func testASocketClientIsGreeted() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    let client = try peer(broker, id: "client")
    _ = try client.send([Verb.hello])
    XCTAssertEqual(next(client), [Verb.hello])
  }

  func testATaskGoesToItsWorkerAndTheOutcomeToItsClient() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    submit(broker, task: "t1", payload: "work")
    // The pool started worker w1 for the task; this socket answers for it.
    let worker = try self.worker(broker, id: "w1")
    _ = try worker.send([Verb.ready, Array("1".utf8)])
    guard let task = next(worker), task.count == 3 else { return XCTFail("no task reached the worker") }
    XCTAssertEqual(task[0], Verb.task)
    XCTAssertEqual(task[2], Array("work".utf8))
    _ = try worker.send([Verb.done, task[1], Array("ok".utf8), Array("42".utf8)])
    XCTAssertEqual(nextLocal(broker), [Verb.done, Array("t1".utf8), Array("ok".utf8), Array("42".utf8)])
  }

  func testAPeerTheBrokerDidNotStartGetsNoTask() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    submit(broker, task: "t1", payload: "secret")
    let intruder = try peer(broker, id: "intruder")
    _ = try intruder.send([Verb.ready, Array("1".utf8)])
    XCTAssertNil(next(intruder, within: 1))
    XCTAssertTrue(broker.local.isQueued(Array("t1".utf8)))
  }

  func testAQueuedTaskIsCancelledOnce() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    submit(broker, task: "t1", payload: "work")
    XCTAssertTrue(broker.local.isQueued(Array("t1".utf8)))
    XCTAssertTrue(broker.local.cancel(Array("t1".utf8)))
    XCTAssertFalse(broker.local.isQueued(Array("t1".utf8)))
    XCTAssertFalse(broker.local.cancel(Array("t1".utf8)))
  }

  func testAWorkerThatCannotStartFailsTheTaskSayingHowItEnded() throws {
    let broker = try startBroker(workers: "exit 3")
    submit(broker, task: "t1", payload: "work")
    guard let failed = nextLocal(broker, within: 10), failed.count == 4 else {
      return XCTFail("the task did not fail")
    }
    XCTAssertEqual(Array(failed[0...2]), [Verb.failed, Array("t1".utf8), Verb.lost])
    let reason = String(decoding: failed[3], as: UTF8.self)
    XCTAssertTrue(reason.contains("R worker w1"), reason)
    XCTAssertTrue(reason.contains("exited with status 3 while starting"), reason)
  }

  func testAnInterruptCancelsTheQueuedTasks() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    submit(broker, task: "t1", payload: "work")
    XCTAssertTrue(broker.local.isQueued(Array("t1".utf8)))
    broker.interrupt()
    guard let failed = nextLocal(broker), failed.count == 4 else {
      return XCTFail("the task was not cancelled")
    }
    XCTAssertEqual(Array(failed[0...2]), [Verb.failed, Array("t1".utf8), Verb.cancelled])
    XCTAssertFalse(broker.local.isQueued(Array("t1".utf8)))
  }

  func testTheSnapshotShowsTheRunningTaskAndCountsOutcomes() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    submit(broker, task: "t1", payload: "first")
    submit(broker, task: "t2", payload: "second")
    submit(broker, task: "t3", payload: "third")
    let worker = try self.worker(broker, id: "w1")
    _ = try worker.send([Verb.ready, Array("1".utf8)])
    guard let first = next(worker) else { return XCTFail("no task reached the worker") }
    var snapshot = broker.snapshot()
    XCTAssertEqual(snapshot.workers.map(\.name), ["w1"])
    XCTAssertEqual(snapshot.workers[0].state, "busy")
    XCTAssertEqual(snapshot.workers[0].task, 1)
    XCTAssertNotNil(snapshot.workers[0].taskSeconds)
    XCTAssertEqual(snapshot.queued["r"], 2)
    // The worker's pid is the process the pool started: /proc has its figures.
    XCTAssertNotNil(snapshot.workers[0].memory)

    _ = try worker.send([Verb.done, first[1], Array("error".utf8), [], Array("boom".utf8)])
    _ = nextLocal(broker)
    guard let second = next(worker) else { return XCTFail("the second task did not come") }
    // An R worker holds one task at a time: the third still waits, and is cancelled.
    XCTAssertTrue(broker.local.cancel(Array("t3".utf8)))
    _ = try worker.send([Verb.done, second[1], Array("ok".utf8), Array("42".utf8)])
    _ = nextLocal(broker)
    snapshot = broker.snapshot()
    XCTAssertEqual(snapshot.ended["r"], ["failed": 1, "finished": 1, "cancelled": 1])
    XCTAssertEqual(snapshot.workers[0].done, 1)
    XCTAssertEqual(snapshot.workers[0].failed, 1)
    XCTAssertEqual(snapshot.workers[0].state, "idle")
    XCTAssertNil(snapshot.workers[0].task)
    XCTAssertEqual(snapshot.recent.map(\.failed), [true, false])
    XCTAssertEqual(snapshot.failuresLastMinute, 1)
    XCTAssertEqual(snapshot.queued["r"], 0)
  }

  func testTheStuckThresholdIsTheUsers() throws {
    let broker = try startBroker(workers: "exec /bin/sleep 30")
    XCTAssertEqual(broker.snapshot().stuckAfter, 300)
    broker.local.setStuckThreshold(2.5)
    XCTAssertEqual(broker.snapshot().stuckAfter, 2.5)
    XCTAssertTrue(broker.local.status().contains("\"stuckAfter\":2.5"))
  }
}
