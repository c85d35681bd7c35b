import JSON
import JupyterWire

extension KernelTransport {
  /// Publishes busy or idle on IOPub for `parent`.
  func publishStatus(_ state: String, parent: Message) {
    let content = (["execution_state": .string(state)] as JSONValue).serialized
    send(
      Message(
        header: MessageHeader(msgType: "status", session: session), parentHeader: parent.rawHeader,
        content: content), on: .iopub)
  }

  /// Sends the reply to `request` on the channel it came from.
  func reply(to request: Message, type: String, content: [UInt8], on channel: Channel) {
    send(request.reply(type: type, content: content, session: session), on: channel)
  }
}
