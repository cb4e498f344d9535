import BPFInstructions

/// An executable or shared object (`ET_EXEC`, `ET_DYN`; 64-bit, either byte order) read for
/// what a uprobe needs: a function's symbol in `.symtab` or `.dynsym`, and the file offset
/// of its address, which is what the kernel's uprobe takes. Separate from `ELFFile`, which
/// reads BPF relocatable objects only; symbols are searched in place, without building a
/// table, since a binary can have hundreds of thousands of them.
public struct ELFExecutable: Sendable {
    /// A loadable segment (`PT_LOAD`): where its bytes are in the file and in memory.
    public struct Segment: Sendable, Hashable {
        public var fileOffset: UInt64
        public var virtualAddress: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
        /// `p_flags`: 1 execute, 2 write, 4 read.
        public var flags: UInt32
    }

    /// A section header with its load address, which `ELFSection` does not keep.
    struct Section: Sendable {
        var type: UInt32
        var address: UInt64
        var fileOffset: UInt64
        var size: UInt64
        var link: UInt32
        var entrySize: UInt64
    }

    static let symbolTableType: UInt32 = 2    // SHT_SYMTAB
    static let dynamicSymbolsType: UInt32 = 11 // SHT_DYNSYM
    static let noBitsType: UInt32 = 8         // SHT_NOBITS
    static let loadSegmentType: UInt32 = 1    // PT_LOAD

    public let bytes: [UInt8]
    public let byteOrder: ByteOrder
    /// `e_type`: 2 executable, 3 shared object or position-independent executable.
    public let type: UInt16
    public let machine: UInt16
    public let segments: [Segment]
    let sections: [Section]

