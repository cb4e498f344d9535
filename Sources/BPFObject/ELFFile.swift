import BPFInstructions

/// A bounds-checked reader of 64-bit ELF relocatable objects in either byte order: the
/// header, the section headers with their names, and the symbol table. Section contents
/// and relocations are read on demand, so a damaged section that nothing needs (DWARF,
/// say) does not stop the object from loading — as with libelf under libbpf.
public struct ELFFile: Sendable {
    public static let machineBPF: UInt16 = 247
    static let headerSize = 64
    static let sectionHeaderSize = 64
    static let symbolSize = 24
    static let relocationSize = 16
    /// `SHN_XINDEX`: the real value lives in section header 0.
    static let extendedIndex: UInt16 = 0xffff

    public let bytes: [UInt8]
    public let byteOrder: ByteOrder
    /// `e_type` (1: relocatable) and `e_machine` (247: BPF; 0 from old LLVM).
    public let type: UInt16
    public let machine: UInt16
    public let sections: [ELFSection]
    /// Index of the section holding section names.
    public let sectionNamesIndex: Int
    /// The `SHT_SYMTAB` section, when there is exactly one.
    public let symbolTableIndex: Int?
    /// Entries of the symbol table, entry 0 (the null symbol) included.
    public let symbols: [ELFSymbol]

    /// Parses the header, every section header and name, and the symbol table.
    public init(parsing bytes: [UInt8]) throws(ObjectError) {
        self.bytes = bytes
        guard bytes.count >= 4, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
            throw ObjectError(.notELF, "not an ELF file (no \\x7fELF magic)", offset: 0)
        }
        guard bytes.count >= Self.headerSize else {
            throw ObjectError(.notELF, "ELF header is truncated: \(bytes.count) bytes, needs \(Self.headerSize)", offset: 0)
        }
        guard bytes[4] == 2 else { throw ObjectError(.notELF, "not a 64-bit ELF file (class \(bytes[4]))", offset: 4) }
        switch bytes[5] {
        case 1: byteOrder = .little
        case 2: byteOrder = .big
        default: throw ObjectError(.notELF, "unknown ELF byte order \(bytes[5])", offset: 5)
        }
        guard bytes[6] == 1 else { throw ObjectError(.notELF, "unknown ELF version \(bytes[6])", offset: 6) }

        let reader = ByteReader(bytes, order: byteOrder)
        func header<T>(_ read: () throws(ByteReader.OutOfBounds) -> T) throws(ObjectError) -> T {
            do { return try read() } catch { throw ObjectError(error, what: "ELF header") }
        }
        type = try header { () throws(ByteReader.OutOfBounds) in try reader.u16(at: 16) }
        machine = try header { () throws(ByteReader.OutOfBounds) in try reader.u16(at: 18) }
        // Old LLVM left e_machine as EM_NONE; libbpf accepts that too.
        guard type == 1, machine == 0 || machine == Self.machineBPF else {
            throw ObjectError(.notBPFObject, "not a BPF relocatable object (e_type \(type), e_machine \(machine))", offset: 16)
        }
        let headerTableOffset = try header { () throws(ByteReader.OutOfBounds) in try reader.u64(at: 40) }
        let headerEntrySize = try header { () throws(ByteReader.OutOfBounds) in try reader.u16(at: 58) }
        var count = Int(try header { () throws(ByteReader.OutOfBounds) in try reader.u16(at: 60) })
        var namesIndex = Int(try header { () throws(ByteReader.OutOfBounds) in try reader.u16(at: 62) })

