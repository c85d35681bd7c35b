import ArgumentParser
import Foundation
import Logging

/// Where logs go: stderr at first, the saved original stderr once fd 2 is captured.
enum LogOutput {
  nonisolated(unsafe) static var fd: Int32 = 2

  static func write(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(10)
    _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
  }
}

/// One line per log record on the log file descriptor; never into a cell. Records
/// that repeat from one place in the code are counted rather than each written.
struct FDLogHandler: LogHandler {
  static let limiter = RepeatLimiter { LogOutput.write($0) }

  let label: String
  var logLevel: Logger.Level
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    Self.limiter.log("[tandem \(event.level)] \(event.message)", site: "\(event.file):\(event.line)")
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Sets up logging: `--log-level` wins over `TANDEM_LOG_LEVEL`; the default is warning.
func makeLogger(level: Logger.Level?) -> Logger {
  let environment = ProcessInfo.processInfo.environment["TANDEM_LOG_LEVEL"].flatMap(
    Logger.Level.init(rawValue:))
  let chosen = level ?? environment ?? .warning
  LoggingSystem.bootstrap { label in FDLogHandler(label: label, logLevel: chosen) }
  return Logger(label: "tandem")
}

/// Prints "tandem: error: ..." on the log output and exits non-zero.
func fail(_ message: String) -> Never {
  LogOutput.write("tandem: error: \(message)")
  exit(1)
}
