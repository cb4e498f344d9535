/// SplitMix64: a small, seeded generator, so that failures reproduce.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Random valid instructions of every kind, with jumps and calls aimed at instructions of
/// the program: the generator behind the round-trip, fuzz and differential tests.
public enum RandomProgram {
    public static func make(count: Int, using random: inout some RandomNumberGenerator) throws -> Program {
        var instructions: [Instruction] = []
        var targets: [Int?] = []
        for _ in 0..<count {
            let (instruction, needsTarget) = any(using: &random)
            instructions.append(instruction)
            targets.append(needsTarget ? Int.random(in: 0...count, using: &random) : nil)
        }
        instructions.append(.exit)
        var starts: [Int] = []
        var slot = 0
        for instruction in instructions {
            starts.append(slot)
            slot += instruction.slotCount
        }
        for (index, target) in targets.enumerated() {
            guard let target else { continue }
            instructions[index] = retarget(instructions[index], offset: starts[target] - starts[index] - 1)
        }
        return try Program(instructions)
    }

    public static func retarget(_ instruction: Instruction, offset: Int) -> Instruction {
        let short = Int16(offset)
        let long = Int32(offset)
        return switch instruction {
        case .jump: .jump(offset: short)
        case .mayGoto: .mayGoto(offset: short)
        case .jumpLong: .jumpLong(offset: long)
        case .callLocal: .callLocal(offset: long)
        case .branch(let condition, let width, let dst, let source, _):
            .branch(condition, width, dst: dst, source: source, offset: short)
        case .loadImmediate64(let dst, .function, _, _): .loadImmediate64(dst: dst, source: .function, imm: long, nextImm: 0)
        default: instruction
        }
    }

    /// Any instruction; the flag says it needs a target.
    public static func any(using random: inout some RandomNumberGenerator) -> (Instruction, Bool) {
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<6: return (straightLine(using: &random), false)
        case 6:
            return (.loadImmediate64(dst: register(&random), source: .function, imm: 0, nextImm: 0), true)
        default:
            switch Int.random(in: 0..<5, using: &random) {
            case 0: return (.jump(offset: 0), true)
            case 1: return (.jumpLong(offset: 0), true)
            case 2: return (.callLocal(offset: 0), true)
            case 3: return (.mayGoto(offset: 0), true)
            default:
                let condition = JumpCondition.allCases.randomElement(using: &random) ?? .eq
                return (.branch(condition, width(&random), dst: register(&random), source: operand(&random), offset: 0), true)
            }
        }
    }

    /// Any instruction that needs no target.
    public static func straightLine(using random: inout some RandomNumberGenerator) -> Instruction {
        let sizes = MemorySize.allCases
        switch Int.random(in: 0..<17, using: &random) {
        case 0, 1:
            let op = ArithmeticOperation.allCases.randomElement(using: &random) ?? .add
            return .arithmetic(op, width(&random), dst: register(&random), source: operand(&random))
        case 2: return .negate(width(&random), dst: register(&random))
        case 3:
            let w = width(&random)
            let bits = (w == .bits64 ? [8, 16, 32] : [8, 16]).randomElement(using: &random) ?? 8
            return .moveSignExtend(w, dst: register(&random), src: register(&random), bits: bits)
        case 4:
            let kind = [ByteSwapKind.toLittleEndian, .toBigEndian, .swap].randomElement(using: &random) ?? .swap
            return .byteSwap(kind, bits: [16, 32, 64].randomElement(using: &random) ?? 16, dst: register(&random))
        case 5: return .load(sizes.randomElement(using: &random) ?? .byte, dst: register(&random), base: register(&random), offset: offset(&random))
        case 6:
            let size = [MemorySize.byte, .half, .word].randomElement(using: &random) ?? .byte
            return .loadSignExtend(size, dst: register(&random), base: register(&random), offset: offset(&random))
        case 7:
            return .store(sizes.randomElement(using: &random) ?? .byte, base: register(&random), offset: offset(&random), source: operand(&random))
        case 8:
            let op = AtomicOperation.allCases.randomElement(using: &random) ?? .add
            let size = [MemorySize.word, .double].randomElement(using: &random) ?? .word
            return .atomic(op, size, base: register(&random), offset: offset(&random), source: register(&random))
        case 9: return .loadAcquire(sizes.randomElement(using: &random) ?? .byte, dst: register(&random), base: register(&random), offset: offset(&random))
        case 10: return .storeRelease(sizes.randomElement(using: &random) ?? .byte, base: register(&random), offset: offset(&random), source: register(&random))
        case 11:
            let source = [PseudoSource.immediate, .immediate, .mapFD, .mapValue, .btfID, .mapIndex, .mapIndexValue]
                .randomElement(using: &random) ?? .immediate
            let next = source == .mapFD || source == .mapIndex ? 0 : immediate(&random)
            return .loadImmediate64(dst: register(&random), source: source, imm: immediate(&random), nextImm: next)
        case 12:
            let size = [MemorySize.byte, .half, .word].randomElement(using: &random) ?? .byte
            return .loadPacket(size, index: Bool.random(using: &random) ? nil : register(&random), imm: immediate(&random))
        case 13: return .call(helper: immediate(&random))
        case 14: return .callKernelFunction(btfID: immediate(&random), module: offset(&random))
        case 15: return .callRegister(register(&random))
        default: return .exit
        }
    }

    static func register(_ random: inout some RandomNumberGenerator) -> Register { Register.all.randomElement(using: &random) ?? .r0 }
    static func width(_ random: inout some RandomNumberGenerator) -> Width { Bool.random(using: &random) ? .bits32 : .bits64 }

    static func operand(_ random: inout some RandomNumberGenerator) -> Operand {
        Bool.random(using: &random) ? .register(register(&random)) : .immediate(immediate(&random))
    }

    /// Edge values half of the time, since that is where printing and parsing go wrong.
    static func immediate(_ random: inout some RandomNumberGenerator) -> Int32 {
        if Bool.random(using: &random) {
            return [0, 1, -1, Int32.min, Int32.max, Int32.min + 1, 0x7fff, -0x8000, 255].randomElement(using: &random) ?? 0
        }
        return Int32.random(in: Int32.min...Int32.max, using: &random)
    }

    static func offset(_ random: inout some RandomNumberGenerator) -> Int16 {
        if Bool.random(using: &random) {
            return [0, 1, -1, Int16.min, Int16.max, -8].randomElement(using: &random) ?? 0
        }
        return Int16.random(in: Int16.min...Int16.max, using: &random)
    }
}
