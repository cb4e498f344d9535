import BPFInstructions
import Testing

/// Random valid programs must survive disassembly and reassembly bit for bit, in both syntaxes.
struct RoundTripTests {
    @Test(arguments: AssemblySyntax.allCases)
    func randomProgramsRoundTrip(_ syntax: AssemblySyntax) throws {
        var random = SeededGenerator(seed: 0x5eed_0001)
        var instructionCount = 0
        for _ in 0..<250 {
            let program = try RandomProgram.make(count: Int.random(in: 1...80, using: &random), using: &random)
            instructionCount += program.instructions.count
            let text = Disassembler.disassemble(program, syntax: syntax)
            #expect(text.hasSuffix("\n"))
            let reassembled = try Assembler.assemble(text, syntax: syntax)
            #expect(reassembled.slots == program.slots, "\(text)")
            // Detection has nothing to go on when the text reads the same in both syntaxes.
            let other = Disassembler.disassemble(program, syntax: syntax == .kernel ? .conformance : .kernel)
            if other != text {
                #expect(AssemblySyntax.detect(text) == syntax, "\(text)")
                #expect(try Assembler.assemble(text).slots == program.slots)
            }
        }
        #expect(instructionCount > 10_000)
    }

    @Test(arguments: AssemblySyntax.allCases)
    func largeProgramWithFarJumpsRoundTrips(_ syntax: AssemblySyntax) throws {
        var random = SeededGenerator(seed: 0x5eed_0002)
        var instructions: [Instruction] = [.jumpLong(offset: 40_002), .jump(offset: 32_767)]
        // One-slot instructions only, so that the 16-bit jumps land on instruction boundaries.
        while instructions.count < 40_002 {
            let instruction = RandomProgram.straightLine(using: &random)
            if instruction.slotCount == 1 { instructions.append(instruction) }
        }
        instructions.append(.jump(offset: -32_768))
        instructions.append(.exit)
        let program = try Program(instructions)
        let text = Disassembler.disassemble(program, syntax: syntax)
        #expect(try Assembler.assemble(text, syntax: syntax).slots == program.slots)
        #expect(AssemblySyntax.detect(text) == syntax)
    }

    @Test func disassemblyHasOneLinePerInstruction() throws {
        let program = try Program([.loadImmediate64(dst: .r0, value: 1), .exit])
        #expect(Disassembler.disassemble(program, syntax: .conformance) == "lddw %r0, 0x1\nexit\n")
        #expect(Disassembler.disassemble(program, syntax: .kernel) == "r0 = 0x1 ll\nexit\n")
    }
}

