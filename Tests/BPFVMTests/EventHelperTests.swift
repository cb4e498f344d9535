@testable import BPFVM
import Testing

/// ringbuf_reserve/submit/discard/output/query and map_push/pop/peek_elem from a clang-built
/// XDP program, against the object's ring buffer and queue maps: the records the host reads,
/// in order, without the discarded one; the queue full after two pushes (-E2BIG); pop and
/// peek in the queue's order, -ENOENT when empty.
@Suite struct EventHelperTests {
    @Test(arguments: EngineKind.allCases)
    func ringBufferAndQueue(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("events", engine: engine)
        let record = try object.program(named: "record")
        let even = ObjectFixtures.udpFrame(payload: 4)     // 46 bytes
        let odd = ObjectFixtures.udpFrame(payload: 5)      // 47 bytes: its reservation is discarded
        for frame in [even, odd, even] { #expect(try record.run(packet: frame).verdict == 2) }
        #expect(try object.integer("output_result") == 0)
        #expect(try object.integer("push_result") == -7)                  // the third push: the queue holds two
        #expect(try object.integer("ring_size") == 4096)
        // Bytes waiting: five records of 8 bytes each with their 8-byte headers (and the discarded one).
        #expect(try object.integer("available") == 6 * 16)
        func event(_ length: Int) -> [UInt8] { [UInt8(length), 0, 0, 0, 0x00, 0x08, 0, 0] }
        let first = Array(even[0..<4])
        #expect(try object.records(ofRingBuffer: "events") == [event(46), first, Array(odd[0..<4]), event(46), first])
        #expect(try object.records(ofRingBuffer: "events") == [])

        let drain = try object.program(named: "drain")
        _ = try drain.run(packet: even)
        #expect(try object.integer("pop_result") == 0 && object.integer("popped") == 46)
        #expect(try object.integer("peek_result") == 0 && object.integer("peeked") == 47)
        _ = try drain.run(packet: even)
        #expect(try object.integer("popped") == 47)
        #expect(try object.integer("peek_result") == -2)
        _ = try drain.run(packet: even)
        #expect(try object.integer("pop_result") == -2)
    }
}
