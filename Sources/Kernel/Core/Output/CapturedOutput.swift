/// Where the text that running code writes is collected before it is published.
/// The kernel flushes it before each reply and each other output, so nothing
/// overtakes the text printed before it. `OutputCapture` captures the process's
/// stdout and stderr.
public protocol CapturedOutput: AnyObject, Sendable {
  /// Receives captured text: the stream name ("stdout" or "stderr") and the text.
  typealias Sink = (_ stream: String, _ text: String) -> Void

  /// Sets where captured text goes.
  func setSink(_ sink: @escaping Sink)

  /// Emits everything captured so far, then runs `then` before anything captured
  /// later can be emitted.
  func flush(then: () -> Void)
}

extension CapturedOutput {
  /// Emits everything captured so far.
  func flush() { flush(then: {}) }
}
