@preconcurrency import CPython
import PythonEngine

/// What the Python half's exchange takes from Swift when it runs in the kernel: its
/// string buffers made and read in C (`tandem_pack_strings` and
/// `tandem_fill_strings` in the CPython shim say how).
/// - `pack_strings(column) -> bytearray`: an object array of str as one buffer.
/// - `fill_strings(source, column)`: an object array filled from such a buffer.
func exchangeNatives() throws -> [(String, PyRef)] {
  let pack = try PythonCallback.make(name: "pack_strings") { args in
    guard args.count == 1 else {
      throw PythonError(typeName: "TypeError", message: "pack_strings(column)")
    }
    guard let packed = PyRef(owned: tandem_pack_strings(args[0].pointer)) else {
      throw PythonError(typeName: "ValueError", message: "")  // raised by the C side
    }
    return packed
  }
  let fill = try PythonCallback.make(name: "fill_strings") { args in
    guard args.count == 2 else {
      throw PythonError(typeName: "TypeError", message: "fill_strings(source, column)")
    }
    guard tandem_fill_strings(args[0].pointer, args[1].pointer) == 0 else {
      throw PythonError(typeName: "ValueError", message: "")  // raised by the C side
    }
    return .none
  }
  return [("pack_strings", pack), ("fill_strings", fill)]
}