        guard let tableOffset = Int(exactly: headerTableOffset), tableOffset > 0 else {
            throw ObjectError(.malformedELF, "no section header table (e_shoff \(headerTableOffset))", offset: 40)
        }
        guard Int(headerEntrySize) == Self.sectionHeaderSize else {
            throw ObjectError(.malformedELF, "section header size is \(headerEntrySize), expected \(Self.sectionHeaderSize)", offset: 58)
        }
        // Section 0 holds the real count and name-table index when they do not fit 16 bits.
        if count == 0 || namesIndex == Int(Self.extendedIndex) {
            let (first, _) = try Self.rawHeader(reader, tableOffset: tableOffset, index: 0)
            if count == 0 {
                guard let extended = Int(exactly: first.size), extended > 0 else {
                    throw ObjectError(.malformedELF, "the object has no sections", offset: 60)
                }
                count = extended
            }
            if namesIndex == Int(Self.extendedIndex) { namesIndex = Int(first.link) }
        }
        guard tableOffset <= bytes.count, count <= (bytes.count - tableOffset) / Self.sectionHeaderSize else {
            throw ObjectError(.malformedELF, "section header table (\(count) entries at 0x\(String(tableOffset, radix: 16))) runs past the end of the file", offset: tableOffset)
        }
        guard namesIndex > 0, namesIndex < count else {
            throw ObjectError(.malformedELF, "section name table index \(namesIndex) is not a section (\(count) sections)", offset: 62)
        }

        var raw: [ELFSection] = []
        var nameOffsets: [UInt32] = []
        raw.reserveCapacity(count)
        nameOffsets.reserveCapacity(count)
        for index in 0..<count {
            let (section, nameOffset) = try Self.rawHeader(reader, tableOffset: tableOffset, index: index)
            raw.append(section)
            nameOffsets.append(nameOffset)
        }

        let names = raw[namesIndex]
        let namesData = try Self.contents(of: names, in: bytes, describedAs: "section name table #\(namesIndex)")
        let namesReader = ByteReader(Array(namesData), order: byteOrder)
        for index in 0..<count {
            let nameOffset = nameOffsets[index]
            do {
                raw[index].name = try namesReader.cString(at: Int(nameOffset))
            } catch {
                throw ObjectError(.malformedELF, "name offset \(nameOffset) is outside the section name table",
                                  section: "#\(index)", offset: tableOffset + index * Self.sectionHeaderSize)
            }
        }
        sections = raw
        sectionNamesIndex = namesIndex

