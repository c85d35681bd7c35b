import Foundation

/// The kernel's private folder: the endpoints of its private channels (the R
/// session's and the futures broker's ZeroMQ sockets, workers' state pages) and the
/// files through which large values cross between Python and R (see
/// docs/exchange-format.md).
///
/// Other local users must not reach what is inside, so the folder is made the way
/// `mkdtemp` makes one: an unpredictable name (`tandem-<pid>-XXXXXX`), created
/// atomically with mode 0700, then checked to be a real folder owned by this user
/// with no other permission bits. A folder someone else created is never used.
/// It lives under `/dev/shm` (so exchanged values stay in memory), else
/// `$XDG_RUNTIME_DIR`, else the temporary folder. Python and R find it in the
/// `TANDEM_EXCHANGE_DIR` environment variable.
public struct PrivateFolder: Sendable {
  /// The environment variable that names the folder for Python and R.
  public static let environmentVariable = "TANDEM_EXCHANGE_DIR"
  /// The environment variable that names the kernel's scratch folder: a private
  /// folder on disk (`scratchRoot`) for the files R and the debugger make, which
  /// the next kernel sweeps away when this one is killed.
  public static let scratchVariable = "TANDEM_SCRATCH_DIR"

  /// Where scratch folders go: the temporary folder (on disk, unlike /dev/shm).
  public static var scratchRoot: String { defaultRoots().last! }

  /// The folder.
  public let path: String

  /// Why no private folder could be made.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// Creates a new folder for this process under `root` (the first usable of the
  /// default roots when nil), first removing this user's folders left behind by
  /// kernels that no longer run (a kernel killed with SIGKILL cannot clean up).
  public static func create(root: String? = nil, pid: Int32 = getpid()) throws(Failure) -> PrivateFolder {
    let roots = root.map { [$0] } ?? defaultRoots()
    var reasons: [String] = []
    for root in roots {
      sweep(root: root)
      do {
        return try create(in: root, pid: pid)
      } catch {
        reasons.append(error.description)
      }
    }
    throw Failure(
      description: reasons.joined(separator: "; ")
        + "; set TMPDIR to a folder of your own where files can be created")
  }

  private static func create(in root: String, pid: Int32) throws(Failure) -> PrivateFolder {
    var template = Array("\(root)/tandem-\(pid)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else {
      throw Failure(
        description: "cannot create a private folder in \(root): \(String(cString: strerror(errno)))")
    }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    guard isPrivate(path) else {
      throw Failure(description: "\(path) is not a private folder of this user after creating it")
    }
    // ZeroMQ's ipc endpoints are Unix socket paths, at most 107 bytes.
    guard path.utf8.count + "/futures".utf8.count < 108 else {
      _ = rmdir(path)
      throw Failure(description: "the folder \(path) is too long a path for a Unix socket")
    }
    return PrivateFolder(path: path)
  }

  /// Deletes the folder and whatever is still in it.
  public func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Removes this user's `tandem-<pid>-*` folders under `root` whose process is
  /// gone. Folders of other users, links, and folders of running kernels stay.
  public static func sweep(root: String) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    for name in names where name.hasPrefix("tandem-") {
      let digits = name.dropFirst("tandem-".count).prefix { $0.isNumber }
      guard let pid = Int32(digits), !isRunning(pid) else { continue }
      let path = "\(root)/\(name)"
      var info = stat()
      guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid() else {
        continue
      }
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  /// Whether `path` is a folder (not a link) of this user that nobody else may
  /// enter, read or write.
  static func isPrivate(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && info.st_uid == geteuid()
      && info.st_mode & 0o077 == 0
  }

  /// Where private folders may go, best first.
  static func defaultRoots() -> [String] {
    var roots: [String] = []
    if access("/dev/shm", W_OK | X_OK) == 0 { roots.append("/dev/shm") }
    if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty,
      access(runtime, W_OK | X_OK) == 0
    {
      roots.append(runtime)
    }
    let temporary = NSTemporaryDirectory()
    roots.append(temporary.hasSuffix("/") && temporary.count > 1 ? String(temporary.dropLast()) : temporary)
    return roots
  }

  /// Whether a process with this id exists (it may belong to another user).
  static func isRunning(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
  }
}
