import PythonEngine

/// Output from the Python half: `publish(msg_type, content, metadata, buffers)`
/// sends an IOPub message (content and metadata as JSON bytes) whose parent is the
/// running request.
enum OutputNatives {
  static func make(_ slot: FrontendSlot) throws -> [(String, PyRef)] {
    let publish = try PythonCallback.make(name: "publish") { args in
      guard args.count == 4, let type = args[0].stringValue, let content = args[1].bytesValue,
        let metadata = args[2].bytesValue
      else {
        throw PythonError(typeName: "TypeError", message: "publish(msg_type, content, metadata, buffers)")
      }
      let buffers = args[3].sequenceItems.compactMap(\.bytesValue)
      slot.frontend?.publish(type, content: content, metadata: metadata, buffers: buffers)
      return .none
    }
    return [("publish", publish)]
  }
}
