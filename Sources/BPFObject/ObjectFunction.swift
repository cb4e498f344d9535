import BPFInstructions

/// A function of the object before linking — libbpf's `bpf_program`, which covers both entry
/// points and `.text` subprograms — with the relocations that fall inside it.
struct ObjectFunction {
    var name: String
    var sectionIndex: Int
    /// As in the ELF file, `?` prefix included.
    var rawSectionName: String
    /// First slot in the section.
    var start: Int
    var code: [RawInstruction]
    var isGlobal: Bool
    /// Global but `STV_HIDDEN`/`STV_INTERNAL`: static as far as BTF and the verifier go.
    var isHidden: Bool = false
    var relocations: [RecordedRelocation] = []

    var count: Int { code.count }
    func contains(sectionSlot slot: Int) -> Bool { slot >= start && slot - start < code.count }
}

/// A relocation as recorded against one function (libbpf's `reloc_desc`), slot relative to
/// the function's start.
struct RecordedRelocation {
    enum Target {
        /// `call` of a `.text` function at this byte offset of the symbol (plus imm).
        case call(symbolOffset: UInt64)
        /// `lddw` of a `.text` function's address.
        case functionAddress(symbolOffset: UInt64)
        case map(index: Int)
        case data(mapIndex: Int, symbolOffset: UInt64)
        case externVariable(externIndex: Int)
        case externCall(externIndex: Int)
    }

    var slot: Int
    var target: Target
    var symbol: String
}

extension ObjectFunction {
    static let callOpcode: UInt8 = 0x85      // BPF_JMP | BPF_CALL
    static let loadImmediate64Opcode: UInt8 = 0x18  // BPF_LD | BPF_IMM | BPF_DW
    static let pseudoCall: UInt8 = 1

    /// libbpf's `bpf_object__add_programs` over every code section: one function per
    /// `STT_FUNC` symbol, sorted by section and offset.
    static func collect(elf: ELFFile, layout: SectionLayout) throws(ObjectError) -> [ObjectFunction] {
        var functions: [ObjectFunction] = []
        for sectionIndex in layout.programSections {
            let section = elf.sections[sectionIndex]
            let contents = try elf.contents(of: section)
            for symbol in elf.symbols where Int(symbol.sectionIndex) == sectionIndex && symbol.kind == .function {
                let (offset, size) = (symbol.value, symbol.size)
                guard offset <= UInt64(contents.count), size <= UInt64(contents.count) - offset else {
                    throw ObjectError(.badProgram, "function (0x\(String(size, radix: 16)) bytes at 0x\(String(offset, radix: 16))) crosses the end of the section",
                                      section: section.name, symbol: symbol.name, offset: Int(clamping: offset))
                }
                if sectionIndex != layout.textIndex, symbol.binding == .local {
                    throw ObjectError(.badProgram, "static entry-point programs are not supported (libbpf refuses them)",
                                      section: section.name, symbol: symbol.name, offset: Int(offset))
                }
                guard size > 0, size % 8 == 0, offset % 8 == 0 else {
                    throw ObjectError(.badProgram, "corrupted function: size \(size) and offset \(offset) must be non-zero multiples of 8",
                                      section: section.name, symbol: symbol.name, offset: Int(offset))
                }
                let start = contents.startIndex + Int(offset)
                let code: [RawInstruction]
                do { code = try RawInstruction.slots(from: Array(contents[start..<start + Int(size)]), order: elf.byteOrder) } catch {
                    throw ObjectError(.badProgram, "\(error)", section: section.name, symbol: symbol.name, offset: Int(offset))
                }
                functions.append(ObjectFunction(
                    name: symbol.name, sectionIndex: sectionIndex, rawSectionName: section.name, start: Int(offset) / 8,
                    code: code, isGlobal: symbol.binding != .local,
                    isHidden: symbol.visibility == .hidden || symbol.visibility == .internal))
            }
        }
        return functions.enumerated().sorted {
            ($0.element.sectionIndex, $0.element.start, $0.offset) < ($1.element.sectionIndex, $1.element.start, $1.offset)
        }.map(\.element)
    }

