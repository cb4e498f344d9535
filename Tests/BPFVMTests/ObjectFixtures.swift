import BPFObject
@testable import BPFVM
import Foundation
import Synchronization
import TestPeers

/// The C objects of Fixtures/objects (each file says what it checks), compiled with the
/// toolchain's clang (`-target bpf -O2 -g`) once per test process.
enum ObjectFixtures {
    static let clang = "/opt/swift/usr/bin/clang"
    static let sources = TestData.fixtures.appendingPathComponent("objects")
    private static let compiled = Mutex<[String: [UInt8]]>([:])

    static func bytes(_ name: String) throws -> [UInt8] {
        if let bytes = compiled.withLock({ $0[name] }) { return bytes }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-vm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("\(name).bpf.o")
        _ = try Subprocess.output(clang, ["-target", "bpf", "-O2", "-g", "-Wall", "-Werror", "-c", "-I/usr/include/x86_64-linux-gnu",
                                          sources.appendingPathComponent("\(name).bpf.c").path, "-o", output.path])
        let bytes = [UInt8](try Data(contentsOf: output))
        compiled.withLock { $0[name] = bytes }
        return bytes
    }

    static func load(_ name: String, engine: EngineKind, host: HostEnvironment = HostEnvironment()) throws -> LoadedObject {
        try LoadedObject(bytes: try bytes(name), name: name, engine: engine, host: host)
    }

    /// An Ethernet/IPv4/UDP frame of `payload` extra bytes: 10.0.0.1:1000 -> 10.0.0.2:53.
    static func udpFrame(payload: Int = 4) -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        let total = 20 + 8 + payload
        frame += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        frame += [0x03, 0xe8, 0x00, 0x35, UInt8((8 + payload) >> 8), UInt8((8 + payload) & 0xff), 0, 0]
        frame += (0..<payload).map { UInt8($0 & 0xff) }
        return frame
    }
}

extension LoadedObject {
    /// A global as a little-endian integer.
    func integer(_ name: String) throws -> Int64 {
        let bytes = try global(named: name)
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * index) }
        let bits = bytes.count * 8
        return bits < 64 && value >> (bits - 1) & 1 == 1 ? Int64(bitPattern: value | ~((1 << bits) - 1)) : Int64(bitPattern: value)
    }

    func setInteger(_ name: String, _ value: Int64, size: Int = 4) throws {
        try setGlobal(named: name, to: (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }
}
