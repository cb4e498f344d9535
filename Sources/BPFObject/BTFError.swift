/// Why a `.BTF` or `.BTF.ext` blob was refused, with the byte offset in the blob and,
/// where one is involved, the type id.
public struct BTFError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// A read of `needed` bytes ran past the end of the blob or of its section.
        case truncated(needed: Int, available: Int)
        case badMagic(UInt16)
        case unsupportedVersion(UInt8)
        case unsupportedFlags(UInt8)
        case badHeaderLength(UInt32)
        /// The type or string section (or a `.BTF.ext` info section) lies outside the blob,
        /// is misaligned, or overlaps another.
        case badSectionBounds(section: String, offset: UInt32, length: UInt32)
        /// The string table does not start or end with a NUL byte, or is too long.
        case badStringTable
        case badNameOffset(UInt32)
        case unknownKind(UInt8)
        /// A vlen the kind does not allow (e.g. members on a pointer).
        case badVlen(kind: BTFKind, vlen: UInt16)
        case badKindFlag(kind: BTFKind)
        case badLinkage(UInt32)
        case badIntEncoding(UInt32)
        case badSize(kind: BTFKind, size: UInt32)
        case badComponentIndex(Int32)
        /// A reference to a type id that does not exist.
        case unknownTypeID(BTFTypeID)
        case tooManyTypes(Int)
        /// `.BTF.ext` record size smaller than the record, or not a multiple of 4.
        case badRecordSize(section: String, size: UInt32)
        case unknownRelocationKind(UInt32)
        /// Formatting a value: a type with no value of its own (void, a function).
        case unformattable(BTFKind)
        /// Formatting a value: types nested more deeply than this.
        case nestedTooDeeply(Int)
    }

    public var reason: Reason
    /// Byte offset in the blob being parsed.
    public var offset: Int
    /// The type being parsed, when the problem is inside one.
    public var typeID: BTFTypeID?

    public init(_ reason: Reason, offset: Int, typeID: BTFTypeID? = nil) {
        self.reason = reason
        self.offset = offset
        self.typeID = typeID
    }

    init(_ error: ByteReader.OutOfBounds, typeID: BTFTypeID? = nil) {
        self.init(.truncated(needed: error.needed, available: error.available), offset: error.offset, typeID: typeID)
    }

    public var description: String {
        let location = typeID.map { "type [\($0)] at offset \(offset)" } ?? "offset \(offset)"
        return "\(location): \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case .truncated(let needed, let available):
            "truncated: needs \(needed) byte\(needed == 1 ? "" : "s"), only \(available) available"
        case .badMagic(let magic): "bad magic 0x\(String(magic, radix: 16)) (expected 0xeb9f)"
        case .unsupportedVersion(let version): "unsupported version \(version)"
        case .unsupportedFlags(let flags): "unsupported flags 0x\(String(flags, radix: 16))"
        case .badHeaderLength(let length): "bad header length \(length)"
        case .badSectionBounds(let section, let offset, let length):
            "\(section) section (offset \(offset), length \(length)) is out of bounds, misaligned or overlapping"
        case .badStringTable: "string table must start and end with a NUL byte"
        case .badNameOffset(let nameOffset): "name offset \(nameOffset) is outside the string table"
        case .unknownKind(let kind): "unknown kind \(kind)"
        case .badVlen(let kind, let vlen): "vlen \(vlen) not allowed for \(kind.name)"
        case .badKindFlag(let kind): "kind_flag not allowed for \(kind.name)"
        case .badLinkage(let linkage): "unknown linkage \(linkage)"
        case .badIntEncoding(let data): "bad int encoding 0x\(String(data, radix: 16))"
        case .badSize(let kind, let size): "bad size \(size) for \(kind.name)"
        case .badComponentIndex(let index): "bad component index \(index)"
        case .unknownTypeID(let id): "refers to type id \(id), which does not exist"
        case .tooManyTypes(let count): "too many types (\(count))"
        case .badRecordSize(let section, let size): "bad \(section) record size \(size)"
        case .unknownRelocationKind(let kind): "unknown CO-RE relocation kind \(kind)"
        case .unformattable(let kind): "a \(kind.name) has no value to show"
        case .nestedTooDeeply(let depth): "types nest more than \(depth) levels deep"
        }
    }
}
