import Foundation

/// Gives memory that large messages left free back to the system.
///
/// glibc keeps freed blocks of up to 32 MiB in its heaps for reuse: without this,
/// a handful of 30 MB requests leaves the kernel hundreds of MiB larger long after
/// they were handled. `malloc_trim` is glibc's; Swift's Glibc module does not
/// declare it, so it is looked up once.
enum MemoryRelease {
  private typealias Trim = @convention(c) (Int) -> Int32

  private static let trim: Trim? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: Trim.self)
  }()

  /// Messages at least this large are worth a trim once they are freed.
  static let threshold = 1 << 20

  /// Returns the free memory of every heap to the system (costs about a
  /// millisecond: call it after large messages only).
  static func releaseFreeMemory() {
    _ = trim?(0)
  }
}
