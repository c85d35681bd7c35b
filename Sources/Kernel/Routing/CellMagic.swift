import Foundation
import JSON
import KernelCore

/// The cell magic a cell's first line may carry (`%%R -i x`), naming the language
/// the cell is written in, and what requests about such a cell need moved.
enum CellMagic {
  /// The language of `code`, given the engines' cell magics (`magics`: the first
  /// word of a first line, to its language), and how many characters (Unicode
  /// scalars, as Jupyter counts cursor positions) the magic line takes.
  static func language(
    of code: String, magics: [String: Language], defaultLanguage: Language
  ) -> (Language, offset: Int) {
    let firstLine = code.prefix { $0 != "\n" }
    let word = firstLine.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
    guard let language = magics[word] else { return (defaultLanguage, 0) }
    let offset = firstLine.unicodeScalars.count + (firstLine.count < code.count ? 1 : 0)
    return (language, offset)
  }

  /// is_complete for a cell that starts with a cell magic: complete once it ends in
  /// a blank line (two empty lines after at least one of code).
  static func isCompleteAfterMagic(_ code: String) -> JSONValue {
    let lines = code.split(separator: "\n", omittingEmptySubsequences: false)
    let blank = { (line: Substring) in line.allSatisfy(\.isWhitespace) }
    let complete = lines.count >= 3 && blank(lines[lines.count - 1]) && blank(lines[lines.count - 2])
    return complete ? ["status": "complete"] : ["status": "incomplete", "indent": ""]
  }

  /// Request content with the magic line cut off and the cursor moved to match.
  static func strip(_ content: JSONValue, offset: Int) -> JSONValue {
    guard offset > 0, var fields = content.objectValue, let code = fields["code"]?.stringValue else {
      return content
    }
    fields["code"] = .string(String(String.UnicodeScalarView(code.unicodeScalars.dropFirst(offset))))
    if let cursor = fields["cursor_pos"]?.intValue {
      fields["cursor_pos"] = .int(max(0, cursor - Int64(offset)))
    }
    return .object(fields)
  }

  /// A reply's cursor range moved back to positions in the whole cell.
  static func unstrip(_ reply: JSONValue, offset: Int) -> JSONValue {
    guard offset > 0, var fields = reply.objectValue else { return reply }
    for key in ["cursor_start", "cursor_end"] {
      if let value = fields[key]?.intValue { fields[key] = .int(value + Int64(offset)) }
    }
    return .object(fields)
  }
}
