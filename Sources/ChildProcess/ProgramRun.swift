import Foundation

/// A program run to its end, for what it prints: the probe of a Python
/// environment, R's version, install's and doctor's checks. It starts as every
/// child of the kernel does (clean signals, none of the caller's descriptors, dying
/// with the caller) and is stopped after a time limit, so that no caller waits for
/// ever on a program that hangs.
public struct ProgramRun {
  /// What the program printed: standard output, and standard error too where asked.
  public let output: String
  /// Its exit status; nil when it ended by a signal (or was stopped at the limit).
  public let status: Int32?
  /// Whether it was stopped because it ran past the limit.
  public let timedOut: Bool
  /// How it ended, in words ("exited with status 1", "was killed by signal 9 (Killed)").
  public let ending: String

  /// What to read of the program's streams.
  public enum Capture {
    /// Standard output; standard error is discarded.
    case output
    /// Both streams, in the order written, in one text (what a failure shows).
    case outputAndErrors
    /// Nothing: both streams are the caller's (a command the user watches, like pip).
    case nothing
  }

  /// Runs `arguments` (the first looked up on PATH) in `environment` and waits for
  /// its end, or kills it and its process group after `timeout` seconds. Throws
  /// when the program cannot be started.
  public static func run(
    _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
    capture: Capture = .outputAndErrors, timeout: Double
  ) throws -> ProgramRun {
    var ends: [Int32] = [-1, -1]
    if capture != .nothing {
      guard pipe(&ends) == 0 else {
        throw ChildProcess.SpawnError(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
      }
      // The read end stays out of the child; the write end is dup'ed into it.
      _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
    }
    let child: ChildProcess
    do {
      switch capture {
      case .output:
        child = try ChildProcess(
          arguments: arguments, environment: environment, output: .descriptor(ends[1]), errors: .discarded)
      case .outputAndErrors:
        child = try ChildProcess(
          arguments: arguments, environment: environment, output: .descriptor(ends[1]),
          errors: .descriptor(ends[1]))
      case .nothing:
        child = try ChildProcess(arguments: arguments, environment: environment)
      }
    } catch {
      for fd in ends where fd >= 0 { close(fd) }
      throw error
    }
    if ends[1] >= 0 { close(ends[1]) }
    let deadline = Date(timeIntervalSinceNow: timeout)
    var timedOut = false
    var bytes: [UInt8] = []
    if ends[0] >= 0 {
      timedOut = !read(ends[0], into: &bytes, until: deadline)
      if timedOut { child.kill() }
      close(ends[0])
    } else {
      while child.isRunning {
        if Date() >= deadline {
          timedOut = true
          child.kill()
          break
        }
        usleep(20_000)
      }
    }
    child.waitForEnd()
    return ProgramRun(
      output: String(decoding: bytes, as: UTF8.self), status: child.exitStatus, timedOut: timedOut,
      ending: timedOut ? "did not end within \(seconds(timeout)) s" : child.exitDescription)
  }

  /// "120" or "0.5".
  private static func seconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
  }

  /// Reads `fd` to its end into `bytes`; false when `deadline` came first.
  private static func read(_ fd: Int32, into bytes: inout [UInt8], until deadline: Date) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let left = deadline.timeIntervalSinceNow
      guard left > 0 else { return false }
      var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&item, 1, Int32(min(left, 3600) * 1000) + 1)
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { continue }
      let count = Glibc.read(fd, &chunk, chunk.count)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { return true }
      bytes.append(contentsOf: chunk[..<count])
    }
  }
}
