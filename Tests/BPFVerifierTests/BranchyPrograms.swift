import BPFInstructions

/// Random plain-memory programs full of two-way branches whose sides give registers
/// different numbers, spill and fill them, and later use some as offsets into the input —
/// the programs where pruning with precision tracking must tell the numbers that matter from
/// those that do not. Offsets run past the 64-byte input, so a number wrongly left imprecise
/// lets an out-of-bounds access through, which the interpreter then traps. Copies of input
/// bytes exercise linked copies the same way.
enum BranchyPrograms {
    static let inputSize = 64

    static func make(count: Int, using random: inout SeededGenerator) throws -> Program {
        var body: [Instruction] = [
            .arithmetic(.mov, .bits64, dst: .r6, source: .register(.r1)),
            .load(.byte, dst: .r7, base: .r6, offset: 0),
            .load(.byte, dst: .r8, base: .r6, offset: 1),
            .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)),
        ]
        for r in [Register.r2, .r3, .r4, .r5] { body.append(.arithmetic(.mov, .bits64, dst: r, source: .immediate(offset(&random)))) }
        for slot in 1...3 { body.append(.store(.double, base: .r10, offset: Int16(-8 * slot), source: .immediate(offset(&random)))) }
        var jumps: [(at: Int, ahead: Int)] = []
        for _ in 0..<count {
            let dst = scratch(&random), other = scratch(&random)
            switch Int.random(in: 0..<18, using: &random) {
            case 0..<4:
                // A branch on the input that either way may take: its sides set numbers apart.
                let input: Register = Bool.random(using: &random) ? .r7 : .r8
                let condition: JumpCondition = [.set, .gt, .lt, .eq].randomElement(using: &random) ?? .set
                jumps.append((body.count, Int.random(in: 1...3, using: &random)))
                body.append(.branch(condition, .bits64, dst: input, source: .immediate(Int32.random(in: 0...255, using: &random)), offset: 0))
            case 4..<7: body.append(.arithmetic(.mov, .bits64, dst: dst, source: .immediate(offset(&random))))
            case 7: body.append(.store(.double, base: .r10, offset: Int16(-8 * Int.random(in: 1...3, using: &random)), source: .register(dst)))
            case 8: body.append(.load(.double, dst: dst, base: .r10, offset: Int16(-8 * Int.random(in: 1...3, using: &random))))
            case 9: body.append(.arithmetic(.mov, .bits64, dst: dst, source: .register(other)))
            case 10: body.append(.arithmetic(.add, .bits64, dst: dst, source: .register(other)))
            case 11: body.append(.arithmetic(.and, .bits64, dst: dst, source: .immediate(Int32.random(in: 0...127, using: &random))))
            case 16, 17:
                // A copy of an input byte, linked to it: a later branch on either bounds both.
                body.append(.arithmetic(.mov, .bits64, dst: dst, source: .register(Bool.random(using: &random) ? .r7 : .r8)))
            case 12:
                // A bounds check that skips the access after it.
                body.append(.branch(.gt, .bits64, dst: dst, source: .immediate(Int32.random(in: 40...70, using: &random)), offset: 3))
                fallthrough
            default:
                // The number as an offset into the input.
                body.append(.arithmetic(.mov, .bits64, dst: .r9, source: .register(.r6)))
                body.append(.arithmetic(.add, .bits64, dst: .r9, source: .register(dst)))
                body.append(.load(.byte, dst: .r0, base: .r9, offset: 0))
            }
        }
        let end = body.count
        body.append(.exit)
        for (at, ahead) in jumps {
            body[at] = RandomProgram.retarget(body[at], offset: min(end, at + ahead + 1) - at - 1)
        }
        return try Program(body)
    }

    /// Mostly inside the input, sometimes just past it.
    private static func offset(_ random: inout SeededGenerator) -> Int32 {
        Int32.random(in: 0...Int32(inputSize + 8), using: &random)
    }

    private static func scratch(_ random: inout SeededGenerator) -> Register {
        [Register.r2, .r3, .r4, .r5].randomElement(using: &random) ?? .r2
    }
}
