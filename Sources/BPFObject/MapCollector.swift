/// The object's maps in libbpf's order — legacy `maps`, BTF-defined `.maps`, global data,
/// `.kconfig` — with the ELF section each came from, which relocations look maps up by.
struct CollectedMaps {
    var specs: [MapSpec] = []
    var sectionIndexes: [Int] = []
    /// For `.maps` maps, the variable's extent in the section and the byte offset of a last
    /// member named `values` (for `.rel.maps`).
    var extents: [Range<UInt64>?] = []
    var valuesOffsets: [UInt64?] = []
    var kconfigIndex: Int?

    mutating func append(_ spec: MapSpec, section: Int, extent: Range<UInt64>? = nil, valuesOffset: UInt64? = nil) {
        specs.append(spec)
        sectionIndexes.append(section)
        extents.append(extent)
        valuesOffsets.append(valuesOffset)
    }

    /// A `.maps` or legacy `maps` definition at `offset` of `section`.
    func definitionIndex(section: Int, offset: UInt64) -> Int? {
        specs.indices.first {
            sectionIndexes[$0] == section && UInt64(specs[$0].sectionOffset) == offset
                && (specs[$0].origin == .btf || specs[$0].origin == .legacy)
        }
    }

    func dataMapIndex(section: Int) -> Int? {
        specs.indices.first { sectionIndexes[$0] == section && specs[$0].origin == .globalData }
    }
}

struct MapCollector {
    let elf: ELFFile
    let layout: SectionLayout
    let btf: BTF?
    let dataSections: [DataSectionLayout]
    let externs: [ExternSpec]
    let objectName: String

    func collect() throws(ObjectError) -> CollectedMaps {
        var maps = CollectedMaps()
        if let index = layout.legacyMapsIndex { try collectLegacy(section: index, into: &maps) }
        if let index = layout.btfMapsIndex { try collectBTF(section: index, into: &maps) }
        try collectGlobalData(into: &maps)
        collectKconfig(into: &maps)
        return maps
    }

    // MARK: Legacy `maps`

    /// `struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }`, one per
    /// symbol, all the same size; bytes past the 20 known ones must be zero (older libbpf).
    private func collectLegacy(section index: Int, into maps: inout CollectedMaps) throws(ObjectError) {
        let section = elf.sections[index]
        let reader = try elf.reader(for: section)
        let symbols = elf.symbols.filter { Int($0.sectionIndex) == index && $0.kind != .section }
        guard !symbols.isEmpty, reader.end > 0, reader.end % symbols.count == 0 else {
            throw ObjectError(.badMap, "cannot tell the map definition size: \(reader.end) bytes for \(symbols.count) symbols", section: section.name)
        }
        let size = reader.end / symbols.count
        for symbol in symbols {
            guard symbol.binding != .local else {
                throw ObjectError(.badMap, "static legacy maps are not supported", section: section.name, symbol: symbol.name)
            }
            guard symbol.value <= UInt64(reader.end - size) else {
                throw ObjectError(.badMap, "map definition runs past the end of the section", section: section.name, symbol: symbol.name,
                                  offset: Int(clamping: symbol.value))
            }
            let offset = Int(symbol.value)
            var fields = [UInt32](repeating: 0, count: 5)
            var copy = [UInt8](repeating: 0, count: 20)
            for byte in 0..<min(size, 20) { copy[byte] = (try? reader.u8(at: offset + byte)) ?? 0 }
            let definition = ByteReader(copy, order: elf.byteOrder)
            for field in 0..<5 { fields[field] = (try? definition.u32(at: field * 4)) ?? 0 }
            if size > 20 {
                for byte in 20..<size where (try? reader.u8(at: offset + byte)) != 0 {
                    throw ObjectError(.badMap, "map definition has unrecognised non-zero options at byte \(byte)",
                                      section: section.name, symbol: symbol.name, offset: offset + byte)
                }
            }
            var spec = MapSpec(name: symbol.name, sectionName: section.name, origin: .legacy, sectionOffset: offset,
                               type: MapType(rawValue: fields[0]), keySize: fields[1], valueSize: fields[2],
                               maxEntries: fields[3], flags: fields[4])
            annotateKeyValueTypes(of: &spec)
            maps.append(spec, section: index)
        }
    }

    /// `BPF_ANNOTATE_KV_PAIR`: a `struct ____btf_map_<name> { key; value; }` gives the types.
    private func annotateKeyValueTypes(of spec: inout MapSpec) {
        guard let btf, let id = btf.ids(named: "____btf_map_" + spec.name, kind: .struct).first,
              case .struct(let composite)? = btf.type(id)?.body, composite.members.count >= 2,
              let key = composite.members.first, let value = composite.members.dropFirst().first,
              btf.size(of: key.type) == Int(spec.keySize), btf.size(of: value.type) == Int(spec.valueSize) else { return }
        spec.keyTypeID = key.type
        spec.valueTypeID = value.type
    }

