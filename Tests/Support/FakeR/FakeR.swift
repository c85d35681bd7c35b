import Foundation

/// A stand-in for R in the unit tests of the R session and the R engine: a Python
/// script (run by the project's `.venv` Python, which has pyzmq) that speaks the
/// session's protocol as docs/r-session-protocol.md gives it. It reads the
/// endpoint and the kernel's pid from the `-e` expression the session passes, says
/// ready, then answers each request by its `code`:
///
/// - `crash`: exits with status 3 (`shutdown` exits with 0);
/// - `hold`: ignores interrupts and never answers (R stuck in C code);
/// - `finish despite interrupt`: ignores interrupts for a second, then answers ok
///   (R in C code that does not check for them);
/// - `until interrupt`: answers "interrupted" at an interrupt (R's own loop);
/// - `ask python`: calls into Python (`{"type": "python", "code": "x"}`) and
///   answers with what came back (`answer`, and its frames);
/// - `show`: sends a display (a cell's value) and a display with an id, then answers;
/// - `fail`: answers with R's error;
/// - anything else: answers ok with the code echoed (`echo`), its `seq`, its pid,
///   and the request's frames.
///
/// It answers pings between requests. With FAKE_R_IMPOSTOR set it first says ready
/// with another pid, as a process posing as R would; with FAKE_R_EXIT_AT_START it
/// exits before connecting.
public enum FakeR {
  static let script = #"""
    import json, os, re, signal, sys, time
    import zmq

    expression = sys.argv[sys.argv.index("-e") + 1]
    endpoint, kernel_pid = re.search(r"serve\('(.*)', (\d+)L\)", expression).groups()
    if os.environ.get("FAKE_R_EXIT_AT_START"):
        sys.exit(2)
    socket = zmq.Context().socket(zmq.DEALER)
    socket.connect(endpoint)

    def send(message, frames=()):
        socket.send_multipart([json.dumps(message).encode(), *frames])

    def receive():
        frames = socket.recv_multipart()
        return json.loads(frames[0]), frames[1:]

    class Interrupted(Exception):
        pass

    def interrupted(signum, frame):
        raise Interrupted()

    if os.environ.get("FAKE_R_IMPOSTOR"):
        send({"type": "ready", "pid": os.getpid() + 1, "version": "impostor"})
    send({"type": "ready", "pid": os.getpid(), "version": "fake R 1.0"})
    received = 0
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        message, frames = receive()
        kind, code = message["type"], message.get("code")
        if kind == "ping":
            send({"type": "pong", "request": message["request"], "received": message["request"] <= received})
            continue
        received = message.get("seq", received)
        if kind == "shutdown":
            sys.exit(0)
        if kind == "crash" or code == "crash":
            sys.exit(3)
        if code == "hold":
            time.sleep(3600)
        if code == "finish despite interrupt":
            time.sleep(1)
        if code == "until interrupt":
            signal.signal(signal.SIGINT, interrupted)
            try:
                time.sleep(3600)
            except Interrupted:
                send({"type": "reply", "status": "interrupted"})
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            continue
        if code == "ask python":
            send({"type": "python", "code": "x"}, [b"to python"])
            answer, answer_frames = receive()
            send({"type": "reply", "status": "ok", "answer": answer}, answer_frames)
            continue
        if code == "fail":
            send({"type": "reply", "status": "error", "evalue": "Error in f(): boom",
                  "traceback": ["Error in f(): boom", "Calls: f"]})
            continue
        if code == "show":
            send({"type": "display", "data": {"text/plain": "[1] 2"}, "metadata": {}, "result": True})
            send({"type": "display", "data": {"text/plain": "50%"}, "metadata": {}, "display_id": "bar"})
        reply = {"type": "reply", "status": "ok", "echo": code, "seq": message.get("seq"), "pid": os.getpid()}
        send(reply, frames)
    """#

  /// Writes the script with the project's Python in its `#!` line; returns its path.
  public static func install(in directory: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
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

  /// A folder only this user may reach (as the kernel's private folder is), for the
  /// session's socket and the script; the caller removes it.
  public static func privateFolder(_ name: String) throws -> String {
    let directory = NSTemporaryDirectory() + "\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    return directory
  }
}
