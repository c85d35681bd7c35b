import EmbeddedPython
import Futures
import KernelCore

/// How the Python half reaches the futures broker in-process (see
/// docs/futures-protocol.md for the frames):
/// - `futures_send(frames)`; `futures_receive(timeout | None) -> [frames, ...]`,
///   the GIL released while it waits;
/// - `futures_interrupt()`, which every interrupt of the kernel calls;
/// - `futures_cancel(task_id) -> bool` and `futures_queued(task_id) -> bool`
///   (whether a task has not started), answered at once.
/// - `futures_status() -> str`, the pool's state as JSON, and
///   `futures_stuck_after(seconds)`, for `tandem.status()`.
/// A task's output goes to its cell through the output natives (`parent`, `publish_to`).
enum FuturesNatives {
  static func make(client: LocalClient, thread: PythonThread) throws -> [(
    String, PyRef
  )] {
    let send = try PythonCallback.make(name: "futures_send") { args in
      guard args.count == 1 else { throw PythonError(typeName: "TypeError", message: "futures_send(frames)") }
      client.send(args[0].sequenceItems.map { $0.bytesValue ?? [] })
      return .none
    }
    let receive = try PythonCallback.make(name: "futures_receive") { args in
      // None waits until a message comes: an idle kernel's reader does not wake.
      let timeout = args.first?.doubleValue
      let messages = thread.waiting { client.receive(timeout: timeout) }
      return PyRef(list: messages.map { PyRef(list: $0.map { PyRef(bytes: $0) }) })
    }
    let interrupt = try PythonCallback.make(name: "futures_interrupt") { _ in
      client.interruptAll()
      return .none
    }
    let cancel = try PythonCallback.make(name: "futures_cancel") { args in
      guard args.count == 1, let id = args[0].bytesValue else {
        throw PythonError(typeName: "TypeError", message: "futures_cancel(task_id)")
      }
      return PyRef(client.cancel(id))
    }
    let queued = try PythonCallback.make(name: "futures_queued") { args in
      guard args.count == 1, let id = args[0].bytesValue else {
        throw PythonError(typeName: "TypeError", message: "futures_queued(task_id)")
      }
      return PyRef(client.isQueued(id))
    }
    let status = try PythonCallback.make(name: "futures_status") { _ in
      PyRef(client.status())
    }
    let stuckAfter = try PythonCallback.make(name: "futures_stuck_after") { args in
      guard args.count == 1, let seconds = args[0].doubleValue, seconds > 0 else {
        throw PythonError(typeName: "ValueError", message: "futures_stuck_after(seconds > 0)")
      }
      client.setStuckThreshold(seconds)
      return .none
    }
    return [
      ("futures_send", send), ("futures_receive", receive), ("futures_interrupt", interrupt),
      ("futures_cancel", cancel), ("futures_queued", queued), ("futures_status", status),
      ("futures_stuck_after", stuckAfter),
    ]
  }
}
