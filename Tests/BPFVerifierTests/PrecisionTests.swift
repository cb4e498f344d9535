import BPFInstructions
import BPFVerifier
import Testing

/// Precision tracking: numbers no check depends on do not keep states apart, and those that
/// a check depends on — through copies, spills and calls — do.
@Suite struct PrecisionTests {
    /// `count` branches on a number read afresh for each, whose two sides leave its bits known
    /// differently; nothing depends on them. (The kernel accepts 300 of them.)
    static func independentBranches(_ count: Int) throws -> Program {
        var instructions: [Instruction] = [.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0))]
        for i in 0..<count {
            instructions.append(.load(.word, dst: .r2, base: .r1, offset: 0))
            instructions.append(.arithmetic(.mov, .bits64, dst: .r3, source: .immediate(1)))
            instructions.append(.branch(.set, .bits64, dst: .r2, source: .immediate(Int32(1 << (i % 31))), offset: 1))
            instructions.append(.arithmetic(.mov, .bits64, dst: .r3, source: .immediate(1)))
            instructions.append(.store(.double, base: .r10, offset: -8, source: .register(.r3)))
        }
        instructions.append(.exit)
        return try Program(instructions)
    }

    @Test func independentBranchesArePrunedAtEachJoin() throws {
        let program = try Self.independentBranches(300)
        let verified = try Verifier.verify(program, as: .kernel(.socketFilter))
        // The straight path, plus one instruction (the join, where it stops) per taken branch.
        #expect(verified.statistics.instructionsAnalysed == 1 + 300 * 5 + 1 + 300, "\(verified.statistics)")
        #expect(verified.statistics.prunedPaths == 300)
        // Comparing r2's bits, the taken side runs on to the next branch before it meets its twin.
        let exact = try Verifier.verify(program, as: .kernel(.socketFilter), options: .init(tracksPrecision: false))
        #expect(exact.statistics.instructionsAnalysed > 1 + 300 * 5 + 1 + 2 * 300, "\(exact.statistics)")
    }

    /// The safe side (r3 = 0) is explored first and recorded at the join (5); the other
    /// side's r3 = 100 reaches an offset through a copy, a spill, a fill and a call, and must
    /// not be pruned there as "any number".
    static let offsetAfterJoin = """
        r6 = r1
        r2 = *(u8 *)(r6 + 0)
        r3 = 100
        if r2 & 1 goto +1
        r3 = 0
        r4 = r3
        *(u64 *)(r10 - 8) = r4
        r1 = *(u64 *)(r10 - 8)
        call pc+4
        r9 = r6
        r9 += r0
        r0 = *(u8 *)(r9 + 0)
        exit
        *(u64 *)(r10 - 8) = r1
        r0 = *(u64 *)(r10 - 8)
        exit
        """

    @Test func numbersUsedAsOffsetsStayPreciseThroughCopiesSpillsAndCalls() throws {
        let program = try Assembler.assemble(Self.offsetAfterJoin, syntax: .kernel)
        let error = try #require(throws: Rejection.self) { try Verifier.verify(program, as: .plainMemory(size: 64)) }
        #expect(error.kind == .invalidMemoryAccess, "\(error)")
        #expect(error.index == 11, "\(error)")
        // With 10 instead of 100 both sides are safe, and neither is pruned: r3 matters.
        let safe = try Assembler.assemble(Self.offsetAfterJoin.replacingOccurrences(of: "r3 = 100", with: "r3 = 10"), syntax: .kernel)
        let verified = try Verifier.verify(safe, as: .plainMemory(size: 64))
        #expect(verified.statistics.prunedPaths == 0)
    }

    @Test func numbersNothingChecksDoNotKeepStatesApart() throws {
        let program = try Assembler.assemble("""
            r6 = r1
            r2 = *(u8 *)(r6 + 0)
            r3 = 100
            if r2 & 1 goto +1
            r3 = 0
            *(u64 *)(r10 - 8) = r3
            r0 = *(u8 *)(r6 + 5)
            r0 += r3
            exit
            """, syntax: .kernel)
        let verified = try Verifier.verify(program, as: .plainMemory(size: 64))
        #expect(verified.statistics.prunedPaths == 1)
        let exact = try Verifier.verify(program, as: .plainMemory(size: 64), options: .init(tracksPrecision: false))
        #expect(exact.statistics.prunedPaths == 0)
    }

    /// A one-sided branch decided by a number makes it matter: r3 = 0 takes the safe way,
    /// r3 = 100 the other, which reads past the input.
    @Test func branchesDecidedByRangesMakeNumbersPrecise() throws {
        let program = try Assembler.assemble("""
            r6 = r1
            r2 = *(u8 *)(r6 + 0)
            r3 = 100
            if r2 & 1 goto +1
            r3 = 0
            if r3 < 50 goto +1
            r0 = *(u8 *)(r6 + 70)
            r0 = 0
            exit
            """, syntax: .kernel)
        let error = try #require(throws: Rejection.self) { try Verifier.verify(program, as: .plainMemory(size: 64)) }
        #expect(error.index == 6, "\(error)")
    }
}

/// Linked copies of a number (the kernel's scalar ids): what a branch learns of one it learns
/// of every copy — in registers and spilled — until a copy changes.
@Suite struct LinkedCopyTests {
    static func verify(_ source: String) throws(Rejection) -> VerifiedProgram {
        let program: Program
        do { program = try Assembler.assemble(source, syntax: .kernel) } catch {
            throw Rejection(kind: .invalidInstruction, index: 0, instruction: "", message: "\(error)")
        }
        return try Verifier.verify(program, as: .plainMemory(size: 64))
    }

    @Test func aBranchOnOneCopyBoundsTheOthers() throws {
        _ = try Self.verify("""
            r6 = r1
            r1 = *(u8 *)(r6 + 0)
            r2 = r1
            *(u64 *)(r10 - 8) = r1
            if r1 > 30 goto +5
            r3 = *(u64 *)(r10 - 8)
            r4 = r6
            r4 += r2
            r4 += r3
            r0 = *(u8 *)(r4 + 0)
            r0 = 0
            exit
            """)
    }

    @Test func aChangedCopyIsNoLongerBounded() throws {
        let error = try #require(throws: Rejection.self) {
            try Self.verify("""
                r6 = r1
                r1 = *(u8 *)(r6 + 0)
                r2 = r1
                r2 += 100
                if r1 > 60 goto +3
                r4 = r6
                r4 += r2
                r0 = *(u8 *)(r4 + 0)
                r0 = 0
                exit
                """)
        }
        #expect(error.index == 7, "\(error)")
    }

    /// The first side reaches the join (6) with r2 a copy of r1; the second side's r2 is a
    /// number of the same range but no copy, which the check on r1 after the join does not
    /// bound, so the join must not prune it.
    @Test func pruningKeepsCopiesApartFromLookalikes() throws {
        let error = try #require(throws: Rejection.self) {
            try Self.verify("""
                r6 = r1
                r1 = *(u8 *)(r6 + 0)
                r5 = *(u8 *)(r6 + 1)
                r2 = *(u8 *)(r6 + 2)
                if r5 & 1 goto +1
                r2 = r1
                r3 = 0
                if r1 > 60 goto +3
                r4 = r6
                r4 += r2
                r0 = *(u8 *)(r4 + 0)
                r0 = 0
                exit
                """)
        }
        #expect(error.index == 10, "\(error)")
    }
}
