import BPFInstructions

/// Links one entry point the way libbpf's `bpf_object__relocate` does before loading:
/// every `.text` function it calls or takes the address of is appended, depth first in
/// order of first use, and each call's offset is rewritten for this program's layout; then
/// map, variable, extern and kfunc references are put in loader form. Iterative, so a
/// deep call chain in a hostile file cannot exhaust the stack.
struct ProgramLinker {
    let functions: [ObjectFunction]
    let textIndex: Int?
    let maps: CollectedMaps
    let externs: [ExternSpec]
    let btf: BTF?
    let btfExt: BTFExt?
    /// ELF section index of each `.BTF.ext` section name.
    let sectionIndexByName: [String: Int]

    struct Linked {
        var instructions: [RawInstruction]
        var relocations: [ProgramRelocation]
        var functions: [ProgramSpec.Function]
        var functionInfo: [BTFExt.FunctionInfo]
        var lineInfo: [BTFExt.LineInfo]
        var coreRelocations: [BTFExt.CORERelocation]
    }

    static let pseudoFunction: UInt8 = 4
    static let pseudoKernelFunctionCall: UInt8 = 2

    /// The program being built.
    private struct State {
        var code: [RawInstruction]
        /// Where each placed function starts in `code`.
        var placed: [Int: Int]
        var order: [(function: Int, start: Int)]
        var relocations: [ProgramRelocation] = []
    }

    func link(_ main: Int) throws(ObjectError) -> Linked {
        var info = ExtInfoCollector()
        var state = State(code: functions[main].code, placed: [main: 0], order: [(main, 0)])
        try info.add(function: functions[main], at: 0, isMain: true, linker: self)
        try linkCalls(from: main, main: main, state: &state, info: &info)
        // libbpf appends the exception callback last, when no call has placed it already.
        if let callback = try exceptionCallback(of: main), state.placed[callback] == nil {
            try place(callback, state: &state, info: &info)
            try linkCalls(from: callback, main: main, state: &state, info: &info)
        }
        var code = state.code
        let order = state.order
        var relocations = state.relocations

        for (function, start) in order {
            for relocation in functions[function].relocations {
                if let linked = try resolveData(relocation, in: functions[function], at: start + relocation.slot,
                                                code: &code, main: functions[main].name) {
                    relocations.append(linked)
                }
            }
        }
        relocations.sort { $0.instruction < $1.instruction }
        return Linked(
            instructions: code, relocations: relocations,
            functions: order.map { ProgramSpec.Function(name: functions[$0.function].name, start: $0.start, count: functions[$0.function].count) },
            functionInfo: info.functionInfo, lineInfo: info.lineInfo, coreRelocations: info.coreRelocations)
    }

    private func place(_ function: Int, state: inout State, info: inout ExtInfoCollector) throws(ObjectError) {
        let start = state.code.count
        state.placed[function] = start
        state.order.append((function, start))
        state.code += functions[function].code
        try info.add(function: functions[function], at: start, isMain: false, linker: self)
    }

