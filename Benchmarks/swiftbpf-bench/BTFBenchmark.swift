import BPFObject
import Foundation

/// BTF parsing speed: the running kernel's BTF, ms per parse (best of several rounds).
enum BTFBenchmark {
    static func run() throws {
        let path = "/sys/kernel/btf/vmlinux"
        print("suite btf: parsing \(path) (release build)")
        guard let data = FileManager.default.contents(atPath: path) else {
            print("skipped: \(path) is not readable")
            return
        }
        let bytes = Array(data)
        var types = 0
        let perParse = try measure(rounds: 7, target: .milliseconds(500)) { types = try BTF(parsing: bytes).count }
        print(pad("blob", 20, left: true) + pad("bytes", 12) + pad("types", 10) + pad("ms/parse", 12) + pad("MB/s", 10))
        print(pad("vmlinux", 20, left: true) + pad(String(bytes.count), 12) + pad(String(types - 1), 10)
              + pad(format(perParse / 1e6, decimals: 2), 12) + pad(format(Double(bytes.count) / perParse * 1e3, decimals: 0), 10))
        let btf = try BTF(parsing: bytes)
        var found = 0
        let perLookup = measure { found &+= btf.ids(named: "task_struct").count }
        print(pad("ids(named: \"task_struct\")", 42, left: true) + pad(format(perLookup / 1e6, decimals: 3), 12) + " ms")
        if found == 0 { print("task_struct not found") }
    }
}
