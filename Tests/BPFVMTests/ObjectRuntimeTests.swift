import BPFObject
@testable import BPFVM
import BPFVerifier
import Testing

/// Whole clang-built objects in the VM: maps and globals made from the object, programs
/// verified for their section's type and run over packets in both engines.
@Suite struct ObjectRuntimeTests {
    @Test(arguments: EngineKind.allCases)
    func mapsAndGlobals(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("counter", engine: engine)
        #expect(object.programNames == ["count", "forget"])
        #expect(object.mapNames.contains("by_ethertype") && object.mapNames.contains("bytes_seen"))
        let count = try object.program(named: "count")
        let ipv4 = ObjectFixtures.udpFrame()
        var arp = ObjectFixtures.udpFrame(payload: 10)
        arp[12] = 0x08; arp[13] = 0x06
        for frame in [ipv4, ipv4, arp] {
            #expect(try count.run(packet: frame).verdict == 2)            // XDP_PASS from .rodata
        }
        #expect(try object.integer("packets") == 3)
        let entries = try object.contents(ofMap: "by_ethertype")
        var byType: [UInt16: UInt64] = [:]
        for (key, value) in entries {
            byType[UInt16(key[0]) | UInt16(key[1]) << 8] = value.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) }
        }
        #expect(byType == [0x0800: 2, 0x0806: 1])
        let bytes = try #require(try object.map(named: "bytes_seen")?.lookup(key: [0, 0, 0, 0]))
        #expect(bytes == withUnsafeBytes(of: UInt64(ipv4.count * 2 + arp.count).littleEndian) { Array($0) })

        // Globals written from Swift change what the program does.
        try object.setInteger("swap", 1)
        try object.setInteger("verdict", 1)
        let swapped = try count.run(packet: ipv4)
        #expect(swapped.verdict == 1)
        #expect(Array(swapped.packet[0..<6]) == Array(ipv4[6..<12]) && Array(swapped.packet[6..<12]) == Array(ipv4[0..<6]))

        // A second program of the object shares its maps.
        #expect(try object.program(named: "forget").run(packet: arp).verdict == 2)
        #expect(try object.contents(ofMap: "by_ethertype").count == 1)
        #expect(try object.program(named: "forget").run(packet: arp).verdict == 1)
    }

    /// `rerun()` runs again over the frame as it stands, as each repeat of the kernel's test
    /// run does: the maps see every run; without a packet first it is an error.
    @Test(arguments: EngineKind.allCases)
    func rerunWithoutCopying(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("counter", engine: engine)
        let count = try object.program(named: "count")
        let none = #expect(throws: RuntimeError.self) { try count.rerun() }
        #expect(none?.kind == .invalidPacket)
        let frame = ObjectFixtures.udpFrame()
        #expect(try count.run(packet: frame).verdict == 2)
        #expect(try count.rerun() == 2)
        #expect(try count.rerun() == 2)
        #expect(try object.integer("packets") == 3)
        let bytes = try #require(try object.map(named: "bytes_seen")?.lookup(key: [0, 0, 0, 0]))
        #expect(bytes == withUnsafeBytes(of: UInt64(frame.count * 3).littleEndian) { Array($0) })
        #expect(count.packet.map(Array.init) == frame)
    }

    @Test func namedErrors() throws {
        let object = try ObjectFixtures.load("counter", engine: .interpreter)
        let missing = #expect(throws: RuntimeError.self) { try object.program(named: "nope") }
        #expect(missing?.description == "the object has no program nope; it has count, forget")
        #expect(throws: RuntimeError.self) { try object.global(named: "nope") }
        let size = #expect(throws: RuntimeError.self) { try object.setGlobal(named: "swap", to: [1]) }
        #expect(size?.description == "global swap is 4 bytes, not 1")
        let short = #expect(throws: RuntimeError.self) { try object.program(named: "count").run(packet: [1, 2, 3]) }
        #expect(short?.kind == .invalidPacket)
        #expect(short?.description.contains("a packet of 3 bytes cannot be run") == true)
        #expect(throws: RuntimeError.self) { try LoadedObject(bytes: [0x7f, 0x45, 0x4c], name: "junk") }
    }

    /// Spin locks go in hash and array values only, as the kernel's map_check_btf has it.
    @Test func spinLockInAnLRUHashIsRefused() throws {
        let refused = #expect(throws: RuntimeError.self) { try ObjectFixtures.load("lru_spin_lock", engine: .interpreter) }
        #expect(refused?.kind == .map)
        #expect(refused?.description == "map recent: a lru_hash map cannot hold a bpf_spin_lock in its values; hash and array maps can")
    }
}
