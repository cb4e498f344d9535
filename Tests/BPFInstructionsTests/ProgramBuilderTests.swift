import BPFInstructions
import Testing

@Suite struct ProgramBuilderTests {
    @Test func resolvesForwardAndBackwardLabelsAcrossWideInstructions() throws {
        var builder = ProgramBuilder()
        builder.append(.loadImmediate64(dst: .r0, value: 1 << 40))   // slots 0-1
        builder.bind("loop")                                         // slot 2
        builder.append(.arithmetic(.sub, .bits64, dst: .r0, source: .immediate(1)))
        builder.branch(.eq, dst: .r0, source: .immediate(0), to: "done")   // slot 3
        builder.jump(to: "loop")                                     // slot 4
        builder.bind("done")
        builder.callLocal("function")                                // slot 5
        builder.jump(to: "end", long: true)                          // slot 6
        builder.bind("function")
        builder.loadFunctionAddress(.r1, of: "function")             // slots 7-8
        builder.append(.exit)                                        // slot 9
        builder.bind("end")
        builder.append(.exit)                                        // slot 10
        let program = try builder.build()
        let instructions = program.instructions.map(\.instruction)
        #expect(instructions[2] == .branch(.eq, .bits64, dst: .r0, source: .immediate(0), offset: 1))
        #expect(instructions[3] == .jump(offset: -3))
        #expect(instructions[4] == .callLocal(offset: 1))
        #expect(instructions[5] == .jumpLong(offset: 3))
        #expect(instructions[6] == .loadImmediate64(dst: .r1, source: .function, imm: -1, nextImm: 0))
    }

    @Test func reportsLabelMistakes() {
        var undefined = ProgramBuilder()
        undefined.jump(to: "nowhere")
        undefined.append(.exit)
        #expect(throws: ProgramBuilder.BuildError(instruction: 0, reason: .undefinedLabel("nowhere"))) {
            try undefined.build()
        }

        var duplicate = ProgramBuilder()
        duplicate.bind("a")
        duplicate.append(.exit)
        duplicate.bind("a")
        duplicate.append(.exit)
        #expect(throws: ProgramBuilder.BuildError(instruction: 1, reason: .duplicateLabel("a"))) { try duplicate.build() }

        var far = ProgramBuilder()
        far.jump(to: "end")
        for _ in 0..<40_000 { far.append(.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0))) }
        far.bind("end")
        far.append(.exit)
        #expect(throws: ProgramBuilder.BuildError(instruction: 0, reason: .offsetOutOfRange(label: "end", offset: 40_000))) {
            try far.build()
        }
    }
}
