import Foundation
import JSON
import KernelCore

/// Picks the engine for each request, so the kernel knows shells and not languages.
///
/// A cell is in the language its first line names (a cell magic an engine declared)
/// or else in the kernel's default. A cell without a magic line runs in the default language's
/// engine when that engine runs cells; a cell with one runs in the host, whose
/// magics read the line's options (`%%R -i x -w 600`). Requests about code
/// (complete, inspect, is_complete) reach the engine of the cell's language with the
/// magic line cut off and cursor positions moved to match. Every other request goes
/// to the host engine: history, comms, and what no other engine serves. The cells
/// other engines run are recorded in the host's history, so history requests see
/// every cell.
public final class CellRouter: RequestRouter {
  /// The language of a cell whose first line names none.
  public let defaultLanguage: Language
  /// The thread every engine runs on.
  public let thread: EngineThread
  private let host: HostEngine
  private let engines: [Language: LanguageEngine]
  /// Every engine's cell magics, to the language each names.
  private let magics: [String: Language]

  /// `host` serves what no engine of the cell's language serves; `others` serve their
  /// own languages' cells. All of them run on `thread`.
  public init(
    host: HostEngine, others: [LanguageEngine] = [], defaultLanguage: Language, thread: EngineThread
  ) {
    self.host = host
    var engines: [Language: LanguageEngine] = [host.language: host]
    for engine in others { engines[engine.language] = engine }
    self.engines = engines
    var magics: [String: Language] = [:]
    for engine in [host] + others {
      for magic in engine.declaration.cellMagics { magics[magic] = engine.language }
    }
    self.magics = magics
    self.defaultLanguage = defaultLanguage
    self.thread = thread
  }

  /// The language part of kernel_info_reply: the default language's.
  public var kernelInfo: JSONValue {
    (engines[defaultLanguage] ?? host).kernelInfo
  }

  /// The processes the engines run their languages in now; any thread.
  public var processes: [EngineProcess] {
    engines.values.flatMap(\.processes)
  }

  /// Whether some engine serves `kind`.
  public func serves(_ kind: RequestKind) -> Bool {
    engines.values.contains { $0.servedKinds.contains(kind) }
  }

  /// Serves a request on the engine thread.
  public func serve(_ request: ShellRequest, frontend: Frontend) throws -> Reply? {
    var request = request
    let (language, offset) =
      request.code.map { CellMagic.language(of: $0, magics: magics, defaultLanguage: defaultLanguage) }
      ?? (defaultLanguage, 0)
    request.cell = (language, offset)
    if request.kind == .execute {
      let start = DispatchTime.now().uptimeNanoseconds
      defer {
        host.cellEnded()
        KernelMetrics.executed(language, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
      }
      return try execute(request, language: language, magicLength: offset, frontend: frontend)
    }
    guard RequestKind.introspection.contains(request.kind) else {
      return try engine(for: language, serving: request.kind).serve(request, frontend: frontend)
    }
    // A cell magic goes on until a blank line, as IPython says of every cell magic,
    // so that a console does not run the cell after its first line.
    if request.kind == .isComplete, offset > 0 {
      return Reply(content: CellMagic.isCompleteAfterMagic(request.code ?? ""))
    }
    let engine = engine(for: language, serving: request.kind)
    guard offset > 0, engine.language == language else {
      return try engine.serve(request, frontend: frontend)
    }
    var stripped = request.with(content: CellMagic.strip(request.content, offset: offset))
    stripped.cell = (language, 0)
    guard var reply = try engine.serve(stripped, frontend: frontend) else { return nil }
    if let content = try? JSONValue.parse(reply.content) {
      reply.content = CellMagic.unstrip(content, offset: offset).serialized
    }
    return reply
  }

  private func execute(_ request: ShellRequest, language: Language, magicLength: Int, frontend: Frontend)
    throws -> Reply?
  {
    guard magicLength == 0, let engine = engines[language], engine !== host,
      engine.servedKinds.contains(.execute)
    else {
      return try host.serve(request, frontend: frontend)
    }
    host.cellStarting(frontend)
    let reply = try engine.serve(request, frontend: frontend)
    if request.storesHistory, let code = request.code {
      host.recordHistory(code, executionCount: request.executionCount)
    }
    return reply
  }

  /// After each request, on the engine thread.
  public func requestFinished() {
    for engine in engines.values { engine.requestFinished() }
  }

  /// Shuts every engine down, the host last (its atexit handlers may still use the others' data).
  public func shutdown() {
    for engine in engines.values where engine !== host { engine.shutdown() }
    host.shutdown()
  }

  private func engine(for language: Language, serving kind: RequestKind) -> LanguageEngine {
    if let engine = engines[language], engine.servedKinds.contains(kind) { return engine }
    return host
  }
}
