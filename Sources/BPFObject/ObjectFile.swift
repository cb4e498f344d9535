import BPFInstructions

/// A BPF object file (`clang -target bpf -O2 -g -c`) read as libbpf reads it: programs by
/// section name, linked with their subprograms; maps from `.maps`, the legacy `maps` section,
/// global data and `.kconfig`; externs; license and kernel version; BTF and BTF.ext.
public struct ObjectFile: Sendable {
    /// The object's name, which prefixes the kernel names of global-data maps (libbpf uses
    /// the file name up to its first dot).
    public let name: String
    public let elf: ELFFile
    /// Entry-point programs, by section index then offset (libbpf's order).
    public let programs: [ProgramSpec]
    /// The `.text` functions that programs call, unlinked.
    public let subprograms: [ProgramSpec.Function]
    public let maps: [MapSpec]
    public let globals: [GlobalVariable]
    public let externs: [ExternSpec]
    public let license: String?
    public let kernelVersion: UInt32?
    public let btf: BTF?
    public let btfExt: BTFExt?
    /// What libbpf would only warn about: BTF or BTF.ext that failed to parse but is not needed.
    public let warnings: [ObjectError]

    public var byteOrder: ByteOrder { elf.byteOrder }

    /// Parses and links the object in `bytes`. `name` is the object name for map names.
    public init(parsing bytes: [UInt8], name: String = "") throws(ObjectError) {
        self.name = name
        let elf = try ELFFile(parsing: bytes)
        self.elf = elf
        let layout = try SectionLayout(elf)
        license = layout.license
        kernelVersion = layout.kernelVersion

        var warnings: [ObjectError] = []
        var btf: BTF?
        if let index = layout.btfIndex {
            let contents = Array(try elf.contents(of: elf.sections[index]))
            do { btf = try BTF(parsing: contents) } catch {
                let problem = ObjectError(.badBTF, error.description, section: ".BTF", offset: error.offset)
                // As libbpf: fatal only when BTF-defined maps need it.
                if layout.btfMapsIndex != nil { throw problem }
                warnings.append(problem)
            }
        }
        var btfExt: BTFExt?
        if let index = layout.btfExtIndex, let btf {
            do { btfExt = try BTFExt(parsing: Array(try elf.contents(of: elf.sections[index])), btf: btf) } catch let error as BTFError {
                warnings.append(ObjectError(.badBTF, error.description, section: ".BTF.ext", offset: error.offset))
            } catch let error as ObjectError {
                throw error
            } catch {
                warnings.append(ObjectError(.badBTF, "\(error)", section: ".BTF.ext"))
            }
        }
        for index in layout.unsupportedSections {
            warnings.append(ObjectError(.unsupported, "struct_ops, arena and jump-table sections are not read yet", section: elf.sections[index].name))
        }
        self.btf = btf
        self.btfExt = btfExt
        self.warnings = warnings

        // The order of libbpf's bpf_object_open, so that the first problem reported is its.
        var functions = try ObjectFunction.collect(elf: elf, layout: layout)
        let externs = try ExternSpec.collect(elf: elf, btf: btf)
        self.externs = externs
        var dataSections: [DataSectionLayout] = []
        if let btf { dataSections = try DataSectionLayout.all(in: btf, elf: elf) }

        let collector = MapCollector(elf: elf, layout: layout, btf: btf, dataSections: dataSections, externs: externs, objectName: name)
        var maps = try collector.collect()
        try RelocationRecorder(elf: elf, layout: layout, maps: maps, externs: externs).record(into: &functions)
        try collector.collectInitialSlots(into: &maps, functions: functions)
        self.maps = maps.specs

        // libbpf marks function-address lddw's before linking, so that linking finds them.
        for index in functions.indices {
            for relocation in functions[index].relocations {
                if case .functionAddress = relocation.target { functions[index].code[relocation.slot].src = ProgramLinker.pseudoFunction }
            }
        }
        var sectionIndexByName: [String: Int] = [:]
        for section in elf.sections.reversed() where !section.name.isEmpty { sectionIndexByName[section.name] = section.index }
        let linker = ProgramLinker(functions: functions, textIndex: layout.textIndex, maps: maps, externs: externs,
                                   btf: btf, btfExt: btfExt, sectionIndexByName: sectionIndexByName)
        var programs: [ProgramSpec] = []
        for (index, function) in functions.enumerated() where function.sectionIndex != layout.textIndex {
            programs.append(try Self.program(function, linked: try linker.link(index), license: layout.license,
                                             kernelVersion: layout.kernelVersion))
        }
        self.programs = programs
        subprograms = functions.filter { $0.sectionIndex == layout.textIndex }.map {
            ProgramSpec.Function(name: $0.name, start: $0.start, count: $0.count)
        }
        globals = Self.globals(elf: elf, layout: layout, maps: maps, btf: btf, dataSections: dataSections)
    }

