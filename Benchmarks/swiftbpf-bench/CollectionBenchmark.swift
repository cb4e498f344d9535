#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc

/// Loading a whole object (10 programs, 10 maps, global data) into the kernel and releasing
/// it: `ObjectCollection` in process, `swiftbpf load` as a process, and
/// `bpftool prog loadall` (which must pin, into a temporary bpffs directory removed after
/// each run), best of several rounds. The object is compiled with clang at run time.
enum CollectionBenchmark {
    static let clang = "/opt/swift/usr/bin/clang"

    /// Ten XDP programs, each using its own hash map and a shared global.
    static var source: String {
        var text = """
            #include <linux/types.h>
            #include <linux/bpf.h>
            #define SEC(name) __attribute__((section(name), used))
            #define __uint(name, value) int (*name)[value]
            #define __type(name, value) typeof(value) *name
            static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
            __u64 hits;
            const volatile __u32 verdict = XDP_PASS;

            """
        for index in 0..<10 {
            text += """
                struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } map\(index) SEC(".maps");
                SEC("xdp") int prog\(index)(struct xdp_md *ctx) {
                    __u32 key = \(index);
                    __u64 *value = bpf_map_lookup_elem(&map\(index), &key);
                    if (value) __sync_fetch_and_add(value, 1);
                    hits++;
                    return verdict;
                }

                """
        }
        return text + "char LICENSE[] SEC(\"license\") = \"GPL\";\n"
    }

    static func run() throws {
        print("suite load: a whole object, 10 programs and 10 maps (+ .bss, .rodata), loaded and released (release build)")
        guard FileManager.default.isExecutableFile(atPath: clang) else {
            print("skipped: \(clang) is not installed")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-load-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sourcePath = directory.appendingPathComponent("load_bench.bpf.c").path
        let objectPath = directory.appendingPathComponent("load_bench.bpf.o").path
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        guard try runQuietly(clang, ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu", sourcePath, "-o", objectPath]) else {
            print("skipped: clang could not compile the benchmark object")
            return
        }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: objectPath)))
        let object = try ObjectFile(parsing: bytes, name: "load_bench")
        do { try object.load().close() } catch {
            print("skipped: the kernel refused the object: \(error)")
            return
        }

        let inProcess = try best(of: 9) {
            let collection = try ObjectFile(parsing: bytes, name: "load_bench").load()
            collection.close()
        }
        print(pad("loader", 34, left: true) + pad("ms/load", 10) + pad("bpftool ms", 12) + pad("ratio", 8))
        var peer: Double?
        if let bpftool = ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            try BPFFileSystem.mountIfNeeded()
            let pins = "\(BPFFileSystem.defaultRoot)/swiftbpf-load-bench-\(getpid())"
            peer = try best(of: 9) {
                defer { removeTree(pins) }
                guard try runQuietly(bpftool, ["prog", "loadall", objectPath, pins]) else {
                    throw CocoaError(.executableLoad)
                }
            }
            removeTree(pins)
        }
        func row(_ name: String, _ time: Double) -> String {
            var text = pad(name, 34, left: true) + pad(format(time / 1e6, decimals: 2), 10)
            if let peer { text += pad(format(peer / 1e6, decimals: 2), 12) + pad(format(time / peer, decimals: 2), 8) } else { text += "  (bpftool not installed)" }
            return text
        }
        print(row("ObjectCollection (in process)", inProcess))
        let swiftbpf = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("swiftbpf").path
        if FileManager.default.isExecutableFile(atPath: swiftbpf) {
            let process = try best(of: 9) {
                guard try runQuietly(swiftbpf, ["load", objectPath]) else { throw CocoaError(.executableLoad) }
            }
            print(row("swiftbpf load (process)", process))
        } else {
            print("(swiftbpf load as a process: build the swiftbpf product in release too)")
        }
    }

    /// Best wall time of `rounds` runs of `body`, in ns.
    static func best(of rounds: Int, _ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<rounds {
            let elapsed = try clock.measure(body)
            best = min(best, Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
        }
        return best
    }

    static func runQuietly(_ executable: String, _ arguments: [String]) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func removeTree(_ path: String) {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for entry in entries { removeTree(path + "/" + entry) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
#else
enum CollectionBenchmark {
    static func run() throws { print("suite load: Linux only") }
}
#endif
