import BPFInstructions
import BPFVerifier
import BPFVM
import Testing

/// Two pointers into one object compare as their offsets do: a loop that walks the input up
/// to `r1 + r2`, or a stack buffer up to its end, is proven in bounds by its own test.
@Suite struct PointerComparisonTests {
    static let byteLoop = """
        r0 = 0
        r3 = r1
        r3 += r2
        r1 += 0
        if r1 >= r3 goto +4
        r4 = *(u8 *)(r1 + 0)
        r0 += r4
        r1 += 1
        goto -5
        exit
        """

    @Test func aLoopBoundedByTheEndOfTheInputIsAccepted() throws {
        let verified = try Verifier.verify(try Assembler.assemble(Self.byteLoop, syntax: .kernel), as: .plainMemory(size: 100))
        var memory = (0..<100).map { UInt8($0) }
        #expect(try JITProgram(verified: verified).run(memory: &memory) == 4950)
    }

    @Test func oneByteTooFarIsRefused() throws {
        let offByOne = Self.byteLoop.replacingOccurrences(of: "if r1 >= r3", with: "if r1 > r3")
        let error = #expect(throws: Rejection.self) {
            try Verifier.verify(try Assembler.assemble(offByOne, syntax: .kernel), as: .plainMemory(size: 100))
        }
        #expect(error?.message.contains("outside the 100 bytes") == true, "\(String(describing: error))")
    }

    @Test func aStackBufferWalkedToItsEndIsAcceptedAndOnePastIsNot() throws {
        let walk = """
            r2 = r10
            r2 += -64
            r3 = r10
            if r2 >= r3 goto +3
            *(u8 *)(r2 + 0) = 1
            r2 += 1
            goto -4
            r0 = 0
            exit
            """
        #expect(throws: Never.self) { try Verifier.verify(try Assembler.assemble(walk, syntax: .kernel), as: .plainMemory(size: 8)) }
        let pastTheEnd = walk.replacingOccurrences(of: "if r2 >= r3", with: "if r2 > r3")
        #expect(throws: Rejection.self) { try Verifier.verify(try Assembler.assemble(pastTheEnd, syntax: .kernel), as: .plainMemory(size: 8)) }
    }

    /// Loops with random starts, steps, access sizes, conditions (either operand first) and
    /// ends near the input's: whatever is accepted runs in the interpreter without a trap.
    @Test func randomBoundedWalksNeverTrapWhenAccepted() throws {
        var random = SeededGenerator(seed: 0x9017_7e55)
        let conditions = ["<", "<=", ">", ">=", "!=", "=="]
        var accepted = 0, refused = 0
        for _ in 0..<3_000 {
            let size = Int.random(in: 1...64, using: &random)
            let access = [1, 2, 4, 8].randomElement(using: &random) ?? 1
            let start = Int.random(in: -2...4, using: &random)
            let end = Int.random(in: -4...2, using: &random)
            let step = Int.random(in: 1...3, using: &random)
            let condition = conditions.randomElement(using: &random) ?? "<"
            let pointerFirst = Bool.random(using: &random)
            let test = pointerFirst ? "if r1 \(condition) r3 goto +1" : "if r3 \(condition) r1 goto +1"
            // The branch taken skips the `goto` that leaves the loop, so it continues the loop.
            let source = """
                r0 = 0
                r3 = r1
                r3 += r2
                r3 += \(end)
                r1 += \(start)
                \(test)
                goto +4
                r4 = *(\(["u8", "u16", "u32", "u64"][access.trailingZeroBitCount]) *)(r1 + 0)
                r0 += r4
                r1 += \(step)
                goto -6
                exit
                """
            let program = try Assembler.assemble(source, syntax: .kernel)
            guard let verified = try? Verifier.verify(program, as: .plainMemory(size: size)) else {
                refused += 1
                continue
            }
            accepted += 1
            let interpreter = try Interpreter(program: verified.program, helpers: [ConformanceRunner.unwind],
                                              options: .init(instructionBudget: 1_000_000))
            var memory = [UInt8](repeating: 7, count: size)
            do { _ = try interpreter.run(memory: &memory) } catch {
                Issue.record("accepted but trapped (size \(size)): \(error)\n\(source)")
                break
            }
        }
        print("pointer walks: \(accepted) accepted, \(refused) refused")
        #expect(accepted > 100 && refused > 100)
    }
}