    /// The function of section `sectionIndex` containing `slot`, by index into `functions`
    /// (sorted by section and start, so a binary search as libbpf's `find_prog_by_sec_insn`).
    static func index(in functions: [ObjectFunction], section sectionIndex: Int, slot: Int) -> Int? {
        var low = 0, high = functions.count
        while low < high {
            let middle = low + (high - low) / 2
            let function = functions[middle]
            if (function.sectionIndex, function.start) <= (sectionIndex, slot) { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let candidate = functions[low - 1]
        return candidate.sectionIndex == sectionIndex && candidate.contains(sectionSlot: slot) ? low - 1 : nil
    }
}

/// Records every relocation of every code section against the function it falls in, as
/// libbpf's `bpf_object__collect_prog_relos` and `bpf_program__record_reloc` do.
struct RelocationRecorder {
    let elf: ELFFile
    let layout: SectionLayout
    let maps: CollectedMaps
    let externs: [ExternSpec]

    func record(into functions: inout [ObjectFunction]) throws(ObjectError) {
        for (relocationIndex, target) in layout.relocationSections where target != layout.btfMapsIndex {
            let relocationSection = elf.sections[relocationIndex]
            let targetSection = elf.sections[target]
            let targetSize = try elf.contents(of: targetSection).count
            for (number, relocation) in try elf.relocations(in: relocationSection).enumerated() {
                guard let symbol = elf.symbol(at: relocation.symbolIndex) else {
                    throw ObjectError(.badRelocation, "relocation #\(number) refers to symbol #\(relocation.symbolIndex), which does not exist",
                                      section: relocationSection.name, offset: number * ELFFile.relocationSize)
                }
                let name = elf.displayName(of: symbol)
                guard Int(symbol.sectionIndex) < elf.sections.count else {
                    throw ObjectError(.badRelocation, "relocation #\(number): symbol points to section #\(symbol.sectionIndex), which does not exist",
                                      section: relocationSection.name, symbol: name, offset: number * ELFFile.relocationSize)
                }
                guard relocation.offset % 8 == 0, relocation.offset < UInt64(targetSize) else {
                    throw ObjectError(.badRelocation, "relocation #\(number) has invalid offset 0x\(String(relocation.offset, radix: 16))",
                                      section: relocationSection.name, symbol: name, offset: number * ELFFile.relocationSize)
                }
                let slot = Int(relocation.offset / 8)
                // Relocations outside every function belong to overridden weak functions.
                guard let owner = ObjectFunction.index(in: functions, section: target, slot: slot) else { continue }
                let local = slot - functions[owner].start
                let recorded = try self.record(functions[owner], slot: local, symbol: symbol, name: name, section: targetSection)
                functions[owner].relocations.append(recorded)
            }
        }
        for index in functions.indices { functions[index].relocations.sort { $0.slot < $1.slot } }
    }

    private func record(_ function: ObjectFunction, slot: Int, symbol: ELFSymbol, name: String,
                        section: ELFSection) throws(ObjectError) -> RecordedRelocation {
        func fail(_ message: String) -> ObjectError {
            ObjectError(.badRelocation, "program '\(function.name)', instruction \(slot): \(message)",
                        section: section.name, symbol: name, offset: (function.start + slot) * 8)
        }
        guard slot >= 0, slot < function.code.count else { throw fail("no such instruction") }
        let instruction = function.code[slot]
        let isCall = instruction.opcode == ObjectFunction.callOpcode
        guard isCall || instruction.opcode == ObjectFunction.loadImmediate64Opcode else {
            throw fail("opcode 0x\(String(instruction.opcode, radix: 16)) cannot be relocated (only call and lddw)")
        }
        if symbol.isExtern {
            guard let externIndex = externs.firstIndex(where: { $0.symbolIndex == symbol.index }) else {
                throw fail("no extern for the symbol")
            }
            return RecordedRelocation(slot: slot, target: isCall ? .externCall(externIndex: externIndex) : .externVariable(externIndex: externIndex), symbol: name)
        }
        let sectionIndex = Int(symbol.sectionIndex)
        if isCall {
            guard instruction.src == ObjectFunction.pseudoCall else { throw fail("call relocation on a helper call (src \(instruction.src))") }
            guard sectionIndex != 0, sectionIndex == layout.textIndex else {
                throw fail("call to a function outside .text (section #\(sectionIndex))")
            }
            guard symbol.value % 8 == 0 else { throw fail("call target offset \(symbol.value) is not a multiple of 8") }
            return RecordedRelocation(slot: slot, target: .call(symbolOffset: symbol.value), symbol: name)
        }
        guard sectionIndex != 0, symbol.sectionIndex < ELFSymbol.firstReservedSection else {
            throw fail("reference to special section 0x\(String(symbol.sectionIndex, radix: 16)) (uninitialised global variable?)")
        }
        let inText = sectionIndex == layout.textIndex
        if inText && ((symbol.binding == .local && symbol.kind == .section)
                      || ((symbol.binding == .global || symbol.binding == .weak) && symbol.kind == .function)) {
            guard symbol.value % 8 == 0, instruction.imm % 8 == 0 else {
                throw fail("function address \(symbol.value)+\(instruction.imm) is not a multiple of 8")
            }
            return RecordedRelocation(slot: slot, target: .functionAddress(symbolOffset: symbol.value), symbol: name)
        }
        if layout.dataKind(of: sectionIndex) == nil {
            guard sectionIndex == layout.btfMapsIndex || sectionIndex == layout.legacyMapsIndex else {
                throw fail("reference to section '\(elf.sections[sectionIndex].name)', which holds no map or data")
            }
            guard let mapIndex = maps.definitionIndex(section: sectionIndex, offset: symbol.value) else {
                throw fail("no map at offset \(symbol.value) of '\(elf.sections[sectionIndex].name)'")
            }
            return RecordedRelocation(slot: slot, target: .map(index: mapIndex), symbol: name)
        }
        guard let mapIndex = maps.dataMapIndex(section: sectionIndex) else {
            throw fail("no map for data section '\(elf.sections[sectionIndex].name)'")
        }
        return RecordedRelocation(slot: slot, target: .data(mapIndex: mapIndex, symbolOffset: symbol.value), symbol: name)
    }
}
