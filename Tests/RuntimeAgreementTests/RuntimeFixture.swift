import BPFObject
import Foundation
import Synchronization
import TestPeers

/// The XDP and TC programs of Tests/BPFVMTests/Fixtures/runtime (each file says what it
/// checks) with what user space writes into their maps before the first packet; the kernel
/// and BPFVM run them over the same packets and must agree.
struct RuntimeFixture: Sendable, CustomStringConvertible {
    enum Kind: Sendable { case xdp, tc }

    /// One map update made before the run.
    struct MapWrite: Sendable {
        var map: String
        var key: [UInt8]
        var value: [UInt8]
    }

    /// The C file's name without `.bpf.c`.
    var name: String
    var program: String
    var kind: Kind
    var setup: [MapWrite] = []

    var description: String { name }

    static let all = [firewall, loadBalancer, flowCounter, sampler]

    // MARK: The fixtures

    static let xdpDrop: UInt32 = 1
    static let xdpPass: UInt32 = 2
    static let xdpTransmit: UInt32 = 3

    /// Nested prefixes, so that the longest match decides, over addresses the corpus holds.
    static let firewall = RuntimeFixture(name: "firewall", program: "firewall", kind: .xdp, setup: [
        ipv4Rule([10, 0, 0, 0], 8, id: 2, action: xdpDrop),
        ipv4Rule([10, 0, 0, 0], 16, id: 3, action: xdpPass),
        ipv4Rule([10, 0, 0, 0], 24, id: 4, action: xdpDrop),
        ipv4Rule([131, 151, 0, 0], 16, id: 5, action: xdpDrop),
        ipv4Rule([192, 168, 0, 0], 16, id: 6, action: xdpPass),
        ipv4Rule([192, 168, 1, 0], 24, id: 7, action: xdpDrop),
        ipv4Rule([127, 0, 0, 0], 8, id: 8, action: xdpPass),
        ipv4Rule([169, 254, 0, 0], 16, id: 9, action: xdpDrop),
        ipv4Rule([172, 16, 0, 0], 12, id: 10, action: xdpDrop),
        ipv6Rule([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, id: 11, action: xdpPass),
        ipv6Rule([0x2000, 0, 0, 0, 0, 0, 0, 0], 3, id: 12, action: xdpDrop),
        ipv6Rule([0x3ffe, 0, 0, 0, 0, 0, 0, 0], 16, id: 13, action: xdpPass),
        ipv6Rule([0x2604, 0x1380, 0, 0, 0, 0, 0, 0], 32, id: 14, action: xdpPass),
        ipv6Rule([0, 0, 0, 0, 0, 0, 0, 1], 128, id: 15, action: xdpDrop),
    ])

    /// Services on ports the corpus uses (SSH, BGP, DNS, NTP, IKE, HTTP, ...), 16 backends.
    static let loadBalancer = RuntimeFixture(name: "load_balancer", program: "load_balancer", kind: .xdp, setup: [
        service(port: 22, protocol: 6, first: 0, count: 3),
        service(port: 179, protocol: 6, first: 3, count: 2),
        service(port: 53, protocol: 17, first: 5, count: 3),
        service(port: 123, protocol: 17, first: 8, count: 1),
        service(port: 500, protocol: 17, first: 9, count: 2),
        service(port: 80, protocol: 6, first: 11, count: 3),
        service(port: 443, protocol: 6, first: 11, count: 3),
        // Ports of the corpus's VLAN-tagged datagrams (LDP, OLSR, BFD, RIP): tags to pop.
        service(port: 646, protocol: 17, first: 14, count: 2),
        service(port: 698, protocol: 17, first: 14, count: 1),
        service(port: 3784, protocol: 17, first: 15, count: 1),
        service(port: 520, protocol: 17, first: 8, count: 1),
    ] + (0..<16).map { index in
        let number = UInt8(index + 1)
        return MapWrite(map: "backends", key: le32(UInt32(index)),
                        value: [10, 9, 0, number] + be16(UInt16(8000 + index)) + [0x02, 0, 0, 0, 0x0b, number])
    })

    static let flowCounter = RuntimeFixture(name: "flow_counter", program: "flow_counter", kind: .tc)

    static let sampler = RuntimeFixture(name: "sampler", program: "sampler", kind: .tc)

    // MARK: Map entries

    static func ipv4Rule(_ address: [UInt8], _ length: UInt32, id: UInt32, action: UInt32) -> MapWrite {
        MapWrite(map: "ipv4_rules", key: le32(length) + address, value: le32(id) + le32(action))
    }

    static func ipv6Rule(_ groups: [UInt16], _ length: UInt32, id: UInt32, action: UInt32) -> MapWrite {
        MapWrite(map: "ipv6_rules", key: le32(length) + groups.flatMap(be16), value: le32(id) + le32(action))
    }

    static func service(port: UInt16, protocol: UInt8, first: UInt32, count: UInt32) -> MapWrite {
        MapWrite(map: "services", key: be16(port) + [`protocol`, 0], value: le32(first) + le32(count))
    }

    static func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

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
