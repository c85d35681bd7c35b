import Foundation

/// What happens after an interrupt while a request waits for R: R is asked every
/// second whether it received the request (a ping, answered between requests),
/// R silent for a second is announced (the user sees why the cell has not
/// stopped), and R that answers nothing for `grace` seconds is given up on.
struct InterruptWatch {
  let grace: Double
  /// Seconds on a monotonic clock; tests pass their own.
  private let now: () -> Double
  private var interruptedAt: Double?
  private var lastHeard: Double
  private var lastPing = 0.0
  private var announced = false

  init(grace: Double, clock: @escaping () -> Double = InterruptWatch.monotonic) {
    self.grace = grace
    self.now = clock
    lastHeard = clock()
  }

  /// Whether an interrupt was passed to R during this request.
  var passed: Bool { interruptedAt != nil }

  mutating func interrupted() {
    interruptedAt = now()
  }

  mutating func heard() {
    lastHeard = now()
  }

  /// Whether to ping R now: after an interrupt, once a second of silence.
  mutating func shouldPing() -> Bool {
    guard interruptedAt != nil else { return false }
    let time = now()
    guard time - max(lastHeard, lastPing) >= 1 else { return false }
    lastPing = time
    return true
  }

  /// Whether to tell the user that R holds the interrupt: once, after a second
  /// of silence since it.
  mutating func shouldAnnounce() -> Bool {
    guard let interruptedAt, !announced, now() - max(interruptedAt, lastHeard) >= 1 else { return false }
    announced = true
    return true
  }

  /// Whether R has been silent for the grace period since the interrupt.
  func gaveUp() -> Bool {
    guard let interruptedAt else { return false }
    return now() - max(interruptedAt, lastHeard) >= grace
  }

  /// Seconds since boot, never going back.
  static func monotonic() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
