/// Whether an arithmetic or jump instruction works on the low 32 bits (classes ALU and
/// JMP32) or on all 64 (ALU64 and JMP).
public enum Width: Sendable, Hashable {
    case bits32, bits64
}

/// The second operand of arithmetic, jumps and stores: a register (`X`) or the
/// instruction's 32-bit immediate (`K`).
public enum Operand: Sendable, Hashable {
    case register(Register)
    case immediate(Int32)
}

/// Two-operand arithmetic (RFC 9669 table "Arithmetic instructions"). The signed forms
/// share their opcode with the unsigned ones and are told apart by `offset` = 1.
public enum ArithmeticOperation: Sendable, Hashable, CaseIterable {
    case add, sub, mul, div, sdiv, or, and, lsh, rsh, mod, smod, xor, mov, arsh

    /// The operation bits of the opcode.
    public var code: UInt8 {
        switch self {
        case .add: 0x00
        case .sub: 0x10
        case .mul: 0x20
        case .div, .sdiv: 0x30
        case .or: 0x40
        case .and: 0x50
        case .lsh: 0x60
        case .rsh: 0x70
        case .mod, .smod: 0x90
        case .xor: 0xa0
        case .mov: 0xb0
        case .arsh: 0xc0
        }
    }

    var isSigned: Bool { self == .sdiv || self == .smod }

    static func from(code: UInt8, signed: Bool) -> ArithmeticOperation? {
        switch code {
        case 0x00: .add
        case 0x10: .sub
        case 0x20: .mul
        case 0x30: signed ? .sdiv : .div
        case 0x40: .or
        case 0x50: .and
        case 0x60: .lsh
        case 0x70: .rsh
        case 0x90: signed ? .smod : .mod
        case 0xa0: .xor
        case 0xb0: .mov
        case 0xc0: .arsh
        default: nil
        }
    }
}

/// What a byte-swap instruction converts to: little or big endian (class ALU, a no-op
/// or a swap depending on the host), or an unconditional swap (class ALU64).
public enum ByteSwapKind: Sendable, Hashable {
    case toLittleEndian, toBigEndian, swap
}

/// Conditions of conditional jumps; unsigned unless the name starts with `s`.
public enum JumpCondition: UInt8, Sendable, Hashable, CaseIterable {
    case eq = 0x10, gt = 0x20, ge = 0x30, set = 0x40, ne = 0x50, sgt = 0x60, sge = 0x70
    case lt = 0xa0, le = 0xb0, slt = 0xc0, sle = 0xd0
}

/// Access sizes of loads, stores and atomics.
public enum MemorySize: Int, Sendable, Hashable, CaseIterable {
    case byte = 1, half = 2, word = 4, double = 8

    /// The size bits of the opcode.
    public var code: UInt8 {
        switch self {
        case .byte: Opcode.sizeB
        case .half: Opcode.sizeH
        case .word: Opcode.sizeW
        case .double: Opcode.sizeDW
        }
    }

    init(code: UInt8) {
        switch code {
        case Opcode.sizeB: self = .byte
        case Opcode.sizeH: self = .half
        case Opcode.sizeW: self = .word
        default: self = .double
        }
    }
}

/// Read-modify-write atomics; the raw value is the instruction's immediate.
public enum AtomicOperation: Int32, Sendable, Hashable, CaseIterable {
    case add = 0x00, or = 0x40, and = 0x50, xor = 0xa0
    case fetchAdd = 0x01, fetchOr = 0x41, fetchAnd = 0x51, fetchXor = 0xa1
    case exchange = 0xe1, compareExchange = 0xf1

    /// Whether the old value is written back to the source register (r0 for cmpxchg).
    public var fetches: Bool { rawValue & 0x01 != 0 }
}

/// The immediates of the ordered loads and stores added in Linux 6.15.
enum OrderedAccess {
    static let loadAcquire: Int32 = 0x100
    static let storeRelease: Int32 = 0x110
}

