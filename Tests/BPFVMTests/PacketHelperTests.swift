@testable import BPFVM
import Testing

/// xdp_adjust_head/meta/tail and csum_diff from a clang-built XDP program, with the
/// kernel's limits: 256 bytes of headroom less an xdp_frame's 40, metadata of at most 32
/// bytes in multiples of 4, a tail that grows into the frame's tailroom and never shrinks
/// below an Ethernet header.
@Suite struct PacketHelperTests {
    struct Case: Sendable, CustomStringConvertible {
        var head: Int64, meta: Int64, tail: Int64
        var results: (head: Int64, meta: Int64, tail: Int64)
        var description: String { "head \(head) meta \(meta) tail \(tail)" }
    }

    static let cases: [Case] = [
        Case(head: 0, meta: 0, tail: 0, results: (0, 0, 0)),
        Case(head: -16, meta: -8, tail: 10, results: (0, 0, 0)),          // grow everywhere
        Case(head: 14, meta: 0, tail: -4, results: (0, 0, 0)),            // shrink
        Case(head: -216, meta: 0, tail: 0, results: (0, 0, 0)),           // all the headroom but xdp_frame's
        Case(head: -217, meta: 0, tail: 0, results: (-22, 0, 0)),         // one byte into it: EINVAL
        Case(head: 0, meta: -36, tail: 0, results: (0, -13, 0)),          // metadata over 32 bytes: EACCES
        Case(head: 0, meta: -6, tail: 0, results: (0, -13, 0)),           // not a multiple of 4: EACCES
        Case(head: 0, meta: 4, tail: 0, results: (0, -22, 0)),            // past data: EINVAL
        Case(head: 32, meta: 0, tail: 0, results: (0, 0, 0)),             // an Ethernet header left of the 46 bytes
        Case(head: 33, meta: 0, tail: 0, results: (-22, 0, 0)),           // less: EINVAL
        Case(head: 0, meta: 0, tail: -33, results: (0, 0, -22)),
        Case(head: 0, meta: 0, tail: 4096 - 320 - 256 - 46, results: (0, 0, 0)),  // up to the tailroom
        Case(head: 0, meta: 0, tail: 4096 - 320 - 256 - 45, results: (0, 0, -22)),
    ]

    @Test(arguments: EngineKind.allCases, cases)
    func adjustments(_ engine: EngineKind, _ test: Case) throws {
        let object = try ObjectFixtures.load("packet_edits", engine: engine)
        try object.setInteger("head_delta", test.head)
        try object.setInteger("meta_delta", test.meta)
        try object.setInteger("tail_delta", test.tail)
        let frame = ObjectFixtures.udpFrame()   // 46 bytes
        let run = try object.program(named: "adjust").run(packet: frame)
        #expect(run.verdict == 2)
        #expect(try object.integer("head_result") == test.results.head)
        #expect(try object.integer("meta_result") == test.results.meta)
        #expect(try object.integer("tail_result") == test.results.tail)
        let head = test.results.head == 0 ? test.head : 0
        let tail = test.results.tail == 0 ? test.tail : 0
        let length = frame.count - Int(head) + Int(tail)
        #expect(try object.integer("length_after") == Int64(length))
        try #require(run.packet.count == length)
        #expect(run.metadata.count == (test.results.meta == 0 ? Int(-test.meta) : 0))
        // The marks the program wrote: the packet's and the metadata's first byte.
        #expect(run.packet.first == 0xaa)
        if !run.metadata.isEmpty { #expect(run.metadata.first == 0xbb) }
        // What stays of the original packet is where the adjustments put it.
        if head >= 0 && length > 2 {
            let kept = Array(frame[Int(head)..<min(frame.count, Int(head) + length)])
            #expect(Array(run.packet[1..<min(kept.count, length)]) == Array(kept[1..<min(kept.count, length)]))
        }
        if tail > 0 { #expect(run.packet[(frame.count - Int(head))...].allSatisfy { $0 == 0 }) }
    }

    /// bpf_csum_diff: sizes must be multiples of 4 (else -EINVAL); the sum is the ones'
    /// complement sum of the seed, ~from and to, folded to 16 bits as Linux 6.13 and later
    /// return it, computed here independently.
    @Test(arguments: EngineKind.allCases)
    func checksumDifference(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("packet_edits", engine: engine)
        #expect(try object.program(named: "checksum").run(packet: ObjectFixtures.udpFrame()).verdict == 2)
        let from: [UInt32] = [0x01020304, 0x05060708], to: [UInt32] = [0x11223344, 0x55667788, 0x99aabbcc]
        var sum: UInt64 = 0x1234
        for word in from { sum += UInt64(~word) }
        for word in to { sum += UInt64(word) }
        while sum > 0xffff { sum = (sum >> 16) + (sum & 0xffff) }
        #expect(try object.integer("csum_result") == Int64(sum))
        #expect(try object.integer("csum_odd") == -22)
    }
}
