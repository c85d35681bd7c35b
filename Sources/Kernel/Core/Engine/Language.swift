/// A language cells are written in, known to the core and the router only by the
/// name its engine gives it (lower case: the value of `--language`, and the
/// `language` label of the metrics).
public struct Language: Hashable, Sendable, CustomStringConvertible {
  public let name: String

  public init(_ name: String) { self.name = name }

  public var description: String { name }
}

/// What an engine's language brings to the kernel, known before any engine starts:
/// the router reads its cell magics, `tandem install` its kernelspec.
public struct LanguageDeclaration: Sendable {
  public let language: Language
  /// The cell magics that mark a cell as written in this language: the first word
  /// of the cell's first line (`%%R -i x` is an R cell).
  public let cellMagics: [String]
  /// The name of the kernelspec whose cells default to this language.
  public let kernelspecName: String
  /// The `language` field of that kernelspec (what Jupyter shows and sorts by).
  public let kernelspecLanguage: String
  /// The language as the kernelspec's display name calls it.
  public let displayName: String

  public init(
    language: Language, cellMagics: [String], kernelspecName: String, kernelspecLanguage: String,
    displayName: String
  ) {
    self.language = language
    self.cellMagics = cellMagics
    self.kernelspecName = kernelspecName
    self.kernelspecLanguage = kernelspecLanguage
    self.displayName = displayName
  }
}

/// A process an engine runs its language in, besides the kernel's own: the kernel's
/// metrics report its memory and CPU time under `name`.
public struct EngineProcess: Sendable, Equatable {
  public let name: String
  public let pid: Int32

  public init(name: String, pid: Int32) {
    self.name = name
    self.pid = pid
  }
}
