import BPFInstructions
import BPFVerifier
import BPFVM
import Testing

/// The VM runs a verified program only on the input its proof covers.
@Suite struct VerifiedEngineTests {
    /// Sums the first two bytes of its 8-byte input.
    static let source = """
        r0 = *(u8 *)(r1 + 0)
        r2 = *(u8 *)(r1 + 1)
        r0 += r2
        exit
        """

    @Test(arguments: EngineKind.allCases)
    func runsOnTheVerifiedSizeOnly(_ kind: EngineKind) throws {
        let program = try Assembler.assemble(Self.source, syntax: .kernel)
        let verified = try Verifier.verify(program, as: .plainMemory(size: 8))
        let engine = try VerifiedEngine(verified, engine: kind)
        var memory: [UInt8] = [3, 4, 0, 0, 0, 0, 0, 0]
        #expect(try engine.run(memory: &memory) == 7)
        var short: [UInt8] = [3]
        let error = #expect(throws: VMError.self) { try engine.run(memory: &short) }
        #expect(error?.description.contains("verified for 8 bytes") == true, "\(String(describing: error))")
    }

    @Test func refusesWhatTheVerifierRefuses() throws {
        let program = try Assembler.assemble("r0 = *(u8 *)(r1 + 8)\nexit", syntax: .kernel)
        #expect(throws: Rejection.self) { try Verifier.verify(program, as: .plainMemory(size: 8)) }
        let socketFilter = try Verifier.verify(try Assembler.assemble("r0 = 0\nexit", syntax: .kernel), as: .kernel(.socketFilter))
        #expect(throws: VMError.self) { try VerifiedEngine(socketFilter) }
    }
}
