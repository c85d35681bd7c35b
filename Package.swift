// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Tandem",
  products: [
    .executable(name: "tandem", targets: ["tandem"]),
    // The kernel itself, which `tandem` and an environment's own python load.
    .library(name: "TandemMain", type: .dynamic, targets: ["TandemMain"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
  ],
  targets: [
    // System libraries and the C macros Swift cannot import.
    .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ"),
    .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto"),
    // CPython's C API as a table of functions loaded from the libpython of the
    // environment a kernel embeds; no Python headers needed to build.
    .target(name: "CPython", linkerSettings: [.linkedLibrary("dl")]),

    // JSON values and their codec, shared by every protocol Tandem speaks.
    .target(name: "JSON"),
    // ZeroMQ sockets, each owned by one thread, and the queue that wakes a thread
    // polling them.
    .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
    // The Jupyter messaging protocol: connection files, messages, signing, sockets.
    .target(
      name: "JupyterWire",
      dependencies: [
        "JSON", "ZeroMQ", "COpenSSL",
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Child processes: spawned with a clean signal state, reaped, described; and
    // programs run to their end for what they print, with a time limit.
    .target(name: "ChildProcess"),
    // The child R process: start, protocol transport, interrupt, restart.
    .target(
      name: "RSession",
      dependencies: ["JSON", "ZeroMQ", "ChildProcess", .product(name: "Logging", package: "swift-log")]
    ),
    // Parallel futures: the broker and the pool of worker processes.
    .target(
      name: "Futures",
      dependencies: [
        "CZeroMQ", "ZeroMQ", "ChildProcess", "ProcessStats",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ]
    ),
    // Where values crossing between Python and R travel when large (the format
    // itself is coded in the Python and R halves).
    .target(name: "Exchange"),
    // What the kernel's process tree and the machine use, read from /proc (and as metrics).
    .target(name: "ProcessStats", dependencies: [.product(name: "Metrics", package: "swift-metrics")]),
    // The kernel's metrics in Prometheus's text format, served over HTTP.
    .target(
      name: "Telemetry",
      dependencies: [
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]
    ),
    // Embedded CPython: lifecycle, GIL, object handles, errors. Holds C pointers,
    // so it uses language mode 5.
    .target(
      name: "EmbeddedPython",
      dependencies: ["CPython", "ChildProcess", "JSON", .product(name: "Logging", package: "swift-log")],
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    // The kernel's core: channels, shells and their queues, control requests, the
    // engine interface, output capture, the kernel's metrics. It knows no language:
    // engines declare theirs.
    .target(
      name: "KernelCore",
      dependencies: [
        "JSON", "JupyterWire", "ProcessStats",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      path: "Sources/Kernel/Core"
    ),
    // Which engine serves a request: cell magics, the default language, the host.
    .target(name: "KernelRouting", dependencies: ["KernelCore", "JSON"], path: "Sources/Kernel/Routing"),
    // Python cells: IPython in the embedded interpreter, the router's host, and the
    // natives its Python half calls. Holds Python object handles (language mode 5).
    .target(
      name: "EnginePython",
      dependencies: [
        "KernelCore", "EmbeddedPython", "JSON", "Futures",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      path: "Sources/Engines/Python",
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    // R cells and the R bridge, in the child R session.
    .target(
      name: "EngineR",
      dependencies: [
        "KernelCore", "RSession", "JSON", "JupyterWire",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      path: "Sources/Engines/R",
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    // The commands: kernel, install, doctor, worker.
    .target(
      name: "TandemCommand",
      dependencies: [
        "KernelCore", "KernelRouting", "EnginePython", "EngineR", "JSON", "JupyterWire", "EmbeddedPython",
        "RSession", "ZeroMQ", "Exchange", "Futures",
        "ChildProcess", "ProcessStats", "Telemetry",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    // The library's entries, called from C with C pointers (language mode 5). It
    // carries the Swift runtime itself (a python that loads it has none), hence the
    // flag, on a target only the library links.
    .target(
      name: "TandemMain",
      dependencies: ["TandemCommand", "EmbeddedPython"],
      swiftSettings: [.swiftLanguageMode(.v5)],
      linkerSettings: [.unsafeFlags(["-static-stdlib"])]
    ),
    // The `tandem` program: a few lines of C that load the library beside them.
    .executableTarget(name: "tandem", linkerSettings: [.linkedLibrary("dl")]),
    .testTarget(
      name: "JupyterWireTests",
      dependencies: [
        "JupyterWire", "JSON", "ZeroMQ", "CZeroMQ", .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
    .testTarget(name: "ExchangeTests", dependencies: ["Exchange"]),
    .testTarget(name: "ProcessStatsTests", dependencies: ["ProcessStats"]),
    .testTarget(name: "ChildProcessTests", dependencies: ["ChildProcess"]),
    // The project's Python embedded once per test process, for the tests below.
    .target(
      name: "TestPython",
      dependencies: ["EmbeddedPython", .product(name: "Logging", package: "swift-log")],
      path: "Tests/Support/TestPython"
    ),
    .testTarget(
      name: "EmbeddedPythonTests", dependencies: ["EmbeddedPython", "TestPython"],
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    // A frontend and an engine thread the engines' tests drive.
    .target(
      name: "EngineDoubles", dependencies: ["KernelCore", "JSON"], path: "Tests/Support/EngineDoubles"),
    .testTarget(
      name: "EnginePythonTests",
      dependencies: ["EnginePython", "EmbeddedPython", "KernelCore", "JSON", "TestPython", "EngineDoubles"],
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
    // A stand-in for R that speaks the session's protocol, for the unit tests below.
    .target(name: "FakeR", path: "Tests/Support/FakeR"),
    .testTarget(
      name: "RSessionTests",
      dependencies: ["RSession", "FakeR", "JSON", .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(
      name: "EngineRTests",
      dependencies: [
        "EngineR", "KernelCore", "RSession", "FakeR", "EngineDoubles", "JSON",
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .testTarget(
      name: "KernelTests",
      dependencies: [
        "KernelCore", "KernelRouting", "JSON", "JupyterWire", .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .testTarget(
      name: "FuturesTests",
      dependencies: ["Futures", "ZeroMQ", "CZeroMQ", .product(name: "Logging", package: "swift-log")]
    ),
  ]
)
