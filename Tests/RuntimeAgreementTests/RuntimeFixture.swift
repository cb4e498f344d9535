import BPFInstructions
import BPFObject
import Foundation
import Synchronization
import TestPeers

/// The XDP and TC programs of Tests/BPFVMTests/Fixtures/runtime (each file says what it
/// checks) and what user space writes into their maps before the first packet (the
/// `<name>.maps` file beside the C, where there is one); the kernel and BPFVM run them over
/// the same packets and must agree.
struct RuntimeFixture: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable { case xdp, tc }

    /// One map update made before the run.
    struct MapWrite: Sendable {
        var map: String
        var key: [UInt8]
        var value: [UInt8]
    }

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    /// The C file's name without `.bpf.c`; the program has the same name.
    var name: String
    var kind: Kind

    var program: String { name }
    var description: String { name }

    static let firewall = RuntimeFixture(name: "firewall", kind: .xdp)
    static let loadBalancer = RuntimeFixture(name: "load_balancer", kind: .xdp)
    static let flowCounter = RuntimeFixture(name: "flow_counter", kind: .tc)
    static let sampler = RuntimeFixture(name: "sampler", kind: .tc)
    static let all = [firewall, loadBalancer, flowCounter, sampler]

    static let xdpDrop: UInt32 = 1
    static let xdpPass: UInt32 = 2
    static let xdpTransmit: UInt32 = 3

    /// The lines of `<name>.maps` (`map key-hex value-hex`, `#` starts a comment); none
    /// when there is no such file.
    func setup() throws -> [MapWrite] {
        let file = Self.sources.appendingPathComponent("\(name).maps")
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        var writes: [MapWrite] = []
        for (number, line) in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.prefix { $0 != "#" }.split(separator: " ")
            if fields.isEmpty { continue }
            guard fields.count == 3, let key = try? Hex.bytes(String(fields[1])), let value = try? Hex.bytes(String(fields[2])) else {
                throw SetupError(description: "\(file.lastPathComponent):\(number + 1): expected 'map key-hex value-hex', found '\(line)'")
            }
            writes.append(MapWrite(map: String(fields[0]), key: key, value: value))
        }
        return writes
    }

    // MARK: Compiling

    static let clang = "/opt/swift/usr/bin/clang"
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("BPFVMTests/Fixtures/runtime")
    private static let compiled = Mutex<[String: [UInt8]]>([:])

    /// The ELF object clang makes of the fixture (`-target bpf -O2 -g`), compiled once per
    /// test process into a temporary folder.
    func objectBytes() throws -> [UInt8] {
        if let bytes = Self.compiled.withLock({ $0[name] }) { return bytes }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-runtime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("\(name).bpf.o")
        _ = try Subprocess.output(Self.clang, [
            "-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-c", "-I/usr/include/x86_64-linux-gnu",
            Self.sources.appendingPathComponent("\(name).bpf.c").path, "-o", output.path,
        ])
        let bytes = [UInt8](try Data(contentsOf: output))
        Self.compiled.withLock { $0[name] = bytes }
        return bytes
    }

    func object() throws -> ObjectFile { try ObjectFile(parsing: objectBytes(), name: name) }
}
