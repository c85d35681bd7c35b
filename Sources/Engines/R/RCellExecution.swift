import JSON
import JupyterWire
import KernelCore
import RSession

/// The cells of the R-first kernel (`tandem-r`), run by R itself, as IRkernel runs
/// them: R evaluates each top-level expression, shows values, plots and errors; the
/// kernel gives the cell its number and keeps it in history. (An `%%R` cell, whose
/// first line may carry options, runs through the host's magic instead.)
extension REngine {
  func execute(_ request: ShellRequest, frontend: Frontend) -> Reply {
    let content = request.content
    let code = content["code"]?.stringValue ?? ""
    let silent = content["silent"]?.boolValue ?? false
    let count = request.executionCount
    // A cell kept out of history shows the last number with its value and reply,
    // as in ipykernel (its input shows the next).
    let shown = request.storesHistory ? count : count - 1
    if !silent {
      frontend.publish(.executeInput(code: code, count: count))
    }
    var body: JSONValue = [
      "type": "execute", "r_first": true, "code": .string(code),
      "allow_stdin": content["allow_stdin"] ?? false,
      "result": .bool(!silent), "execution_count": .int(shown), "capture": false,
      "user_expressions": content["user_expressions"] ?? [:],
    ]
    if silent {
      body["line"] = true  // a silent cell shows no values, as IPython's
      body["capture"] = "none"
    }
    let run = { self.run(body, frontend: frontend, resultCount: shown) }
    // nil: an interrupt came before R started, and the cell does not run.
    let outcome = thread.map { $0.interruptible(run) } ?? run()

    var reply: [String: JSONValue] = [
      "execution_count": .int(shown),
      "payload": outcome?["payload"] ?? [],
      "user_expressions": [:],
    ]
    let error: EngineOutput
    switch outcome?["status"]?.stringValue {
    case "ok":
      reply["status"] = "ok"
      reply["user_expressions"] = outcome?["user_expressions"] ?? [:]
      return Reply(content: .object(reply))
    case "error":
      // IRkernel's name and value: "ERROR", and R's "Error in f(): message" line
      // (notebooks and tools written for IRkernel read them).
      let traceback = outcome?["traceback"] ?? [outcome?["evalue"] ?? ""]
      error = .error(
        ename: "ERROR", evalue: traceback.arrayValue?.first ?? outcome?["evalue"] ?? "", traceback: traceback)
    default:
      // Interrupted: nothing but the name, as IRkernel shows no traceback.
      error = .error(ename: "KeyboardInterrupt", evalue: "", traceback: [])
    }
    frontend.publish(error)
    reply["status"] = "error"
    reply.merge(error.content.objectValue ?? [:]) { _, new in new }
    return Reply(content: .object(reply))
  }
}
