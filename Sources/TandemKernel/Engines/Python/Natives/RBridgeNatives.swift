import JSON
import PythonEngine

/// The Python half's way to R (the R magics, the `r` object):
/// `r_call(request_json, frames) -> [reply_json, frames]` runs one request in the
/// R session (see docs/r-session-protocol.md) and serves what R sends meanwhile.
enum RBridgeNatives {
  static func make(_ slot: FrontendSlot, r: REngine) throws -> [(String, PyRef)] {
    let call = try PythonCallback.make(name: "r_call") { args in
      guard args.count == 2, let bytes = args[0].bytesValue, let request = try? JSONValue.parse(bytes) else {
        throw PythonError(typeName: "TypeError", message: "r_call(request_json, frames)")
      }
      let frames = args[1].sequenceItems.compactMap(\.bytesValue)
      let count = request["result"]?.boolValue == true ? request["execution_count"]?.intValue : nil
      let reply = r.run(request, frames: frames, frontend: slot.frontend, resultCount: count)
      return PyRef(list: [
        PyRef(bytes: reply.body.serialized), PyRef(list: reply.frames.map { PyRef(bytes: $0) }),
      ])
    }
    return [("r_call", call)]
  }
}
