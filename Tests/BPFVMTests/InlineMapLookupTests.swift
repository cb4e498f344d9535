import BPFObject
import BPFVerifier
@testable import BPFVM
import Testing

/// The JIT's map_lookup_elem without the helper path (Fixtures/objects/map_lookups.bpf.c):
/// arrays looked up inline, hashes through a direct call. The JIT must agree with the
/// interpreter, which always takes the helper path, and with the figures the fixture implies:
/// out-of-range indexes miss, a per-CPU array gives the host's processor its own slot, and a
/// host that replaces map_lookup_elem gets its own helper called.
@Suite struct InlineMapLookupTests {
    static let frame = ObjectFixtures.udpFrame()   // 46 bytes

    struct Outcome: Equatable {
        var misses: Int64
        var contents: [[[UInt8]]]
    }

    /// Three runs of the fixture with `lookup_index` = `index`, key 3 in the hash, two CPUs in
    /// the per-CPU array.
    static func run(_ engine: EngineKind, index: UInt32, host: HostEnvironment) throws -> Outcome {
        let object = try LoadedObject(bytes: try ObjectFixtures.bytes("map_lookups"), name: "map_lookups", engine: engine, host: host,
                                      makeMap: { spec throws(MapError) in try makeUserspaceMap(spec: spec, cpuCount: 2) })
        try #require(object.map(named: "table")).update(key: [3, 0, 0, 0], value: [7, 0, 0, 0, 0, 0, 0, 0], flags: .any)
        try object.setInteger("lookup_index", Int64(index))
        let program = try object.program(named: "lookups")
        for _ in 0..<3 { #expect(try program.run(packet: frame).verdict == 2) }
        let contents = try ["slots", "per_cpu_slots", "table"].map { name in
            try object.contents(ofMap: name).flatMap { [$0.key, $0.value] }
        }
        return Outcome(misses: try object.integer("misses"), contents: contents)
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    @Test(arguments: [UInt32(0), 3, 4, 0xffff_ffff])
    func jitLooksUpAsTheInterpreter(index: UInt32) throws {
        let host = HostEnvironment(processor: 1)
        let jit = try Self.run(.jit, index: index, host: host)
        #expect(jit == (try Self.run(.interpreter, index: index, host: host)))
        let sum = UInt64(3 * Self.frame.count)
        #expect(jit.misses == (index < 4 ? 0 : 3 * 101) + (index == 3 ? 0 : 3 * 10_000))
        if index < 4 {
            let slot = 2 * Int(index) + 1   // keys and values alternate
            #expect(jit.contents[0][slot] == Self.bytes(sum))
            // CPU 0's slot, then CPU 1's: only the host's processor (1) counted.
            #expect(jit.contents[1][slot] == Self.bytes(0) + Self.bytes(sum))
        }
        #expect(jit.contents[2] == [[3, 0, 0, 0], Self.bytes(index == 3 ? 7 + sum : 7)])
    }

    @Test func aHostsOwnLookupHelperIsCalledInstead() throws {
        let prototype = HelperPrototype(name: "map_lookup_elem", arguments: [.map(nil), .mapKey], returns: .mapValueOrNull)
        let missing = Helper(id: 1, name: "map_lookup_elem") { _ throws(VMError) in 0 }
        let host = HostEnvironment(helpers: [HostEnvironment.HostHelper(missing, prototype: prototype)])
        for engine in [EngineKind.jit, .interpreter] {
            #expect(try Self.run(engine, index: 3, host: host).misses == 3 * 10_101, "\(engine)")
        }
    }
}
