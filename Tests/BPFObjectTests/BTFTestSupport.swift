import BPFInstructions
import BPFObject
import Foundation
import TestPeers

/// Peers and fixtures for the BTF tests: the running kernel's BTF, bpftool, and the C
/// fixtures compiled with the toolchain's clang.
enum BTFTestSupport {
    static let vmlinuxPath = "/sys/kernel/btf/vmlinux"
    static let clang = "/opt/swift/usr/bin/clang"
    static let objcopy = "/opt/swift/usr/bin/llvm-objcopy"
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var kernelRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] == "1" }
    static var peersRequired: Bool { ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" }

    /// The kernel's BTF bytes, or nil (after printing why) when the kernel has none.
    static func vmlinuxBytes() throws -> [UInt8]? {
        guard FileManager.default.isReadableFile(atPath: vmlinuxPath) else { return nil }
        return Array(try Data(contentsOf: URL(fileURLWithPath: vmlinuxPath)))
    }

    /// Parsed once: several tests use it and it is read-only.
    static let vmlinux: Result<BTF, any Error>? = {
        do {
            guard let bytes = try vmlinuxBytes() else { return nil }
            return .success(try BTF(parsing: bytes))
        } catch {
            return .failure(error)
        }
    }()

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a program and returns its standard output; throws with its standard error
    /// when it exits non-zero.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Data {
        try Subprocess.output(executable, arguments)
    }

    /// A fresh directory for build outputs, outside the repository.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-btf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A compiled fixture's object file and its `.BTF` and `.BTF.ext` sections.
    struct CompiledFixture {
        var object: URL
        var btf: [UInt8]
        var btfExt: [UInt8]?
    }

    /// Whether the toolchain can build BPF objects here; nil when it can.
    static var toolchainMissing: String? {
        for tool in [clang, objcopy] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) not found"
        }
        return nil
    }

    /// Compiles `Fixtures/<name>.c` for BPF (`bpf` = host order, `bpfeb`, `bpfel`) into `directory`.
    static func compile(_ name: String, target: String = "bpf", into directory: URL) throws -> CompiledFixture {
        let source = fixtures.appendingPathComponent("\(name).c").path
        let object = directory.appendingPathComponent("\(name)-\(target).o")
        try run(clang, ["-target", target, "-O2", "-g", "-Wno-everything", "-c", source, "-o", object.path])
        let btfFile = directory.appendingPathComponent("\(name)-\(target).btf")
        let extFile = directory.appendingPathComponent("\(name)-\(target).btf.ext")
        try run(objcopy, ["--dump-section", ".BTF=\(btfFile.path)", object.path, directory.appendingPathComponent("scratch.o").path])
        let btf = Array(try Data(contentsOf: btfFile))
        var ext: [UInt8]?
        if (try? run(objcopy, ["--dump-section", ".BTF.ext=\(extFile.path)", object.path, directory.appendingPathComponent("scratch.o").path])) != nil {
            ext = Array(try Data(contentsOf: extFile))
        }
        return CompiledFixture(object: object, btf: btf, btfExt: ext)
    }

    /// Lines of `bpftool btf dump file PATH`, or nil when bpftool is absent.
    static func bpftoolDump(_ path: String) throws -> [String]? {
        guard let bpftool = findExecutable("bpftool") else { return nil }
        let output = try run(bpftool, ["btf", "dump", "file", path])
        return String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
    }

    /// `bpftool -j btf dump file PATH` as text, or nil when bpftool is absent.
    static func bpftoolJSON(_ path: String) throws -> String? {
        guard let bpftool = findExecutable("bpftool") else { return nil }
        return String(decoding: try run(bpftool, ["-j", "btf", "dump", "file", path]), as: UTF8.self)
    }

    /// Our JSON dump, laid out as bpftool's: `{"types":[...]}` and a newline.
    static func jsonDump(_ btf: BTF) -> String {
        "{\"types\":[" + btf.ownIDs.compactMap { btf.jsonDump(of: $0) }.joined(separator: ",") + "]}\n"
    }

    /// Our raw dump of every type the blob defines, as lines.
    static func rawDumpLines(_ btf: BTF) -> [String] {
        var lines: [String] = []
        for id in btf.ownIDs {
            guard let text = btf.rawDump(of: id) else { continue }
            lines.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        }
        return lines
    }

    /// The first few lines where two dumps differ, for a readable failure.
    static func mismatches(_ ours: [String], _ theirs: [String], limit: Int = 5) -> [String] {
        var found: [String] = []
        for index in 0..<max(ours.count, theirs.count) where found.count < limit {
            let mine = index < ours.count ? ours[index] : "<end>"
            let reference = index < theirs.count ? theirs[index] : "<end>"
            if mine != reference { found.append("line \(index + 1): ours '\(mine)' bpftool '\(reference)'") }
        }
        return found
    }
}

/// Builds small BTF blobs by hand, for tests of exact errors and of split BTF.
struct BTFBlobBuilder {
    var order: ByteOrder = .little
    var strings: [UInt8] = [0]
    var types: [UInt8] = []
    /// Split BTF starts its string offsets after the base's.
    var stringBase: UInt32 = 0

    /// Adds a string and returns its offset.
    mutating func string(_ text: String) -> UInt32 {
        let offset = stringBase + UInt32(strings.count)
        strings.append(contentsOf: Array(text.utf8) + [0])
        return offset
    }

    mutating func word(_ value: UInt32) {
        let value = order == .little ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: value) { types.append(contentsOf: $0) }
    }

    /// A `btf_type` header followed by the given trailing words.
    mutating func type(name: UInt32 = 0, kind: BTFKind, vlen: Int = 0, kindFlag: Bool = false, sizeOrType: UInt32, _ trailing: [UInt32] = []) {
        word(name)
        word(UInt32(kind.rawValue) << 24 | UInt32(vlen) | (kindFlag ? 1 << 31 : 0))
        word(sizeOrType)
        trailing.forEach { word($0) }
    }

    /// Header, types, strings.
    func blob() -> [UInt8] {
        var header = BTFBlobBuilder(order: order)
        header.types = []
        let magic: UInt16 = order == .little ? UInt16(0xeb9f).littleEndian : UInt16(0xeb9f).bigEndian
        withUnsafeBytes(of: magic) { header.types.append(contentsOf: $0) }
        header.types.append(contentsOf: [1, 0])
        header.word(24)
        header.word(0)
        header.word(UInt32(types.count))
        header.word(UInt32(types.count))
        header.word(UInt32(strings.count))
        return header.types + types + strings
    }
}
