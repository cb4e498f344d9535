#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc

/// Loading a whole object (10 programs, 10 maps, global data) into the kernel, pinning it
/// and releasing it: `ObjectCollection` in process and `swiftbpf load --pin` as a process,
/// beside `bpftool prog loadall` (which always pins) as a process, in the same run. The
/// object is compiled with clang at run time.
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
        print("suite load: a whole object, 10 programs and 10 maps (+ .bss, .rodata), loaded, pinned and released (release build)")
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
        guard spawn(clang, ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu", sourcePath, "-o", objectPath]) else {
            print("skipped: clang could not compile the benchmark object")
            return
        }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: objectPath)))
        do { try ObjectFile(parsing: bytes, name: "load_bench").load().close() } catch {
            print("skipped: the kernel refused the object: \(error)")
            return
        }
        try BPFFileSystem.mountIfNeeded()
        let pins = "\(BPFFileSystem.defaultRoot)/swiftbpf-load-bench-\(getpid())"
        defer { removeTree(pins) }

        // Every way does the same work: parse, create the maps, load the ten programs, pin
        // the programs under `pins` (ours pins the maps too), release. Removing the pins
        // is outside the timing. Rounds alternate between the ways, best of each.
        let bpftool = ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let swiftbpf = ProcessInfo.processInfo.environment["SWIFTBPF_BENCH_SWIFTBPF"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("swiftbpf").path
        let hasSwiftBPF = FileManager.default.isExecutableFile(atPath: swiftbpf)
        var best = (inProcess: Double.infinity, bpftool: Double.infinity, swiftbpf: Double.infinity)
        for _ in 0..<15 {
            best.inProcess = min(best.inProcess, try time {
                let collection = try ObjectFile(parsing: bytes, name: "load_bench").load()
                defer { collection.close() }
                _ = try collection.pin(directory: pins)
            })
            removeTree(pins)
            if let bpftool {
                best.bpftool = min(best.bpftool, try time {
                    guard spawn(bpftool, ["prog", "loadall", objectPath, pins]) else { throw BenchFailure("bpftool prog loadall failed") }
                })
                removeTree(pins)
            }
            if hasSwiftBPF {
                best.swiftbpf = min(best.swiftbpf, try time {
                    guard spawn(swiftbpf, ["load", objectPath, "--pin", pins]) else { throw BenchFailure("\(swiftbpf) load failed") }
                })
                removeTree(pins)
            }
        }
        let peer = bpftool == nil ? nil : best.bpftool
        print(pad("loader", 40, left: true) + pad("ms/load", 10) + pad("bpftool ms", 12) + pad("ratio", 8))
        func row(_ name: String, _ time: Double) {
            var text = pad(name, 40, left: true) + pad(format(time / 1e6, decimals: 2), 10)
            if let peer { text += pad(format(peer / 1e6, decimals: 2), 12) + pad(format(time / peer, decimals: 2), 8) } else { text += "  (bpftool not installed)" }
            print(text)
        }
        row("ObjectCollection in process", best.inProcess)
        if hasSwiftBPF {
            row("swiftbpf load --pin (a process)", best.swiftbpf)
        } else {
            print("(swiftbpf load as a process: build the swiftbpf product in release too, or set SWIFTBPF_BENCH_SWIFTBPF)")
        }
        print("bpftool: `bpftool prog loadall OBJ DIR`, a process; swiftbpf: \(swiftbpf)")
    }

    struct BenchFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Wall time of one run of `body`, in ns.
    static func time(_ body: () throws -> Void) throws -> Double {
        nanoseconds(try ContinuousClock().measure(body))
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
