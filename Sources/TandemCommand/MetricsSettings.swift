import Foundation
import JSON

/// Where Tandem's kernels serve metrics, as `tandem doctor` reports it: the
/// `TANDEM_METRICS` of this environment and the `--metrics` of each Tandem
/// kernelspec Jupyter would find.
enum MetricsSettings {
  static func lines(python: String) -> [String] {
    var lines: [String] = []
    if let value = ProcessInfo.processInfo.environment["TANDEM_METRICS"], !value.isEmpty {
      lines.append("TANDEM_METRICS=\(value): kernels started from here serve http://\(value)/metrics")
    }
    for (name, address) in kernelspecs(python: python) {
      lines.append("kernelspec \(name): " + (address.map { "http://\($0)/metrics" } ?? "off"))
    }
    if lines.isEmpty { lines.append("off (no Tandem kernelspec found)") }
    return lines
  }

  /// Tandem's kernelspecs in Jupyter's data folders (first found wins, as Jupyter
  /// picks), with the address their kernels serve metrics on.
  private static func kernelspecs(python: String) -> [(String, String?)] {
    let env = ProcessInfo.processInfo.environment
    let prefix = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent().path
    var folders = (env["JUPYTER_PATH"] ?? "").split(separator: ":").map(String.init)
    folders += [JupyterDataFolder.user, prefix + "/share/jupyter"]
    folders += ["/usr/local/share/jupyter", "/usr/share/jupyter"]
    var seen = Set<String>()
    var found: [(String, String?)] = []
    for folder in folders {
      let kernels = folder + "/kernels"
      for name in ((try? FileManager.default.contentsOfDirectory(atPath: kernels)) ?? []).sorted()
      where !seen.contains(name) {
        guard let data = FileManager.default.contents(atPath: "\(kernels)/\(name)/kernel.json"),
          let spec = try? JSONValue.parse(Array(data)), let argv = spec["argv"]?.arrayValue,
          // The tandem program, or a python hosting the kernel.
          argv.first?.stringValue?.hasSuffix("/tandem") == true || argv.contains("tandem._host")
        else { continue }
        seen.insert(name)
        let arguments = argv.compactMap(\.stringValue)
        let address = arguments.firstIndex(of: "--metrics").flatMap {
          $0 + 1 < arguments.count ? arguments[$0 + 1] : nil
        }
        found.append((name, address))
      }
    }
    return found
  }
}
