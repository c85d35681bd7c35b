import Foundation
import JSON

/// The language a cell is written in: the kernel's default, or another one named by
/// a cell magic on its first line (`%%R`, `%%python`).
public enum CellLanguage: String, Sendable, CaseIterable {
  case python
  case r

  /// The language of `code` and how many characters (Unicode scalars, as Jupyter
  /// counts cursor positions) the magic line takes.
  static func of(_ code: String, defaultLanguage: CellLanguage) -> (CellLanguage, offset: Int) {
    let firstLine = code.prefix { $0 != "\n" }
    let magic = firstLine.trimmingCharacters(in: .whitespaces)
    let language: CellLanguage?
    if magic.hasPrefix("%%R"), magic.dropFirst(3).first?.isWhitespace ?? true {
      language = .r
    } else if magic == "%%python" {
      language = .python
    } else {
      language = nil
    }
    guard let language else { return (defaultLanguage, 0) }
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
