import EmbeddedPython
import JSON
import KernelCore

/// The Python half's way to another language (R's magics, the `r` object):
/// `<language>_call(request_json, frames) -> [reply_json, frames]` (`r_call`) runs
/// one request of that engine's protocol (R's: docs/r-session-protocol.md) and
/// serves what it asks of Python meanwhile.
enum BridgeNatives {
  static func make(_ slot: FrontendSlot, peer: BridgedEngine) throws -> [(String, PyRef)] {
    let name = "\(peer.language.name)_call"
    let call = try PythonCallback.make(name: name) { args in
      guard args.count == 2, let bytes = args[0].bytesValue, let body = try? JSONValue.parse(bytes) else {
        throw PythonError(typeName: "TypeError", message: "\(name)(request_json, frames)")
      }
      let request = BridgeMessage(body: body, frames: args[1].sequenceItems.compactMap(\.bytesValue))
      let count = body["result"]?.boolValue == true ? body["execution_count"]?.intValue : nil
      let reply = peer.call(request, frontend: slot.frontend, resultCount: count)
      return PyRef(list: [
        PyRef(bytes: reply.body.serialized), PyRef(list: reply.frames.map { PyRef(bytes: $0) }),
      ])
    }
    return [(name, call)]
  }
}
