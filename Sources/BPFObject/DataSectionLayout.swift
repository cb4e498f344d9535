/// A BTF `DATASEC` as libbpf sees it after `btf_fixup_datasec`: clang leaves the section
/// size and the variables' offsets zero, so they come from the ELF section and symbols;
/// hidden globals count as static; variables are sorted by offset.
struct DataSectionLayout {
    struct Variable {
        /// The `VAR` (or, in `.ksyms`, `FUNC`) type.
        var typeID: BTFTypeID
        var name: String
        var offset: UInt32
        var size: UInt32
        var linkage: BTFLinkage
    }

    var id: BTFTypeID
    var name: String
    var size: UInt32
    var variables: [Variable]

    /// Every DATASEC of `btf`, fixed up against the ELF file; fails as libbpf's fixup fails.
    static func all(in btf: BTF, elf: ELFFile) throws(ObjectError) -> [DataSectionLayout] {
        var layouts: [DataSectionLayout] = []
        for id in btf.ownIDs where btf.kind(of: id) == .dataSection {
            guard let type = btf.type(id), case .dataSection(let section) = type.body else { continue }
            guard let name = btf.name(of: id) else {
                throw ObjectError(.badBTF, "DATASEC [\(id)] has no name", section: ".BTF")
            }
            layouts.append(try DataSectionLayout(id: id, name: name, section: section, btf: btf, elf: elf))
        }
        return layouts
    }

    private init(id: BTFTypeID, name: String, section: BTFDataSection, btf: BTF, elf: ELFFile) throws(ObjectError) {
        self.id = id
        self.name = name
        var size = section.size
        var fixOffsets = false
        let isExternSection = name == ".kconfig" || name == ".ksyms"
        if !isExternSection && size == 0 {
            guard let elfSection = elf.section(named: name), elfSection.size > 0, elfSection.size <= UInt64(UInt32.max) else {
                throw ObjectError(.badBTF, "DATASEC '\(name)' has size 0 and no ELF section gives its size", section: ".BTF")
            }
            size = UInt32(elfSection.size)
            fixOffsets = true
        }
        self.size = size
        var variables: [Variable] = []
        for entry in section.variables {
            let varName = btf.name(of: entry.type) ?? ""
            var linkage = BTFLinkage.static
            switch btf.type(entry.type)?.body {
            case .variable(let variable): linkage = variable.linkage
            case .function(let function) where isExternSection: linkage = function.linkage
            default:
                // libbpf leaves the extern sections alone here; collecting externs checks them.
                if !isExternSection {
                    throw ObjectError(.badBTF, "DATASEC '\(name)' holds type [\(entry.type)], which is not a variable", section: ".BTF")
                }
            }
            var variable = Variable(typeID: entry.type, name: varName, offset: entry.offset, size: entry.size, linkage: linkage)
            if !isExternSection && linkage == .global {
                guard let symbol = elf.symbols.first(where: {
                    $0.kind == .object && ($0.binding == .global || $0.binding == .weak) && $0.name == varName
                }) else {
                    throw ObjectError(.badBTF, "DATASEC '\(name)': no ELF symbol for variable '\(varName)'", section: ".BTF", symbol: varName)
                }
                if fixOffsets { variable.offset = UInt32(truncatingIfNeeded: symbol.value) }
                if symbol.visibility == .hidden || symbol.visibility == .internal { variable.linkage = .static }
            }
            variables.append(variable)
        }
        // Stable, so that equal offsets keep BTF order.
        self.variables = variables.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
    }

    func variable(named name: String) -> Variable? { variables.first { $0.name == name } }
}
