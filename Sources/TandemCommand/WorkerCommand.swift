import ArgumentParser
import ChildProcess
import Foundation
import Futures
import RSession

/// `tandem worker`: one process of the futures pool. The kernel starts these; each
/// becomes the interpreter of its language running Tandem's worker loop.
struct WorkerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "worker",
    abstract: "Run a futures worker (started by the kernel, not by hand).",
    discussion: """
      Replaces itself with Python (`python -m tandem._worker`) or R
      (`tandem:::work()`), connected to the kernel's futures broker.
      """
  )

  @Option(help: "The worker's language: python or r.")
  var language: String

  @Option(help: "The broker's ZeroMQ endpoint.")
  var connect: String

  @Option(help: "The worker's name (its routing id at the broker).")
  var id: String

  @Option(help: "The worker's state page, a file the broker made (Python workers).")
  var state: String?

  @Option(help: "The python of the environment to run.")
  var python: String = PythonLocation.defaultExecutable()

  @Option(name: .customLong("r"), help: "The R program.")
  var rExecutable = "R"

  @Option(help: "The library folder holding Tandem's R package.")
  var rLibrary: String?

  func run() throws {
    let arguments: [String]
    switch language {
    case "python", WorkerLanguage.python.rawValue:
      arguments =
        [python, "-m", "tandem._worker", "--connect", connect, "--id", id]
        + (state.map { ["--state", $0] } ?? [])
    case "r", "R":
      let configuration = RConfiguration(
        executable: rExecutable, library: rLibrary ?? InstalledFiles.rLibrary(python: python))
      arguments = RSession.command(
        configuration, running: "tandem:::work('\(RSession.escape(connect))', '\(RSession.escape(id))')")
    default:
      throw ValidationError("unknown worker language \(language): use python or r")
    }
    guard let program = ChildProcess.resolve(arguments[0])
    else {
      throw ValidationError("\(arguments[0]) not found")
    }
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    execv(program, argv)
    throw ValidationError("cannot run \(program): \(String(cString: strerror(errno)))")
  }
}
