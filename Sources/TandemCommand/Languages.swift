import ArgumentParser
import EnginePython
import EngineR
import KernelCore

/// The languages Tandem runs cells in: the one place their engines are listed. The
/// first is the host's, through whose magics cells of the others also run.
enum Languages {
  static let all: [LanguageDeclaration] = [IPythonEngine.declaration, REngine.declaration]

  static var host: LanguageDeclaration { all[0] }

  static func declaration(of language: Language) -> LanguageDeclaration? {
    all.first { $0.language == language }
  }
}

extension Language: ExpressibleByArgument {
  public init?(argument: String) {
    guard let declared = Languages.all.first(where: { $0.language.name == argument }) else { return nil }
    self = declared.language
  }

  public static var allValueStrings: [String] { Languages.all.map(\.language.name) }
}
