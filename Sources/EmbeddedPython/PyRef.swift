@preconcurrency import CPython

/// An owned reference to a Python object. Create, use and drop it only with the GIL
/// held, which in Tandem means on the Python thread.
public final class PyRef {
  public let pointer: UnsafeMutablePointer<PyObject>

  /// Takes ownership of a new reference; nil (a pending exception) becomes nil.
  public init?(owned pointer: UnsafeMutablePointer<PyObject>?) {
    guard let pointer else { return nil }
    self.pointer = pointer
  }

  /// Adds a reference to a borrowed pointer.
  public init(borrowed pointer: UnsafeMutablePointer<PyObject>) {
    Py_IncRef(pointer)
    self.pointer = pointer
  }

  deinit { Py_DecRef(pointer) }

  /// Takes a new reference or throws the pending Python exception.
  static func check(_ pointer: UnsafeMutablePointer<PyObject>?) throws -> PyRef {
    guard let ref = PyRef(owned: pointer) else { throw PythonError.fetch() }
    return ref
  }

  public static var none: PyRef { PyRef(borrowed: tandem_Py_None()) }

  public convenience init(_ string: String) {
    self.init(owned: PyUnicode_FromStringAndSize(string, string.utf8.count))!
  }

  public convenience init(_ int: Int) {
    self.init(owned: PyLong_FromLongLong(Int64(int)))!
  }

  public convenience init(_ bool: Bool) {
    self.init(borrowed: bool ? tandem_Py_True() : tandem_Py_False())
  }

  public convenience init(bytes: [UInt8]) {
    let p = bytes.withUnsafeBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
        PyBytes_FromStringAndSize($0, buffer.count)
      }
    }
    self.init(owned: p)!
  }

  /// A new `list` holding the items.
  public convenience init(list items: [PyRef]) {
    self.init(owned: PyList_New(items.count))!
    for (i, item) in items.enumerated() {
      Py_IncRef(item.pointer)  // PyList_SetItem steals a reference
      PyList_SetItem(pointer, i, item.pointer)
    }
  }

  /// A new `dict` from string keys.
  public convenience init(dictionary items: [(String, PyRef)]) {
    self.init(owned: PyDict_New())!
    for (key, value) in items { PyDict_SetItemString(pointer, key, value.pointer) }
  }

  /// Imports a module by its dotted name.
  public static func importModule(_ name: String) throws -> PyRef {
    try check(PyImport_ImportModule(name))
  }

  /// `getattr(self, name)`, or nil (exception cleared) when it is missing.
  public func attribute(_ name: String) -> PyRef? {
    let result = PyRef(owned: PyObject_GetAttrString(pointer, name))
    if result == nil { PyErr_Clear() }
    return result
  }

  /// `self(*args)`.
  @discardableResult
  public func call(_ args: [PyRef]) throws -> PyRef {
    let tuple = try PyRef.check(PyTuple_New(args.count))
    for (i, item) in args.enumerated() {
      Py_IncRef(item.pointer)  // PyTuple_SetItem steals a reference
      PyTuple_SetItem(tuple.pointer, i, item.pointer)
    }
    return try PyRef.check(PyObject_CallObject(pointer, tuple.pointer))
  }

  /// `self.name(*args)`.
  @discardableResult
  public func callMethod(_ name: String, _ args: PyRef...) throws -> PyRef {
    guard let method = attribute(name) else {
      throw PythonError(typeName: "AttributeError", message: "no attribute \(name)")
    }
    return try method.call(args)
  }

  public var isNone: Bool { pointer == tandem_Py_None() }

  /// The value of a `str`, or nil for other types.
  public var stringValue: String? {
    guard tandem_PyUnicode_Check(pointer) != 0 else { return nil }
    var size = 0
    guard let utf8 = PyUnicode_AsUTF8AndSize(pointer, &size) else {
      PyErr_Clear()
      return nil
    }
    return utf8.withMemoryRebound(to: UInt8.self, capacity: size) {
      String(decoding: UnsafeBufferPointer(start: $0, count: size), as: UTF8.self)
    }
  }

  /// The value of a `bytes` (or the UTF-8 of a `str`), or nil for other types.
  public var bytesValue: [UInt8]? {
    if tandem_PyBytes_Check(pointer) != 0 {
      let size = PyBytes_Size(pointer)
      guard let data = PyBytes_AsString(pointer) else { return nil }
      return data.withMemoryRebound(to: UInt8.self, capacity: size) {
        Array(UnsafeBufferPointer(start: $0, count: size))
      }
    }
    return stringValue.map { Array($0.utf8) }
  }

  public var boolValue: Bool { PyObject_IsTrue(pointer) == 1 }

  /// The value of a number, or nil for other types.
  public var doubleValue: Double? {
    let value = PyFloat_AsDouble(pointer)
    if value == -1, PyErr_Occurred() != nil {
      PyErr_Clear()
      return nil
    }
    return value
  }

  /// `str(self)`.
  public var text: String? {
    PyRef(owned: PyObject_Str(pointer))?.stringValue
  }

  /// The items of a list or tuple.
  public var sequenceItems: [PyRef] {
    let n = PySequence_Size(pointer)
    guard n >= 0 else {
      PyErr_Clear()
      return []
    }
    return (0..<n).compactMap { PyRef(owned: PySequence_GetItem(pointer, $0)) }
  }
}
