import Foundation
import JSON

/// The five sockets a kernel serves.
public enum Channel: String, CaseIterable, Sendable {
  case shell, control, stdin, iopub, hb
}

/// What a connection file says: where to bind and how to sign.
public struct ConnectionInfo: Sendable, Equatable {
  public var transport: String
  public var ip: String
  public var ports: [Channel: Int]
  public var key: [UInt8]
  public var signatureScheme: String
  /// The kernel's CurveZMQ secret key (Z85, 40 characters) when the client asked
  /// for encrypted sockets (jupyter_client's `transport_encryption`): every
  /// socket is then a CURVE server, and only clients that know the public key
  /// from the connection file can talk to it.
  public var curveSecretKey: String?

  /// Errors that name the problem in the file and what to do about it.
  public enum Failure: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)

    public var description: String {
      switch self {
      case .unreadable(let path, let reason):
        return "cannot read connection file \(path): \(reason)"
      case .invalid(let path, let reason):
        return "connection file \(path) is not usable: \(reason)"
      }
    }
  }

  public init(
    transport: String = "tcp", ip: String = "127.0.0.1", ports: [Channel: Int], key: [UInt8],
    signatureScheme: String = "hmac-sha256", curveSecretKey: String? = nil
  ) {
    self.transport = transport
    self.ip = ip
    self.ports = ports
    self.key = key
    self.signatureScheme = signatureScheme
    self.curveSecretKey = curveSecretKey
  }

  /// Reads and validates a connection file as jupyter_client writes it.
  public init(contentsOf path: String) throws(Failure) {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      let reason =
        FileManager.default.fileExists(atPath: path)
        ? "permission denied or not a file" : "no such file"
      throw .unreadable(path: path, reason: reason)
    }
    do {
      try self.init(json: [UInt8](data))
    } catch {
      throw .invalid(path: path, reason: error.reason)
    }
  }

  /// Parses the JSON of a connection file.
  public init(json: [UInt8]) throws(Failure) {
    let value: JSONValue
    do {
      value = try JSONValue.parse(json)
    } catch {
      throw .invalid(path: "", reason: error.description)
    }
    guard value.objectValue != nil else {
      throw .invalid(path: "", reason: "expected a JSON object")
    }
    let transport = value["transport"]?.stringValue ?? "tcp"
    guard transport == "tcp" || transport == "ipc" else {
      throw .invalid(path: "", reason: "transport must be \"tcp\" or \"ipc\", not \"\(transport)\"")
    }
    var ports: [Channel: Int] = [:]
    for channel in Channel.allCases {
      let field = channel == .hb ? "hb_port" : "\(channel.rawValue)_port"
      guard let port = value[field]?.intValue, (0...65535).contains(port) else {
        throw .invalid(path: "", reason: "missing or invalid \"\(field)\"")
      }
      ports[channel] = Int(port)
    }
    var scheme = value["signature_scheme"]?.stringValue ?? "hmac-sha256"
    if scheme.isEmpty { scheme = "hmac-sha256" }
    guard Signer.digestName(ofScheme: scheme) != nil else {
      throw .invalid(
        path: "",
        reason:
          "signature_scheme \"\(scheme)\" is not supported (use hmac-sha256, or hmac- and a hash OpenSSL has)"
      )
    }
    let secret = value["curve_secretkey"]?.stringValue
    let isZ85Key = { (key: String) in key.utf8.count == 40 && key.utf8.allSatisfy { $0 > 32 && $0 < 127 } }
    if let secret, !isZ85Key(secret) {
      throw .invalid(path: "", reason: "curve_secretkey must be a Z85 key of 40 characters")
    }
    if (secret == nil) != (value["curve_publickey"] == nil) {
      throw .invalid(path: "", reason: "curve_publickey and curve_secretkey come together")
    }
    self.init(
      transport: transport,
      ip: value["ip"]?.stringValue ?? "127.0.0.1",
      ports: ports,
      key: Array((value["key"]?.stringValue ?? "").utf8),
      signatureScheme: scheme,
      curveSecretKey: secret)
  }

  /// The ZeroMQ endpoint of a channel, in the form jupyter_client uses.
  public func endpoint(_ channel: Channel) -> String {
    let port = ports[channel] ?? 0
    if transport == "ipc" { return "ipc://\(ip)-\(port)" }
    let host = ip.contains(":") ? "[\(ip)]" : ip
    return "tcp://\(host):\(port == 0 ? "*" : String(port))"
  }
}

extension ConnectionInfo.Failure {
  fileprivate var reason: String {
    switch self {
    case .unreadable(_, let r), .invalid(_, let r): return r
    }
  }
}
