@testable import BPFVM
import Testing

/// __sk_buff for TC and socket filter programs, as the kernel's test run fills it: reads of
/// len, protocol, pkt_type, ifindex, data/data_end and a narrow read; writes of mark,
/// priority, cb and tc_index; skb_load_bytes and skb_store_bytes with their bounds; ld_abs
/// from the network header in a socket filter.
@Suite struct SocketBufferTests {
    static func field(_ object: LoadedObject, _ index: UInt32) throws -> UInt64 {
        let key = withUnsafeBytes(of: index.littleEndian) { Array($0) }
        let value = try #require(try object.map(named: "fields")?.lookup(key: key))
        return value.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) }
    }

    @Test(arguments: EngineKind.allCases)
    func trafficControl(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("socket_buffer", engine: engine)
        let program = try object.program(named: "classify")
        let frame = ObjectFixtures.udpFrame(payload: 6)
        let run = try program.run(packet: frame)
        #expect(run.verdict == 0)                                           // TC_ACT_OK: the store landed
        #expect(try Self.field(object, 0) == UInt64(frame.count))           // len
        #expect(try Self.field(object, 1) == 0x0008)                        // protocol: htons(ETH_P_IP)
        #expect(try Self.field(object, 2) == 3)                             // PACKET_OTHERHOST
        #expect(try Self.field(object, 3) == 1)                             // ifindex: loopback
        #expect(try Self.field(object, 4) == UInt64(frame.count))           // data_end - data
        #expect(try Self.field(object, 5) == 0)                             // mark before the write
        #expect(try Self.field(object, 6) == 0x08)                          // first byte of protocol
        #expect(try Self.field(object, 7) == 0x5a5a + 0x1234)               // mark and cb[2] after the writes
        #expect(try object.integer("load_result") == 0)
        #expect(try object.global(named: "loaded") == Array(frame[12..<16]))
        #expect(try object.integer("bad_load_result") == -14)               // past the end: EFAULT
        #expect(try object.integer("store_result") == 0)
        #expect(run.packet == [0xde, 0xad] + frame[2...])
    }

    @Test(arguments: EngineKind.allCases)
    func socketFilter(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("socket_buffer", engine: engine)
        let frame = ObjectFixtures.udpFrame(payload: 30)
        let run = try object.program(named: "filter").run(packet: frame)
        #expect(run.verdict == 40)
        #expect(try Self.field(object, 8) == UInt64(frame.count - 14))      // from the network header
        #expect(try Self.field(object, 9) == 0x0008)
        #expect(try Self.field(object, 10) == 4)                            // IPv4 version via ld_abs
        #expect(run.packet == frame)
    }
}
