@preconcurrency import CPython
import ChildProcess
import Foundation
import JSON

/// A Python environment as its own interpreter describes it: the version, where its
/// shared libpython is, whether Tandem can embed it, and which modules it has.
///
/// Asked of the interpreter itself (`sysconfig`), as reticulate does, so that any
/// venv, pyenv, conda or uv environment is found the way its `python` finds itself.
public struct PythonEnvironment: Sendable {
  /// The CPython versions the kernel embeds (the C API table it loads covers them).
  public static let supported = (minor: 10, through: 13)

  /// The `python` given (a venv's `bin/python`), which sets `sys.prefix` when embedded.
  public let executable: String
  /// `major.minor.micro`.
  public let version: String
  /// `sys.prefix`: the environment's folder.
  public let prefix: String
  /// The shared libpython to load; nil when the interpreter has none.
  public let library: String?
  /// Whether the interpreter's own program carries libpython (Debian's python3,
  /// pyenv's default builds): the kernel then runs inside that python
  /// (`python -m tandem._host`), at its speed, rather than loading the slower
  /// position-independent shared library.
  public let linksStatically: Bool
  /// Why the kernel cannot load this interpreter's libpython itself, with the fix.
  public let missingLibrary: String
  /// Why this interpreter cannot be embedded, with the fix; nil when it can.
  public let problem: String?
  /// For each module asked about, what importing it in this environment gives.
  public let modules: [String: Module]

  /// A module as the environment has it.
  public enum Module: Sendable, Equatable {
    /// Imported; its `__version__`, or "" when it has none.
    case version(String)
    /// Present but its import fails, with the error.
    case broken(String)
    case missing
  }

  /// Whether the probe imported debugpy, which the debugger of Python cells needs.
  public var hasDebugger: Bool {
    if case .version = modules["debugpy"] { return true }
    return false
  }

  /// The environment's name as a user knows it: its folder (a venv's, a pyenv
  /// version's, a conda environment's), or "system" for /usr and /usr/local.
  public var name: String {
    let folder = URL(fileURLWithPath: prefix).lastPathComponent
    return folder.isEmpty || folder == "usr" || folder == "local" ? "system" : folder
  }

  /// `major.minor`.
  public var shortVersion: String { version.split(separator: ".").prefix(2).joined(separator: ".") }

  /// How long the interpreter may take to answer (importing the modules asked about
  /// included) before it is stopped.
  public static let probeTimeout: Double = 120

  /// Runs `executable` to describe its environment, importing `modules` there.
  public static func probe(_ executable: String, modules: [String] = []) throws -> PythonEnvironment {
    // Both streams in one text: the report is printed last; on failure the last
    // line is the error.
    let run: ProgramRun
    do {
      run = try ProgramRun.run([executable, "-c", probeScript] + modules, timeout: probeTimeout)
    } catch {
      throw ProbeError(description: "cannot run \(executable): \(error)")
    }
    let line = run.output.split(separator: "\n").last.map(String.init) ?? ""
    guard run.status == 0, let report = try? JSONValue.parse(line) else {
      let reason =
        run.timedOut
        ? "no answer within \(Int(probeTimeout)) s"
        : line.isEmpty ? run.ending : line
      throw ProbeError(description: "\(executable) does not run as Python: \(reason)")
    }
    return PythonEnvironment(executable: executable, report: report)
  }

  /// The environment `tandem install` found, without asking the interpreter again
  /// (that takes 30-45 ms of every kernel start): nil unless `library` is still the
  /// libpython of `version` and, for a venv, its pyvenv.cfg still names that version.
  public static func recorded(executable: String, library: String, version: String) -> PythonEnvironment? {
    var text = [CChar](repeating: 0, count: 256)
    guard tandem_python_library_version(library, &text, text.count) == 0,
      String(cString: text).split(separator: " ").first.map(String.init) == version
    else { return nil }
    let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
    if let config = try? String(contentsOfFile: prefix.path + "/pyvenv.cfg", encoding: .utf8) {
      let versions = config.split(separator: "\n").compactMap { line -> String? in
        let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return parts.count == 2 && ["version", "version_info"].contains(parts[0]) ? parts[1] : nil
      }
      guard versions.allSatisfy({ $0.hasPrefix(version) }) else { return nil }
    }
    return PythonEnvironment(executable: executable, version: version, prefix: prefix.path, library: library)
  }

  /// The python this process is (one that loaded the kernel to host it), described
  /// from inside without asking it again.
  public static func hosted(executable: String) throws -> PythonEnvironment {
    var error = [CChar](repeating: 0, count: 1024)
    guard tandem_python_load(nil, &error, error.count) == 0 else {
      throw ProbeError(description: String(cString: error))
    }
    let version = String(cString: Py_GetVersion()).split(separator: " ").first.map(String.init) ?? ""
    let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
    return PythonEnvironment(executable: executable, version: version, prefix: prefix.path, library: nil)
  }

