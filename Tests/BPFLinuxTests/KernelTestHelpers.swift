#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Synchronization
import TestPeers
import Testing

/// What the map and program tests share: one kernel test at a time, a check that every
/// descriptor and pin a test made is gone when it ends, the C fixtures compiled with the
/// toolchain's clang, and bpftool as a peer.
enum KernelTests {
    /// Runs `body` when bpf(2) is usable (else skips, or fails under
    /// SWIFTBPF_REQUIRE_KERNEL=1), alone among the kernel tests, and checks that it left no
    /// descriptor open: /proc/self/fd counted before and after; a new descriptor is a leak
    /// when it is a bpf object or something in bpffs (others may belong to tests of other
    /// targets running at the same time).
    static func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        guard KernelTestSupport.bpfAvailable(sourceLocation: sourceLocation) else { return }
        _ = warmedUp
        try KernelTestLock.run {
            let before = openDescriptors()
            let mappingsBefore = bpfMappings()
            try body()
            let after = openDescriptors()
            let leaked = after.filter { fd, target in before[fd] != target && isKernelObject(target) }
            #expect(leaked.isEmpty, "descriptors left open: \(leaked.sorted { $0.key < $1.key })", sourceLocation: sourceLocation)
            if after.count != before.count && leaked.isEmpty {
                let others = after.filter { before[$0.key] != $0.value }.map { "\($0.key)→\($0.value)" }.sorted()
                print("note: /proc/self/fd count \(before.count) → \(after.count), none of them bpf objects: \(others)")
            }
            #expect(bpfMappings() == mappingsBefore, "bpf map memory left mapped", sourceLocation: sourceLocation)
        }
    }

    /// Foundation opens its event descriptors on the first `Process`; open them before the
    /// first count, so that counts compare.
    private static let warmedUp: Bool = (try? runTool("/bin/true", [])) != nil

    /// fd → what /proc/self/fd/N points at.
    static func openDescriptors() -> [Int32: String] {
        var result: [Int32: String] = [:]
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return result }
        for entry in entries {
            guard let fd = Int32(entry) else { continue }
            result[fd] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)")) ?? "?"
        }
        return result
    }

    static func isKernelObject(_ target: String) -> Bool {
        target.hasPrefix("anon_inode:bpf") || target == "anon_inode:btf" || target.hasPrefix(BPFFileSystem.defaultRoot)
    }

    /// Lines of /proc/self/maps that map bpf maps.
    static func bpfMappings() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("anon_inode:bpf-map") }.count
    }

    // MARK: Pins

    /// A fresh directory under /sys/fs/bpf for one test's pins, removed (with everything
    /// in it) afterwards; the test fails if removing it fails.
    static func withPinDirectory(sourceLocation: SourceLocation = #_sourceLocation, _ body: (String) throws -> Void) throws {
        try BPFFileSystem.mountIfNeeded()
        let directory = "\(BPFFileSystem.defaultRoot)/swiftbpf-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            removeTree(directory)
            #expect(!FileManager.default.fileExists(atPath: directory), "pins left in \(directory)", sourceLocation: sourceLocation)
        }
        try body(directory)
    }

    static func removeTree(_ path: String) {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for entry in entries { removeTree(path + "/" + entry) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    // MARK: Fixtures

    static let clang = "/opt/swift/usr/bin/clang"
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    private static let compiled = Mutex<[String: [UInt8]]>([:])

    /// `Fixtures/<name>.bpf.c` compiled (`-target bpf -O2 -g`) and parsed; compiled once.
    static func object(_ name: String) throws -> ObjectFile {
        if let bytes = compiled.withLock({ $0[name] }) { return try ObjectFile(parsing: bytes, name: name) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-kernel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("\(name).bpf.o")
        try runTool(clang, ["-target", "bpf", "-O2", "-g", "-c", "-I/usr/include/x86_64-linux-gnu",
                            "-I" + fixtures.path, fixtures.appendingPathComponent("\(name).bpf.c").path, "-o", output.path])
        let bytes = Array(try Data(contentsOf: output))
        compiled.withLock { $0[name] = bytes }
        return try ObjectFile(parsing: bytes, name: name)
    }

    /// An object's maps created from their specs, with its BTF.
    static func createMaps(_ object: ObjectFile, btf: LoadedBTF?) throws -> [Map] {
        try object.maps.map { try Map(spec: $0, btf: btf) }
    }

    // MARK: Peers

    struct ToolFailure: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func runTool(_ executable: String, _ arguments: [String]) throws -> Data {
        try Subprocess.output(executable, arguments)
    }

    /// bpftool's path, or nil (and a note, or a failure under SWIFTBPF_REQUIRE_PEERS=1).
    static func bpftool(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        for candidate in ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        if ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" {
            Issue.record("bpftool is required (SWIFTBPF_REQUIRE_PEERS=1) but not installed", sourceLocation: sourceLocation)
        } else {
            print("skipped bpftool comparison: bpftool is not installed")
        }
        return nil
    }

    /// `bpftool -j <arguments>` parsed as JSON.
    static func bpftoolJSON(_ arguments: [String]) throws -> Any? {
        guard let tool = bpftool() else { return nil }
        return try JSONSerialization.jsonObject(with: try runTool(tool, ["-j"] + arguments))
    }

    // MARK: Values

    static func bytes<T: BitwiseCopyable>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static func value<T: BitwiseCopyable>(_ bytes: [UInt8], as type: T.Type = T.self) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    /// A small BTF blob: [1] int (4 bytes, signed), [2] long long (8 bytes, signed) — enough
    /// for local-storage maps, which need BTF for their key and value.
    static func integerBTF() -> [UInt8] {
        var types: [UInt32] = []
        // name_off, info (kind INT = 1), size, encoding | offset | bits
        types += [1, 1 << 24, 4, 1 << 24 | 32]
        types += [5, 1 << 24, 8, 1 << 24 | 64]
        let strings = Array("\0int\0long long\0".utf8)
        var blob: [UInt8] = []
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { blob += $0 } }
        blob += [0x9f, 0xeb, 1, 0]
        append(24)                           // header length
        append(0)                            // type offset
        append(UInt32(types.count * 4))      // type length
        append(UInt32(types.count * 4))      // string offset
        append(UInt32(strings.count))        // string length
        for word in types { append(word) }
        return blob + strings
    }
}
#endif
