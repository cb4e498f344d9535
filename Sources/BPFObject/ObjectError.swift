/// Why an object file was refused, and where: the section, the symbol and the byte offset
/// (inside the section when one is named, else in the file). Every malformed input becomes
/// one of these; none of them is a crash.
public struct ObjectError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Not an ELF file, or an ELF file this toolkit cannot read (class, byte order, version).
        case notELF
        /// An ELF file, but not a BPF relocatable object (`e_type`, `e_machine`).
        case notBPFObject
        /// A header, section, string table or symbol table is truncated or inconsistent.
        case malformedELF
        /// A relocation that points nowhere, or at an instruction that cannot take it.
        case badRelocation
        /// A program whose symbol or code does not make sense (size, alignment, static).
        case badProgram
        /// A map definition that libbpf would refuse.
        case badMap
        /// An extern (`.kconfig` / `.ksyms`) without usable BTF.
        case badExtern
        /// `.BTF` or `.BTF.ext` is malformed and the object needs it.
        case badBTF
        /// A construct libbpf also refuses (e.g. multi-level inner maps).
        case unsupported
    }

    public var kind: Kind
    public var message: String
    public var section: String?
    public var symbol: String?
    /// Byte offset inside `section` when it is set, else inside the file.
    public var offset: Int?

    public init(_ kind: Kind, _ message: String, section: String? = nil, symbol: String? = nil, offset: Int? = nil) {
        self.kind = kind
        self.message = message
        self.section = section
        self.symbol = symbol
        self.offset = offset
    }

    public var description: String {
        var location: [String] = []
        if let section { location.append("section '\(section)'") }
        if let symbol { location.append("symbol '\(symbol)'") }
        if let offset { location.append("offset 0x\(String(offset, radix: 16))") }
        return location.isEmpty ? message : location.joined(separator: ", ") + ": " + message
    }
}

extension ObjectError {
    /// A read past the end of a section or the file.
    init(_ error: ByteReader.OutOfBounds, section: String? = nil, symbol: String? = nil, what: String) {
        self.init(.malformedELF, "\(what) is truncated (\(error))", section: section, symbol: symbol, offset: error.offset)
    }
}