/// One decoded eBPF instruction. Every case encodes to exactly one bit pattern (with
/// reserved fields zero), and every valid bit pattern decodes to exactly one case, so
/// `Instruction` and its encoding convert both ways without loss.
public enum Instruction: Sendable, Hashable {
    /// `dst = dst op source`, on 32 or 64 bits.
    case arithmetic(ArithmeticOperation, Width, dst: Register, source: Operand)
    /// `dst = -dst`.
    case negate(Width, dst: Register)
    /// `dst = (sN) src` with N = 8, 16 or 32 (32 only for 64-bit).
    case moveSignExtend(Width, dst: Register, src: Register, bits: Int)
    /// Byte order conversion of the low `bits` (16, 32 or 64) of dst.
    case byteSwap(ByteSwapKind, bits: Int, dst: Register)
    /// `dst = *(size *)(base + offset)`, zero-extended.
    case load(MemorySize, dst: Register, base: Register, offset: Int16)
    /// `dst = *(sN *)(base + offset)`, sign-extended (byte, half or word).
    case loadSignExtend(MemorySize, dst: Register, base: Register, offset: Int16)
    /// `*(size *)(base + offset) = source`.
    case store(MemorySize, base: Register, offset: Int16, source: Operand)
    /// `lock *(size *)(base + offset) op= source` (word or double).
    case atomic(AtomicOperation, MemorySize, base: Register, offset: Int16, source: Register)
    /// `dst = load_acquire((size *)(base + offset))`.
    case loadAcquire(MemorySize, dst: Register, base: Register, offset: Int16)
    /// `store_release((size *)(base + offset), source)`.
    case storeRelease(MemorySize, base: Register, offset: Int16, source: Register)
    /// The 16-byte `lddw`: a 64-bit constant, or a map, variable or function reference.
    case loadImmediate64(dst: Register, source: PseudoSource, imm: Int32, nextImm: Int32)
    /// Legacy packet load into r0: `ld_abs` (no index) or `ld_ind` (index register).
    case loadPacket(MemorySize, index: Register?, imm: Int32)
    /// `goto +offset`.
    case jump(offset: Int16)
    /// `gotol +offset`: the 32-bit jump (JMP32 class JA).
    case jumpLong(offset: Int32)
    /// `if dst cond source goto +offset`.
    case branch(JumpCondition, Width, dst: Register, source: Operand, offset: Int16)
    /// Call a helper function by its static id.
    case call(helper: Int32)
    /// Call a program-local function `offset` instructions after the next.
    case callLocal(offset: Int32)
    /// Call a kernel function by BTF id; `module` is the index of the module BTF fd (0: vmlinux).
    case callKernelFunction(btfID: Int32, module: Int16)
    /// Call the helper whose id is in a register (`callx`).
    case callRegister(Register)
    case exit
    /// `may_goto +offset`: falls through until the runtime's loop budget runs out.
    case mayGoto(offset: Int16)

    /// Instruction slots this instruction takes: 2 for `lddw`, else 1.
    public var slotCount: Int {
        if case .loadImmediate64 = self { return 2 }
        return 1
    }

    /// For `lddw` with `PseudoSource.immediate`: the 64-bit value.
    public static func immediate64(imm: Int32, nextImm: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: nextImm)) << 32 | UInt64(UInt32(bitPattern: imm))
    }

    /// `dst = value` as a 16-byte `lddw`.
    public static func loadImmediate64(dst: Register, value: UInt64) -> Instruction {
        .loadImmediate64(dst: dst, source: .immediate,
                         imm: Int32(bitPattern: UInt32(truncatingIfNeeded: value)),
                         nextImm: Int32(bitPattern: UInt32(truncatingIfNeeded: value >> 32)))
    }

    /// The relative offset of a jump, branch or local call, counted in slots from the next one.
    public var jumpOffset: Int? {
        switch self {
        case .jump(let offset), .branch(_, _, _, _, let offset), .mayGoto(let offset): Int(offset)
        case .jumpLong(let offset), .callLocal(let offset): Int(offset)
        case .loadImmediate64(_, .function, let imm, _): Int(imm)
        default: nil
        }
    }
}
