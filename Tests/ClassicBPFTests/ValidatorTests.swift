import ClassicBPF
import Testing

/// The kernel's rules (`bpf_check_classic` and `check_load_and_stores`), each with the
/// instruction it names and the reason it gives.
@Suite struct ValidatorTests {
    func reject(_ instructions: [RawClassicInstruction]) -> ClassicValidationError? {
        #expect(throws: ClassicValidationError.self) { try ClassicProgram(instructions) }
    }

    func reject(_ instructions: [ClassicInstruction]) -> ClassicValidationError? {
        reject(instructions.map(\.raw))
    }

    let retA = ClassicInstruction.ret(.a)

    @Test func lengthIsOneTo4096() throws {
        #expect(reject([RawClassicInstruction]())?.reason == .empty)
        _ = try ClassicProgram([retA])
        _ = try ClassicProgram([ClassicInstruction](repeating: .loadA(.length), count: 4095) + [retA])
        let error = reject([ClassicInstruction](repeating: .loadA(.length), count: 4096) + [retA])
        #expect(error?.reason == .tooLong(count: 4097, limit: 4096))
        #expect(error?.description == "instruction 4096: the program has 4097 instructions; Linux takes at most 4096")
    }

    @Test func unknownOpcodes() {
        let error = reject([RawClassicInstruction(code: 0x28, k: 12), RawClassicInstruction(code: 0x0e), RawClassicInstruction(code: 0x06)])
        #expect(error?.index == 1)
        #expect(error?.description == "instruction 1: unknown opcode 0xe")
        #expect(reject([RawClassicInstruction(code: 0x8006)])?.reason == .unknownOpcode(0x8006))
        // Linux's seccomp-only `ld [k]` into X is not a socket filter opcode.
        #expect(reject([RawClassicInstruction(code: 0x21), RawClassicInstruction(code: 0x06)])?.reason == .unknownOpcode(0x21))
    }

    @Test func constantDivisionAndShifts() throws {
        #expect(reject([.arithmetic(.div, .constant(0)), retA])?.reason == .divisionByZero)
        #expect(reject([.arithmetic(.mod, .constant(0)), retA])?.description == "instruction 0: division by the constant 0")
        _ = try ClassicProgram([.arithmetic(.div, .x), .arithmetic(.mod, .x), .arithmetic(.div, .constant(1)), retA])
        #expect(reject([.arithmetic(.lsh, .constant(32)), retA])?.reason == .shiftTooLarge(32))
        #expect(reject([.arithmetic(.rsh, .constant(0xffff_ffff)), retA])?.reason == .shiftTooLarge(0xffff_ffff))
        _ = try ClassicProgram([.arithmetic(.lsh, .constant(31)), .arithmetic(.rsh, .constant(31)), .arithmetic(.lsh, .x), retA])
    }

