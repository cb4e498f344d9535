import BPFInstructions
import BPFObject
@testable import BPFVM
import BPFVerifier
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
        // The fields the program wrote, where __sk_buff has them.
        func word(_ offset: Int) -> UInt32 { program.context.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        #expect(word(8) == 0x5a5a && word(32) == 7 && word(56) == 0x1234 && word(44) == 3)   // mark, priority, cb[2], tc_index
        #expect(word(76) == 0 && word(80) == 0)                             // no 32-bit packet pointers
    }

    /// What the verifier refuses before anything runs: a write to a field the type may only
    /// read, a field the type may not touch, and one instruction reaching the context on one
    /// path and the stack on another (which the VM's rewriting could not serve).
    @Test func contextAccessesTheVerifierRefuses() throws {
        func rejection(_ source: String, _ type: ProgramType) throws -> Rejection? {
            let program = try Assembler.assemble(source, syntax: .kernel)
            return #expect(throws: Rejection.self) { try Verifier.verify(program, as: .kernel(type)) }
        }
        let write = try rejection("r2 = 1\n*(u32 *)(r1 + 0) = r2\nr0 = 2\nexit", .xdp)
        #expect(write?.message.contains("writes a field this program type may only read") == true)
        let data = try rejection("r0 = *(u32 *)(r1 + 76)\nexit", .socketFilter)
        #expect(data?.message.contains("may not access") == true)
        let mixed = try rejection("""
            r6 = r1
            call 7
            *(u64 *)(r10 - 8) = r0
            r2 = r10
            r2 += -8
            if r0 == 0 goto +1
            r2 = r6
            r0 = *(u32 *)(r2 + 0)
            exit
            """, .xdp)
        #expect(mixed?.message.contains("accesses the context on one path and other memory on another") == true)
        // What the verifier reports for the rewriting: the loads through the context, by slot.
        let fine = try Assembler.assemble("r2 = *(u32 *)(r1 + 4)\nr3 = *(u32 *)(r1 + 0)\nr0 = 2\nexit", syntax: .kernel)
        #expect(try Verifier.verify(fine, as: .kernel(.xdp)).contextAccesses == [0, 1])
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
