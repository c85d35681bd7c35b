import Foundation

/// A child of the kernel (R, a futures worker): spawned in its own process group
/// with a clean signal mask and none of the kernel's file descriptors, reaped when
/// it ends.
public final class ChildProcess {
  /// The child's process id (also its process group id).
  public let pid: pid_t
  /// A descriptor that becomes readable when the child ends (a pidfd), so that a
  /// poll notices the end without waking up to look; nil where the system has none.
  public let exitDescriptor: Int32?
  private var status: Int32?

  /// Why a child could not be started.
  public struct SpawnError: Error, CustomStringConvertible {
    public let description: String
  }

  /// Where a child's standard output or error goes.
  public enum Stream {
    /// The kernel's own (captured by the kernel, so R's output reaches the cell).
    case inherited
    /// Nowhere (/dev/null).
    case discarded
    /// A descriptor of the caller's, such as a pipe's end.
    case descriptor(Int32)
  }

  /// Spawns `arguments` (the first is the program, looked up on PATH). Standard input
  /// is /dev/null; standard output and error are the kernel's unless given. The
  /// child dies with the kernel, even when the kernel is killed (`setpriv
  /// --pdeathsig`, where util-linux has it).
  public init(
    arguments: [String], environment: [String: String], output: Stream = .inherited,
    errors: Stream = .inherited
  ) throws {
    var arguments = arguments
    // Found here rather than by the spawn: behind setpriv, a missing program would
    // look like a child that started and exited with status 127.
    guard let program = arguments.first.flatMap(Self.resolve) else {
      throw SpawnError(description: "cannot start \(arguments.first ?? "nothing"): no such program")
    }
    arguments[0] = program
    if let setpriv = Self.findProgram("setpriv") {
      arguments = [setpriv, "--pdeathsig", "KILL", "--"] + arguments
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // A child inherits the spawning thread's blocked signals and ignored signals:
    // give the child an empty mask and default SIGINT/SIGPIPE handling so it can be interrupted.
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    // Its own process group: only the kernel decides when the child is interrupted.
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    for (stream, target) in [(output, Int32(1)), (errors, Int32(2))] {
      switch stream {
      case .inherited: break
      case .discarded: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
      case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
      }
    }
    // Nothing else of the kernel's (sockets, pipes of other children) leaks into the child.
    ChildProcess.closeFrom(3, in: &actions)

    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv + envp { free(pointer) }
    }
    var child = pid_t()
    let rc = posix_spawnp(&child, arguments[0], &actions, &attributes, argv, envp)
    guard rc == 0 else {
      throw SpawnError(description: "cannot start \(arguments[0]): \(String(cString: strerror(rc)))")
    }
    pid = child
    exitDescriptor = Self.exitDescriptor(of: child)
  }

  /// A descriptor that becomes readable when process `pid` ends (a pidfd, which
  /// the caller closes); nil where the system has none or the process is gone.
  public static func exitDescriptor(of pid: pid_t) -> Int32? {
    let descriptor = pidfdOpen?(pid, 0) ?? -1
    return descriptor >= 0 ? descriptor : nil
  }

  deinit {
    if let exitDescriptor { close(exitDescriptor) }
  }

  /// glibc's pidfd_open (2.36+; Linux 5.3+), which Swift's Glibc module does not
  /// declare; looked up once at run time. Its descriptor is close-on-exec.
  private static let pidfdOpen: (@convention(c) (pid_t, UInt32) -> Int32)? = {
    guard let symbol = dlsym(nil, "pidfd_open") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
  }()

  /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc
  /// module does not declare; looked up once at run time.
  private static let addCloseFrom:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
      guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
      return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

  private static func closeFrom(_ fd: Int32, in actions: inout posix_spawn_file_actions_t) {
    _ = addCloseFrom?(&actions, fd)
  }

  /// Whether the child still runs; reaps it when it has ended.
  public var isRunning: Bool {
    if status != nil { return false }
    var raw: Int32 = 0
    let rc = waitpid(pid, &raw, WNOHANG)
    if rc == pid || rc < 0 {
      status = raw
      return false
    }
    return true
  }

  /// Its exit status, once it exited (nil while it runs, or when a signal ended it).
  public var exitStatus: Int32? {
    guard let raw = status, raw & 0x7f == 0 else { return nil }
    return (raw >> 8) & 0xff
  }

  /// Kills the child and its process group at once, unless it has ended.
  public func kill() {
    if status == nil { Glibc.kill(-pid, SIGKILL) }
  }

  /// Waits for the child to end and reaps it.
  public func waitForEnd() {
    guard status == nil else { return }
    var raw: Int32 = 0
    while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
    status = raw
  }

  /// Whether the child ended by a signal (nil while it runs).
  public var endedBySignal: Bool? { status.map { $0 & 0x7f != 0 } }

  /// How the child ended, in words: "exited with status 1" or "was killed by
  /// signal 9 (Killed)".
  public var exitDescription: String {
    guard let raw = status else { return "is running" }
    let signal = raw & 0x7f
    if signal == 0 { return "exited with status \((raw >> 8) & 0xff)" }
    let name = String(cString: strsignal(signal))
    return "was killed by signal \(signal) (\(name))"
  }

  /// Sends a signal to the child (not its group), unless it has ended.
  public func signal(_ number: Int32) {
    if status == nil { Glibc.kill(pid, number) }
  }

  /// Ends the child: waits up to `grace` seconds for it to leave, then kills its group.
  public func terminate(grace: Double) {
    let deadline = Date(timeIntervalSinceNow: grace)
    while isRunning && Date() < deadline { usleep(10_000) }
    if isRunning {
      kill()
      waitForEnd()
    }
  }

  /// The program a command names: a path (with a slash) if it is executable, else
  /// `name` looked up on PATH.
  public static func resolve(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    return findProgram(name)
  }

  /// The path of `name` on PATH, if it is there.
  public static func findProgram(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
      let path = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
  }
}
