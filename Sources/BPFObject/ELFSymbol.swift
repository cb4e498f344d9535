/// One ELF64 symbol table entry, with its name resolved from the linked string table.
public struct ELFSymbol: Sendable, Hashable {
    public enum Binding: Sendable, Hashable {
        case local, global, weak, other(UInt8)
        init(_ raw: UInt8) {
            switch raw {
            case 0: self = .local
            case 1: self = .global
            case 2: self = .weak
            default: self = .other(raw)
            }
        }
    }

    public enum Kind: Sendable, Hashable {
        case none, object, function, section, file, other(UInt8)
        init(_ raw: UInt8) {
            switch raw {
            case 0: self = .none
            case 1: self = .object
            case 2: self = .function
            case 3: self = .section
            case 4: self = .file
            default: self = .other(raw)
            }
        }
    }

    public enum Visibility: UInt8, Sendable, Hashable {
        case `default` = 0, `internal` = 1, hidden = 2, protected = 3
    }

    /// Special section indexes (`st_shndx`).
    public static let undefinedSection: UInt16 = 0
    public static let firstReservedSection: UInt16 = 0xff00
    public static let absoluteSection: UInt16 = 0xfff1
    public static let commonSection: UInt16 = 0xfff2

    /// Position in the symbol table; relocations refer to symbols by it.
    public var index: Int
    public var name: String
    /// Offset of the name in the string table (0: no name).
    public var nameOffset: UInt32
    public var info: UInt8
    public var other: UInt8
    public var sectionIndex: UInt16
    public var value: UInt64
    public var size: UInt64

    public var binding: Binding { Binding(info >> 4) }
    public var kind: Kind { Kind(info & 0xf) }
    public var visibility: Visibility { Visibility(rawValue: other & 0x3) ?? .default }

    public init(index: Int, name: String, nameOffset: UInt32, info: UInt8, other: UInt8, sectionIndex: UInt16,
                value: UInt64, size: UInt64) {
        self.index = index
        self.name = name
        self.nameOffset = nameOffset
        self.info = info
        self.other = other
        self.sectionIndex = sectionIndex
        self.value = value
        self.size = size
    }

    /// An undefined global or weak symbol without a type: what libbpf treats as an extern.
    public var isExtern: Bool {
        sectionIndex == Self.undefinedSection && (binding == .global || binding == .weak) && kind == .none
    }
}
