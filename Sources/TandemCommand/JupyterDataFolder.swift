import Foundation

/// Jupyter's per-user data folder, found as jupyter_core finds it: a non-empty
/// `JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter`, else `~/.local/share/jupyter`,
/// where `~` is `HOME` (what Python's `expanduser` reads), not the password file's.
enum JupyterDataFolder {
  static var user: String {
    let env = ProcessInfo.processInfo.environment
    if let data = env["JUPYTER_DATA_DIR"], !data.isEmpty { return data }
    if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/jupyter" }
    let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.local/share/jupyter"
  }
}
