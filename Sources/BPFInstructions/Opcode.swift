/// The fields packed into an opcode byte (RFC 9669, "Instruction classes" and the tables
/// after it). Kept as plain constants: encoders and decoders compose them with `|`.
public enum Opcode {
    // Classes: the low three bits.
    public static let classLD: UInt8 = 0x00
    public static let classLDX: UInt8 = 0x01
    public static let classST: UInt8 = 0x02
    public static let classSTX: UInt8 = 0x03
    public static let classALU: UInt8 = 0x04
    public static let classJMP: UInt8 = 0x05
    public static let classJMP32: UInt8 = 0x06
    public static let classALU64: UInt8 = 0x07

    // Arithmetic and jump: bit 3 selects the source, the high four bits the operation.
    public static let sourceK: UInt8 = 0x00
    public static let sourceX: UInt8 = 0x08

    // Load and store: size in bits 3–4, mode in bits 5–7.
    public static let sizeW: UInt8 = 0x00
    public static let sizeH: UInt8 = 0x08
    public static let sizeB: UInt8 = 0x10
    public static let sizeDW: UInt8 = 0x18
    public static let modeIMM: UInt8 = 0x00
    public static let modeABS: UInt8 = 0x20
    public static let modeIND: UInt8 = 0x40
    public static let modeMEM: UInt8 = 0x60
    public static let modeMEMSX: UInt8 = 0x80
    public static let modeATOMIC: UInt8 = 0xc0

    // Jump codes that are not conditions.
    public static let jumpJA: UInt8 = 0x00
    public static let jumpCALL: UInt8 = 0x80
    public static let jumpEXIT: UInt8 = 0x90
    public static let jumpJCOND: UInt8 = 0xe0
    public static let aluNEG: UInt8 = 0x80
    public static let aluEND: UInt8 = 0xd0

    @inlinable public static func instructionClass(_ opcode: UInt8) -> UInt8 { opcode & 0x07 }
    @inlinable public static func code(_ opcode: UInt8) -> UInt8 { opcode & 0xf0 }
    @inlinable public static func size(_ opcode: UInt8) -> UInt8 { opcode & 0x18 }
    @inlinable public static func mode(_ opcode: UInt8) -> UInt8 { opcode & 0xe0 }
}

/// The `src` field of a call: what the immediate names.
public enum CallKind: UInt8, Sendable {
    case helper = 0
    case local = 1      // BPF_PSEUDO_CALL: imm is a pc-relative instruction offset
    case kfunc = 2      // BPF_PSEUDO_KFUNC_CALL: imm is a BTF id
}

/// The `src` field of a 16-byte `lddw`: what the 64-bit immediate stands for
/// (RFC 9669, table of `{IMM, DW, LD}` instructions; kernel `BPF_PSEUDO_*` names).
public enum PseudoSource: UInt8, Sendable, CaseIterable {
    case immediate = 0        // dst = next_imm << 32 | imm
    case mapFD = 1            // BPF_PSEUDO_MAP_FD
    case mapValue = 2         // BPF_PSEUDO_MAP_VALUE: map by fd, value + next_imm
    case btfID = 3            // BPF_PSEUDO_BTF_ID: address of a kernel variable
    case function = 4         // BPF_PSEUDO_FUNC: address of a subprogram
    case mapIndex = 5         // BPF_PSEUDO_MAP_IDX
    case mapIndexValue = 6    // BPF_PSEUDO_MAP_IDX_VALUE
}
