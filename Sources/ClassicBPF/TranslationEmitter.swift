import BPFInstructions

/// Writes the eBPF for one classic program, instruction by instruction, into a
/// `ProgramBuilder`: labels `i<n>` mark where classic instruction n starts, `t<n>` are local.
struct TranslationEmitter {
    let program: [ClassicInstruction]
    let target: ClassicTranslationTarget
    let semantics: ClassicSemantics
    /// Bytes before the packet in the VM's input: packet offset k is input offset k + header.
    let header: Int64
    var builder = ProgramBuilder()
    var labelCount = 0
    /// eBPF instruction index where each emitted classic instruction starts.
    var starts: [(ebpf: Int, classic: Int)] = []

    static let a = Register.r0, x = Register.r7, context = Register.r6, length = Register.r9
    /// Offsets past this are outside any packet (and out of `ldind`'s signed 32-bit reach).
    static let reach: Int64 = 0x7fff_ffff

    init(program: [ClassicInstruction], target: ClassicTranslationTarget, semantics: ClassicSemantics) {
        self.program = program
        self.target = target
        self.semantics = semantics
        header = target == .virtualMachine ? Int64(ClassicContextBlock.size) : 0
    }

    func classicIndex(ofEBPF index: Int) -> Int {
        starts.last { $0.ebpf <= index }?.classic ?? 0
    }

    mutating func label() -> String {
        labelCount += 1
        return "t\(labelCount)"
    }

    // MARK: Program structure

    mutating func emitProgram() throws(ClassicTranslationError) {
        let reachable = reachableInstructions()
        emit(.arithmetic(.mov, .bits32, dst: Self.a, source: .immediate(0)))
        emit(.arithmetic(.mov, .bits32, dst: Self.x, source: .immediate(0)))
        emit(.arithmetic(.mov, .bits64, dst: Self.context, source: .register(.r1)))
        if target == .virtualMachine, semantics == .linux, program.contains(where: { [.netlinkAttribute, .nestedNetlinkAttribute].contains($0.ancillaryField) }) {
            emit(.arithmetic(.mov, .bits64, dst: Self.length, source: .register(.r2)))
            emit(.arithmetic(.sub, .bits64, dst: Self.length, source: .immediate(Int32(header))))
        }
        // The next instruction emitted after each one: jumps to it can be left out.
        var next = [Int?](repeating: nil, count: program.count)
        var following: Int?
        for index in program.indices.reversed() {
            next[index] = following
            if reachable[index] { following = index }
        }
        for (index, instruction) in program.enumerated() where reachable[index] {
            starts.append((builder.count, index))
            builder.bind("i\(index)")
            try emit(instruction, at: index, next: next[index])
        }
    }

    /// Jumps only go forward, so one pass in order finds everything reachable from 0. The
    /// kernel's verifier refuses unreachable code, so it is left out.
    func reachableInstructions() -> [Bool] {
        var reachable = [Bool](repeating: false, count: program.count + 1)
        reachable[0] = true
        for (index, instruction) in program.enumerated() where reachable[index] {
            switch instruction {
            case .ret: break
            case .jump(let k): reachable[min(index + 1 + Int(k), program.count)] = true
            case .branch(_, _, let jt, let jf):
                reachable[min(index + 1 + Int(jt), program.count)] = true
                reachable[min(index + 1 + Int(jf), program.count)] = true
            default:
                if !alwaysFails(instruction) { reachable[index + 1] = true }
            }
        }
        return Array(reachable.prefix(program.count))
    }

    /// Loads that find no packet byte on any packet end the program there.
    func alwaysFails(_ instruction: ClassicInstruction) -> Bool {
        switch instruction {
        case .loadA(.packet(let size, let k)): absoluteFails(k, Int64(size.byteCount), ancillaryAllowed: true)
        case .loadX(.headerLength(let k)): absoluteFails(k, 1, ancillaryAllowed: false)
        case .loadA(.packetIndexed(let size, let k)): semantics == .libpcap && Int64(k) + Int64(size.byteCount) + header > Self.reach
        default: false
        }
    }

