@preconcurrency import CPython
import Foundation

/// Swift closures that Python code can call.
///
/// The closure gets the positional arguments and returns a new object, or throws a
/// `PythonError` that becomes a Python exception of the same name where one exists.
public enum PythonCallback {
  public typealias Body = ([PyRef]) throws -> PyRef

  private final class Box {
    let body: Body
    init(_ body: @escaping Body) { self.body = body }
  }

  // PyCapsule keeps the name pointer, so it must be a C string that never moves.
  private static let capsuleName = UnsafePointer(strdup("tandem.callback")!)

  /// A Python callable named `name` that runs `body` on the calling (Python) thread.
  public static func make(name: String, _ body: @escaping Body) throws -> PyRef {
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let capsule = try PyRef.check(
      PyCapsule_New(box, capsuleName) { capsule in
        if let raw = PyCapsule_GetPointer(capsule, PythonCallback.capsuleName) {
          Unmanaged<Box>.fromOpaque(raw).release()
        }
      })
    // The method definition must outlive the function object; callbacks are few and
    // live as long as the process, so it is never freed.
    let def = UnsafeMutablePointer<PyMethodDef>.allocate(capacity: 1)
    def.initialize(
      to: PyMethodDef(
        ml_name: UnsafePointer(strdup(name)), ml_meth: trampoline,
        ml_flags: tandem_METH_VARARGS(), ml_doc: nil))
    return try PyRef.check(PyCFunction_NewEx(def, capsule.pointer, nil))
  }

  private static let trampoline: PyCFunction = { selfObject, args in
    guard let selfObject, let raw = PyCapsule_GetPointer(selfObject, PythonCallback.capsuleName)
    else { return nil }
    let box = Unmanaged<Box>.fromOpaque(raw).takeUnretainedValue()
    let arguments = args.map { PyRef(borrowed: $0).sequenceItems } ?? []
    do {
      let result = try box.body(arguments)
      Py_IncRef(result.pointer)
      return result.pointer
    } catch let error as PythonError {
      if PyErr_Occurred() == nil { PythonCallback.raise(error) }
      return nil
    } catch {
      PyErr_SetString(tandem_PyExc_RuntimeError(), "\(error)")
      return nil
    }
  }

  /// Sets `error` as the pending Python exception.
  static func raise(_ error: PythonError) {
    switch error.typeName {
    case "KeyboardInterrupt": PyErr_SetNone(tandem_PyExc_KeyboardInterrupt())
    case "EOFError": PyErr_SetString(tandem_PyExc_EOFError(), error.message)
    case "TypeError": PyErr_SetString(tandem_PyExc_TypeError(), error.message)
    default: PyErr_SetString(tandem_PyExc_RuntimeError(), error.description)
    }
  }
}
