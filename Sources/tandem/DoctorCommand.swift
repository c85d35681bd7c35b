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
    abstract: "Report the Python, libpython, IPython, libzmq and R Tandem uses, and what is missing."
  )

  @Option(help: "The python of the environment to check.")
  var python: String = PythonLocation.defaultExecutable()

  func run() throws {
    let python = PythonLocation.absolute(self.python)
    var problems: [String] = []
    print("tandem             \(Tandem.configuration.version)")
    print("libzmq             \(ZMQContext.libraryVersion)")
    print("libpython          \(PythonInterpreter.libraryPath)")
    print("                   \(PythonInterpreter.libraryVersion.split(separator: "\n").first ?? "")")
    print("python             \(python)")
    if FileManager.default.isExecutableFile(atPath: python) {
      let logger = Logger(label: "tandem.doctor")
      let interpreter = PythonInterpreter(executable: python, logger: logger)
      do {
        try interpreter.start()
        let modules: [(String, String, String)] = [
          ("IPython", "IPython", "ipython"),
          ("tandem", "tandem (py)", "-e python/"),
          ("matplotlib_inline", "matplotlib-inline", "matplotlib-inline"),
          ("comm", "comm", "comm"),
          ("zmq", "pyzmq (workers)", "pyzmq"),
          ("cloudpickle", "cloudpickle", "cloudpickle"),
        ]
        for (module, label, package) in modules {
          do {
            let version = try interpreter.moduleVersion(module)
            print(
              "\(label.padding(toLength: 18, withPad: " ", startingAt: 0)) \(version.isEmpty ? "ok" : version)"
            )
          } catch {
            print("\(label.padding(toLength: 18, withPad: " ", startingAt: 0)) MISSING (\(error))")
            problems.append("\(label) is missing: run `\(python) -m pip install \(package)` or `make setup`")
          }
        }
      } catch {
        problems.append("Python at \(python) does not start embedded: \(error)")
      }
    } else {
      problems.append("no Python at \(python): pass --python /path/to/venv/bin/python or run `make setup`")
    }
    let rLibrary = PythonLocation.rLibrary(beside: python)
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
              ? "Tandem's R package is not installed beside \(python): run `make setup`"
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