    /// Scans `first` (already placed) for calls and function addresses, placing callees
    /// depth first as libbpf's recursive `bpf_object__reloc_code` does.
    private func linkCalls(from first: Int, main: Int, state: inout State, info: inout ExtInfoCollector) throws(ObjectError) {
        // Each frame: a placed function, scanned from slot `next`.
        var stack: [(function: Int, next: Int)] = [(first, 0)]
        scanning: while let frame = stack.popLast() {
            let function = functions[frame.function]
            let base = state.placed[frame.function] ?? 0
            var slot = frame.next
            while slot < function.count {
                defer { slot += 1 }
                let instruction = state.code[base + slot]
                let isCall = Self.isSubprogramCall(instruction)
                let isAddress = instruction.opcode == ObjectFunction.loadImmediate64Opcode && instruction.src == Self.pseudoFunction
                guard isCall || isAddress else { continue }
                let relocation = function.relocations.first { $0.slot == slot }
                func fail(_ message: String) -> ObjectError {
                    ObjectError(.badRelocation, "program '\(functions[main].name)', function '\(function.name)', instruction \(slot): \(message)",
                                section: function.rawSectionName, symbol: relocation?.symbol, offset: (function.start + slot) * 8)
                }
                let target: Int
                switch relocation?.target {
                case .externCall?:
                    continue  // a kfunc, put in loader form later
                case .call(let symbolOffset)?:
                    target = Int(truncatingIfNeeded: symbolOffset / 8) &+ Int(instruction.imm) &+ 1
                case .functionAddress(let symbolOffset)?:
                    target = (Int(truncatingIfNeeded: symbolOffset) &+ Int(instruction.imm)) / 8
                case nil:
                    guard !isAddress else { throw fail("function address without a relocation") }
                    // A call inside one section needs no relocation: imm is relative.
                    target = function.start &+ slot &+ Int(instruction.imm) &+ 1
                case .some:
                    throw fail("unexpected relocation on a call or function address")
                }
                guard let textIndex, let callee = ObjectFunction.index(in: functions, section: textIndex, slot: target) else {
                    throw fail("calls slot \(target) of .text, where no function is")
                }
                let isNew = state.placed[callee] == nil
                if isNew { try place(callee, state: &state, info: &info) }
                let calleeStart = state.placed[callee] ?? 0
                let here = base + slot
                guard let offset = Int32(exactly: calleeStart - here - 1) else { throw fail("program too large to link") }
                state.code[here].imm = offset
                let name = functions[callee].name
                state.relocations.append(ProgramRelocation(
                    instruction: here,
                    target: isCall ? .subprogramCall(name: name, instruction: calleeStart) : .functionAddress(name: name, instruction: calleeStart)))
                if isNew {
                    // Finish the callee first, then come back after this instruction.
                    stack.append((frame.function, slot + 1))
                    stack.append((callee, 0))
                    continue scanning
                }
            }
        }
    }

    /// The `.text` function a `exception_callback:<name>` BTF decl tag on the program names
    /// (libbpf's `bpf_prog_assign_exc_cb`).
    private func exceptionCallback(of main: Int) throws(ObjectError) -> Int? {
        guard let btf else { return nil }
        let prefix = "exception_callback:"
        let program = functions[main]
        var found: Int?
        for id in btf.ownIDs where btf.kind(of: id) == .declTag {
            guard case .declTag(let tag)? = btf.type(id)?.body, tag.componentIndex == nil,
                  let value = btf.name(of: id), value.hasPrefix(prefix) else { continue }
            guard case .function(let function)? = btf.type(tag.type)?.body, function.linkage == .global else {
                throw ObjectError(.badBTF, "program '\(program.name)': exception_callback decl tag not on a global function",
                                  section: ".BTF", symbol: program.name)
            }
            guard btf.name(of: tag.type) == program.name else { continue }
            // Several callbacks for one program: the verifier refuses it; libbpf appends none.
            if found != nil { return nil }
            let name = String(value.dropFirst(prefix.count))
            guard !name.isEmpty else {
                throw ObjectError(.badBTF, "program '\(program.name)': empty exception callback name", section: ".BTF", symbol: program.name)
            }
            let candidates = functions.indices.filter { functions[$0].sectionIndex == textIndex && functions[$0].name == name }
            guard let callback = candidates.first else {
                throw ObjectError(.badProgram, "program '\(program.name)': no exception callback '\(name)'", symbol: name)
            }
            guard functions[callback].isGlobal, !functions[callback].isHidden else {
                throw ObjectError(.badProgram, "program '\(program.name)': exception callback must be a global, non-hidden function",
                                  symbol: name)
            }
            guard candidates.count == 1 else {
                throw ObjectError(.badProgram, "program '\(program.name)': several functions named '\(name)'", symbol: name)
            }
            found = callback
        }
        return found
    }

    /// libbpf's `insn_is_subprog_call`.
    static func isSubprogramCall(_ instruction: RawInstruction) -> Bool {
        instruction.opcode == ObjectFunction.callOpcode && instruction.src == ObjectFunction.pseudoCall
            && instruction.dst == 0 && instruction.offset == 0
    }

