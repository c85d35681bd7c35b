import ArgumentParser

/// The `tandem` command: a Jupyter kernel for Python and R in one process.
public struct Tandem: ParsableCommand {
  public init() {}

  public static let configuration = CommandConfiguration(
    commandName: "tandem",
    abstract: "A Jupyter kernel for Python and R cells that share one session.",
    discussion: """
      Install the kernelspec with `tandem install`, check the setup with `tandem doctor`;
      Jupyter starts `tandem kernel -f CONNECTION_FILE` itself.
      """,
    version: "0.1.0",
    subcommands: [KernelCommand.self, InstallCommand.self, DoctorCommand.self, WorkerCommand.self]
  )
}
