import Foundation

/// A worker's state page: 16 bytes of a file that the broker and the worker both
/// map, read and written under `flock` by both.
///
/// The worker counts the tasks it receives. Before it starts one it writes the
/// task's number (bytes 0–7), so that when it dies the broker knows which task
/// it was running even if its last messages died with it. The broker takes back
/// tasks a worker holds but has not started (to give them to an idle worker, or
/// to cancel them on an interrupt) by writing how many of the tasks it sent the
/// worker are taken back (bytes 8–15): the worker skips those.
final class WorkerState {
  /// The file, until `unlink()`.
  let path: String
  private let fd: Int32
  private let page: UnsafeMutableRawPointer
  private static let size = 16

  init(path: String) throws {
    self.path = path
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw StateError(path: path, errno: errno) }
    // Space is reserved before the page is mapped: a write to a mapped page that a
    // full /dev/shm cannot back kills the writer with SIGBUS.
    let reserved = posix_fallocate(fd, 0, off_t(Self.size))
    guard reserved == 0 else {
      close(fd)
      throw StateError(path: path, errno: reserved)
    }
    guard ftruncate(fd, off_t(Self.size)) == 0,
      let page = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), page != MAP_FAILED
    else {
      let error = StateError(path: path, errno: errno)
      close(fd)
      throw error
    }
    self.page = page
  }

  deinit {
    munmap(page, Self.size)
    close(fd)
  }

  /// The task the worker started last (0 before its first). Without the lock: for
  /// a worker that is gone.
  var started: UInt64 { UInt64(littleEndian: page.load(fromByteOffset: 0, as: UInt64.self)) }

  /// Under the lock, so that the worker starts no task meanwhile: reads the task
  /// the worker started last and marks the first `sent` tasks it received as
  /// taken back; returns what `decide` makes of the started task.
  func takeBack<T>(sent: UInt64, _ decide: (_ started: UInt64) -> T) -> T {
    while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    defer { flock(fd, LOCK_UN) }
    page.storeBytes(of: sent.littleEndian, toByteOffset: 8, as: UInt64.self)
    return decide(started)
  }

  /// Removes the file (both mappings stay).
  func unlink() { _ = Foundation.unlink(path) }

  struct StateError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String {
      let hint =
        errno == ENOSPC
        ? " (its file system is full: free space there, or give the container a larger /dev/shm, "
          + "e.g. docker run --shm-size=1g)" : ""
      return "cannot make the worker state file \(path): \(String(cString: strerror(errno)))\(hint)"
    }
  }
}
