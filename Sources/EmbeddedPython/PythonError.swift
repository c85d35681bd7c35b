@preconcurrency import CPython

/// A Python exception, or a failure to bring Python up, as Swift sees it.
public struct PythonError: Error, CustomStringConvertible, Sendable {
  /// The exception's type name, such as `KeyboardInterrupt`.
  public let typeName: String
  public let message: String

  public init(typeName: String, message: String) {
    self.typeName = typeName
    self.message = message
  }

  public var description: String { message.isEmpty ? typeName : "\(typeName): \(message)" }

  /// Takes the pending Python exception (clearing it). Requires the GIL.
  static func fetch() -> PythonError {
    var type: UnsafeMutablePointer<PyObject>?
    var value: UnsafeMutablePointer<PyObject>?
    var traceback: UnsafeMutablePointer<PyObject>?
    PyErr_Fetch(&type, &value, &traceback)
    defer {
      for p in [type, value, traceback] { if let p { Py_DecRef(p) } }
    }
    guard let type else { return PythonError(typeName: "SystemError", message: "no exception set") }
    let name = PyRef(borrowed: type).attribute("__name__").flatMap { $0.stringValue } ?? "Exception"
    let text = value.flatMap { PyRef(borrowed: $0).text } ?? ""
    return PythonError(typeName: name, message: text)
  }
}
