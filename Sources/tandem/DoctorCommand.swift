import ArgumentParser
import Foundation
import JupyterWire
import Logging
import PythonEngine
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

  /// The modules the kernel imports from the environment: (module, label, how to install).
  static let pythonModules: [(String, String, String)] = [
    ("IPython", "IPython", "ipython"),
    ("comm", "comm", "comm"),
    ("matplotlib_inline", "matplotlib-inline", "matplotlib-inline"),
    ("tandem", "tandem (py)", ""),
    ("numpy", "numpy", "numpy"),
    ("pandas", "pandas", "pandas"),
    ("zmq", "pyzmq (workers)", "pyzmq"),
    ("cloudpickle", "cloudpickle", "cloudpickle"),
  ]

  func run() throws {
    let python = PythonLocation.absolute(self.python)
    var problems: [String] = []
    print("tandem             \(Tandem.configuration.version)")
    print("libzmq             \(ZMQContext.libraryVersion)")
    print("python             \(python)")
    if FileManager.default.isExecutableFile(atPath: python) {
      do {
        let environment = try PythonEnvironment.probe(python, modules: Self.pythonModules.map(\.0))
        print("version            \(environment.version) (environment: \(environment.prefix))")
        print("libpython          \(environment.library ?? "none found")")
        if let problem = environment.problem {
          print("embeds             NO")
          problems.append(problem)
        } else {
          let interpreter = PythonInterpreter(
            environment: environment, logger: Logger(label: "tandem.doctor"))
          do {
            try interpreter.start()
            let version = try interpreter.version().split(separator: " ").first.map(String.init) ?? ""
            print("embeds             yes (Python \(version) started in this process)")
          } catch {
            print("embeds             NO")
            problems.append("Python at \(python) does not start embedded: \(error)")
          }
        }
        for (module, label, package) in Self.pythonModules {
          let name = label.padding(toLength: 18, withPad: " ", startingAt: 0)
          if case .some(.some(let version)) = environment.modules[module] {
            print("\(name) \(version.isEmpty ? "ok" : version)")
          } else {
            print("\(name) MISSING")
            problems.append(
              package.isEmpty
                ? "Tandem's Python half is not in this environment: run `tandem install --python \(python)`"
                : "\(label) is missing: run `\(python) -m pip install \(package)`")
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
      let packages = ["pbdZMQ", "jsonlite", "repr", "IRdisplay", "bit64", "future", "tandem"]
      let status = RSession.packageStatus(packages, library: rLibrary)
      for package in packages {
        let found = status[package] == true
        print(
          "\(("R " + package).padding(toLength: 18, withPad: " ", startingAt: 0)) \(found ? "ok" : "MISSING")"
        )
        if !found {
          problems.append(
            package == "tandem"
              ? "Tandem's R package is not installed (beside this binary or \(python)): run `make install` or `make setup`"
              : "R package \(package) is missing: apt-get install r-cran-\(package.lowercased())")
        }
      }
    } else {
      problems.append(
        "R is not installed (R cells need it): apt-get install r-base-core, or run `make setup`")
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
