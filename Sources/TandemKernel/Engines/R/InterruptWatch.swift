import Foundation

/// What happens after an interrupt while a request waits for R: R is asked every
/// second whether it received the request (a ping, answered between requests),
/// R silent for a second is announced (the user sees why the cell has not
/// stopped), and R that answers nothing for `grace` seconds is given up on.
struct InterruptWatch {
  let grace: Double
  private var interruptedAt: Double?
  private var lastHeard = Self.now()
  private var lastPing = 0.0
  private var announced = false

  init(grace: Double) { self.grace = grace }

  mutating func interrupted() {
    interruptedAt = Self.now()
  }

  mutating func heard() {
    lastHeard = Self.now()
  }

  /// Whether to ping R now: after an interrupt, once a second of silence.
  mutating func shouldPing() -> Bool {
    guard interruptedAt != nil else { return false }
    let now = Self.now()
    guard now - max(lastHeard, lastPing) >= 1 else { return false }
    lastPing = now
    return true
  }

  /// Whether to tell the user that R holds the interrupt: once, after a second
  /// of silence since it.
  mutating func shouldAnnounce() -> Bool {
    guard let interruptedAt, !announced, Self.now() - max(interruptedAt, lastHeard) >= 1 else { return false }
    announced = true
    return true
  }

  /// Whether R has been silent for the grace period since the interrupt.
  func gaveUp() -> Bool {
    guard let interruptedAt else { return false }
    return Self.now() - max(interruptedAt, lastHeard) >= grace
  }

  private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