    /// `bpf_object__relocate_data` for one relocation at linked slot `index`.
    private func resolveData(_ relocation: RecordedRelocation, in function: ObjectFunction, at index: Int,
                             code: inout [RawInstruction], main: String) throws(ObjectError) -> ProgramRelocation? {
        func secondHalf() throws(ObjectError) -> Int {
            guard index + 1 < code.count, relocation.slot + 1 < function.count else {
                throw ObjectError(.badRelocation, "program '\(main)': lddw relocation at the last instruction of '\(function.name)'",
                                  section: function.rawSectionName, symbol: relocation.symbol, offset: (function.start + relocation.slot) * 8)
            }
            return index + 1
        }
        switch relocation.target {
        case .call, .functionAddress:
            return nil  // linked above
        case .map(let mapIndex):
            code[index].src = PseudoSource.mapIndex.rawValue
            code[index].imm = Int32(truncatingIfNeeded: mapIndex)
            return ProgramRelocation(instruction: index, target: .map(index: mapIndex))
        case .data(let mapIndex, let symbolOffset):
            let next = try secondHalf()
            let offset = code[index].imm &+ Int32(truncatingIfNeeded: symbolOffset)
            code[next].imm = offset
            code[index].src = PseudoSource.mapIndexValue.rawValue
            code[index].imm = Int32(truncatingIfNeeded: mapIndex)
            return ProgramRelocation(instruction: index, target: .mapValue(index: mapIndex, offset: UInt32(bitPattern: offset)))
        case .externVariable(let externIndex):
            let external = externs[externIndex]
            switch external.kind {
            case .kconfig(let offset, _, _):
                guard let mapIndex = maps.kconfigIndex else { return nil }
                let next = try secondHalf()
                code[index].src = PseudoSource.mapIndexValue.rawValue
                code[index].imm = Int32(truncatingIfNeeded: mapIndex)
                code[next].imm = Int32(truncatingIfNeeded: offset)
                return ProgramRelocation(instruction: index, target: .kconfig(name: external.name, mapIndex: mapIndex, offset: UInt32(truncatingIfNeeded: offset)))
            case .kernelVariable, .kernelFunction:
                return ProgramRelocation(instruction: index, target: .kernelVariable(name: external.name))
            }
        case .externCall(let externIndex):
            code[index].src = Self.pseudoKernelFunctionCall
            code[index].imm = 0
            code[index].offset = 0
            return ProgramRelocation(instruction: index, target: .kernelFunction(name: externs[externIndex].name))
        }
    }
}

/// Gathers `.BTF.ext` records of each placed function, re-based onto the linked program,
/// with libbpf's rule that once the main program has func or line info, every subprogram
/// must have it too.
private struct ExtInfoCollector {
    var functionInfo: [BTFExt.FunctionInfo] = []
    var lineInfo: [BTFExt.LineInfo] = []
    var coreRelocations: [BTFExt.CORERelocation] = []
    private var hasFunctionInfo = true
    private var hasLineInfo = true

    mutating func add(function: ObjectFunction, at start: Int, isMain: Bool, linker: ProgramLinker) throws(ObjectError) {
        guard let ext = linker.btfExt else { return }
        func rebase(_ offset: UInt32) -> UInt32 {
            UInt32(truncatingIfNeeded: (Int(offset / 8) - function.start + start) * 8)
        }
        func records<Record>(_ sections: [BTFExt.Section<Record>], offset: (Record) -> UInt32) -> [Record]? {
            // libbpf uses the first section that maps to the function's ELF section.
            guard let section = sections.first(where: { linker.sectionIndexByName[$0.name] == function.sectionIndex }) else { return nil }
            let inside = section.records.filter { function.contains(sectionSlot: Int(offset($0) / 8)) }
            return inside.isEmpty ? nil : inside
        }
        func missing(_ what: String) -> ObjectError {
            ObjectError(.badBTF, "function '\(function.name)' has no .BTF.ext \(what), though the program it is linked into has",
                        section: ".BTF.ext", symbol: function.name)
        }
        if hasFunctionInfo {
            if let found = records(ext.functionInfo, offset: \.instructionOffset) {
                functionInfo += found.map { var record = $0; record.instructionOffset = rebase($0.instructionOffset); return record }
            } else if isMain {
                hasFunctionInfo = false
            } else {
                throw missing("function info")
            }
        }
        if hasLineInfo {
            if let found = records(ext.lineInfo, offset: \.instructionOffset) {
                lineInfo += found.map { var record = $0; record.instructionOffset = rebase($0.instructionOffset); return record }
            } else if isMain {
                hasLineInfo = false
            } else {
                throw missing("line info")
            }
        }
        if let found = records(ext.coreRelocations, offset: \.instructionOffset) {
            coreRelocations += found.map { var record = $0; record.instructionOffset = rebase($0.instructionOffset); return record }
        }
    }
}
