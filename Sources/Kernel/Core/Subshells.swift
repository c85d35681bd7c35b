import Foundation

/// The kernel's subshells (JEP 91) by id, in the order they were created. Read and
/// changed from the transport's thread; the shells serve on threads of their own.
final class Subshells: @unchecked Sendable {
  private let lock = NSLock()
  private var shells: [(id: String, shell: Shell)] = []

  /// The ids of the subshells, oldest first (list_subshell_reply).
  var ids: [String] {
    lock.withLock { shells.map(\.id) }
  }

  /// Every subshell, oldest first.
  var all: [Shell] {
    lock.withLock { shells.map(\.shell) }
  }

  func add(_ shell: Shell, id: String) {
    lock.withLock { shells.append((id, shell)) }
  }

  func shell(_ id: String) -> Shell? {
    lock.withLock { shells.first { $0.id == id }?.shell }
  }

  /// Removes and returns the subshell `id`, if there is one.
  func remove(_ id: String) -> Shell? {
    lock.withLock {
      guard let index = shells.firstIndex(where: { $0.id == id }) else { return nil }
      return shells.remove(at: index).shell
    }
  }

  /// Removes and returns every subshell.
  func removeAll() -> [Shell] {
    lock.withLock {
      defer { shells = [] }
      return shells.map(\.shell)
    }
  }
}