  private init(executable: String, version: String, prefix: String, library: String?) {
    self.executable = executable
    self.version = version
    self.prefix = prefix
    self.library = library
    self.linksStatically = library == nil
    self.missingLibrary = "Python \(version) at \(executable) has no shared libpython"
    self.problem = nil
    self.modules = [:]
  }

  private init(executable: String, report: JSONValue) {
    self.executable = executable
    let numbers = (report["version"]?.arrayValue ?? []).compactMap { $0.intValue }.map(Int.init)
    version = numbers.map(String.init).joined(separator: ".")
    prefix = report["prefix"]?.stringValue ?? ""
    library = report["library"]?.stringValue
    var modules: [String: Module] = [:]
    for (name, value) in report["modules"]?.objectValue ?? [:] {
      let detail = value["detail"]?.stringValue ?? ""
      switch value["status"]?.stringValue {
      case "ok": modules[name] = .version(detail)
      case "broken": modules[name] = .broken(detail)
      default: modules[name] = .missing
      }
    }
    self.modules = modules
    linksStatically = report["static"]?.boolValue ?? false
    let major = numbers.first ?? 0
    let minor = numbers.count > 1 ? numbers[1] : 0
    let looked = (report["searched"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
    missingLibrary =
      "Python \(version) at \(executable) has no shared libpython (looked for \(looked)): "
      + (linksStatically
        ? "run the kernel through the kernelspec `tandem install` writes, which starts it inside that python"
        : "install it (Debian and Ubuntu: apt-get install libpython\(major).\(minor); pyenv: "
          + "PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install \(version)) or use a Python built with "
          + "--enable-shared (conda, uv and python.org builds are)")
    let implementation = report["implementation"]?.stringValue ?? "?"
    let range = "CPython 3.\(Self.supported.minor)-3.\(Self.supported.through)"
    let fix = "pass --python with the python of an environment made from \(range)"
    if implementation.lowercased() != "cpython" {
      problem = "\(executable) is \(implementation) \(version), not CPython: \(fix)"
    } else if major != 3 || minor < Self.supported.minor || minor > Self.supported.through {
      problem = "\(executable) is Python \(version); Tandem embeds \(range): \(fix)"
    } else if report["gil_disabled"]?.boolValue == true {
      problem =
        "\(executable) is a free-threaded build (\(version)t), which Tandem cannot embed: "
        + "use the default build of Python \(major).\(minor)"
    } else if library == nil && !linksStatically {
      problem = missingLibrary
    } else {
      problem = nil
    }
  }

  /// Why an interpreter could not be asked.
  public struct ProbeError: Error, CustomStringConvertible {
    public let description: String
  }

  // Runs in the interpreter being probed, whatever its version (Python 2 included, so
  // that it can be named): the last line of output is the JSON report.
  private static let probeScript = """
    import json, os, platform, sys, sysconfig
    var = sysconfig.get_config_var
    version = var("LDVERSION") or "%d.%d" % sys.version_info[:2]
    names = [n for n in (var("INSTSONAME"), var("LDLIBRARY")) if n and ".so" in n]
    names += ["libpython%s.so.1.0" % version, "libpython%s.so" % version]
    base = getattr(sys, "base_prefix", sys.prefix)
    folders = [var("LIBDIR"), os.path.join(base, "lib"), var("LIBPL")]
    if var("MULTIARCH"):
        folders += ["/usr/lib/" + var("MULTIARCH"), "/lib/" + var("MULTIARCH")]
    searched = []
    library = None
    for folder in folders:
        for name in names:
            path = os.path.join(folder or "", name)
            if folder and path not in searched:
                searched.append(path)
                if library is None and os.path.isfile(path):
                    library = os.path.realpath(path)
    # Whether this program carries libpython itself: no libpython mapped in. (Debian's
    # sysconfig says Py_ENABLE_SHARED of its shared build, yet python3 is static.)
    try:
        with open("/proc/self/maps") as maps:
            static = not any("/libpython" in line for line in maps)
    except IOError:
        static = not var("Py_ENABLE_SHARED")
    modules = {}
    stdout, sys.stdout = sys.stdout, sys.stderr
    for name in sys.argv[1:]:
        try:
            module = __import__(name)
            modules[name] = {"status": "ok", "detail": str(getattr(module, "__version__", ""))}
        except Exception as error:
            try:
                import importlib.util
                found = importlib.util.find_spec(name) is not None
            except Exception:
                found = False
            detail = "%s: %s" % (type(error).__name__, error)
            modules[name] = {"status": "broken" if found else "missing", "detail": detail}
    sys.stdout = stdout
    print(json.dumps({
        "version": list(sys.version_info[:3]),
        "implementation": platform.python_implementation(),
        "prefix": sys.prefix,
        "library": library,
        "searched": searched,
        "gil_disabled": bool(var("Py_GIL_DISABLED")),
        "static": static,
        "modules": modules,
    }))
    """
}
