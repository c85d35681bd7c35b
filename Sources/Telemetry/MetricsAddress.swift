import Foundation

/// Where the metrics endpoint listens: `HOST:PORT`, `[IPV6]:PORT`, or a bare
/// `PORT` on loopback. A host other than loopback must be named: the endpoint
/// never listens on every interface by accident.
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
  public let host: String
  /// 0 lets the system choose a free port.
  public let port: Int

  /// A bad address, naming the problem and the form expected.
  public struct Problem: Error, CustomStringConvertible {
    public let text: String
    public var description: String { text }
  }

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// Parses `127.0.0.1:9464`, `[::1]:9464`, `localhost:0` or `9464`.
  public init(parsing text: String) throws {
    let value = text.trimmingCharacters(in: .whitespaces)
    let hostPart: Substring
    let portPart: Substring
    if value.hasPrefix("["), let close = value.firstIndex(of: "]") {
      hostPart = value[value.index(after: value.startIndex)..<close]
      let rest = value[value.index(after: close)...]
      guard rest.hasPrefix(":") else { throw Self.problem(text) }
      portPart = rest.dropFirst()
    } else if let colon = value.lastIndex(of: ":") {
      hostPart = value[..<colon]
      portPart = value[value.index(after: colon)...]
    } else {
      hostPart = "127.0.0.1"
      portPart = Substring(value)
    }
    guard !hostPart.isEmpty, !hostPart.contains(":") || value.hasPrefix("["), let port = Int(portPart),
      (0...65535).contains(port)
    else { throw Self.problem(text) }
    self.init(host: String(hostPart), port: port)
  }

  /// Whether only this machine can reach it.
  public var isLoopback: Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

  private static func problem(_ text: String) -> Problem {
    Problem(
      text: "bad metrics address \"\(text)\": give HOST:PORT (e.g. 127.0.0.1:9464), [IPV6]:PORT, or a port "
        + "(loopback); port 0 picks a free one")
  }
}
