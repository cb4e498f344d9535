import BPFInstructions

/// Random programs that look like real ones — registers initialised, stack slots written
/// before they are read, loads through the input pointer, forward branches, a few bounded
/// loops — so that a good share pass the verifier and the accepted ones exercise it. Pure
/// random instructions (RandomProgram) are nearly always refused at the first instruction.
enum ValidLookingPrograms {
    /// `count` body instructions. `inputSize` is the bytes r1 points at (plain memory) or
    /// nil for a socket filter's context (its first 4-byte fields are readable).
    static func make(count: Int, inputSize: Int?, using random: inout SeededGenerator) throws -> Program {
        var body: [Instruction] = []
        // r6 keeps the input pointer; r0, r2-r5, r7-r9 start as constants.
        body.append(.arithmetic(.mov, .bits64, dst: .r6, source: .register(.r1)))
        for r in [Register.r0, .r2, .r3, .r4, .r5, .r7, .r8, .r9] {
            body.append(.arithmetic(.mov, .bits64, dst: r, source: .immediate(Int32.random(in: -100...100, using: &random))))
        }
        for slot in 1...4 {
            body.append(.store(.double, base: .r10, offset: Int16(-8 * slot), source: .immediate(Int32.random(in: 0...64, using: &random))))
        }
        var jumps: [(at: Int, toEnd: Int)] = []
        for _ in 0..<count {
            let dst = scratch(&random)
            switch Int.random(in: 0..<20, using: &random) {
            case 0..<6:
                let op = ArithmeticOperation.allCases.randomElement(using: &random) ?? .add
                let width: Width = Bool.random(using: &random) ? .bits64 : .bits32
                let source: Operand = Bool.random(using: &random)
                    ? .register(scratch(&random))
                    : .immediate(op == .lsh || op == .rsh || op == .arsh ? Int32.random(in: 0...31, using: &random)
                                 : Int32.random(in: -300...300, using: &random))
                body.append(.arithmetic(op, width, dst: dst, source: source))
            case 6..<8:
                let size = MemorySize.allCases.randomElement(using: &random) ?? .word
                let limit = (inputSize ?? 24) + 4
                let offset = Int16(Int.random(in: 0...limit, using: &random) / size.rawValue * size.rawValue)
                body.append(.load(inputSize == nil ? (size == .double ? .word : size) : size, dst: dst, base: .r6, offset: offset))
            case 8..<10:
                let slot = Int16(-8 * Int.random(in: 1...6, using: &random))
                body.append(.store(.double, base: .r10, offset: slot, source: .register(dst)))
            case 10..<12:
                let slot = Int16(-8 * Int.random(in: 1...5, using: &random))
                body.append(.load(.double, dst: dst, base: .r10, offset: slot))
            case 12..<15:
                let condition = JumpCondition.allCases.randomElement(using: &random) ?? .eq
                let source: Operand = Bool.random(using: &random) ? .register(scratch(&random))
                    : .immediate(Int32.random(in: -10...100, using: &random))
                jumps.append((body.count, Int.random(in: 1...8, using: &random)))
                body.append(.branch(condition, Bool.random(using: &random) ? .bits64 : .bits32, dst: dst, source: source, offset: 0))
            case 15:
                // A pointer into the stack, moved by a bounded amount, then read.
                body.append(.arithmetic(.mov, .bits64, dst: dst, source: .register(.r10)))
                body.append(.arithmetic(.add, .bits64, dst: dst, source: .immediate(-8 * Int32.random(in: 1...5, using: &random))))
                body.append(.load(.double, dst: dst, base: dst, offset: 0))
            case 16:
                // A bounded loop: counter in r9.
                let limit = Int32.random(in: 1...20, using: &random)
                body.append(.arithmetic(.mov, .bits64, dst: .r9, source: .immediate(0)))
                body.append(.arithmetic(.add, .bits64, dst: .r0, source: .register(.r9)))
                body.append(.arithmetic(.add, .bits64, dst: .r9, source: .immediate(1)))
                body.append(.branch(.lt, .bits64, dst: .r9, source: .immediate(limit), offset: -3))
            case 17:
                body.append(.negate(.bits64, dst: dst))
            case 18:
                body.append(.byteSwap(.toBigEndian, bits: [16, 32, 64].randomElement(using: &random) ?? 16, dst: dst))
            default:
                body.append(.arithmetic(.mov, .bits64, dst: dst, source: .register(scratch(&random))))
            }
        }
        let end = body.count
        body.append(.arithmetic(.mov, .bits64, dst: .r0, source: .register(.r0)))
        body.append(.exit)
        for (at, toEnd) in jumps {
            let target = min(end, at + toEnd + 1)
            body[at] = RandomProgram.retarget(body[at], offset: target - at - 1)
        }
        return try Program(body)
    }

    private static func scratch(_ random: inout SeededGenerator) -> Register {
        [Register.r0, .r2, .r3, .r4, .r5, .r7, .r8].randomElement(using: &random) ?? .r0
    }
}
