import Foundation

/// What the `tandem` binary needs beside itself, found from where it is.
///
/// `make install PREFIX=P` lays it out as `P/bin/tandem`, `P/lib/tandem/R-library`
/// (Tandem's R package), `P/share/tandem/python` (the Python half as a wheel) and
/// `P/share/tandem/kernelspec` (logos). The binary wheel puts it in the Python
/// package itself: `tandem/bin/tandem`, `tandem/r/tandem` (the R package's source,
/// which `tandem install` builds) and `tandem/kernelspec`. A binary still in the
/// source tree it was built in uses that tree instead: `python/`, `kernelspec/`,
/// `r/tandem`, and the R library beside the Python environment that `make setup` made.
public enum InstalledFiles {
  /// The kernel's library (`libTandemMain.so`), which the `tandem` program and an
  /// environment's own python load; its entry points set it before anything runs.
  public static var library = "/proc/self/exe"

  /// The `tandem` program, as an absolute path: the one beside the library (the
  /// process may be a python that loaded it).
  static var executable: String {
    URL(fileURLWithPath: library).deletingLastPathComponent().appendingPathComponent("tandem").path
  }

  /// The folder above `bin/`.
  private static var prefix: URL {
    URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
  }

  /// The Python package this binary came in (`site-packages/tandem`), when it came in
  /// the wheel; nil otherwise.
  static var wheelPackage: String? {
    FileManager.default.fileExists(atPath: prefix.appendingPathComponent("__init__.py").path)
      && FileManager.default.fileExists(atPath: prefix.appendingPathComponent("r/tandem/DESCRIPTION").path)
      ? prefix.path : nil
  }

  /// The source of Tandem's R package that `tandem install` builds: the wheel's,
  /// else the source tree's; nil for `make install`, which installed it already.
  static var rPackageSource: String? {
    if let package = wheelPackage { return package + "/r/tandem" }
    return sourceTree(holding: "r/tandem/DESCRIPTION").map { $0 + "/r/tandem" }
  }

  /// The R library that holds Tandem's R package: the installed one first, else
  /// `R-library` in the environment of `python` (`<venv>/R-library`), else the
  /// source tree's; nil when none has it.
  static func rLibrary(python: String) -> String? {
    let environment = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent()
    return [
      prefix.appendingPathComponent("lib/tandem/R-library").path,
      environment.appendingPathComponent("R-library").path,
    ].first { FileManager.default.fileExists(atPath: $0 + "/tandem/DESCRIPTION") }
      ?? sourceTree(holding: ".venv/R-library/tandem/DESCRIPTION").map { $0 + "/.venv/R-library" }
  }

  /// What `pip install` takes to install the Python half: the installed wheel,
  /// else the source tree's `python/` folder; nil when there is neither.
  static var pythonHalf: String? {
    let wheels = prefix.appendingPathComponent("share/tandem/python").path
    let files = (try? FileManager.default.contentsOfDirectory(atPath: wheels)) ?? []
    if let wheel = files.filter({ $0.hasSuffix(".whl") }).sorted().last { return wheels + "/" + wheel }
    return sourceTree(holding: "python/pyproject.toml").map { $0 + "/python" }
  }

  /// The folder holding the kernelspec's logo files.
  static var logos: String? {
    for installed in [
      prefix.appendingPathComponent("share/tandem/kernelspec").path,
      prefix.appendingPathComponent("kernelspec").path,
    ] where FileManager.default.fileExists(atPath: installed + "/logo-64x64.png") {
      return installed
    }
    return sourceTree(holding: "kernelspec/logo-64x64.png").map { $0 + "/kernelspec" }
  }

  /// The source tree this binary was built in (`.build/<triple>/<config>/tandem`),
  /// found by walking up to a folder holding `file`.
  private static func sourceTree(holding file: String) -> String? {
    var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
    for _ in 0..<5 {
      if FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path) {
        return folder.path
      }
      folder.deleteLastPathComponent()
    }
    return nil
  }
}
