import EmbeddedPython
import KernelCore

/// What the Python half needs to know of the kernel's session:
/// - `connection_file() -> str | None`: the connection file the kernel was started
///   with (`%connect_info` prints it, `%qtconsole` connects to it), None when the
///   kernel runs without one.
enum SessionNatives {
  static func make(connectionFile: String?) throws -> [(String, PyRef)] {
    let file = try PythonCallback.make(name: "connection_file") { _ in
      connectionFile.map { PyRef($0) } ?? .none
    }
    return [("connection_file", file)]
  }
}
