import Foundation
import JSON
import KernelCore

/// The engine thread as the test's own: waits run in place, and an interrupt is
/// taken once `interrupt(after:)`'s delay has passed.
public final class ThreadDouble: EngineThread {
  public init() {}

  private var interruptAt: Date?

  /// Interrupts the running request `seconds` from now.
  public func interrupt(after seconds: Double) {
    interruptAt = Date(timeIntervalSinceNow: seconds)
  }

  public func enqueue(_ work: @escaping () -> Void) { work() }
  public func interrupt() { interrupt(after: 0) }
  public func spawn(name: String, _ body: @escaping () -> Void) throws {}
  public func discardStaleInterrupt() { interruptAt = nil }
  public func waiting<T>(_ body: () -> T) -> T { body() }
  public func interruptible<T>(_ body: () -> T) -> T? { body() }

  public func takeInterrupt() -> Bool {
    guard let at = interruptAt, Date() >= at else { return false }
    interruptAt = nil
    return true
  }
}

/// A frontend that records what is published to it and allows no input.
public final class FrontendDouble: Frontend {
  public private(set) var published: [(type: String, content: JSONValue)] = []
  /// What each publish_to was given as the parent.
  public private(set) var parents: [[UInt8]] = []
  public var subshellID: String?
  public var currentParent: [UInt8]?

  public init() {}

  public func publish(_ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]]) {
    published.append((msgType, (try? JSONValue.parse(content)) ?? [:]))
  }

  public func publish(
    _ msgType: String, content: [UInt8], metadata: [UInt8], buffers: [[UInt8]], parent: [UInt8]
  ) {
    parents.append(parent)
    publish(msgType, content: content, metadata: metadata, buffers: buffers)
  }

  public func sendInputRequest(prompt: String, password: Bool) throws {
    throw NSError(domain: "FrontendDouble", code: 1)
  }

  public func takeInputReply(timeout: Double) -> String? { nil }
}
