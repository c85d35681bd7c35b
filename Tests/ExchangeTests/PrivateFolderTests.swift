import Foundation
import XCTest

@testable import Exchange

final class PrivateFolderTests: XCTestCase {
  private var root = ""

  override func setUpWithError() throws {
    root = NSTemporaryDirectory() + "private-folder-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: root)
  }

  func testCreatesAnUnpredictablePrivateFolder() throws {
    let first = try PrivateFolder.create(root: root)
    let second = try PrivateFolder.create(root: root)
    XCTAssertTrue(first.path.hasPrefix("\(root)/tandem-\(getpid())-"))
    XCTAssertEqual(first.path.count, "\(root)/tandem-\(getpid())-XXXXXX".count)
    XCTAssertNotEqual(first.path, second.path)
    let attributes = try FileManager.default.attributesOfItem(atPath: first.path)
    XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
    XCTAssertEqual((attributes[.ownerAccountID] as? NSNumber)?.uint32Value, geteuid())
    first.remove()
    XCTAssertFalse(FileManager.default.fileExists(atPath: first.path))
  }

  func testSweepsThisUsersFoldersOfGoneKernelsOnly() throws {
    // A pid far above pid_max cannot be running.
    let gone = "\(root)/tandem-2147483000-abcdef"
    let goneOldStyle = "\(root)/tandem-2147483001"
    let alive = "\(root)/tandem-1-abcdef"
    let other = "\(root)/unrelated"
    for path in [gone, goneOldStyle, alive, other] {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    FileManager.default.createFile(atPath: gone + "/py-arena-0", contents: Data([1, 2, 3]))
    // A link with a kernel folder's name is not followed or removed.
    let target = "\(root)/target"
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: target + "/keep", contents: Data([1]))
    try FileManager.default.createSymbolicLink(
      atPath: "\(root)/tandem-2147483002-link", withDestinationPath: target)
    var foreign: String?
    if geteuid() == 0 {
      // Another user's folder of a gone kernel is theirs to clean up.
      foreign = "\(root)/tandem-2147483003-theirs"
      try FileManager.default.createDirectory(atPath: foreign!, withIntermediateDirectories: true)
      XCTAssertEqual(chown(foreign!, 65534, 65534), 0)
    }
    _ = try PrivateFolder.create(root: root)
    XCTAssertFalse(FileManager.default.fileExists(atPath: gone))
    XCTAssertFalse(FileManager.default.fileExists(atPath: goneOldStyle))
    XCTAssertTrue(FileManager.default.fileExists(atPath: alive))
    XCTAssertTrue(FileManager.default.fileExists(atPath: other))
    XCTAssertTrue(FileManager.default.fileExists(atPath: target + "/keep"))
    if let foreign { XCTAssertTrue(FileManager.default.fileExists(atPath: foreign)) }
  }

  func testRefusesAFolderOthersCanEnter() throws {
    let open = "\(root)/open"
    try FileManager.default.createDirectory(
      atPath: open, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
    XCTAssertFalse(PrivateFolder.isPrivate(open))
    let link = "\(root)/link"
    let closed = try PrivateFolder.create(root: root)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: closed.path)
    XCTAssertTrue(PrivateFolder.isPrivate(closed.path))
    XCTAssertFalse(PrivateFolder.isPrivate(link))
  }

  func testAnUnwritableRootFailsNamingTheFix() {
    XCTAssertThrowsError(try PrivateFolder.create(root: "/proc/no-such-root")) { error in
      XCTAssertTrue("\(error)".contains("TMPDIR"), "\(error)")
    }
  }
}
