import EmbeddedPython
import Foundation
import TandemCommand

/// The `tandem` program's entry: its launcher loads this library, at `library`, and
/// calls it.
@_cdecl("tandem_main")
public func tandemMain(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ library: UnsafePointer<CChar>
) -> Int32 {
  InstalledFiles.library = String(cString: library)
  Tandem.main(arguments(argc, argv))
  return 0
}

/// The entry for `python -m tandem._host`: the kernel inside the environment's own
/// python, whose main thread calls this without the GIL. The command runs on a
/// thread of its own; the calling thread, the one Python's signal handlers run on,
/// becomes the interpreter's Python thread and never returns.
@_cdecl("tandem_host_main")
public func tandemHostMain(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ library: UnsafePointer<CChar>
) -> Int32 {
  InstalledFiles.library = String(cString: library)
  let command = arguments(argc, argv)
  PythonInterpreter.hostedHere()
  let thread = Thread {
    Tandem.main(command)
    // A command that returns (not the kernel, which exits itself) ends the process:
    // the main thread would otherwise wait for a Python start that never comes.
    exit(0)
  }
  thread.name = "tandem-command"
  thread.stackSize = 16 << 20
  thread.start()
  PythonInterpreter.serveHostThread()
}

/// The arguments after the program's name.
private func arguments(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> [String]
{
  (1..<max(Int(argc), 1)).map { String(cString: argv[$0]!) }
}
