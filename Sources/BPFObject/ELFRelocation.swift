/// One `Elf64_Rel` entry of a `SHT_REL` section (BPF objects carry no addends; the addend
/// is in the instruction or data being relocated).
public struct ELFRelocation: Sendable, Hashable {
    /// The BPF relocation types LLVM emits (llvm/BinaryFormat/ELFRelocs/BPF.def).
    public enum Kind: Sendable, Hashable {
        case none
        /// `lddw` of a map, variable or function: the 64-bit immediate split over two slots.
        case bpf64_64
        case bpf64Abs64
        case bpf64Abs32
        /// A 32-bit value the loader fills, in `.BTF`/`.BTF.ext`; not applied by dynamic loaders.
        case bpf64NoDyld32
        /// `call` of a BPF function (imm in instructions, minus one).
        case bpf64_32
        case other(UInt32)

        public init(rawValue: UInt32) {
            switch rawValue {
            case 0: self = .none
            case 1: self = .bpf64_64
            case 2: self = .bpf64Abs64
            case 3: self = .bpf64Abs32
            case 4: self = .bpf64NoDyld32
            case 10: self = .bpf64_32
            default: self = .other(rawValue)
            }
        }

        /// The name `llvm-objdump -r` prints.
        public var name: String {
            switch self {
            case .none: "R_BPF_NONE"
            case .bpf64_64: "R_BPF_64_64"
            case .bpf64Abs64: "R_BPF_64_ABS64"
            case .bpf64Abs32: "R_BPF_64_ABS32"
            case .bpf64NoDyld32: "R_BPF_64_NODYLD32"
            case .bpf64_32: "R_BPF_64_32"
            case .other(let raw): "R_BPF_\(raw)"
            }
        }
    }

    /// Byte offset in the section the relocations apply to.
    public var offset: UInt64
    public var symbolIndex: Int
    public var rawType: UInt32

    public var kind: Kind { Kind(rawValue: rawType) }

    public init(offset: UInt64, symbolIndex: Int, rawType: UInt32) {
        self.offset = offset
        self.symbolIndex = symbolIndex
        self.rawType = rawType
    }
}