    private func absoluteFails(_ k: UInt32, _ size: Int64, ancillaryAllowed: Bool) -> Bool {
        if k < 0x8000_0000 { return Int64(k) + size + header > Self.reach }
        if semantics == .libpcap { return true }
        if ancillaryAllowed, AncillaryField.isAncillary(k) { return false }
        return Int32(bitPattern: k) < AncillaryField.linkLayerHeaderOffset
    }

    // MARK: Instructions

    mutating func emit(_ instruction: Instruction) { builder.append(instruction) }

    mutating func returnZero() {
        emit(.arithmetic(.mov, .bits32, dst: Self.a, source: .immediate(0)))
        emit(.exit)
    }

    /// Continues if `condition` holds, else returns 0.
    mutating func require(_ condition: JumpCondition, _ width: Width, _ dst: Register, _ source: Operand) {
        emit(.branch(condition, width, dst: dst, source: source, offset: 2))
        returnZero()
    }

    static func scratchOffset(_ k: UInt32) -> Int16 { -4 * Int16(k & 15) - 4 }
    static func immediate(_ k: UInt32) -> Operand { .immediate(Int32(bitPattern: k)) }

    mutating func emit(_ instruction: ClassicInstruction, at index: Int, next: Int?) throws(ClassicTranslationError) {
        if alwaysFails(instruction) {
            returnZero()
            return
        }
        switch instruction {
        case .ret(.constant(let k)):
            emit(.arithmetic(.mov, .bits32, dst: Self.a, source: Self.immediate(k)))
            emit(.exit)
        case .ret(.a):
            emit(.exit)
        case .loadA(.constant(let k)):
            emit(.arithmetic(.mov, .bits32, dst: Self.a, source: Self.immediate(k)))
        case .loadX(.constant(let k)):
            emit(.arithmetic(.mov, .bits32, dst: Self.x, source: Self.immediate(k)))
        case .loadA(.length), .loadX(.length):
            // The context block's first word and `__sk_buff.len` are both at offset 0.
            let dst = instruction == .loadA(.length) ? Self.a : Self.x
            emit(.load(.word, dst: dst, base: Self.context, offset: Int16(ClassicContextBlock.wireLengthOffset)))
        case .loadA(.scratch(let k)):
            emit(.load(.word, dst: Self.a, base: .r10, offset: Self.scratchOffset(k)))
        case .loadX(.scratch(let k)):
            emit(.load(.word, dst: Self.x, base: .r10, offset: Self.scratchOffset(k)))
        case .storeA(let k):
            emit(.store(.word, base: .r10, offset: Self.scratchOffset(k), source: .register(Self.a)))
        case .storeX(let k):
            emit(.store(.word, base: .r10, offset: Self.scratchOffset(k), source: .register(Self.x)))
        case .tax:
            emit(.arithmetic(.mov, .bits32, dst: Self.x, source: .register(Self.a)))
        case .txa:
            emit(.arithmetic(.mov, .bits32, dst: Self.a, source: .register(Self.x)))
        case .negate:
            emit(.negate(.bits32, dst: Self.a))
        case .arithmetic(let operation, let operand):
            emitArithmetic(operation, operand)
        case .jump(let k):
            let target = index + 1 + Int(k)
            // A long jump past the reach of a 16-bit offset when instructions expand ~40 times.
            if target != next { builder.jump(to: "i\(target)", long: k >= 512) }
        case .branch(let condition, let operand, let jt, let jf):
            emitBranch(condition, operand, taken: index + 1 + Int(jt), notTaken: index + 1 + Int(jf), next: next)
        case .loadA(.packet(let size, let k)):
            if k < 0x8000_0000 {
                emit(.loadPacket(memorySize(size), index: nil, imm: Int32(Int64(k) + header)))
            } else if let field = AncillaryField(offset: k) {
                try emitAncillary(field, at: index)
            } else {
                emitHeaderLoad(Int32(bitPattern: k), size)
            }
        case .loadA(.packetIndexed(let size, let k)):
            emitIndexedLoad(k, size)
        case .loadX(.headerLength(let k)):
            // X = 4 * (P[k] & 0xf) with A kept: the load itself lands in r0.
            emit(.arithmetic(.mov, .bits64, dst: Self.x, source: .register(Self.a)))
            if k < 0x8000_0000 {
                emit(.loadPacket(.byte, index: nil, imm: Int32(Int64(k) + header)))
            } else {
                emitHeaderLoad(Int32(bitPattern: k), .byte)
            }
            emit(.arithmetic(.and, .bits32, dst: Self.a, source: .immediate(0xf)))
            emit(.arithmetic(.lsh, .bits32, dst: Self.a, source: .immediate(2)))
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.x)))
            emit(.arithmetic(.mov, .bits64, dst: Self.x, source: .register(Self.a)))
            emit(.arithmetic(.mov, .bits64, dst: Self.a, source: .register(.r2)))
        }
    }

    mutating func emitArithmetic(_ operation: ClassicArithmetic, _ operand: ClassicOperand) {
        let ebpf: ArithmeticOperation = switch operation {
        case .add: .add
        case .sub: .sub
        case .mul: .mul
        case .div: .div
        case .mod: .mod
        case .and: .and
        case .or: .or
        case .xor: .xor
        case .lsh: .lsh
        case .rsh: .rsh
        }
        guard case .x = operand else {
            if case .constant(let k) = operand {
                emit(.arithmetic(ebpf, .bits32, dst: Self.a, source: Self.immediate(k)))
            }
            return
        }
        switch operation {
        case .div, .mod:
            // Classic division by an X of 0 drops the packet; eBPF's would give 0 or A.
            require(.ne, .bits32, Self.x, .immediate(0))
        case .lsh where semantics == .libpcap, .rsh where semantics == .libpcap:
            // libpcap makes a shift by 32 or more 0; eBPF masks the amount to 5 bits.
            emit(.branch(.lt, .bits32, dst: Self.x, source: .immediate(32), offset: 2))
            emit(.arithmetic(.mov, .bits32, dst: Self.a, source: .immediate(0)))
            emit(.jump(offset: 1))
        default:
            break
        }
        emit(.arithmetic(ebpf, .bits32, dst: Self.a, source: .register(Self.x)))
    }

    mutating func emitBranch(_ condition: ClassicCondition, _ operand: ClassicOperand, taken: Int, notTaken: Int, next: Int?) {
        let source: Operand = switch operand {
        case .constant(let k): Self.immediate(k)
        case .x: .register(Self.x)
        }
        let ebpf: JumpCondition = switch condition {
        case .eq: .eq
        case .gt: .gt
        case .ge: .ge
        case .set: .set
        }
        let inverse: JumpCondition? = switch condition {
        case .eq: .ne
        case .gt: .le
        case .ge: .lt
        case .set: nil
        }
        if taken == notTaken {
            if taken != next { builder.jump(to: "i\(taken)") }
        } else if notTaken == next {
            builder.branch(ebpf, .bits32, dst: Self.a, source: source, to: "i\(taken)")
        } else if taken == next, let inverse {
            builder.branch(inverse, .bits32, dst: Self.a, source: source, to: "i\(notTaken)")
        } else {
            builder.branch(ebpf, .bits32, dst: Self.a, source: source, to: "i\(taken)")
            builder.jump(to: "i\(notTaken)")
        }
    }

    func memorySize(_ size: LoadSize) -> MemorySize {
        switch size {
        case .word: .word
        case .half: .half
        case .byte: .byte
        }
    }
}
