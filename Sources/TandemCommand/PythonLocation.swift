import ChildProcess
import Foundation

/// Finding the Python environment to embed.
enum PythonLocation {
  /// `TANDEM_PYTHON`, else the python whose environment the `tandem` command was
  /// installed into (its launcher says), else the active virtualenv's python, else
  /// `python3` on PATH.
  static func defaultExecutable() -> String {
    let env = ProcessInfo.processInfo.environment
    if let explicit = env["TANDEM_PYTHON"], !explicit.isEmpty { return explicit }
    if let installed = env["TANDEM_INSTALLED_PYTHON"], !installed.isEmpty { return installed }
    if let venv = env["VIRTUAL_ENV"], !venv.isEmpty { return venv + "/bin/python" }
    return ChildProcess.findProgram("python3") ?? "/usr/bin/python3"
  }

  /// An absolute path with symlinks kept (a venv's python is a symlink that must
  /// stay one, or the venv is not found).
  static func absolute(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    if !path.contains("/"), let found = ChildProcess.findProgram(path) { return found }
    return FileManager.default.currentDirectoryPath + "/" + path
  }
}
