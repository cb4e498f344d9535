import BPFInstructions

/// Which system's rules the translation keeps where libpcap and Linux differ (loads at
/// negative offsets, ancillary fields, `[x + k]` past 2^31, shifts by X of 32 or more).
/// `ClassicInterpreter` follows `.libpcap` without ancillary data and `.linux` with it.
public enum ClassicSemantics: Sendable, Hashable {
    case libpcap, linux
}

/// Where the eBPF translation is meant to run.
public enum ClassicTranslationTarget: Sendable, Hashable {
    /// BPFVM's `Interpreter`: r1 points to a `ClassicContextBlock` followed by the packet,
    /// r2 holds their length. Packet loads are `ldabs`/`ldind` offset by the block's size.
    case virtualMachine
    /// A Linux BPF_PROG_TYPE_SOCKET_FILTER: r1 is the `__sk_buff`, packet loads are
    /// `ldabs`/`ldind` (as the kernel's own converter emits), ancillary fields are
    /// `__sk_buff` fields or helper calls, and no instruction is unreachable.
    case socketFilter
}

/// Translates classic programs to eBPF that returns the same value on every packet. A is
/// r0, X is r7, M[k] the stack word at r10 - 4(k+1), r6 the context (as the kernel's
/// converter keeps them); r2–r5 are scratch between instructions.
///
/// Loads at offsets of 2^31 − 72 bytes or more are taken to be outside every packet.
public enum ClassicTranslator {
    public static func translate(_ program: ClassicProgram, to target: ClassicTranslationTarget,
                                 semantics: ClassicSemantics = .libpcap) throws(ClassicTranslationError) -> Program {
        var emitter = Emitter(program: program.instructions, target: target, semantics: semantics)
        try emitter.emitProgram()
        do {
            return try emitter.builder.build()
        } catch {
            throw ClassicTranslationError(index: emitter.classicIndex(ofEBPF: error.instruction), reason: .tooLarge(error.description))
        }
    }
}