        // libbpf wants exactly one symbol table; with several, ObjectFile reports it.
        let tables = raw.filter { $0.kind == .symbolTable }
        symbolTableIndex = tables.count == 1 ? tables.first?.index : nil
        if let table = tables.first, tables.count == 1 {
            symbols = try Self.symbols(of: table, sections: raw, bytes: bytes, order: byteOrder)
        } else {
            symbols = []
        }
    }

    /// The header at `index` (name not yet resolved) and its `sh_name`.
    private static func rawHeader(_ reader: ByteReader, tableOffset: Int, index: Int) throws(ObjectError) -> (ELFSection, UInt32) {
        let base = tableOffset + index * sectionHeaderSize
        do {
            let section = ELFSection(
                index: index, name: "", rawType: try reader.u32(at: base + 4),
                flags: ELFSection.Flags(rawValue: try reader.u64(at: base + 8)),
                fileOffset: try reader.u64(at: base + 24), size: try reader.u64(at: base + 32),
                link: try reader.u32(at: base + 40), info: try reader.u32(at: base + 44),
                alignment: try reader.u64(at: base + 48), entrySize: try reader.u64(at: base + 56))
            return (section, try reader.u32(at: base))
        } catch {
            throw ObjectError(error, section: "#\(index)", what: "section header")
        }
    }

    private static func contents(of section: ELFSection, in bytes: [UInt8], describedAs name: String) throws(ObjectError) -> ArraySlice<UInt8> {
        if section.kind == .noBits { return [] }
        guard let start = Int(exactly: section.fileOffset), let size = Int(exactly: section.size),
              start <= bytes.count, size <= bytes.count - start else {
            throw ObjectError(.malformedELF,
                              "contents (0x\(String(section.size, radix: 16)) bytes at file offset 0x\(String(section.fileOffset, radix: 16))) run past the end of the file (0x\(String(bytes.count, radix: 16)) bytes)",
                              section: name)
        }
        return bytes[start..<start + size]
    }

    private static func symbols(of table: ELFSection, sections: [ELFSection], bytes: [UInt8], order: ByteOrder) throws(ObjectError) -> [ELFSymbol] {
        guard table.entrySize == UInt64(symbolSize) else {
            throw ObjectError(.malformedELF, "symbol entry size is \(table.entrySize), expected \(symbolSize)", section: table.name)
        }
        let data = try contents(of: table, in: bytes, describedAs: table.name)
        guard Int(table.link) > 0, Int(table.link) < sections.count else {
            throw ObjectError(.malformedELF, "symbol string table index \(table.link) is not a section", section: table.name)
        }
        let stringSection = sections[Int(table.link)]
        let strings = ByteReader(Array(try contents(of: stringSection, in: bytes, describedAs: stringSection.name)), order: order)
        let reader = ByteReader(Array(data), order: order)
        let count = data.count / symbolSize
        var symbols: [ELFSymbol] = []
        symbols.reserveCapacity(count)
        for index in 0..<count {
            let base = index * symbolSize
            do {
                let nameOffset = try reader.u32(at: base)
                let name: String
                do { name = try strings.cString(at: Int(nameOffset)) } catch {
                    throw ObjectError(.malformedELF, "symbol #\(index): name offset \(nameOffset) is outside '\(stringSection.name)'",
                                      section: table.name, offset: base)
                }
                symbols.append(ELFSymbol(
                    index: index, name: name, nameOffset: nameOffset, info: try reader.u8(at: base + 4),
                    other: try reader.u8(at: base + 5), sectionIndex: try reader.u16(at: base + 6),
                    value: try reader.u64(at: base + 8), size: try reader.u64(at: base + 16)))
            } catch let error as ObjectError {
                throw error
            } catch {
                throw ObjectError(.malformedELF, "symbol #\(index) is truncated", section: table.name, offset: base)
            }
        }
        return symbols
    }

    // MARK: Lookups

    public func section(named name: String) -> ELFSection? { sections.first { $0.name == name } }

    public func section(at index: Int) -> ELFSection? { index >= 0 && index < sections.count ? sections[index] : nil }

    /// The bytes of a section (empty for `SHT_NOBITS`), checked against the file size.
    public func contents(of section: ELFSection) throws(ObjectError) -> ArraySlice<UInt8> {
        try Self.contents(of: section, in: bytes, describedAs: section.name)
    }

    /// A reader over a section's bytes, in the file's byte order, offsets relative to the section.
    public func reader(for section: ELFSection) throws(ObjectError) -> ByteReader {
        ByteReader(Array(try contents(of: section)), order: byteOrder)
    }

    /// The entries of a `SHT_REL` section.
    public func relocations(in section: ELFSection) throws(ObjectError) -> [ELFRelocation] {
        guard section.entrySize == UInt64(Self.relocationSize) else {
            throw ObjectError(.malformedELF, "relocation entry size is \(section.entrySize), expected \(Self.relocationSize)", section: section.name)
        }
        let reader = try reader(for: section)
        let count = reader.end / Self.relocationSize
        var relocations: [ELFRelocation] = []
        relocations.reserveCapacity(count)
        for index in 0..<count {
            let base = index * Self.relocationSize
            do {
                let offset = try reader.u64(at: base)
                let info = try reader.u64(at: base + 8)
                relocations.append(ELFRelocation(offset: offset, symbolIndex: Int(info >> 32), rawType: UInt32(truncatingIfNeeded: info)))
            } catch {
                throw ObjectError(error, section: section.name, what: "relocation #\(index)")
            }
        }
        return relocations
    }

    /// The symbol at `index` of the symbol table.
    public func symbol(at index: Int) -> ELFSymbol? { index >= 0 && index < symbols.count ? symbols[index] : nil }

    /// A symbol's display name: its own, or its section's for unnamed section symbols.
    public func displayName(of symbol: ELFSymbol) -> String {
        if symbol.kind == .section, symbol.nameOffset == 0, let section = section(at: Int(symbol.sectionIndex)) {
            return section.name
        }
        return symbol.name
    }
}
