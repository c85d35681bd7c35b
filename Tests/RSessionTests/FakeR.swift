import Foundation

/// A stand-in for R: a Python script (run by the project's `.venv` Python, which has
/// pyzmq) that speaks the session's protocol as docs/r-session-protocol.md gives it.
/// It reads the endpoint and the kernel's pid from the `-e` expression the session
/// passes, says ready, then answers: `execute` with its code echoed, `crash` by
/// exiting with status 3, `shutdown` by exiting. With FAKE_R_IMPOSTOR set it first
/// says ready with another pid, as a process posing as R would.
enum FakeR {
  static let script = #"""
    import json, os, re, sys
    import zmq

    expression = sys.argv[sys.argv.index("-e") + 1]
    endpoint, kernel_pid = re.search(r"serve\('(.*)', (\d+)L\)", expression).groups()
    if os.environ.get("FAKE_R_EXIT_AT_START"):
        sys.exit(2)
    socket = zmq.Context().socket(zmq.DEALER)
    socket.connect(endpoint)
    if os.environ.get("FAKE_R_IMPOSTOR"):
        socket.send(json.dumps({"type": "ready", "pid": os.getpid() + 1, "version": "impostor"}).encode())
    socket.send(json.dumps({"type": "ready", "pid": os.getpid(), "version": "fake R 1.0"}).encode())
    while True:
        frames = socket.recv_multipart()
        message = json.loads(frames[0])
        if message["type"] == "shutdown":
            sys.exit(0)
        if message["type"] == "crash":
            sys.exit(3)
        reply = {"type": "reply", "status": "ok", "echo": message.get("code"), "pid": os.getpid()}
        socket.send_multipart([json.dumps(reply).encode(), *frames[1:]])
    """#

  /// Writes the script with the project's Python in its `#!` line; returns its path.
  static func install(in directory: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let python = root.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
      throw NSError(
        domain: "FakeR", code: 1,
        userInfo: [NSLocalizedDescriptionKey: "\(python) is missing: run `make setup` first"])
    }
    let path = directory + "/fake-R"
    try ("#!\(python)\n" + script).write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
  }
}
