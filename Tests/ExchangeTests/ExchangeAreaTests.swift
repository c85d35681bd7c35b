import Foundation
import XCTest

@testable import Exchange

final class ExchangeAreaTests: XCTestCase {
  private var root = ""

  override func setUpWithError() throws {
    root = NSTemporaryDirectory() + "exchange-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: root)
  }

  func testCreatesAPrivateFolderNamedAfterThePid() throws {
    let area = try ExchangeArea.create(root: root)
    XCTAssertEqual(area.path, "\(root)/tandem-\(getpid())")
    let attributes = try FileManager.default.attributesOfItem(atPath: area.path)
    XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
    area.remove()
    XCTAssertFalse(FileManager.default.fileExists(atPath: area.path))
  }

  func testSweepsFoldersOfGoneKernelsOnly() throws {
    // A pid far above pid_max cannot be running.
    let gone = "\(root)/tandem-2147483000"
    let alive = "\(root)/tandem-1"
    let other = "\(root)/unrelated"
    for path in [gone, alive, other] {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    FileManager.default.createFile(atPath: gone + "/py-1-0", contents: Data([1, 2, 3]))
    _ = try ExchangeArea.create(root: root)
    XCTAssertFalse(FileManager.default.fileExists(atPath: gone))
    XCTAssertTrue(FileManager.default.fileExists(atPath: alive))
    XCTAssertTrue(FileManager.default.fileExists(atPath: other))
  }

  func testRecreatingEmptiesAStaleFolderOfTheSamePid() throws {
    let first = try ExchangeArea.create(root: root)
    FileManager.default.createFile(atPath: first.path + "/left-over", contents: Data([0]))
    let second = try ExchangeArea.create(root: root)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: second.path), [])
  }
}
