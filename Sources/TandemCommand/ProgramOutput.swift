import Foundation

/// Runs a program to its end, both streams in one text (for install and doctor,
/// which show the tail when it fails). A program still running after `timeout`
/// seconds is stopped, and its status is then the signal's.
func programOutput(_ arguments: [String], timeout: Double) throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let watchdog = DispatchWorkItem { process.terminate() }
  DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  watchdog.cancel()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
