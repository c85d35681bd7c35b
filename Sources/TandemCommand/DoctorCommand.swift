import ArgumentParser
import ChildProcess
import EmbeddedPython
import Foundation
import JupyterWire
import Logging
import RSession
import ZeroMQ

/// `tandem doctor`: what Tandem found, and what is missing with the fix.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Report the Python, libpython, IPython, libzmq and R Tandem uses, and what is missing.",
    discussion: """
      Everything about Python is asked of the given interpreter itself: its version,
      the shared libpython the kernel would load, whether it starts embedded, and
      which of the modules the kernel imports its environment has.
      """
  )

  @Option(help: "The python of the environment to check.")
  var python: String = PythonLocation.defaultExecutable()

  /// What the kernel takes from the Python environment.
  struct PythonModule {
    let module: String
    let label: String
    /// What `pip install` takes; "" for Tandem's own half.
    let package: String
    /// False for what only some cells need.
    let required: Bool
  }

  static let pythonModules = [
    PythonModule(module: "IPython", label: "IPython", package: "ipython", required: true),
    PythonModule(module: "comm", label: "comm", package: "comm", required: true),
    // Its C extension too: a source checkout that was never built lacks it.
    PythonModule(module: "tandem._strings", label: "tandem (py)", package: "", required: true),
    PythonModule(module: "numpy", label: "numpy", package: "numpy", required: true),
    PythonModule(module: "pandas", label: "pandas", package: "pandas", required: true),
    PythonModule(module: "zmq", label: "pyzmq (workers)", package: "pyzmq", required: true),
    PythonModule(module: "cloudpickle", label: "cloudpickle", package: "cloudpickle", required: true),
    PythonModule(
      module: "matplotlib_inline", label: "matplotlib-inline", package: "matplotlib matplotlib-inline",
      required: false),
    PythonModule(module: "debugpy", label: "debugpy (debugger)", package: "debugpy", required: false),
  ]

  /// What is wrong with `module` in `environment`, with the fix; nil when nothing is.
  static func problem(_ module: PythonModule, in environment: PythonEnvironment) -> String? {
    let python = environment.executable
    let fix =
      module.package.isEmpty
      ? "run `tandem install --python \(python)`" : "run `\(python) -m pip install \(module.package)`"
    switch environment.modules[module.module] ?? .missing {
    case .version: return nil
    case .broken(let error): return "\(module.label) cannot be imported (\(error)): \(fix)"
    case .missing: return "\(module.label) is missing: \(fix)"
    }
  }

  /// Why `python` cannot load the kernel's library to host it (the last line of what
  /// it printed); nil when it can.
  static func hostingFailure(_ python: String) -> String? {
    let check = [python, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", InstalledFiles.library]
    guard let result = try? ProgramRun.run(check, timeout: 60) else { return "cannot run \(python)" }
    guard result.status != 0 else { return nil }
    return result.output.split(separator: "\n").last.map(String.init) ?? result.ending
  }

  func run() throws {
    let python = PythonLocation.absolute(self.python)
    var problems: [String] = []
    var notes: [String] = []
    print("tandem             \(Tandem.configuration.version)")
    print("libzmq             \(ZMQContext.libraryVersion)")
    print("python             \(python)")
    if FileManager.default.isExecutableFile(atPath: python) {
      do {
        let environment = try PythonEnvironment.probe(python, modules: Self.pythonModules.map(\.module))
        print("version            \(environment.version) (environment: \(environment.prefix))")
        print("libpython          \(environment.library ?? "none found")")
        if let problem = environment.problem {
          print("embeds             NO")
          problems.append(problem)
        } else if environment.linksStatically {
          if let failure = Self.hostingFailure(python) {
            print("runs cells         NO")
            problems.append(
              "\(python) cannot load the kernel's library \(InstalledFiles.library): \(failure)")
          } else {
            print("runs cells         inside \(python), which carries libpython itself: at its own speed")
          }
        } else {
          let interpreter = PythonInterpreter(
            environment: environment, logger: Logger(label: "tandem.doctor"))
          do {
            try interpreter.start()
            let version = try interpreter.version().split(separator: " ").first.map(String.init) ?? ""
            print("embeds             yes (Python \(version) started in this process)")
            print(
              "runs cells         in \(environment.library!), which \(python) links too: at its own speed")
          } catch {
            print("embeds             NO")
            problems.append("Python at \(python) does not start embedded: \(error)")
          }
        }
        for module in Self.pythonModules {
          let name = module.label.padding(toLength: 18, withPad: " ", startingAt: 0)
          switch environment.modules[module.module] ?? .missing {
          case .version(let version): print("\(name) \(version.isEmpty ? "ok" : version)")
          case .broken: print("\(name) BROKEN")
          case .missing: print("\(name) MISSING")
          }
          if let problem = Self.problem(module, in: environment) {
            if module.required { problems.append(problem) } else { notes.append(problem) }
          }
        }
      } catch {
        problems.append("\(error)")
      }
    } else {
      problems.append("no Python at \(python): pass --python /path/to/venv/bin/python")
    }
    let rLibrary = InstalledFiles.rLibrary(python: python)
    if let version = RSession.installedVersion() {
      print("R                  \(version)")
      let packages = ["pbdZMQ", "jsonlite", "repr", "IRdisplay", "bit64", "future"]
      let status = RSession.packageStatus(packages, library: rLibrary)
      for package in packages {
        let found = status[package] == true
        print(
          "\(("R " + package).padding(toLength: 18, withPad: " ", startingAt: 0)) \(found ? "ok" : "MISSING")"
        )
        if !found {
          problems.append("R package \(package) is missing: apt-get install r-cran-\(package.lowercased())")
        }
      }
      let own = RPackageSetup().installed(in: rLibrary)
      let wanted = InstalledFiles.rPackageSource.flatMap(RPackageSetup.version(ofSource:))
      print("R tandem           \(own.map { "\($0.version) (\($0.library))" } ?? "MISSING")")
      let fix =
        InstalledFiles.rPackageSource != nil
        ? "run `tandem install`, which builds it from this installation"
        : "run `make install` or `make setup`"
      if own == nil {
        problems.append(
          "Tandem's R package is not installed (beside this binary, \(python) or R's libraries): \(fix)")
      } else if let wanted, let own, own.version != wanted {
        problems.append(
          "Tandem's R package in \(own.library) is \(own.version), this Tandem is \(wanted): \(fix)")
      }
    } else {
      problems.append(
        "R is not installed (R cells need it): apt-get install r-base-core, or run `make setup`")
    }
    for line in MetricsSettings.lines(python: python) {
      print("\("metrics".padding(toLength: 18, withPad: " ", startingAt: 0)) \(line)")
    }
    if !notes.isEmpty {
      print("\nOptional:")
      for note in notes { print("  - \(note)") }
    }
    if problems.isEmpty {
      print("\nEverything Tandem needs is here.")
    } else {
      print("\nMissing:")
      for problem in problems { print("  - \(problem)") }
      throw ExitCode(1)
    }
  }
}
