import Foundation
import XCTest
import ZeroMQ

/// A queue handed to a thread that sleeps in a poller: a push wakes it only when it
/// may be asleep, nothing is lost between looking and sleeping, and the pipe stays
/// out of children.
final class WakeQueueTests: XCTestCase {
  private func readable(_ queue: WakeQueue<Int>, within milliseconds: Int = 0) -> Bool {
    var poller = ZMQPoller()
    poller.add(fd: queue.descriptor)
    return poller.poll(timeoutMilliseconds: milliseconds)[0]
  }

  func testAPushWakesASleepingOwnerAndItemsComeInOrder() throws {
    let queue = try WakeQueue<Int>()
    XCTAssertTrue(queue.willSleep())
    queue.push(1)
    queue.push(2)
    XCTAssertTrue(readable(queue))
    queue.clearSignal()
    XCTAssertFalse(readable(queue))
    XCTAssertEqual(queue.take(), [1, 2])
    XCTAssertEqual(queue.take(), [])
  }

  func testAPushWhileTheOwnerWorksCostsNoWakeUpAndIsSeenBeforeSleeping() throws {
    let queue = try WakeQueue<Int>()
    queue.push(1)  // the owner has not said it sleeps
    XCTAssertFalse(readable(queue))
    XCTAssertFalse(queue.willSleep(), "something is queued: look again without waiting")
    XCTAssertEqual(queue.take(), [1])
  }

  func testWakeAlwaysWakes() throws {
    let queue = try WakeQueue<Int>()
    queue.wake()
    XCTAssertTrue(readable(queue))
    XCTAssertEqual(queue.take(), [])
  }

  func testAnOwnerSeesEveryPushOfManyThreadsWithoutALostWakeUp() throws {
    let queue = try WakeQueue<Int>()
    let total = 4 * 500
    DispatchQueue.global().async {
      DispatchQueue.concurrentPerform(iterations: 4) { sender in
        for i in 0..<500 { queue.push(sender * 500 + i) }
      }
    }
    var seen: [Int] = []
    var lost = 0
    let deadline = Date(timeIntervalSinceNow: 30)
    while seen.count < total && Date() < deadline {
      var poller = ZMQPoller()
      poller.add(fd: queue.descriptor)
      let slept = queue.willSleep()
      let woken = poller.poll(timeoutMilliseconds: slept ? 2000 : 0)[0]
      if woken { queue.clearSignal() }
      let taken = queue.take()
      // A sleep that ran out while something was queued missed its wake-up.
      if slept && !woken && !taken.isEmpty { lost += 1 }
      seen += taken
    }
    XCTAssertEqual(lost, 0)
    XCTAssertEqual(seen.sorted(), Array(0..<total))
  }

  func testThePipeIsNotInherited() throws {
    let queue = try WakeQueue<Int>()
    XCTAssertNotEqual(fcntl(queue.descriptor, F_GETFD) & FD_CLOEXEC, 0)
  }
}
