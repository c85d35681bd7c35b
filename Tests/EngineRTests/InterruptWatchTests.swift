import XCTest

@testable import EngineR

/// What follows an interrupt, on a clock the test sets: a ping a second into R's
/// silence, one announcement, and giving up once the grace has passed in silence.
final class InterruptWatchTests: XCTestCase {
  private var now = 100.0

  private func watch(grace: Double = 30) -> InterruptWatch {
    InterruptWatch(grace: grace) { [unowned self] in now }
  }

  func testNothingHappensWithoutAnInterrupt() {
    var watch = watch()
    now += 100
    XCTAssertFalse(watch.passed)
    XCTAssertFalse(watch.shouldPing())
    XCTAssertFalse(watch.shouldAnnounce())
    XCTAssertFalse(watch.gaveUp())
  }

  func testASilentRIsPingedEverySecondAnnouncedOnceAndGivenUpOnAfterTheGrace() {
    var watch = watch(grace: 5)
    watch.interrupted()
    XCTAssertTrue(watch.passed)
    now += 0.5
    XCTAssertFalse(watch.shouldPing())
    XCTAssertFalse(watch.shouldAnnounce())
    now += 0.5
    XCTAssertTrue(watch.shouldPing())
    XCTAssertFalse(watch.shouldPing(), "pinged twice in one second")
    XCTAssertTrue(watch.shouldAnnounce())
    now += 1
    XCTAssertTrue(watch.shouldPing())
    XCTAssertFalse(watch.shouldAnnounce(), "announced twice")
    XCTAssertFalse(watch.gaveUp())
    now += 3
    XCTAssertTrue(watch.gaveUp())
  }

  func testHearingFromRPutsOffThePingAndTheEnd() {
    var watch = watch(grace: 5)
    watch.interrupted()
    now += 4
    watch.heard()
    now += 0.5
    XCTAssertFalse(watch.shouldPing())
    now += 4
    XCTAssertFalse(watch.gaveUp())
    now += 1
    XCTAssertTrue(watch.gaveUp())
  }
}
