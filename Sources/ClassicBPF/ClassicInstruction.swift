/// How many bytes a packet load reads.
public enum LoadSize: Sendable, Hashable, CaseIterable {
    case word, half, byte

    public var byteCount: Int {
        switch self {
        case .word: 4
        case .half: 2
        case .byte: 1
        }
    }

    var code: UInt16 {
        switch self {
        case .word: ClassicOpcode.sizeW
        case .half: ClassicOpcode.sizeH
        case .byte: ClassicOpcode.sizeB
        }
    }
}

/// What `ld` puts in the accumulator A.
public enum AccumulatorSource: Sendable, Hashable {
    /// `ld #k`
    case constant(UInt32)
    /// `ld [k]`, `ldh [k]`, `ldb [k]`; with k in the Linux ancillary range, see `AncillaryField`.
    case packet(LoadSize, offset: UInt32)
    /// `ld [x + k]`, `ldh [x + k]`, `ldb [x + k]`
    case packetIndexed(LoadSize, offset: UInt32)
    /// `ld #len`: the packet's length on the wire.
    case length
    /// `ld M[k]`
    case scratch(UInt32)
}

/// What `ldx` puts in the index register X.
public enum IndexSource: Sendable, Hashable {
    /// `ldx #k`
    case constant(UInt32)
    /// `ldx #len`
    case length
    /// `ldx M[k]`
    case scratch(UInt32)
    /// `ldxb 4*([k]&0xf)`: the IPv4 header length from its first byte.
    case headerLength(offset: UInt32)
}

/// The second operand of arithmetic and conditional jumps.
public enum ClassicOperand: Sendable, Hashable {
    /// `#k`
    case constant(UInt32)
    /// `x`
    case x
}

/// Arithmetic on A; the raw value is the operation bits of the opcode.
public enum ClassicArithmetic: UInt16, Sendable, Hashable, CaseIterable {
    case add = 0x00, sub = 0x10, mul = 0x20, div = 0x30, or = 0x40, and = 0x50
    case lsh = 0x60, rsh = 0x70, mod = 0x90, xor = 0xa0

    public var mnemonic: String {
        switch self {
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .or: "or"
        case .and: "and"
        case .lsh: "lsh"
        case .rsh: "rsh"
        case .mod: "mod"
        case .xor: "xor"
        }
    }
}

/// Conditions of conditional jumps, all unsigned; the raw value is the operation bits.
public enum ClassicCondition: UInt16, Sendable, Hashable, CaseIterable {
    case eq = 0x10, gt = 0x20, ge = 0x30, set = 0x40

    public var mnemonic: String {
        switch self {
        case .eq: "jeq"
        case .gt: "jgt"
        case .ge: "jge"
        case .set: "jset"
        }
    }
}

/// What `ret` returns: the number of bytes of the packet to keep, 0 to drop it.
public enum ReturnValue: Sendable, Hashable {
    case constant(UInt32)
    case a
}

/// One classic instruction with its meaning. The kernel and libpcap know exactly these
/// opcodes; the fields an opcode does not use (jt and jf outside jumps, k of `tax`) are
/// ignored by both, so the typed form drops them and encodes them as zero.
public enum ClassicInstruction: Sendable, Hashable {
    /// `ld`, `ldh`, `ldb`: A = source.
    case loadA(AccumulatorSource)
    /// `ldx`, `ldxb`: X = source.
    case loadX(IndexSource)
    /// `st M[k]`: M[k] = A.
    case storeA(scratch: UInt32)
    /// `stx M[k]`: M[k] = X.
    case storeX(scratch: UInt32)
    /// A = A op operand, on 32 bits.
    case arithmetic(ClassicArithmetic, ClassicOperand)
    /// `neg`: A = -A.
    case negate
    /// `ja`: skip `offset` instructions.
    case jump(offset: UInt32)
    /// `jeq`, `jgt`, `jge`, `jset`: skip `jumpTrue` instructions if the condition holds, else `jumpFalse`.
    case branch(ClassicCondition, ClassicOperand, jumpTrue: UInt8, jumpFalse: UInt8)
    case ret(ReturnValue)
    /// X = A
    case tax
    /// A = X
    case txa

    /// An absolute load of a Linux ancillary field (`ld [proto]`); the kernel reads it with any size.
    public static func loadAncillary(_ field: AncillaryField, size: LoadSize = .word) -> ClassicInstruction {
        .loadA(.packet(size, offset: field.offset))
    }

    /// The ancillary field an absolute load reads, if it reads one.
    public var ancillaryField: AncillaryField? {
        guard case .loadA(.packet(_, let offset)) = self else { return nil }
        return AncillaryField(offset: offset)
    }

