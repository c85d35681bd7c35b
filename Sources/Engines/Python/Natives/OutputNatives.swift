import EmbeddedPython
import KernelCore

/// Output from the Python half:
/// - `publish(msg_type, content, metadata, buffers)` sends an IOPub message
///   (content and metadata as JSON bytes) whose parent is the running request;
/// - `parent()` is the running request's header (JSON bytes), or None;
/// - `publish_to(parent, msg_type, content, metadata, buffers)` sends one whose
///   parent is the header given: output that belongs to another request (a
///   future's cell, a thread that set its parent, an Output widget's cell).
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
    let parent = try PythonCallback.make(name: "parent") { _ in
      guard let header = slot.frontend?.currentParent else { return .none }
      return PyRef(bytes: header)
    }
    let publishTo = try PythonCallback.make(name: "publish_to") { args in
      guard args.count == 5, let parent = args[0].bytesValue, let type = args[1].stringValue,
        let content = args[2].bytesValue, let metadata = args[3].bytesValue
      else {
        throw PythonError(
          typeName: "TypeError", message: "publish_to(parent, msg_type, content, metadata, buffers)")
      }
      let buffers = args[4].sequenceItems.compactMap(\.bytesValue)
      slot.frontend?.publish(type, content: content, metadata: metadata, buffers: buffers, parent: parent)
      return .none
    }
    return [("publish", publish), ("parent", parent), ("publish_to", publishTo)]
  }
}