private struct Emitter {
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
        for (index, instruction) in program.enumerated() where reachable[index] {
            starts.append((builder.count, index))
            builder.bind("i\(index)")
            let next = reachable[(index + 1)...].firstIndex(of: true)
            try emit(instruction, at: index, next: next)
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

    // MARK: Loads

    /// `[x + k]`: libpcap drops when X + k passes the packet, without wrapping; Linux wraps
    /// X + k to a signed 32-bit offset, negative ones addressing the headers.
    mutating func emitIndexedLoad(_ k: UInt32, _ size: LoadSize) {
        let bytes = memorySize(size)
        if semantics == .libpcap {
            // Both values are below 2^32, so the 64-bit sum is exact.
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.x)))
            emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(Int64(k) + header))))
            require(.le, .bits64, .r2, .immediate(Int32(Self.reach)))
            emit(.loadPacket(bytes, index: .r2, imm: 0))
            return
        }
        if target == .socketFilter {
            // The kernel computes (int)(X + k) and handles negative offsets itself.
            emit(.loadPacket(bytes, index: Self.x, imm: Int32(bitPattern: k)))
            return
        }
        let negative = label(), done = label()
        emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.x)))
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(bitPattern: k))))
        emit(.arithmetic(.lsh, .bits64, dst: .r2, source: .immediate(32)))
        emit(.arithmetic(.arsh, .bits64, dst: .r2, source: .immediate(32)))
        builder.branch(.slt, dst: .r2, source: .immediate(0), to: negative)
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(header))))
        emit(.loadPacket(bytes, index: .r2, imm: 0))
        builder.jump(to: done)
        builder.bind(negative)
        // r2 is negative: pick the header by range, as bpf_internal_load_pointer_neg_helper does.
        let linkLayer = label(), common = label(), fail = label()
        builder.branch(.slt, dst: .r2, source: .immediate(AncillaryField.linkLayerHeaderOffset), to: fail)
        builder.branch(.slt, dst: .r2, source: .immediate(AncillaryField.networkHeaderOffset), to: linkLayer)
        emit(.arithmetic(.sub, .bits64, dst: .r2, source: .immediate(AncillaryField.networkHeaderOffset)))
        emit(.load(.double, dst: .r3, base: Self.context, offset: Int16(ClassicContextBlock.networkHeaderOffset)))
        builder.jump(to: common)
        builder.bind(linkLayer)
        emit(.arithmetic(.sub, .bits64, dst: .r2, source: .immediate(AncillaryField.linkLayerHeaderOffset)))
        emit(.load(.double, dst: .r3, base: Self.context, offset: Int16(ClassicContextBlock.linkLayerHeaderOffset)))
        builder.bind(common)
        builder.branch(.slt, dst: .r3, source: .immediate(0), to: fail)
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .register(.r3)))
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(Int32(header))))
        builder.branch(.gt, dst: .r2, source: .immediate(Int32(Self.reach)), to: fail)
        emit(.loadPacket(bytes, index: .r2, imm: 0))
        builder.jump(to: done)
        builder.bind(fail)
        returnZero()
        builder.bind(done)
    }

    /// A load at a constant negative offset from SKF_NET_OFF or SKF_LL_OFF (Linux only).
    mutating func emitHeaderLoad(_ offset: Int32, _ size: LoadSize) {
        if target == .socketFilter {
            emit(.loadPacket(memorySize(size), index: nil, imm: offset))
            return
        }
        let isNetwork = offset >= AncillaryField.networkHeaderOffset
        let relative = Int64(offset) - Int64(isNetwork ? AncillaryField.networkHeaderOffset : AncillaryField.linkLayerHeaderOffset)
        let field = isNetwork ? ClassicContextBlock.networkHeaderOffset : ClassicContextBlock.linkLayerHeaderOffset
        emit(.load(.double, dst: .r3, base: Self.context, offset: Int16(field)))
        require(.sge, .bits64, .r3, .immediate(0))
        emit(.arithmetic(.add, .bits64, dst: .r3, source: .immediate(Int32(relative + header))))
        require(.le, .bits64, .r3, .immediate(Int32(Self.reach)))
        emit(.loadPacket(memorySize(size), index: .r3, imm: 0))
    }

    mutating func emitAncillary(_ field: AncillaryField, at index: Int) throws(ClassicTranslationError) {
        if field == .xorX {
            emit(.arithmetic(.xor, .bits32, dst: Self.a, source: .register(Self.x)))
            return
        }
        switch target {
        case .virtualMachine:
            if let offset = ClassicContextBlock.offset(of: field) {
                emit(.load(.word, dst: Self.a, base: Self.context, offset: Int16(offset)))
            } else {
                emitNetlinkSearch(nested: field == .nestedNetlinkAttribute)
            }
        case .socketFilter:
            // struct __sk_buff offsets (linux/bpf.h).
            func read(_ offset: Int16, swap: Bool = false) -> [Instruction] {
                var code: [Instruction] = [.load(.word, dst: Self.a, base: Self.context, offset: offset)]
                if swap { code.append(.byteSwap(.toBigEndian, bits: 16, dst: Self.a)) }
                return code
            }
            switch field {
            case .protocol: builder.append(contentsOf: read(16, swap: true))  // __be16 in memory
            case .packetType: builder.append(contentsOf: read(4))
            case .mark: builder.append(contentsOf: read(8))
            case .queue: builder.append(contentsOf: read(12))
            case .vlanTagPresent: builder.append(contentsOf: read(20))
            case .vlanTag: builder.append(contentsOf: read(24))
            case .vlanProtocol: builder.append(contentsOf: read(28, swap: true))
            case .interfaceIndex: builder.append(contentsOf: read(40))
            case .receiveHash: builder.append(contentsOf: read(68))
            case .random: emit(.call(helper: 7))  // bpf_get_prandom_u32
            case .cpu: emit(.call(helper: 8))     // bpf_get_smp_processor_id
            case .hardwareType, .payloadOffset, .netlinkAttribute, .nestedNetlinkAttribute, .xorX:
                throw ClassicTranslationError(index: index, reason: .ancillaryFieldUnavailable(field))
            }
        }
    }

    /// `nla_find` over the packet in the VM's memory; A becomes the attribute's offset or 0.
    /// r9 holds the packet's length (set in the prologue when needed).
    mutating func emitNetlinkSearch(nested: Bool) {
        let zero = label(), loop = label(), found = label(), done = label()
        let data = Int16(header)
        emit(.arithmetic(.mov, .bits64, dst: .r4, source: .register(Self.x)))
        builder.branch(.lt, dst: Self.length, source: .immediate(4), to: zero)
        emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(Self.length)))
        emit(.arithmetic(.sub, .bits64, dst: .r3, source: .immediate(4)))
        builder.branch(.gt, dst: Self.a, source: .register(.r3), to: zero)
        if nested {
            emit(.arithmetic(.mov, .bits64, dst: .r5, source: .register(Self.context)))
            emit(.arithmetic(.add, .bits64, dst: .r5, source: .register(Self.a)))
            emit(.load(.half, dst: .r1, base: .r5, offset: data))
            emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(Self.length)))
            emit(.arithmetic(.sub, .bits64, dst: .r3, source: .register(Self.a)))
            builder.branch(.gt, dst: .r1, source: .register(.r3), to: zero)
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.a)))
            emit(.arithmetic(.add, .bits64, dst: .r2, source: .immediate(4)))
            emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(.r1)))
            emit(.arithmetic(.sub, .bits64, dst: .r3, source: .immediate(4)))
        } else {
            emit(.arithmetic(.mov, .bits64, dst: .r2, source: .register(Self.a)))
            emit(.arithmetic(.mov, .bits64, dst: .r3, source: .register(Self.length)))
            emit(.arithmetic(.sub, .bits64, dst: .r3, source: .register(Self.a)))
        }
        // r2: attribute offset, r3: bytes left (signed), r4: wanted type.
        builder.bind(loop)
        builder.branch(.slt, dst: .r3, source: .immediate(4), to: zero)
        emit(.arithmetic(.mov, .bits64, dst: .r5, source: .register(Self.context)))
        emit(.arithmetic(.add, .bits64, dst: .r5, source: .register(.r2)))
        emit(.load(.half, dst: .r1, base: .r5, offset: data))
        builder.branch(.lt, dst: .r1, source: .immediate(4), to: zero)
        builder.branch(.gt, dst: .r1, source: .register(.r3), to: zero)
        emit(.load(.half, dst: .r5, base: .r5, offset: data + 2))
        emit(.arithmetic(.and, .bits64, dst: .r5, source: .immediate(Int32(NetlinkAttributes.typeMask))))
        builder.branch(.eq, dst: .r5, source: .register(.r4), to: found)
        emit(.arithmetic(.add, .bits64, dst: .r1, source: .immediate(3)))
        emit(.arithmetic(.and, .bits64, dst: .r1, source: .immediate(-4)))
        emit(.arithmetic(.sub, .bits64, dst: .r3, source: .register(.r1)))
        emit(.arithmetic(.add, .bits64, dst: .r2, source: .register(.r1)))
        builder.jump(to: loop)
        builder.bind(found)
        emit(.arithmetic(.mov, .bits64, dst: Self.a, source: .register(.r2)))
        builder.jump(to: done)
        builder.bind(zero)
        emit(.arithmetic(.mov, .bits32, dst: Self.a, source: .immediate(0)))
        builder.bind(done)
    }
}
