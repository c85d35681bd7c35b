import Foundation
import Logging

/// Captures the process's stdout and stderr at the file-descriptor level, so output
/// from Python, C extensions and subprocesses all reaches the cell, in order.
///
/// File descriptors 1 and 2 become pipes; a reader thread collects what arrives and
/// emits it in batches (by size or after a short pause), which keeps a loop printing
/// 100,000 lines from becoming 100,000 messages. `flush()` hands over everything
/// written so far, so a reply never overtakes its output. The original stderr is kept
/// for the kernel's own logs.
public final class OutputCapture: CapturedOutput, @unchecked Sendable {
  /// A duplicate of the original stderr, for logs.
  public let originalStderr: Int32
  private let readFDs: [Int32]
  private let names = ["stdout", "stderr"]
  private var pending: [[UInt8]] = [[], []]
  private var firstPendingAt: UInt64 = 0
  private let lock = NSLock()
  private var sink: Sink?

  /// Output waits at most this long to be batched with more.
  private let batchWindowNanoseconds: UInt64 = 20_000_000
  /// A batch is emitted at once when it reaches this size.
  private let batchBytes = 256 << 10

  /// Redirects fds 1 and 2 into pipes and starts the reader thread. (The caller
  /// makes C's own `stdout` line-buffered, so that what C code prints shows a line
  /// at a time.)
  public convenience init() throws {
    try self.init(stdout: 1, stderr: 2)
  }

  /// Redirects the two descriptors into pipes read as "stdout" and "stderr" (other
  /// descriptors than 1 and 2 let a test capture without losing its own output).
  init(stdout out: Int32, stderr err: Int32) throws {
    originalStderr = dup(2)
    var fds: [Int32] = []
    for target in [out, err] {
      var pair: [Int32] = [0, 0]
      guard pipe(&pair) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
      }
      // A larger pipe lets a fast writer run ahead of the reader without blocking.
      _ = fcntl(pair[1], 1031 /* F_SETPIPE_SZ */, 1 << 20)
      _ = fcntl(pair[0], F_SETFL, O_NONBLOCK)
      _ = fcntl(pair[0], F_SETFD, FD_CLOEXEC)
      dup2(pair[1], target)
      close(pair[1])
      fds.append(pair[0])
    }
    readFDs = fds
    let reader = Thread { [self] in run() }
    reader.name = "tandem-capture"
    reader.start()
  }

  /// Sets where captured text goes.
  public func setSink(_ sink: @escaping Sink) {
    lock.lock()
    self.sink = sink
    lock.unlock()
  }

  /// Emits everything written to fds 1 and 2 so far (C stdio buffers included).
  /// Runs `then` under the same lock, so nothing captured can be emitted after it.
  public func flush(then: () -> Void = {}) {
    fflush(nil)
    lock.lock()
    defer { lock.unlock() }
    readAvailable()
    emit(final: true)
    then()
  }

  private func run() {
    while true {
      lock.lock()
      // A pipe whose writers all closed would report itself ready forever.
      var polls = openPolls()
      if polls.allSatisfy({ $0.fd < 0 }) {
        emit(final: true)
        lock.unlock()
        readerEnded.signal()
        return
      }
      let waiting = firstPendingAt != 0
      let timeout: Int32
      if waiting {
        let elapsed = DispatchTime.now().uptimeNanoseconds - firstPendingAt
        timeout =
          elapsed >= batchWindowNanoseconds ? 0 : Int32((batchWindowNanoseconds - elapsed) / 1_000_000) + 1
      } else {
        timeout = -1
      }
      lock.unlock()
      let ready = poll(&polls, nfds_t(polls.count), timeout)
      if ready < 0 && errno != EINTR { return }
      lock.lock()
      readAvailable()
      let due =
        firstPendingAt != 0
        && (DispatchTime.now().uptimeNanoseconds - firstPendingAt >= batchWindowNanoseconds
          || pending.contains { $0.count >= batchBytes })
      if due { emit(final: false) }
      lock.unlock()
    }
  }

  /// Signalled when the reader thread ends, both pipes having reached their end.
  let readerEnded = DispatchSemaphore(value: 0)

  /// Which pipes reached their end (every writer closed). Under the lock.
  private var ended = [false, false]

  /// What to poll: the pipes still open (poll skips a negative descriptor). Under the lock.
  private func openPolls() -> [pollfd] {
    readFDs.indices.map { pollfd(fd: ended[$0] ? -1 : readFDs[$0], events: Int16(POLLIN), revents: 0) }
  }

  /// Reused by every read (under the lock): flushes happen several times per request.
  private var readBuffer = [UInt8](repeating: 0, count: 1 << 16)

  /// Reads whatever the pipes hold, without blocking. Called with the lock held.
  private func readAvailable() {
    // One poll tells which pipes hold anything; usually neither does.
    var polls = openPolls()
    guard poll(&polls, nfds_t(polls.count), 0) > 0 else { return }
    for (i, fd) in readFDs.enumerated() where polls[i].revents != 0 {
      while true {
        let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { ended[i] = true }
        if n <= 0 { break }
        if pending[i].isEmpty && firstPendingAt == 0 {
          firstPendingAt = DispatchTime.now().uptimeNanoseconds
        }
        pending[i].append(contentsOf: readBuffer[0..<n])
        if pending[i].count >= batchBytes * 4 { emit(final: false) }
      }
    }
  }

  /// Hands pending bytes to the sink. Unless `final`, an incomplete UTF-8 sequence at
  /// the end waits for its remaining bytes. Called with the lock held.
  private func emit(final: Bool) {
    for i in pending.indices where !pending[i].isEmpty {
      let cut = final ? pending[i].count : OutputCapture.completeUTF8Prefix(pending[i])
      guard cut > 0 else { continue }
      let text = String(decoding: pending[i][0..<cut], as: UTF8.self)
      pending[i].removeFirst(cut)
      sink?(names[i], text)
    }
    firstPendingAt = pending.allSatisfy(\.isEmpty) ? 0 : DispatchTime.now().uptimeNanoseconds
  }

  /// The length of the longest prefix that does not end inside a UTF-8 sequence.
  static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
    var i = bytes.count - 1
    var back = 0
    while i >= 0 && back < 4 {
      let b = bytes[i]
      if b & 0xC0 != 0x80 {
        let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        return length > back + 1 ? i : bytes.count
      }
      i -= 1
      back += 1
    }
    return bytes.count
  }
}
