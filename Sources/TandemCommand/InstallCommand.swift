import ArgumentParser
import ChildProcess
import EmbeddedPython
import EngineR
import Foundation
import JSON
import JupyterWire
import KernelCore
import Telemetry
import ZeroMQ

/// `tandem install`: writes the kernelspecs Jupyter uses to start Tandem, and puts
/// Tandem's R package where that R finds it.
struct InstallCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "install",
    abstract: "Install the Tandem kernelspecs (tandem, tandem-r) so Jupyter can start them.",
    discussion: """
      Without a location option the specs go to the system folder
      (/usr/local/share/jupyter/kernels). A spec names the Python environment to
      embed, as reticulate's use_python does: any CPython 3.10-3.13 environment. One
      whose python carries libpython in its own program (Debian's python3) runs the
      kernel inside that python; others load their shared libpython into this one.
      Tandem's Python half is installed into the environment with pip when it is
      missing there (from the wheel that `make install` put beside this binary, or
      the source tree's python/). Tandem's R package is built into R's user library
      (or --r-library) when that R lacks it or has another version.
      """
  )

  @Flag(help: "Install for the current user (~/.local/share/jupyter/kernels).")
  var user = false

  @Flag(help: "Install into the Python environment's prefix (sys.prefix/share/jupyter/kernels).")
  var sysPrefix = false

  @Option(help: "Install into PREFIX/share/jupyter/kernels.")
  var prefix: String?

  @Option(help: "The kernelspec name (default: tandem, or tandem-r with --language r).")
  var name: String?

  @Option(help: "The name shown in Jupyter's launcher.")
  var displayName: String?

  @Option(
    help: ArgumentHelp(
      "Install one spec with this default cell language: python (tandem) or r (tandem-r, with %%python "
        + "cells). Without it: tandem, and tandem-r when R is here (only tandem with --name)."))
  var language: Language?

  @Option(
    help: "The library folder holding Tandem's R package, if not R-library beside the Python environment.")
  var rLibrary: String?

  @Option(help: "The python of the environment to embed.")
  var python: String = PythonLocation.defaultExecutable()

  @Option(help: "How Jupyter interrupts the kernel: signal or message.")
  var interruptMode = "signal"

  @Option(
    help: ArgumentHelp(
      "Kernels of this spec serve Prometheus metrics on http://ADDRESS/metrics (HOST:PORT, or PORT on "
        + "127.0.0.1). One kernel at a time can hold a port.", valueName: "address"))
  var metrics: String?

  @Option(
    help:
      "The folder holding the logo files (default: the installed ones, or kernelspec/ of the source tree).")
  var resources: String?

  func validate() throws {
    if [user, sysPrefix, prefix != nil].filter({ $0 }).count > 1 {
      throw ValidationError("choose at most one of --user, --sys-prefix and --prefix")
    }
    if !["signal", "message"].contains(interruptMode) {
      throw ValidationError("--interrupt-mode must be signal or message")
    }
    if let name, name.isEmpty || name.contains("/") {
      throw ValidationError("--name must be a plain folder name")
    }
    if let metrics {
      do {
        _ = try MetricsAddress(parsing: metrics)
      } catch {
        throw ValidationError("--metrics: \(error)")
      }
    }
  }

  func run() throws {
    let python = PythonLocation.absolute(self.python)
    guard FileManager.default.isExecutableFile(atPath: python) else {
      throw ValidationError("Python executable \(python) not found: pass --python /path/to/venv/bin/python")
    }
    let environment = try checkedEnvironment(python)
    let requestedLibrary = rLibrary.map(PythonLocation.absolute)
    let r = try RPackageSetup().ensure(requested: requestedLibrary, python: python)
    // One spec for each language whose engine can run here (R's needs R and
    // Tandem's R package); only the one asked for with --language or --name.
    var languages = language.map { [$0] } ?? (name == nil ? Languages.all : [Languages.host]).map(\.language)
    var library: String?
    switch r {
    case .ready(let found):
      library = found
    case .noR(let reason):
      guard language != REngine.declaration.language else { throw InstallError(reason) }
      languages.removeAll { $0 == REngine.declaration.language }
      print(reason)
    }
    for language in languages {
      try writeSpec(
        Languages.declaration(of: language)!, environment: environment, rLibrary: library)
    }
  }

  /// Writes the kernelspec whose cells default to `declaration`'s language.
  private func writeSpec(
    _ declaration: LanguageDeclaration, environment: PythonEnvironment, rLibrary: String?
  )
    throws
  {
    let python = environment.executable
    let name = self.name ?? declaration.kernelspecName
    let folder = try kernelsFolder(environment) + "/" + name
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var argv: [JSONValue]
    if environment.linksStatically {
      // That python's own program runs the kernel: cells at its speed.
      argv = [
        .string(python), "-m", "tandem._host", .string(InstalledFiles.library), "kernel", "-f",
        "{connection_file}",
        "--python", .string(python),
      ]
    } else {
      argv = [
        .string(InstalledFiles.executable), "kernel", "-f", "{connection_file}", "--python", .string(python),
        // Saves the kernel asking the interpreter at each start; it checks this still holds.
        "--libpython", .string(environment.library! + "@" + environment.version),
      ]
    }
    if declaration.language != Languages.host.language {
      argv += ["--language", .string(declaration.language.name)]
    }
    if let rLibrary { argv += ["--r-library", .string(rLibrary)] }
    if let metrics { argv += ["--metrics", .string(metrics)] }
    // The default language first: "Tandem (Python 3.11, venv + R)", "Tandem (R + Python 3.11, venv)".
    let embedded = "\(Languages.host.displayName) \(environment.shortVersion), \(environment.name)"
    let shown = ([declaration] + Languages.all.filter { $0.language != declaration.language }).map {
      $0.language == Languages.host.language ? embedded : $0.displayName
    }
    let spec: JSONValue = [
      "argv": .array(argv),
      "display_name": .string(displayName ?? "Tandem (\(shown.joined(separator: " + ")))"),
      "language": .string(declaration.kernelspecLanguage),
      "interrupt_mode": .string(interruptMode),
      "kernel_protocol_version": .string(protocolVersion),
      // jupyter_client provisions CurveZMQ keys for kernels that say they take them.
      "metadata": [
        "debugger": .bool(environment.hasDebugger),
        "supported_encryption": ZMQContext.has("curve") ? ["curve"] : [],
      ],
    ]
    try Data(spec.serialized).write(to: URL(fileURLWithPath: folder + "/kernel.json"))
    if let logos = resources ?? InstalledFiles.logos {
      for file in ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"] {
        let source = logos + "/" + file
        let target = folder + "/" + file
        guard FileManager.default.fileExists(atPath: source) else { continue }
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: source, toPath: target)
      }
    }
    print("Installed kernelspec \(name) (\(embedded)) in \(folder)")
  }

  /// The environment at `python`, once it can be embedded and has what the kernel
  /// imports; Tandem's Python half is installed into it when missing or older.
  private func checkedEnvironment(_ python: String) throws -> PythonEnvironment {
    let modules = DoctorCommand.pythonModules.map(\.module)
    var environment = try PythonEnvironment.probe(python, modules: modules)
    if let problem = environment.problem { throw InstallError(problem) }
    let wanted = Tandem.configuration.version
    if environment.modules["tandem._strings"] != .version(wanted) {
      guard let source = InstalledFiles.pythonHalf else {
        throw InstallError(
          "Tandem's Python half \(wanted) is not in \(environment.prefix): "
            + (InstalledFiles.wheelPackage != nil
              ? "install it there with `\(python) -m pip install tandem-kernel` (or the wheel this tandem came from)"
              : "run `make install`"))
      }
      let command = [python, "-m", "pip", "install", "--disable-pip-version-check", source]
      print("Installing Tandem's Python half into \(environment.prefix): \(command.joined(separator: " "))")
      // pip's progress is the user's to watch; a pip that hangs is stopped after 30 minutes.
      let pip = try ProgramRun.run(command, capture: .nothing, timeout: 1800)
      guard pip.status == 0 else {
        throw InstallError("pip could not install Tandem's Python half (it \(pip.ending)); see above")
      }
      environment = try PythonEnvironment.probe(python, modules: modules)
    }
    let problems = DoctorCommand.pythonModules.filter(\.required).compactMap {
      DoctorCommand.problem($0, in: environment)
    }
    guard problems.isEmpty else {
      throw InstallError("the environment of \(python) is not ready: " + problems.joined(separator: "; "))
    }
    return environment
  }

  private func kernelsFolder(_ environment: PythonEnvironment) throws -> String {
    if let prefix { return prefix + "/share/jupyter/kernels" }
    if sysPrefix { return environment.prefix + "/share/jupyter/kernels" }
    if user { return JupyterDataFolder.user + "/kernels" }
    return "/usr/local/share/jupyter/kernels"
  }
}

/// Why an environment cannot have a kernelspec yet, with the fix (not a usage error).
struct InstallError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
