import JSON
import XCTest

@testable import TandemKernel

/// The first line of a cell names its language; cursor positions count Unicode scalars.
final class CellLanguageTests: XCTestCase {
  func testTheFirstLineNamesTheLanguage() {
    XCTAssertEqual(CellLanguage.of("x <- 1", defaultLanguage: .r).0, .r)
    XCTAssertEqual(CellLanguage.of("print(1)", defaultLanguage: .python).0, .python)
    let r = CellLanguage.of("%%R\nx", defaultLanguage: .python)
    XCTAssertEqual(r.0, .r)
    XCTAssertEqual(r.offset, 4)
    XCTAssertEqual(CellLanguage.of("%%R -i df -w 5\nsummary(df)", defaultLanguage: .python).offset, 15)
    XCTAssertEqual(CellLanguage.of("%%R\t-i df\nx", defaultLanguage: .python).0, .r)
    XCTAssertEqual(CellLanguage.of("  %%python  \nlen", defaultLanguage: .r).0, .python)
    XCTAssertEqual(CellLanguage.of("%%R", defaultLanguage: .python).offset, 3)
    // Not cell magics of another language.
    XCTAssertEqual(CellLanguage.of("%%Rpush x", defaultLanguage: .python).offset, 0)
    XCTAssertEqual(CellLanguage.of("%R x", defaultLanguage: .python).offset, 0)
    XCTAssertEqual(CellLanguage.of("%%pythonic\n", defaultLanguage: .r).0, .r)
  }

  func testStripAndUnstripMoveCursorsByScalars() {
    let code = "%%R -i é\nnaïve <- 1"
    let (_, offset) = CellLanguage.of(code, defaultLanguage: .python)
    XCTAssertEqual(offset, 9)  // 8 scalars and the newline
    let stripped = CellLanguage.strip(["code": .string(code), "cursor_pos": 14], offset: offset)
    XCTAssertEqual(stripped["code"], "naïve <- 1")
    XCTAssertEqual(stripped["cursor_pos"], 5)
    let reply = CellLanguage.unstrip(["cursor_start": 0, "cursor_end": 5, "matches": []], offset: offset)
    XCTAssertEqual(reply["cursor_start"], 9)
    XCTAssertEqual(reply["cursor_end"], 14)
  }

  func testACellMagicIsCompleteAfterABlankLine() {
    XCTAssertEqual(CellLanguage.isCompleteAfterMagic("%%R")["status"], "incomplete")
    XCTAssertEqual(CellLanguage.isCompleteAfterMagic("%%R\nx <- 1\n")["status"], "incomplete")
    XCTAssertEqual(CellLanguage.isCompleteAfterMagic("%%R\nx <- 1\n\n")["status"], "complete")
    XCTAssertEqual(CellLanguage.isCompleteAfterMagic("%%R\n\n")["status"], "complete")
  }
}