    public init(parsing bytes: [UInt8]) throws(ObjectError) {
        self.bytes = bytes
        guard bytes.count >= 4, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
            throw ObjectError(.notELF, "not an ELF file (no \\x7fELF magic)", offset: 0)
        }
        guard bytes.count >= 64 else {
            throw ObjectError(.notELF, "ELF header is truncated: \(bytes.count) bytes, needs 64", offset: 0)
        }
        guard bytes[4] == 2 else { throw ObjectError(.unsupported, "only 64-bit ELF files are read (class \(bytes[4]))", offset: 4) }
        switch bytes[5] {
        case 1: byteOrder = .little
        case 2: byteOrder = .big
        default: throw ObjectError(.notELF, "unknown ELF byte order \(bytes[5])", offset: 5)
        }
        let reader = ByteReader(bytes, order: byteOrder)
        do {
            type = try reader.u16(at: 16)
            machine = try reader.u16(at: 18)
            guard type == 2 || type == 3 else {
                throw ObjectError(.unsupported, "not an executable or shared object (e_type \(type))", offset: 16)
            }
            let segmentTable = try reader.u64(at: 32)
            let sectionTable = try reader.u64(at: 40)
            let segmentEntrySize = Int(try reader.u16(at: 54))
            let segmentCount = Int(try reader.u16(at: 56))
            let sectionEntrySize = Int(try reader.u16(at: 58))
            var sectionCount = Int(try reader.u16(at: 60))

            var segments: [Segment] = []
            if segmentCount > 0 {
                guard segmentEntrySize >= 56 else {
                    throw ObjectError(.malformedELF, "program header size is \(segmentEntrySize), expected 56", offset: 54)
                }
                let table = try Self.offset(segmentTable, what: "program header table", at: 32)
                guard table <= bytes.count, segmentCount <= (bytes.count - table) / segmentEntrySize else {
                    throw ObjectError(.malformedELF, "program header table (\(segmentCount) entries) runs past the end of the file", offset: 32)
                }
                for index in 0..<segmentCount {
                    let base = table + index * segmentEntrySize
                    guard try reader.u32(at: base) == Self.loadSegmentType else { continue }
                    segments.append(Segment(
                        fileOffset: try reader.u64(at: base + 8), virtualAddress: try reader.u64(at: base + 16),
                        fileSize: try reader.u64(at: base + 32), memorySize: try reader.u64(at: base + 40),
                        flags: try reader.u32(at: base + 4)))
                }
            }
            self.segments = segments

            var sections: [Section] = []
            if sectionTable != 0 {
                guard sectionEntrySize == 64 else {
                    throw ObjectError(.malformedELF, "section header size is \(sectionEntrySize), expected 64", offset: 58)
                }
                let table = try Self.offset(sectionTable, what: "section header table", at: 40)
                guard table <= bytes.count else {
                    throw ObjectError(.malformedELF, "section header table offset 0x\(String(table, radix: 16)) is past the end of the file", offset: 40)
                }
                // Section 0 holds the real count when it does not fit 16 bits.
                if sectionCount == 0, let extended = Int(exactly: try reader.u64(at: table + 32)) { sectionCount = extended }
                guard sectionCount <= (bytes.count - table) / 64 else {
                    throw ObjectError(.malformedELF, "section header table (\(sectionCount) entries) runs past the end of the file", offset: table)
                }
                sections.reserveCapacity(sectionCount)
                for index in 0..<sectionCount {
                    let base = table + index * 64
                    sections.append(Section(
                        type: try reader.u32(at: base + 4), address: try reader.u64(at: base + 16),
                        fileOffset: try reader.u64(at: base + 24), size: try reader.u64(at: base + 32),
                        link: try reader.u32(at: base + 40), entrySize: try reader.u64(at: base + 56)))
                }
            }
            self.sections = sections
        } catch let error as ObjectError {
            throw error
        } catch let error as ByteReader.OutOfBounds {
            throw ObjectError(error, what: "ELF header or table")
        } catch {
            throw ObjectError(.malformedELF, "\(error)")
        }
    }

    private static func offset(_ value: UInt64, what: String, at field: Int) throws(ObjectError) -> Int {
        guard let offset = Int(exactly: value) else {
            throw ObjectError(.malformedELF, "\(what) offset 0x\(String(value, radix: 16)) is not addressable", offset: field)
        }
        return offset
    }

    /// Global definitions before weak before local ones.
    private static func rank(_ symbol: ELFSymbol) -> Int {
        switch symbol.binding {
        case .global: 0
        case .weak: 1
        default: 2
        }
    }

    /// Whether the file has a full symbol table (`.symtab`), not only the dynamic one.
    public var hasSymbolTable: Bool { sections.contains { $0.type == Self.symbolTableType } }

    /// A symbol table and its string table, checked to lie inside the file.
    private struct SymbolTable {
        var name: String
        var start: Int
        var count: Int
        var stringStart: Int
        var stringEnd: Int
    }

    /// `.symtab` then `.dynsym`, whichever the file has.
    private func symbolTables() throws(ObjectError) -> [SymbolTable] {
        var tables: [SymbolTable] = []
        for table in sections where table.type == Self.symbolTableType || table.type == Self.dynamicSymbolsType {
            let tableName = table.type == Self.symbolTableType ? ".symtab" : ".dynsym"
            guard table.entrySize == 24 else {
                throw ObjectError(.malformedELF, "symbol entry size is \(table.entrySize), expected 24", section: tableName)
            }
            guard Int(table.link) < sections.count else {
                throw ObjectError(.malformedELF, "string table index \(table.link) is not a section", section: tableName)
            }
            let strings = sections[Int(table.link)]
            guard let start = Int(exactly: table.fileOffset), let size = Int(exactly: table.size),
                  let stringStart = Int(exactly: strings.fileOffset), let stringSize = Int(exactly: strings.size),
                  start <= bytes.count, size <= bytes.count - start,
                  stringStart <= bytes.count, stringSize <= bytes.count - stringStart else {
                throw ObjectError(.malformedELF, "symbol or string table runs past the end of the file", section: tableName)
            }
            tables.append(SymbolTable(name: tableName, start: start, count: size / 24, stringStart: stringStart,
                                      stringEnd: stringStart + stringSize))
        }
        return tables
    }

    /// Entry `index` of `table`, with `name` as given (the caller has matched or read it).
    private func symbol(_ index: Int, of table: SymbolTable, name: String, nameOffset: Int) throws(ObjectError) -> ELFSymbol {
        let reader = ByteReader(bytes, order: byteOrder)
        let base = table.start + index * 24
        do throws(ByteReader.OutOfBounds) {
            return ELFSymbol(
                index: index, name: name, nameOffset: UInt32(nameOffset), info: try reader.u8(at: base + 4),
                other: try reader.u8(at: base + 5), sectionIndex: try reader.u16(at: base + 6),
                value: try reader.u64(at: base + 8), size: try reader.u64(at: base + 16))
        } catch {
            throw ObjectError(error, section: table.name, what: "symbol #\(index)")
        }
    }

    /// Where symbol `index`'s name starts in the file, or nil for an unnamed or broken one.
    private func nameStart(_ index: Int, of table: SymbolTable) -> Int? {
        let reader = ByteReader(bytes, order: byteOrder)
        guard let offset = try? reader.u32(at: table.start + index * 24), offset > 0,
              Int(offset) < table.stringEnd - table.stringStart else { return nil }
        return table.stringStart + Int(offset)
    }

    /// Symbols in `.symtab` then `.dynsym` named `name` and defined in a section. A
    /// versioned dynamic name (`name@VERSION`) matches when `name` carries no version.
    public func symbols(named name: String) throws(ObjectError) -> [ELFSymbol] {
        let wanted = Array(name.utf8)
        var found: [ELFSymbol] = []
        for table in try symbolTables() {
            for index in 0..<table.count {
                guard let start = nameStart(index, of: table),
                      Self.matches(wanted, bytes: bytes, at: start, end: table.stringEnd) else { continue }
                let symbol = try symbol(index, of: table, name: name, nameOffset: start - table.stringStart)
                if symbol.sectionIndex != ELFSymbol.undefinedSection { found.append(symbol) }
            }
        }
        return found
    }

    /// A function by the bytes of the file it occupies, for naming addresses.
    public struct FunctionRange: Sendable, Hashable {
        public var fileOffset: UInt64
        public var size: UInt64
        public var name: String
    }

    /// Every defined function of `.symtab` and `.dynsym`, sorted by file offset (one entry
    /// per offset: the first table's name), so that an address in a mapping of the file
    /// can be named with `function(containing:in:)`.
    public func functionsByFileOffset() throws(ObjectError) -> [FunctionRange] {
        var functions: [UInt64: FunctionRange] = [:]
        for table in try symbolTables() {
            for index in 0..<table.count {
                guard let start = nameStart(index, of: table) else { continue }
                var end = start
                while end < table.stringEnd && bytes[end] != 0 { end += 1 }
                let name = String(decoding: bytes[start..<end], as: UTF8.self)
                let symbol = try symbol(index, of: table, name: name, nameOffset: start - table.stringStart)
                guard symbol.kind == .function, symbol.sectionIndex != ELFSymbol.undefinedSection,
                      let offset = fileOffset(ofAddress: symbol.value, sectionIndex: symbol.sectionIndex),
                      functions[offset] == nil else { continue }
                functions[offset] = FunctionRange(fileOffset: offset, size: symbol.size, name: name)
            }
        }
        return functions.values.sorted { $0.fileOffset < $1.fileOffset }
    }

    /// The function of `functions` (sorted by file offset) that holds `fileOffset`.
    public static func function(containing fileOffset: UInt64, in functions: [FunctionRange]) -> FunctionRange? {
        var low = 0, high = functions.count
        while low < high {
            let middle = (low + high) / 2
            if functions[middle].fileOffset <= fileOffset { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let candidate = functions[low - 1]
        return fileOffset - candidate.fileOffset < max(candidate.size, 1) ? candidate : nil
    }

    /// `name` at `offset`, ended by NUL or (for dynamic symbols) by `@`.
    private static func matches(_ name: [UInt8], bytes: [UInt8], at offset: Int, end: Int) -> Bool {
        guard end - offset > name.count else { return false }
        for index in 0..<name.count where bytes[offset + index] != name[index] { return false }
        let next = bytes[offset + name.count]
        return next == 0 || (next == UInt8(ascii: "@") && !name.contains(UInt8(ascii: "@")))
    }

    /// The file offset of virtual address `address`: through the loadable segment that
    /// holds it, or else through the section `sectionIndex` (as libbpf does for objects
    /// without program headers).
    public func fileOffset(ofAddress address: UInt64, sectionIndex: UInt16? = nil) -> UInt64? {
        for segment in segments where address >= segment.virtualAddress && address - segment.virtualAddress < segment.fileSize {
            let (offset, overflow) = (address - segment.virtualAddress).addingReportingOverflow(segment.fileOffset)
            return overflow ? nil : offset
        }
        if let sectionIndex, Int(sectionIndex) < sections.count {
            let section = sections[Int(sectionIndex)]
            if section.type != Self.noBitsType, address >= section.address, address - section.address < section.size {
                let (offset, overflow) = (address - section.address).addingReportingOverflow(section.fileOffset)
                return overflow ? nil : offset
            }
        }
        return nil
    }

    /// The file offset of function `name`, preferring global over weak over local
    /// definitions; nil when no symbol of that name is defined. Throws when the file is
    /// malformed, or when two local definitions at different addresses make it ambiguous.
    public func fileOffset(ofSymbol name: String) throws(ObjectError) -> UInt64? {
        // Plain loops: Swift 6.3's optimizer can clobber a typed-throws function's error
        // when a closure passed to a standard-library generic is inlined into it.
        var best: ELFSymbol?
        var localAddresses: Set<UInt64> = []
        for symbol in try symbols(named: name) where symbol.kind == .function {
            if Self.rank(symbol) == 2 { localAddresses.insert(symbol.value) }
            if best == nil || Self.rank(symbol) < Self.rank(best ?? symbol) { best = symbol }
        }
        guard let best else { return nil }
        if Self.rank(best) == 2, localAddresses.count > 1 {
            throw ObjectError(.unsupported, "'\(name)' names \(localAddresses.count) different local functions; give an offset instead",
                              symbol: name)
        }
        guard let offset = fileOffset(ofAddress: best.value, sectionIndex: best.sectionIndex) else {
            throw ObjectError(.malformedELF, "address 0x\(String(best.value, radix: 16)) is in no loadable segment", symbol: name)
        }
        return offset
    }
}
