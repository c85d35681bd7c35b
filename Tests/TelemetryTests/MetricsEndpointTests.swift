import Foundation
import Prometheus
import XCTest

@testable import Telemetry

/// The endpoint over a real loopback socket: what a Prometheus server's scrape gets.
final class MetricsEndpointTests: XCTestCase {
  /// A socket connected to the endpoint on loopback.
  private func connected(port: Int) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    XCTAssertGreaterThanOrEqual(fd, 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    XCTAssertEqual(result, 0)
    return fd
  }

  /// One HTTP/1.0 request; the whole response as text.
  private func get(_ path: String, port: Int, method: String = "GET") throws -> String {
    let fd = try connected(port: port)
    defer { close(fd) }
    let request = Array("\(method) \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
    XCTAssertEqual(write(fd, request, request.count), request.count)
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = read(fd, &buffer, buffer.count)
      if count <= 0 { break }
      response += buffer[0..<count]
    }
    return String(decoding: response, as: UTF8.self)
  }

  func testTheRegistryIsServedOnMetricsAfterCollecting() throws {
    let registry = PrometheusCollectorRegistry()
    let gauge = registry.makeGauge(name: "tandem_test_gauge")
    let collected = LockedCount()
    let endpoint = try MetricsEndpoint(MetricsAddress(host: "127.0.0.1", port: 0), registry: registry) {
      gauge.set(Double(collected.increment()))
    }
    defer { endpoint.stop() }
    XCTAssertNotEqual(endpoint.address.port, 0)
    let first = try get("/metrics", port: endpoint.address.port)
    XCTAssertTrue(first.hasPrefix("HTTP/1.0 200 OK"), first)
    XCTAssertTrue(first.contains("Content-Type: text/plain; version=0.0.4"), first)
    XCTAssertTrue(first.contains("tandem_test_gauge 1.0"), first)
    let second = try get("/metrics?x=1", port: endpoint.address.port)
    XCTAssertTrue(second.contains("tandem_test_gauge 2.0"), second)
  }

  func testOtherPathsAndMethodsAreRefused() throws {
    let endpoint = try MetricsEndpoint(
      MetricsAddress(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry()
    ) {}
    defer { endpoint.stop() }
    let missing = try get("/", port: endpoint.address.port)
    XCTAssertTrue(missing.hasPrefix("HTTP/1.0 404 Not Found"), missing)
    XCTAssertTrue(missing.contains("/metrics"), missing)
    let posted = try get("/metrics", port: endpoint.address.port, method: "POST")
    XCTAssertTrue(posted.hasPrefix("HTTP/1.0 405"), posted)
  }

  func testConnectionsBeyondTheLimitAreClosedOnArrival() throws {
    let endpoint = try MetricsEndpoint(
      MetricsAddress(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry()
    ) {}
    defer { endpoint.stop() }
    // Idle connections up to the limit, held open.
    var held: [Int32] = []
    defer { for fd in held { close(fd) } }
    for _ in 0..<MetricsEndpoint.maxConnections { held.append(try connected(port: endpoint.address.port)) }
    // One more is closed by the endpoint: its read sees the end at once.
    let extra = try connected(port: endpoint.address.port)
    defer { close(extra) }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var byte: UInt8 = 0
    XCTAssertEqual(read(extra, &byte, 1), 0)
    // Once one is let go, a scrape is served again.
    close(held.removeLast())
    Thread.sleep(forTimeInterval: 0.2)
    XCTAssertTrue(try get("/metrics", port: endpoint.address.port).hasPrefix("HTTP/1.0 200 OK"))
  }

  func testAPortInUseIsNamed() throws {
    let first = try MetricsEndpoint(
      MetricsAddress(host: "127.0.0.1", port: 0), registry: PrometheusCollectorRegistry()
    ) {}
    defer { first.stop() }
    XCTAssertThrowsError(
      try MetricsEndpoint(first.address, registry: PrometheusCollectorRegistry()) {}
    ) { error in
      XCTAssertTrue(
        "\(error)".contains("cannot serve metrics on 127.0.0.1:\(first.address.port)"), "\(error)")
    }
  }
}

private final class LockedCount: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0

  func increment() -> Int {
    lock.withLock {
      count += 1
      return count
    }
  }
}
