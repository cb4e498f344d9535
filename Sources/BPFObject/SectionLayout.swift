/// What each ELF section of a BPF object is for, decided by name and type as libbpf's
/// `bpf_object__elf_collect` decides it. Sections libbpf ignores (DWARF, string tables,
/// relocations of debug info) are never read, so damage there does not matter.
struct SectionLayout {
    enum DataKind: Sendable, Hashable {
        case data, readOnlyData, bss
    }

    var license: String?
    var kernelVersion: UInt32?
    var legacyMapsIndex: Int?
    var btfMapsIndex: Int?
    var btfIndex: Int?
    var btfExtIndex: Int?
    var textIndex: Int?
    /// Executable sections with code, in section order.
    var programSections: [Int] = []
    var dataSections: [(index: Int, kind: DataKind)] = []
    /// `SHT_REL` sections that apply to code or to `.maps`, with the section they apply to.
    var relocationSections: [(index: Int, target: Int)] = []
    /// Recognised but unsupported sections (struct_ops, arena), by index.
    var unsupportedSections: [Int] = []

    func dataKind(of index: Int) -> DataKind? { dataSections.first { $0.index == index }?.kind }

    init(_ elf: ELFFile) throws(ObjectError) {
        guard let symbolTable = elf.symbolTableIndex else {
            let count = elf.sections.filter { $0.kind == .symbolTable }.count
            throw ObjectError(.malformedELF, count == 0 ? "no symbol table (stripped object?)" : "\(count) symbol tables, expected one")
        }
        for section in elf.sections.dropFirst() where !Self.isIgnored(section) {
            let contents = try elf.contents(of: section)
            let name = section.name
            switch name {
            case "license":
                // As libbpf: up to the first NUL, at most 63 bytes (its buffer is 64).
                license = String(decoding: contents.prefix { $0 != 0 }.prefix(63), as: UTF8.self)
            case "version":
                guard contents.count == 4 else {
                    throw ObjectError(.malformedELF, "kernel version section is \(contents.count) bytes, expected 4", section: name)
                }
                kernelVersion = try? elf.reader(for: section).u32(at: 0)
            case "maps":
                legacyMapsIndex = section.index
            case ".maps":
                btfMapsIndex = section.index
            case ".BTF", ".BTF.ext":
                guard section.kind == .programBits else {
                    throw ObjectError(.malformedELF, "section type \(section.rawType) is not PROGBITS", section: name)
                }
                if name == ".BTF" { btfIndex = section.index } else { btfExtIndex = section.index }
            default:
                try classify(section, contentCount: contents.count, elf: elf, symbolTable: symbolTable)
            }
        }
        guard let strings = elf.section(at: symbolTable).map({ Int($0.link) }), strings > 0, strings < elf.sections.count else {
            throw ObjectError(.malformedELF, "symbol string table is missing or invalid", section: elf.sections[symbolTable].name)
        }
    }

    private mutating func classify(_ section: ELFSection, contentCount: Int, elf: ELFFile, symbolTable: Int) throws(ObjectError) {
        let name = section.name
        switch section.kind {
        case .symbolTable:
            break
        case .programBits where contentCount > 0:
            if section.isExecutable {
                if name == ".text" { textIndex = section.index }
                programSections.append(section.index)
            } else if name == ".data" || name.hasPrefix(".data.") {
                dataSections.append((section.index, .data))
            } else if name == ".rodata" || name.hasPrefix(".rodata.") {
                dataSections.append((section.index, .readOnlyData))
            } else if Self.unsupportedNames.contains(name) {
                unsupportedSections.append(section.index)
            }
        case .relocations:
            let target = Int(section.info)
            guard section.entrySize == UInt64(ELFFile.relocationSize), target < elf.sections.count else {
                throw ObjectError(.malformedELF, "relocation section with entry size \(section.entrySize) for section #\(section.info)", section: name)
            }
            if elf.sections[target].isExecutable || name == ".rel.maps" {
                relocationSections.append((section.index, target))
            }
        case .noBits where name == ".bss" || name.hasPrefix(".bss."):
            dataSections.append((section.index, .bss))
        default:
            break
        }
    }

    static let unsupportedNames: Set = [".struct_ops", ".struct_ops.link", "?.struct_ops", "?.struct_ops.link",
                                        ".addr_space.1", ".jumptables"]

    /// libbpf's `ignore_elf_section`.
    static func isIgnored(_ section: ELFSection) -> Bool {
        switch section.kind {
        case .stringTable, .llvmAddressSignificance: return true
        case .programBits where section.size == 0 && section.name == ".text": return true
        default: break
        }
        let name = section.name
        if name.hasPrefix(".debug_") { return true }
        if name.hasPrefix(".rel") {
            let target = name.dropFirst(4)
            return target.hasPrefix(".debug_") || target == ".BTF" || target == ".BTF.ext"
        }
        return false
    }
}
