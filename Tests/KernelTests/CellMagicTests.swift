import JSON
import KernelCore
import XCTest

@testable import KernelRouting

/// The first line of a cell names its language by a cell magic an engine declared;
/// cursor positions count Unicode scalars.
final class CellMagicTests: XCTestCase {
  private let python = Language("python")
  private let r = Language("r")
  private lazy var magics = ["%%R": r, "%%python": python]

  private func language(_ code: String, _ defaultLanguage: Language) -> (Language, offset: Int) {
    CellMagic.language(of: code, magics: magics, defaultLanguage: defaultLanguage)
  }

  func testTheFirstLineNamesTheLanguage() {
    XCTAssertEqual(language("x <- 1", r).0, r)
    XCTAssertEqual(language("print(1)", python).0, python)
    let cell = language("%%R\nx", python)
    XCTAssertEqual(cell.0, r)
    XCTAssertEqual(cell.offset, 4)
    XCTAssertEqual(language("%%R -i df -w 5\nsummary(df)", python).offset, 15)
    XCTAssertEqual(language("%%R\t-i df\nx", python).0, r)
    XCTAssertEqual(language("  %%python  \nlen", r).0, python)
    XCTAssertEqual(language("%%R", python).offset, 3)
    // Not cell magics of another language.
    XCTAssertEqual(language("%%Rpush x", python).offset, 0)
    XCTAssertEqual(language("%R x", python).offset, 0)
    XCTAssertEqual(language("%%pythonic\n", r).0, r)
    XCTAssertEqual(language("x = 1\n%%R\n", python).0, python)
  }

  func testStripAndUnstripMoveCursorsByScalars() {
    let code = "%%R -i é\nnaïve <- 1"
    let (_, offset) = language(code, python)
    XCTAssertEqual(offset, 9)  // 8 scalars and the newline
    let stripped = CellMagic.strip(["code": .string(code), "cursor_pos": 14], offset: offset)
    XCTAssertEqual(stripped["code"], "naïve <- 1")
    XCTAssertEqual(stripped["cursor_pos"], 5)
    let reply = CellMagic.unstrip(["cursor_start": 0, "cursor_end": 5, "matches": []], offset: offset)
    XCTAssertEqual(reply["cursor_start"], 9)
    XCTAssertEqual(reply["cursor_end"], 14)
  }

  func testACellMagicIsCompleteAfterABlankLine() {
    XCTAssertEqual(CellMagic.isCompleteAfterMagic("%%R")["status"], "incomplete")
    XCTAssertEqual(CellMagic.isCompleteAfterMagic("%%R\nx <- 1\n")["status"], "incomplete")
    XCTAssertEqual(CellMagic.isCompleteAfterMagic("%%R\nx <- 1\n\n")["status"], "complete")
    XCTAssertEqual(CellMagic.isCompleteAfterMagic("%%R\n\n")["status"], "complete")
  }
}
