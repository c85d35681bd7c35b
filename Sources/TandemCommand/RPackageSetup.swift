import ChildProcess
import Foundation
import RSession

/// Tandem's R package for `tandem install`: found where the kernel will look, else
/// built from the source this installation carries (the wheel's `tandem/r/tandem`)
/// into the user's R library, as `install.packages` would put it.
struct RPackageSetup {
  /// The R program (`R` on PATH unless the spec names another).
  var executable = "R"

  /// What `tandem install` settled about R.
  enum Outcome {
    /// Tandem's R package is in this library folder (nil: one the kernel finds by
    /// itself, beside this binary or its Python environment).
    case ready(library: String?)
    /// No R here: the kernelspec is Python-only for now; the reason says how to add R.
    case noR(String)
  }

  /// Makes sure the R the kernel starts can load Tandem's R package of this version,
  /// installing it into `requested` (else the user's R library) when it is absent or
  /// another version. Prints what it found and what it runs.
  func ensure(requested: String?, python: String) throws -> Outcome {
    guard RSession.installedVersion(executable: executable) != nil else {
      return .noR(
        "R was not found (`\(executable)` on PATH): Python cells work; for R cells install R 4.1 or newer "
          + "(Debian and Ubuntu: apt-get install r-base-core r-cran-pbdzmq r-cran-jsonlite r-cran-repr "
          + "r-cran-irdisplay r-cran-future), then run `tandem install` again")
    }
    guard let source = InstalledFiles.rPackageSource, let wanted = Self.version(ofSource: source) else {
      // `make install` and the source tree install the R package themselves.
      return .ready(library: requested)
    }
    // The library named, else the one beside the Python environment (`make setup`'s).
    let known = requested ?? InstalledFiles.rLibrary(python: python)
    let found = installed(in: known)
    if let found, found.version == wanted {
      print("Tandem's R package \(wanted) is in \(found.library)")
      return .ready(library: found.library)
    }
    guard let target = known ?? userLibrary() else {
      throw InstallError(
        "R has no user library (R_LIBS_USER is empty): pass --r-library with a folder to install "
          + "Tandem's R package into")
    }
    try install(source: source, version: wanted, into: target, replacing: found?.version)
    return .ready(library: target)
  }

  /// The `Version:` of an R package's source folder.
  static func version(ofSource folder: String) -> String? {
    guard let text = try? String(contentsOfFile: folder + "/DESCRIPTION", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix("Version:") }
      .map { $0.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces) }
  }

  /// Where R finds Tandem's R package, and its version: in `library` when given, else
  /// anywhere on R's own `.libPaths()`.
  func installed(in library: String?) -> (library: String, version: String)? {
    let where_ = library.map { "'\(RSession.escape($0))'" } ?? "NULL"
    let code = """
      path <- find.package('tandem', lib.loc = \(where_), quiet = TRUE); \
      if (length(path)) cat(dirname(path[1]), read.dcf(file.path(path[1], 'DESCRIPTION'), 'Version')[1], sep = '\\n')
      """
    let lines =
      (try? ProgramRun.run([executable, "--no-echo", "--vanilla", "-e", code], timeout: 120))?.output
      .split(separator: "\n").map(String.init) ?? []
    return lines.count >= 2 ? (lines[lines.count - 2], lines[lines.count - 1]) : nil
  }

  /// R's user library (R_LIBS_USER as R expands it), where `install.packages` puts
  /// packages when the site library is not writable.
  private func userLibrary() -> String? {
    let code = "cat(path.expand(strsplit(Sys.getenv('R_LIBS_USER'), ':')[[1]][1]))"
    let output =
      (try? ProgramRun.run([executable, "--no-echo", "--vanilla", "-e", code], timeout: 120))?.output ?? ""
    let path = output.trimmingCharacters(in: .whitespacesAndNewlines)
    return path.isEmpty || path == "NA" ? nil : path
  }

  /// Builds the package from a copy of its source (the installed source may be
  /// read-only, and R CMD INSTALL compiles beside it).
  private func install(source: String, version: String, into library: String, replacing old: String?) throws {
    let files = FileManager.default
    try files.createDirectory(atPath: library, withIntermediateDirectories: true)
    // A folder of its own, made at once with mode 0700: another user cannot have
    // made it first and swapped the source R is about to build.
    var template = Array((files.temporaryDirectory.path + "/tandem-r-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
      throw InstallError(
        "cannot make a temporary folder to build Tandem's R package in: \(String(cString: strerror(errno)))")
    }
    let scratch = String(cString: made)
    defer { try? files.removeItem(atPath: scratch) }
    try files.copyItem(atPath: source, toPath: scratch + "/tandem")
    let command = [executable, "CMD", "INSTALL", "--no-html", "-l", library, scratch + "/tandem"]
    let why = old.map { " (it has \($0))" } ?? ""
    print(
      "Installing Tandem's R package \(version) into \(library)\(why): "
        + "\(executable) CMD INSTALL --no-html -l \(library) \(source)")
    // Compiling takes a minute or two; an R that hangs is stopped after ten.
    let result = try ProgramRun.run(command, timeout: 600)
    guard result.status == 0 else {
      let tail = result.output.split(separator: "\n").suffix(15).joined(separator: "\n")
      var fix = "it needs R's headers and a C compiler (Debian and Ubuntu: apt-get install r-base-dev)"
      if let range = tail.range(of: "dependencies? (.*) (is|are) not available", options: .regularExpression)
      {
        fix = "R lacks packages it imports (\(tail[range])): install them in R with install.packages()"
      }
      throw InstallError("R CMD INSTALL of Tandem's R package failed; \(fix):\n\(tail)")
    }
    print("Installed Tandem's R package \(version) into \(library)")
  }
}
