import BPFInstructions

/// Disassembles a linked program of an object with names where the loader will put fds or
/// ids — `r1 = map[counts] ll`, `call my_subprog` — and, where `.BTF.ext` has line info,
/// the C source lines interleaved as `; ...` comments, as `bpftool prog dump xlated` and
/// `llvm-objdump -S` show them.
public enum ObjectDisassembler {
    public enum Line: Sendable, Hashable {
        /// The start of a function linked into the program.
        case function(String)
        /// A source line from BTF line info, without leading indentation.
        case source(String)
        /// The instruction at slot `index`.
        case instruction(index: Int, text: String)
    }

    public static func lines(of program: ProgramSpec, in object: ObjectFile, syntax: AssemblySyntax) -> [Line] {
        let slots = program.instructions
        var relocations: [Int: ProgramRelocation.Target] = [:]
        for relocation in program.relocations { relocations[relocation.instruction] = relocation.target }
        var sourceLines: [Int: BTFExt.LineInfo] = [:]
        for info in program.lineInfo where sourceLines[info.instructionIndex] == nil { sourceLines[info.instructionIndex] = info }
        var functionStarts: [Int: String] = [:]
        for function in program.functions { functionStarts[function.start] = function.name }

        var lines: [Line] = []
        var lastSource: (file: UInt32, line: Int)?
        var index = 0
        while index < slots.count {
            if let name = functionStarts[index] { lines.append(.function(name)) }
            // As llvm-objdump -S: a source line once, until another one starts.
            if let info = sourceLines[index], lastSource.map({ $0 != (info.fileNameOffset, info.lineNumber) }) ?? true {
                let text = info.line.drop { $0 == " " || $0 == "\t" }
                if !text.isEmpty { lines.append(.source(String(text))) }
                lastSource = (info.fileNameOffset, info.lineNumber)
            }
            let instruction = try? Instruction(decoding: slots, at: index)
            let text: String
            if let target = relocations[index], let named = namedText(target, slot: slots[index], object: object, syntax: syntax) {
                text = named
            } else if let instruction {
                text = Disassembler.text(of: instruction, syntax: syntax)
            } else {
                text = ".invalid " + rawText(slots[index])
            }
            lines.append(.instruction(index: index, text: text))
            index += instruction?.slotCount ?? 1
        }
        return lines
    }

    /// The lines as text: `name:` labels, `; source` comments, right-aligned slot indexes.
    public static func text(of program: ProgramSpec, in object: ObjectFile, syntax: AssemblySyntax) -> String {
        let width = String(max(program.instructions.count - 1, 0)).count
        var text = ""
        for line in lines(of: program, in: object, syntax: syntax) {
            switch line {
            case .function(let name):
                text += "\(name):\n"
            case .source(let source):
                text += "; \(source)\n"
            case .instruction(let index, let instruction):
                let number = String(index)
                text += String(repeating: " ", count: max(0, width - number.count)) + number + ": " + instruction + "\n"
            }
        }
        return text
    }

    private static func namedText(_ target: ProgramRelocation.Target, slot: RawInstruction, object: ObjectFile,
                                  syntax: AssemblySyntax) -> String? {
        func load(_ operand: String) -> String {
            syntax == .kernel ? "r\(slot.dst) = \(operand) ll" : "lddw %r\(slot.dst), \(operand)"
        }
        func mapName(_ index: Int) -> String {
            guard index >= 0, index < object.maps.count else { return "#\(index)" }
            let map = object.maps[index]
            return map.origin == .globalData ? map.sectionName : map.name
        }
        switch target {
        case .map(let index):
            return load("map[\(mapName(index))]")
        case .mapValue(let index, let offset):
            var text = load("map_value[\(mapName(index))]" + (offset == 0 ? "" : "+\(offset)"))
            if let variable = object.globals.first(where: { $0.mapIndex == index && $0.offset == Int(offset) }) {
                text += " <\(variable.name)>"
            }
            return text
        case .subprogramCall(let name, _):
            return "call \(name)"
        case .functionAddress(let name, _):
            return load("func[\(name)]")
        case .kconfig(let name, _, _):
            return load("kconfig[\(name)]")
        case .kernelVariable(let name):
            return load("ksym[\(name)]")
        case .kernelFunction(let name):
            return "call kfunc[\(name)]"
        }
    }

    private static func rawText(_ slot: RawInstruction) -> String {
        var bytes: [UInt8] = []
        slot.append(to: &bytes)
        return Hex.string(bytes)
    }
}
