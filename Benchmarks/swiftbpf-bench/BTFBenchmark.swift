import BPFObject
import Foundation

/// BTF speed on the running kernel's BTF (best of several rounds): parsing, a name
/// lookup, and writing vmlinux.h — the last beside `bpftool btf dump file ... format c`,
/// run as a subprocess in the same run.
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
        try cHeader(path: path, bytes: bytes)
    }

    /// vmlinux.h: parse and write in process, against bpftool doing the same from its own
    /// process start to exit, output to /dev/null.
    private static func cHeader(path: String, bytes: [UInt8]) throws {
        var size = 0
        let ours = try measure(rounds: 7, target: .milliseconds(1000)) { size = try BTF(parsing: bytes).cHeaderBytes().count }
        print(pad("C header (vmlinux.h)", 28, left: true) + pad("bytes", 10) + pad("ms", 10) + pad("bpftool ms", 12) + pad("ratio", 8))
        var row = pad("parse + cHeaderBytes()", 28, left: true) + pad(String(size), 10) + pad(format(ours / 1e6, decimals: 1), 10)
        if let bpftool = bpftoolPath(), let peer = try bpftoolTime(bpftool, path: path) {
            row += pad(format(peer / 1e6, decimals: 1), 12) + pad(format(ours / peer, decimals: 2), 8)
        } else {
            row += pad("-", 12) + pad("-", 8) + "  (bpftool not installed)"
        }
        print(row)
    }

    private static func bpftoolPath() -> String? {
        ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool", "/sbin/bpftool"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Best of several runs of `bpftool btf dump file PATH format c > /dev/null`, in ns.
    private static func bpftoolTime(_ bpftool: String, path: String) throws -> Double? {
        spawnTime(bpftool, ["btf", "dump", "file", path, "format", "c"], rounds: 7)
    }
}
