/// The fields packed into a classic opcode, with the values of linux/bpf_common.h and
/// linux/filter.h. Plain constants: encoders and decoders compose them with `|`.
public enum ClassicOpcode {
    // Classes: the low three bits.
    public static let classLD: UInt16 = 0x00
    public static let classLDX: UInt16 = 0x01
    public static let classST: UInt16 = 0x02
    public static let classSTX: UInt16 = 0x03
    public static let classALU: UInt16 = 0x04
    public static let classJMP: UInt16 = 0x05
    public static let classRET: UInt16 = 0x06
    public static let classMISC: UInt16 = 0x07

    // Load sizes (bits 3–4) and modes (bits 5–7).
    public static let sizeW: UInt16 = 0x00
    public static let sizeH: UInt16 = 0x08
    public static let sizeB: UInt16 = 0x10
    public static let modeIMM: UInt16 = 0x00
    public static let modeABS: UInt16 = 0x20
    public static let modeIND: UInt16 = 0x40
    public static let modeMEM: UInt16 = 0x60
    public static let modeLEN: UInt16 = 0x80
    public static let modeMSH: UInt16 = 0xa0

    // Operand source of ALU and jumps; return value source.
    public static let sourceK: UInt16 = 0x00
    public static let sourceX: UInt16 = 0x08
    public static let returnK: UInt16 = 0x00
    public static let returnA: UInt16 = 0x10

    public static let aluNEG: UInt16 = 0x80
    public static let jumpJA: UInt16 = 0x00
    public static let miscTAX: UInt16 = 0x00
    public static let miscTXA: UInt16 = 0x80

    /// BPF_MAXINSNS: the most instructions Linux accepts in one filter.
    public static let maxInstructions = 4096
    /// BPF_MEMWORDS: the scratch words M[0] ... M[15].
    public static let scratchWords = 16

    @inlinable public static func instructionClass(_ code: UInt16) -> UInt16 { code & 0x07 }
    @inlinable public static func size(_ code: UInt16) -> UInt16 { code & 0x18 }
    @inlinable public static func mode(_ code: UInt16) -> UInt16 { code & 0xe0 }
    @inlinable public static func operation(_ code: UInt16) -> UInt16 { code & 0xf0 }
    @inlinable public static func source(_ code: UInt16) -> UInt16 { code & 0x08 }
}
