import CoreMetrics
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// The kernel's metrics as Prometheus text on `GET /metrics`, over HTTP (swift-nio,
/// one event-loop thread). Everything recorded through swift-metrics after
/// `bootstrap` is served; `collect` runs before each scrape to set the gauges read
/// at that moment (memory, CPU time, the pool's state).
public final class MetricsEndpoint: Sendable {
  /// Where it listens, as bound (the port is the real one when 0 was asked).
  public let address: MetricsAddress

  private let group: MultiThreadedEventLoopGroup
  private let channel: any Channel

  /// Installs the Prometheus backend for swift-metrics (once per process) and
  /// returns its registry. Histogram buckets span 100 µs to an hour, so both a
  /// trivial task and a long job land in a bucket of their own.
  public static func bootstrap() -> PrometheusCollectorRegistry {
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultDurationHistogramBuckets = durationBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
    factory.defaultValueHistogramBuckets = durationBuckets
    MetricsSystem.bootstrap(factory)
    return registry
  }

  /// Histogram bounds, in seconds.
  public static let durationBuckets: [Double] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    120,
    300, 600, 1800, 3600,
  ]

  /// Connections served at once; more are closed on arrival.
  static let maxConnections = 16
  /// A connection that sends nothing for this long is closed.
  static let idleTimeout = TimeAmount.seconds(30)

  /// Listens at `host:port` (`MetricsAddress`); throws when it cannot bind.
  public init(
    _ requested: MetricsAddress, registry: PrometheusCollectorRegistry,
    collect: @escaping @Sendable () -> Void
  ) throws {
    group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let connections = ConnectionLimit(Self.maxConnections)
    let bootstrap = ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 16)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        // The port is open to every local user: connections are few and short, so
        // that no one can hold the kernel's file descriptors.
        guard connections.admit() else { return channel.close() }
        channel.closeFuture.whenComplete { _ in connections.release() }
        do {
          let pipeline = channel.pipeline.syncOperations
          try pipeline.addHandler(IdleStateHandler(allTimeout: Self.idleTimeout))
          try pipeline.configureHTTPServerPipeline()
          try pipeline.addHandler(ScrapeHandler(registry: registry, collect: collect))
          return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
          return channel.eventLoop.makeFailedFuture(error)
        }
      }
    do {
      channel = try bootstrap.bind(host: requested.host, port: requested.port).wait()
    } catch {
      try? group.syncShutdownGracefully()
      throw MetricsAddress.Problem(text: "cannot serve metrics on \(requested): \(error)")
    }
    address = MetricsAddress(host: requested.host, port: channel.localAddress?.port ?? requested.port)
  }

  /// Stops listening.
  public func stop() {
    try? channel.close().wait()
    try? group.syncShutdownGracefully()
  }
}

/// Answers one HTTP request at a time on a connection: `/metrics` with the
/// registry's text, anything else with 404.
private final class ScrapeHandler: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let registry: PrometheusCollectorRegistry
  private let collect: @Sendable () -> Void
  private var head: HTTPRequestHead?

  init(registry: PrometheusCollectorRegistry, collect: @escaping @Sendable () -> Void) {
    self.registry = registry
    self.collect = collect
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let request): head = request
    case .body: break
    case .end:
      guard let request = head else { return }
      head = nil
      respond(to: request, context: context)
    }
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is IdleStateHandler.IdleStateEvent {
      context.close(promise: nil)
    } else {
      context.fireUserInboundEventTriggered(event)
    }
  }

  private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
    let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
    var status = HTTPResponseStatus.ok
    var body: [UInt8]
    var contentType = "text/plain; version=0.0.4; charset=utf-8"
    if request.method != .GET && request.method != .HEAD {
      status = .methodNotAllowed
      body = Array("only GET is served\n".utf8)
    } else if path == "/metrics" {
      collect()
      body = registry.emitToBuffer()
    } else {
      status = .notFound
      contentType = "text/plain; charset=utf-8"
      body = Array("Tandem serves its metrics on /metrics\n".utf8)
    }
    var headers = HTTPHeaders()
    headers.add(name: "Content-Type", value: contentType)
    headers.add(name: "Content-Length", value: String(body.count))
    let keepAlive = request.isKeepAlive
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    let head = HTTPResponseHead(version: request.version, status: status, headers: headers)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    if request.method != .HEAD {
      context.write(
        wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
    }
    let channel = context.channel
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
      if !keepAlive { channel.close(promise: nil) }
    }
  }
}

/// How many connections are open, against a limit.
private final class ConnectionLimit: @unchecked Sendable {
  private let lock = NSLock()
  private let limit: Int
  private var open = 0

  init(_ limit: Int) { self.limit = limit }

  func admit() -> Bool {
    lock.withLock {
      guard open < limit else { return false }
      open += 1
      return true
    }
  }

  func release() { lock.withLock { open -= 1 } }
}
