@testable import BPFVM
import Testing

/// bpf_tail_call in both engines: a jump through a program array the object's `.values`
/// filled, past an empty slot; the limit of 33 chained tail calls; slots the host changes.
@Suite struct TailCallTests {
    @Test(arguments: EngineKind.allCases)
    func jumpsThroughTheProgramArray(_ engine: EngineKind) throws {
        let object = try ObjectFixtures.load("tail_calls", engine: engine)
        let frame = ObjectFixtures.udpFrame()
        #expect(try object.program(named: "first").run(packet: frame).verdict == 1)    // second's XDP_DROP
        #expect(try object.integer("first_runs") == 1 && object.integer("second_runs") == 1)
        #expect(try object.program(named: "loop").run(packet: frame).verdict == 3)     // XDP_TX once the chain is full
        #expect(try object.integer("loop_runs") == 34)

        // Emptying slot 1 from Swift: first goes on to its own XDP_PASS.
        let jumps = try #require(object.map(named: "jumps") as? ProgramArrayMap)
        try jumps.setProgram(nil, at: 1)
        #expect(try object.program(named: "first").run(packet: frame).verdict == 2)
        try jumps.setProgram(object.programID(named: "loop"), at: 0)
        #expect(try object.program(named: "first").run(packet: frame).verdict == 3)
        // The jump from first counts too: loop runs 33 times in that chain.
        #expect(try object.integer("loop_runs") == 34 + 33)
    }
}