    @Test func scratchIndexes() throws {
        _ = try ClassicProgram([.storeA(scratch: 15), .loadX(.scratch(15)), retA])
        for bad: ClassicInstruction in [.storeA(scratch: 16), .storeX(scratch: 100), .loadA(.scratch(16)), .loadX(.scratch(0xffff_ffff))] {
            let error = reject([bad, retA])
            #expect(error?.index == 0)
            if case .scratchOutOfRange = error?.reason {} else { Issue.record("\(bad): \(String(describing: error))") }
        }
        #expect(reject([.storeA(scratch: 16), retA])?.description
                == "instruction 0: scratch word M[16] does not exist; there are M[0] to M[15]")
    }

    @Test func jumpsGoForwardAndStayInside() throws {
        // ja k lands at index + 1 + k, which must be before the end.
        _ = try ClassicProgram([.jump(offset: 1), .loadA(.length), retA])
        #expect(reject([.jump(offset: 2), .loadA(.length), retA])?.reason == .jumpOutOfRange(target: 3, count: 3))
        let backwards = reject([.loadA(.length), .jump(offset: 0xffff_fffe), retA])
        #expect(backwards?.reason == .jumpOutOfRange(target: 0, count: 3))
        #expect(backwards?.description == "instruction 1: jump to 0 goes backwards; classic jumps only go forward")
        // Conditional targets must be inside too; both are checked.
        _ = try ClassicProgram([.branch(.eq, .constant(1), jumpTrue: 1, jumpFalse: 0), retA, retA])
        let error = reject([.branch(.gt, .x, jumpTrue: 0, jumpFalse: 2), retA, retA])
        #expect(error?.reason == .jumpOutOfRange(target: 3, count: 3))
        #expect(error?.description == "instruction 0: jump to 3 is past the last instruction (2)")
    }

    @Test func ancillaryFieldsMustBeKnown() throws {
        for field in AncillaryField.allCases {
            for size in LoadSize.allCases { _ = try ClassicProgram([.loadAncillary(field, size: size), retA]) }
        }
        for offset: UInt32 in [0xffff_f040, 0xffff_f001, 0xffff_fff0, 0xffff_ffff] {
            let error = reject([.loadA(.packet(.word, offset: offset)), retA])
            #expect(error?.reason == .unknownAncillaryField(offset: offset))
        }
        #expect(reject([.loadA(.packet(.byte, offset: 0xffff_f040)), retA])?.description
                == "instruction 0: load from -4032 (SKF_AD_OFF + 64) names no ancillary field")
        // Below the ancillary range: header offsets and plain large offsets are fine, and
        // indexed loads are never ancillary.
        _ = try ClassicProgram([.loadA(.packet(.word, offset: UInt32(bitPattern: AncillaryField.networkHeaderOffset))),
                                .loadA(.packet(.byte, offset: 0xffff_efff)), .loadA(.packetIndexed(.word, offset: 0xffff_fff0)),
                                .loadX(.headerLength(offset: 0xffff_fff0)), retA])
    }

    @Test func lastInstructionReturns() {
        let error = reject([.loadA(.length)])
        #expect(error?.reason == .lastIsNotReturn)
        #expect(error?.description == "instruction 0: the last instruction must be ret")
        #expect(reject([retA, .loadA(.length)])?.index == 1)
        // A jump as the last instruction jumps out of the program before it fails to return.
        #expect(reject([retA, .jump(offset: 0)])?.reason == .jumpOutOfRange(target: 2, count: 2))
    }

    @Test func scratchIsWrittenBeforeReadOnEveryPath() throws {
        #expect(reject([.loadA(.scratch(3)), retA])?.reason == .scratchReadBeforeWrite(3))
        _ = try ClassicProgram([.storeX(scratch: 3), .loadA(.scratch(3)), retA])
        // Written on the jump-true path only.
        let oneSided: [ClassicInstruction] = [
            .branch(.eq, .constant(0), jumpTrue: 0, jumpFalse: 1), .storeA(scratch: 0), .loadA(.scratch(0)), retA,
        ]
        let error = reject(oneSided)
        #expect(error?.index == 2)
        #expect(error?.description == "instruction 2: reads M[0], which some path to here leaves unwritten")
        // Written before the branch: both paths have it.
        _ = try ClassicProgram([.storeA(scratch: 0), .branch(.eq, .constant(0), jumpTrue: 0, jumpFalse: 1),
                                .loadA(.constant(1)), .loadA(.scratch(0)), retA])
        // A jump over the store.
        #expect(reject([.jump(offset: 1), .storeA(scratch: 5), .loadX(.scratch(5)), retA])?.index == 2)
        // Code only reached through jumps starts from what the jumps bring, as in the kernel.
        _ = try ClassicProgram([.storeA(scratch: 1), .jump(offset: 1), .loadA(.scratch(2)), .loadA(.scratch(1)), retA])
    }

    @Test func firstFailureInProgramOrderWins() {
        let error = reject([ClassicInstruction.loadA(.length).raw, ClassicInstruction.arithmetic(.div, .constant(0)).raw,
                            RawClassicInstruction(code: 0xff), ClassicInstruction.loadA(.length).raw])
        #expect(error?.index == 1)
        // Per-instruction checks come before the last-instruction and scratch checks.
        #expect(reject([.loadA(.scratch(0)), .storeA(scratch: 20), .loadA(.length)])?.reason == .scratchOutOfRange(20))
        #expect(reject([.loadA(.scratch(0)), .loadA(.length)])?.reason == .lastIsNotReturn)
    }

    /// Decoded instructions are checked without their encoding; both ways must agree on
    /// every program: the same instructions, or the same error at the same index.
    @Test func decodedAndEncodedProgramsAgree() {
        var generator = SeededGenerator(seed: 6)
        var accepted = 0, refused = 0
        for _ in 0..<20_000 {
            var program = RandomClassicPrograms.instructions(using: &generator, linux: true, maxLength: 16)
            let at = Int.random(in: 0..<program.count, using: &generator)
            let k = UInt32.random(in: 0...33, using: &generator)
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: program[at] = .loadA(.scratch(k % 18))
            case 1: program[at] = .storeX(scratch: k % 18)
            case 2: program[at] = .branch(.ge, .x, jumpTrue: UInt8(k % 20), jumpFalse: UInt8.random(in: 0...20, using: &generator))
            case 3: program[at] = .jump(offset: k % 20 == 0 ? 0xffff_ffff : k % 20)
            case 4: program[at] = .arithmetic([.div, .mod, .lsh, .rsh][Int(k % 4)], .constant(k % 2 == 0 ? 0 : k))
            case 5: program[at] = .loadA(.packet(.half, offset: 0xffff_f000 &+ k * 2))
            case 6: program.removeLast()
            default: break
            }
            let decoded = Result { () throws(ClassicValidationError) in try ClassicProgram(program) }
            let encoded = Result { () throws(ClassicValidationError) in try ClassicProgram(program.map(\.raw)) }
            switch (decoded, encoded) {
            case (.success(let a), .success(let b)):
                #expect(a == b && a.instructions == b.instructions && a.instructions == program)
                accepted += 1
            case (.failure(let a), .failure(let b)):
                #expect(a == b)
                refused += 1
            default:
                Issue.record("decoded \(decoded), encoded \(encoded): \(program)")
            }
        }
        #expect(accepted > 2000 && refused > 2000)
        print("validator, decoded against encoded: \(accepted) accepted, \(refused) refused by both")
    }

    @Test func tcpdumpOutputValidatesExceptBackwardJumps() throws {
        let compiled = ClassicTestSupport.compiledFilters
        if compiled.isEmpty { _ = ClassicTestSupport.tcpdump(); return }
        for (filter, instructions) in compiled {
            do {
                _ = try ClassicProgram(instructions)
                #expect(!filter.expression.contains("protochain"), "\(filter)")
            } catch {
                // libpcap implements protochain with a backward ja, which Linux refuses.
                #expect(filter.expression.contains("protochain"), "\(filter): \(error)")
                if case .jumpOutOfRange(let target, _) = error.reason { #expect(target <= Int64(error.index)) }
            }
        }
    }
}
