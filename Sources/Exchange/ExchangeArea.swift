import Foundation

/// The folder in shared memory through which large values cross between Python
/// and R (see docs/exchange-format.md): the writer puts a blob there as a file, the
/// reader reads it once and deletes it.
///
/// One folder per kernel, `tandem-<pid>` under `/dev/shm` (or the temporary
/// folder where there is no `/dev/shm`), private to the user. Python and R find it
/// in the `TANDEM_EXCHANGE_DIR` environment variable.
public struct ExchangeArea: Sendable {
  /// The environment variable that names the folder for Python and R.
  public static let environmentVariable = "TANDEM_EXCHANGE_DIR"

  /// The folder.
  public let path: String

  /// Creates the folder of this process under `root`, first removing folders left
  /// behind by kernels that no longer run (a kernel killed with SIGKILL cannot
  /// clean up).
  public static func create(root: String? = nil, pid: Int32 = getpid()) throws -> ExchangeArea {
    let root = root ?? defaultRoot()
    sweep(root: root)
    let path = "\(root)/tandem-\(pid)"
    let manager = FileManager.default
    if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
    try manager.createDirectory(
      atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    return ExchangeArea(path: path)
  }

  /// Deletes the folder and whatever is still in it.
  public func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Removes `tandem-<pid>` folders under `root` whose process is gone.
  public static func sweep(root: String) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    for name in names where name.hasPrefix("tandem-") {
      guard let pid = Int32(name.dropFirst("tandem-".count)), !isRunning(pid) else { continue }
      try? FileManager.default.removeItem(atPath: "\(root)/\(name)")
    }
  }

  static func defaultRoot() -> String {
    if access("/dev/shm", W_OK) == 0 { return "/dev/shm" }
    let temporary = NSTemporaryDirectory()
    return temporary.hasSuffix("/") ? String(temporary.dropLast()) : temporary
  }

  /// Whether a process with this id exists (it may belong to another user).
  static func isRunning(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
  }
}
