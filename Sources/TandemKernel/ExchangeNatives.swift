@preconcurrency import CPython
import PythonEngine

/// What the Python half's exchange takes from Swift when it runs in the kernel:
/// `fill_strings(source, column)` fills an object array with the strings of an
/// exchange string buffer (`tandem_fill_strings` in the CPython shim says how).
func exchangeNatives() throws -> [(String, PyRef)] {
  let fill = try PythonCallback.make(name: "fill_strings") { args in
    guard args.count == 2 else {
      throw PythonError(typeName: "TypeError", message: "fill_strings(source, column)")
    }
    guard tandem_fill_strings(args[0].pointer, args[1].pointer) == 0 else {
      throw PythonError(typeName: "ValueError", message: "")  // raised by the C side
    }
    return .none
  }
  return [("fill_strings", fill)]
}