    /// Decodes the opcodes the kernel's `chk_code_allowed` and libpcap's `bpf_filter` know; nil for others.
    public init?(_ raw: RawClassicInstruction) {
        let k = raw.k
        typealias O = ClassicOpcode
        switch raw.code {
        case O.classLD | O.modeIMM: self = .loadA(.constant(k))
        case O.classLD | O.modeABS | O.sizeW: self = .loadA(.packet(.word, offset: k))
        case O.classLD | O.modeABS | O.sizeH: self = .loadA(.packet(.half, offset: k))
        case O.classLD | O.modeABS | O.sizeB: self = .loadA(.packet(.byte, offset: k))
        case O.classLD | O.modeIND | O.sizeW: self = .loadA(.packetIndexed(.word, offset: k))
        case O.classLD | O.modeIND | O.sizeH: self = .loadA(.packetIndexed(.half, offset: k))
        case O.classLD | O.modeIND | O.sizeB: self = .loadA(.packetIndexed(.byte, offset: k))
        case O.classLD | O.modeLEN | O.sizeW: self = .loadA(.length)
        case O.classLD | O.modeMEM: self = .loadA(.scratch(k))
        case O.classLDX | O.modeIMM: self = .loadX(.constant(k))
        case O.classLDX | O.modeLEN | O.sizeW: self = .loadX(.length)
        case O.classLDX | O.modeMEM: self = .loadX(.scratch(k))
        case O.classLDX | O.modeMSH | O.sizeB: self = .loadX(.headerLength(offset: k))
        case O.classST: self = .storeA(scratch: k)
        case O.classSTX: self = .storeX(scratch: k)
        case O.classALU | O.aluNEG: self = .negate
        case O.classJMP | O.jumpJA: self = .jump(offset: k)
        case O.classRET | O.returnK: self = .ret(.constant(k))
        case O.classRET | O.returnA: self = .ret(.a)
        case O.classMISC | O.miscTAX: self = .tax
        case O.classMISC | O.miscTXA: self = .txa
        default:
            let operand: ClassicOperand = O.source(raw.code) == O.sourceX ? .x : .constant(k)
            switch O.instructionClass(raw.code) {
            case O.classALU:
                guard let operation = ClassicArithmetic(rawValue: O.operation(raw.code)),
                      raw.code == O.classALU | operation.rawValue | O.source(raw.code) else { return nil }
                self = .arithmetic(operation, operand)
            case O.classJMP:
                guard let condition = ClassicCondition(rawValue: O.operation(raw.code)),
                      raw.code == O.classJMP | condition.rawValue | O.source(raw.code) else { return nil }
                self = .branch(condition, operand, jumpTrue: raw.jt, jumpFalse: raw.jf)
            default:
                return nil
            }
        }
    }

    /// The instruction's 8 bytes, unused fields zero.
    public var raw: RawClassicInstruction {
        typealias O = ClassicOpcode
        func sourced(_ operand: ClassicOperand) -> (UInt16, UInt32) {
            switch operand {
            case .constant(let k): (O.sourceK, k)
            case .x: (O.sourceX, 0)
            }
        }
        switch self {
        case .loadA(.constant(let k)): return RawClassicInstruction(code: O.classLD | O.modeIMM, k: k)
        case .loadA(.packet(let size, let k)): return RawClassicInstruction(code: O.classLD | O.modeABS | size.code, k: k)
        case .loadA(.packetIndexed(let size, let k)):
            return RawClassicInstruction(code: O.classLD | O.modeIND | size.code, k: k)
        case .loadA(.length): return RawClassicInstruction(code: O.classLD | O.modeLEN | O.sizeW)
        case .loadA(.scratch(let k)): return RawClassicInstruction(code: O.classLD | O.modeMEM, k: k)
        case .loadX(.constant(let k)): return RawClassicInstruction(code: O.classLDX | O.modeIMM, k: k)
        case .loadX(.length): return RawClassicInstruction(code: O.classLDX | O.modeLEN | O.sizeW)
        case .loadX(.scratch(let k)): return RawClassicInstruction(code: O.classLDX | O.modeMEM, k: k)
        case .loadX(.headerLength(let k)): return RawClassicInstruction(code: O.classLDX | O.modeMSH | O.sizeB, k: k)
        case .storeA(let k): return RawClassicInstruction(code: O.classST, k: k)
        case .storeX(let k): return RawClassicInstruction(code: O.classSTX, k: k)
        case .arithmetic(let operation, let operand):
            let (source, k) = sourced(operand)
            return RawClassicInstruction(code: O.classALU | operation.rawValue | source, k: k)
        case .negate: return RawClassicInstruction(code: O.classALU | O.aluNEG)
        case .jump(let k): return RawClassicInstruction(code: O.classJMP | O.jumpJA, k: k)
        case .branch(let condition, let operand, let jt, let jf):
            let (source, k) = sourced(operand)
            return RawClassicInstruction(code: O.classJMP | condition.rawValue | source, jt: jt, jf: jf, k: k)
        case .ret(.constant(let k)): return RawClassicInstruction(code: O.classRET | O.returnK, k: k)
        case .ret(.a): return RawClassicInstruction(code: O.classRET | O.returnA)
        case .tax: return RawClassicInstruction(code: O.classMISC | O.miscTAX)
        case .txa: return RawClassicInstruction(code: O.classMISC | O.miscTXA)
        }
    }
}
