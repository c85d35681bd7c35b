import JSON
import JupyterWire

/// What an engine shows in the cell, as the IOPub messages ipykernel sends for it
/// (xeus gives its interpreters `publish_stream`, `display_data`,
/// `publish_execution_error` for the same): engines say what, `Frontend.publish(_:)`
/// makes the message.
public enum EngineOutput {
  case stream(name: String, text: String)
  case executeInput(code: String, count: Int64)
  /// `transient` holds the `display_id` of an output that later updates replace.
  case displayData(data: JSONValue, metadata: JSONValue, transient: JSONValue)
  case updateDisplayData(data: JSONValue, metadata: JSONValue, transient: JSONValue)
  case executeResult(count: Int64, data: JSONValue, metadata: JSONValue)
  case error(ename: String, evalue: JSONValue, traceback: JSONValue)
  case clearOutput(wait: Bool)

  /// The IOPub message type.
  public var msgType: String {
    switch self {
    case .stream: "stream"
    case .executeInput: "execute_input"
    case .displayData: "display_data"
    case .updateDisplayData: "update_display_data"
    case .executeResult: "execute_result"
    case .error: "error"
    case .clearOutput: "clear_output"
    }
  }

  /// The message's content.
  public var content: JSONValue {
    switch self {
    case .stream(let name, let text):
      ["name": .string(name), "text": .string(text)]
    case .executeInput(let code, let count):
      ["code": .string(code), "execution_count": .int(count)]
    case .displayData(let data, let metadata, let transient),
      .updateDisplayData(let data, let metadata, let transient):
      ["data": data, "metadata": metadata, "transient": transient]
    case .executeResult(let count, let data, let metadata):
      ["execution_count": .int(count), "data": data, "metadata": metadata]
    case .error(let ename, let evalue, let traceback):
      ["ename": .string(ename), "evalue": evalue, "traceback": traceback]
    case .clearOutput(let wait):
      ["wait": .bool(wait)]
    }
  }
}

extension Frontend {
  /// Publishes `output` with the current request as its parent.
  public func publish(_ output: EngineOutput) {
    publish(output.msgType, content: output.content.serialized, metadata: Message.emptyObject, buffers: [])
  }
}