    // MARK: BTF-defined `.maps`

    private func collectBTF(section index: Int, into maps: inout CollectedMaps) throws(ObjectError) {
        let section = elf.sections[index]
        guard let btf else {
            throw ObjectError(.badBTF, "BTF-defined maps need .BTF, which is missing or corrupted", section: section.name)
        }
        guard let layout = dataSections.first(where: { $0.name == ".maps" }) else {
            throw ObjectError(.badMap, "no BTF DATASEC '.maps'", section: ".BTF")
        }
        let dataSize = try elf.contents(of: section).count
        for variable in layout.variables {
            let name = variable.name
            guard !name.isEmpty else { throw ObjectError(.badMap, "map variable [\(variable.typeID)] has no name", section: section.name) }
            guard UInt64(variable.offset) + UInt64(variable.size) <= UInt64(dataSize) else {
                throw ObjectError(.badMap, "definition (\(variable.size) bytes at \(variable.offset)) is outside the section",
                                  section: section.name, symbol: name, offset: Int(variable.offset))
            }
            guard case .variable(let btfVariable)? = btf.type(variable.typeID)?.body else {
                throw ObjectError(.badMap, "BTF type [\(variable.typeID)] is not a variable", section: section.name, symbol: name)
            }
            guard btfVariable.linkage == .global else {
                throw ObjectError(.badMap, "maps must be global variables (linkage \(btfVariable.linkage))", section: section.name, symbol: name)
            }
            guard let definitionID = btf.resolved(btfVariable.type), case .struct(let definition)? = btf.type(definitionID)?.body else {
                throw ObjectError(.badMap, "map definition is not a struct", section: section.name, symbol: name)
            }
            guard definition.size <= variable.size else {
                throw ObjectError(.badMap, "map definition struct (\(definition.size) bytes) is larger than the variable (\(variable.size))",
                                  section: section.name, symbol: name)
            }
            let parser = MapDefinitionParser(btf: btf, mapName: name, section: section.name)
            var spec = try parser.parse(definition, isInner: false)
            spec.sectionOffset = Int(variable.offset)
            let extent = UInt64(variable.offset)..<UInt64(variable.offset) + UInt64(variable.size)
            let last = definition.members.last
            let valuesOffset = last.flatMap { btf.strings.string(at: $0.nameOffset) == "values" ? UInt64($0.bitOffset / 8) : nil }
            maps.append(spec, section: index, extent: extent, valuesOffset: valuesOffset)
        }
    }

    // MARK: Global data and `.kconfig`

    private func collectGlobalData(into maps: inout CollectedMaps) throws(ObjectError) {
        for (index, kind) in layout.dataSections {
            let section = elf.sections[index]
            guard section.size > 0, section.size <= UInt64(UInt32.max) else { continue }
            let contents = kind == .bss ? [UInt8](repeating: 0, count: Int(section.size)) : Array(try elf.contents(of: section))
            var flags: UInt32 = kind == .readOnlyData ? MapSpec.readOnlyProgramFlag : 0
            let valueType = btf?.ids(named: section.name).first
            if let valueType, let dataSection = dataSections.first(where: { $0.id == valueType }),
               dataSection.variables.contains(where: { $0.linkage != .static }) {
                flags |= MapSpec.mmapableFlag
            }
            maps.append(MapSpec(name: internalName(section.name), sectionName: section.name, origin: .globalData,
                                type: .array, keySize: 4, valueSize: UInt32(section.size), valueTypeID: valueType,
                                maxEntries: 1, flags: flags, initialValue: contents), section: index)
        }
    }

    private func collectKconfig(into maps: inout CollectedMaps) {
        var end = 0
        for spec in externs { if case .kconfig(let offset, let size, _) = spec.kind { end = offset + size } }
        guard end > 0 else { return }
        var flags = MapSpec.readOnlyProgramFlag
        let valueType = btf?.ids(named: ".kconfig").first
        if let valueType, btf?.kind(of: valueType) == .dataSection { flags |= MapSpec.mmapableFlag }
        maps.kconfigIndex = maps.specs.count
        maps.append(MapSpec(name: internalName(".kconfig"), sectionName: ".kconfig", origin: .kconfig, type: .array,
                            keySize: 4, valueSize: UInt32(clamping: end), valueTypeID: valueType, maxEntries: 1, flags: flags,
                            initialValue: [UInt8](repeating: 0, count: end)),
                    section: elf.symbolTableIndex ?? 0)
    }

