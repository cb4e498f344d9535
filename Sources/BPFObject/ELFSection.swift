/// One ELF64 section header, with its name resolved from the section-name string table.
public struct ELFSection: Sendable, Hashable {
    /// Section header types (`sh_type`) that BPF objects use.
    public enum Kind: Sendable, Hashable {
        case null, programBits, symbolTable, stringTable, relocationsWithAddends, noBits, relocations
        case llvmAddressSignificance
        case other(UInt32)

        public init(rawValue: UInt32) {
            switch rawValue {
            case 0: self = .null
            case 1: self = .programBits
            case 2: self = .symbolTable
            case 3: self = .stringTable
            case 4: self = .relocationsWithAddends
            case 8: self = .noBits
            case 9: self = .relocations
            case 0x6fff_4c03: self = .llvmAddressSignificance
            default: self = .other(rawValue)
            }
        }
    }

    /// `sh_flags` bits.
    public struct Flags: OptionSet, Sendable, Hashable {
        public var rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public static let write = Flags(rawValue: 0x1)
        public static let allocate = Flags(rawValue: 0x2)
        public static let executable = Flags(rawValue: 0x4)
    }

    /// Position in the section header table; symbols and relocations refer to sections by it.
    public var index: Int
    public var name: String
    public var rawType: UInt32
    public var flags: Flags
    /// File offset of the contents (meaningless for `.noBits`).
    public var fileOffset: UInt64
    public var size: UInt64
    public var link: UInt32
    public var info: UInt32
    public var alignment: UInt64
    public var entrySize: UInt64

    public var kind: Kind { Kind(rawValue: rawType) }
    public var isExecutable: Bool { flags.contains(.executable) }

    public init(index: Int, name: String, rawType: UInt32, flags: Flags, fileOffset: UInt64, size: UInt64,
                link: UInt32, info: UInt32, alignment: UInt64, entrySize: UInt64) {
        self.index = index
        self.name = name
        self.rawType = rawType
        self.flags = flags
        self.fileOffset = fileOffset
        self.size = size
        self.link = link
        self.info = info
        self.alignment = alignment
        self.entrySize = entrySize
    }
}