    private static func program(_ function: ObjectFunction, linked: ProgramLinker.Linked, license: String?,
                                kernelVersion: UInt32?) throws(ObjectError) -> ProgramSpec {
        let autoload = !function.rawSectionName.hasPrefix("?")
        let sectionName = autoload ? function.rawSectionName : String(function.rawSectionName.dropFirst())
        let definition = SectionDefinition.matching(sectionName)
        var flags: UInt32 = 0
        if definition?.options.contains(.sleepable) == true { flags |= ProgramSpec.sleepableFlag }
        if definition?.options.contains(.xdpFragments) == true { flags |= ProgramSpec.xdpHasFragmentsFlag }
        var program: Program?
        var validationError: DecodeError?
        do { program = try Program(slots: linked.instructions) } catch { validationError = error }
        return ProgramSpec(
            name: function.name, sectionName: sectionName, autoload: autoload, sectionOffset: function.start * 8,
            sectionDefinition: definition, type: definition?.programType ?? .unspecified,
            expectedAttachType: definition?.expectedAttachType, attachTarget: definition?.attachTarget(in: sectionName),
            loadFlags: flags, isGlobal: function.isGlobal, instructions: linked.instructions, program: program,
            validationError: validationError, relocations: linked.relocations, functions: linked.functions,
            functionInfo: linked.functionInfo, lineInfo: linked.lineInfo, coreRelocations: linked.coreRelocations,
            license: license, kernelVersion: kernelVersion)
    }

    private static func globals(elf: ELFFile, layout: SectionLayout, maps: CollectedMaps, btf: BTF?,
                                dataSections: [DataSectionLayout]) -> [GlobalVariable] {
        var globals: [GlobalVariable] = []
        for symbol in elf.symbols where symbol.kind == .object {
            let sectionIndex = Int(symbol.sectionIndex)
            guard layout.dataKind(of: sectionIndex) != nil, let mapIndex = maps.dataMapIndex(section: sectionIndex) else { continue }
            let sectionName = elf.sections[sectionIndex].name
            var typeID: BTFTypeID?
            if let variable = dataSections.first(where: { $0.name == sectionName })?.variable(named: symbol.name),
               case .variable(let btfVariable)? = btf?.type(variable.typeID)?.body {
                typeID = btfVariable.type
            }
            let hidden = symbol.visibility == .hidden || symbol.visibility == .internal
            globals.append(GlobalVariable(
                name: symbol.name, sectionName: sectionName, mapIndex: mapIndex, offset: Int(clamping: symbol.value),
                size: Int(clamping: symbol.size), isStatic: symbol.binding == .local || hidden, btfTypeID: typeID))
        }
        return globals.sorted { ($0.mapIndex, $0.offset) < ($1.mapIndex, $1.offset) }
    }

    // MARK: Lookups

    public func program(named name: String) -> ProgramSpec? { programs.first { $0.name == name } }
    public func map(named name: String) -> MapSpec? { maps.first { $0.name == name || $0.sectionName == name && $0.origin == .globalData } }
    public func global(named name: String) -> GlobalVariable? { globals.first { $0.name == name } }

    /// Fuzzing entry point: parses `bytes` as an object file. Must only ever return.
    public static func fuzz(_ bytes: [UInt8]) {
        guard let object = try? ObjectFile(parsing: bytes) else { return }
        for program in object.programs {
            _ = ObjectDisassembler.lines(of: program, in: object, syntax: .kernel)
        }
    }

    /// libbpf's object name for a file path: the file name up to its first dot.
    public static func defaultName(forPath path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return String(file.prefix { $0 != "." })
    }
}