    /// libbpf's `internal_map_name`: up to 15 bytes, the object name's start then the
    /// section name (at least 7 bytes of it), only the section name for `.data.custom`
    /// style names, characters the kernel refuses replaced by `_`.
    func internalName(_ sectionName: String) -> String {
        let maximum = 15
        let section = Array(sectionName.utf8)
        let suffixLength = min(max(7, section.count), maximum)
        let isCustom = section.dropFirst().contains(UInt8(ascii: "."))
        let object = Array(objectName.utf8)
        let prefixLength = isCustom ? 0 : min(maximum - suffixLength, object.count)
        let bytes = object.prefix(prefixLength) + section.prefix(suffixLength)
        let allowed = { (byte: UInt8) in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        return String(decoding: bytes.map { allowed($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
    }
}

extension MapCollector {
    /// `.rel.maps`: the `.values = { [i] = &map_or_program }` initialisers, as libbpf's
    /// `bpf_object__collect_map_relos` reads them.
    func collectInitialSlots(into maps: inout CollectedMaps, functions: [ObjectFunction]) throws(ObjectError) {
        guard let mapsIndex = layout.btfMapsIndex else { return }
        for (relocationIndex, target) in layout.relocationSections where target == mapsIndex {
            try collectInitialSlots(from: elf.sections[relocationIndex], mapsIndex: mapsIndex, into: &maps, functions: functions)
        }
    }

    private func collectInitialSlots(from relocationSection: ELFSection, mapsIndex: Int, into maps: inout CollectedMaps,
                                     functions: [ObjectFunction]) throws(ObjectError) {
        for (number, relocation) in try elf.relocations(in: relocationSection).enumerated() {
            let location = number * ELFFile.relocationSize
            func fail(_ message: String, kind: ObjectError.Kind = .badRelocation, symbol: String? = nil) -> ObjectError {
                ObjectError(kind, ".maps relocation #\(number): \(message)", section: relocationSection.name, symbol: symbol, offset: location)
            }
            guard let symbol = elf.symbol(at: relocation.symbolIndex) else {
                throw fail("symbol #\(relocation.symbolIndex) does not exist")
            }
            let name = symbol.name
            guard relocation.offset <= UInt64.max - 8,
                  let mapIndex = maps.specs.indices.first(where: {
                      maps.sectionIndexes[$0] == mapsIndex && maps.extents[$0].map {
                          $0.lowerBound <= relocation.offset && relocation.offset + 8 <= $0.upperBound
                      } == true
                  }) else {
                throw fail("no map at offset \(relocation.offset)", kind: .badMap, symbol: name)
            }
            let map = maps.specs[mapIndex]
            let target: MapSpec.SlotTarget
            if map.type.holdsMaps {
                guard Int(symbol.sectionIndex) == mapsIndex else { throw fail("'\(name)' is not a BTF-defined map", symbol: name) }
                guard map.type != .hashOfMaps || map.keySize == 4 else {
                    throw fail("hash-of-maps '\(map.name)' must have 4-byte keys", kind: .badMap, symbol: name)
                }
                guard maps.specs.contains(where: { $0.name == name }) else {
                    throw fail("'\(name)' is not a map", symbol: name)
                }
                target = .map(name)
            } else if map.type == .programArray {
                guard let function = functions.first(where: { $0.sectionIndex != layout.textIndex && $0.name == name }) else {
                    throw fail("'\(name)' is not a program", symbol: name)
                }
                guard function.sectionIndex == Int(symbol.sectionIndex), UInt64(function.start) * 8 == symbol.value else {
                    throw fail("'\(name)' is not an entry-point program", symbol: name)
                }
                target = .program(name)
            } else {
                throw fail("map '\(map.name)' is neither a map-in-map nor a program array", kind: .badMap, symbol: name)
            }
            guard let extent = maps.extents[mapIndex], let valuesOffset = maps.valuesOffsets[mapIndex],
                  relocation.offset - extent.lowerBound >= valuesOffset else {
                throw fail("map '\(map.name)' has no 'values' member at the relocated offset", kind: .badMap, symbol: name)
            }
            let slotOffset = relocation.offset - extent.lowerBound - valuesOffset
            guard slotOffset % 8 == 0 else { throw fail("offset \(slotOffset) into 'values' is not a multiple of 8", kind: .badMap, symbol: name) }
            maps.specs[mapIndex].initialSlots[Int(slotOffset / 8)] = target
        }
    }
}
