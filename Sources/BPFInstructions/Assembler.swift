/// Turns assembly text into a validated `Program`.
///
/// Both syntaxes (see `AssemblySyntax`) share the same frame: one instruction per line,
/// labels written `name:` (alone or before an instruction) and used in place of a jump
/// offset, comments after `#` (at a line start or after a space), `;` or `//`. In the kernel
/// syntax, the listing prefixes of bpftool (`12: (b7)`) and llvm-objdump (`12: b7 00 ...`)
/// are skipped, so their output reassembles. In the conformance syntax, as in the suite's
/// own assembler, a jump to `exit` with no label of that name lands on the first `exit`.
///
/// Pseudo sources of `lddw` are written the same in both syntaxes: `map[fd:N]`,
/// `map[idx:N]`, `map_value[fd:N]+OFF`, `map_value[idx:N]+OFF`, `btf_var[id:N]`,
/// `btf_var[id:N, fd:M]`, `func[+N]` or `func[label]`; a kernel function call is
/// `call kfunc[id:N]` or `call kfunc[id:N, module:M]`.
public enum Assembler {
    public static func assemble(_ text: String, syntax: AssemblySyntax? = nil) throws(AssemblyError) -> Program {
        var assembly = Assembly(syntax: syntax ?? AssemblySyntax.detect(text))
        let bytes = Array(text.utf8)
        var lineStart = 0
        var lineNumber = 1
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            try assembly.add(SourceLine(bytes: bytes[lineStart..<lineEnd], number: lineNumber))
            lineStart = lineEnd + 1
            lineNumber += 1
        }
        return try assembly.finish()
    }
}

/// The state of one assembly run: instructions so far, where they came from, and labels.
private struct Assembly {
    struct Placed {
        var instruction: Instruction
        var slot: Int
        var line: Int
        var column: Int
        var target: LabelReference?
    }

    let syntax: AssemblySyntax
    var placed: [Placed] = []
    var slotCount = 0
    var labels: [String: (slot: Int, line: Int)] = [:]
    var firstExitSlot: Int?

    init(syntax: AssemblySyntax) { self.syntax = syntax }

    mutating func add(_ line: SourceLine) throws(AssemblyError) {
        let tokens = try AssemblyLexer.tokens(of: line)
        var cursor = TokenCursor(tokens: tokens, line: line)
        let listedOpcode = syntax == .kernel ? skipListingPrefix(&cursor) : nil
        while let token = cursor.current {
            if token.kind == .identifier, cursor.peek(1)?.isSymbol(":") == true {
                try define(token, line)
                cursor.skip(2)
            } else if syntax == .kernel, token.isSymbol("<"), let name = cursor.peek(1), name.kind == .identifier,
                      cursor.peek(2)?.isSymbol(">") == true, cursor.peek(3)?.isSymbol(":") == true {
                // llvm-objdump's symbol header: `0000000000000000 <name>:`.
                try define(name, line)
                cursor.skip(4)
            } else {
                break
            }
        }
        guard let first = cursor.current else { return }
        if first.kind == .identifier, first.text.hasPrefix(".") {
            throw cursor.error("directive '\(first.text)' is not supported; write instructions, labels and comments", at: first)
        }
        let parsed = switch syntax {
        case .conformance: try ConformanceSyntaxParser.parse(&cursor)
        // bpftool prints a 64-bit constant without `ll`; its opcode (18) says what it is.
        case .kernel: try KernelSyntaxParser.parse(&cursor, wideConstant: listedOpcode == "18")
        }
        if parsed.instruction == .exit, firstExitSlot == nil { firstExitSlot = slotCount }
        placed.append(Placed(instruction: parsed.instruction, slot: slotCount, line: line.number,
                             column: line.column(atOffset: first.offset), target: parsed.target))
        slotCount += parsed.instruction.slotCount
    }

    /// bpftool prints `  12: (b7) r0 = 0`, llvm-objdump `  12:  b7 00 00 00 00 00 00 00  r0 = 0x0`.
    /// Returns the listed opcode, if any.
    private func skipListingPrefix(_ cursor: inout TokenCursor) -> String? {
        guard let first = cursor.current, first.kind == .number else { return nil }
        if cursor.peek(1)?.isSymbol("<") == true {
            cursor.skip(1)
            return nil
        }
        guard cursor.peek(1)?.isSymbol(":") == true else { return nil }
        cursor.skip(2)
        var opcode: String?
        if cursor.current?.isSymbol("(") == true, let byte = cursor.peek(1), byte.isHexByte, cursor.peek(2)?.isSymbol(")") == true {
            opcode = byte.text.lowercased()
            cursor.skip(3)
        }
        while let byte = cursor.current, byte.isHexByte {
            if opcode == nil { opcode = byte.text.lowercased() }
            cursor.skip(1)
        }
        return opcode
    }

    private mutating func define(_ token: Token, _ line: SourceLine) throws(AssemblyError) {
        if let previous = labels[token.text] {
            throw line.error("label '\(token.text)' is already defined on line \(previous.line)", atOffset: token.offset)
        }
        labels[token.text] = (slotCount, line.number)
    }

    func finish() throws(AssemblyError) -> Program {
        guard !placed.isEmpty else { throw AssemblyError(line: 1, column: 1, message: "the program has no instructions") }
        var slots: [RawInstruction] = []
        slots.reserveCapacity(slotCount)
        for item in placed {
            var instruction = item.instruction
            if let target = item.target {
                instruction = try resolve(target, in: item)
            }
            slots.append(contentsOf: instruction.encoded)
        }
        do {
            return try Program(slots: slots)
        } catch {
            throw describe(error)
        }
    }

    private func resolve(_ reference: LabelReference, in item: Placed) throws(AssemblyError) -> Instruction {
        let targetSlot: Int
        if let label = labels[reference.name] {
            targetSlot = label.slot
        } else if syntax == .conformance, reference.name == "exit", let firstExitSlot {
            targetSlot = firstExitSlot
        } else {
            throw AssemblyError(line: reference.line, column: reference.column, message: "label '\(reference.name)' is not defined")
        }
        let offset = targetSlot - item.slot - 1
        guard let instruction = item.instruction.retargeted(to: offset) else {
            throw AssemblyError(line: reference.line, column: reference.column,
                                message: "label '\(reference.name)' is \(offset) slots away, too far for a 16-bit offset"
                                    + (item.instruction.isJump ? "; use gotol" : ""))
        }
        return instruction
    }

    /// Reports a decoding failure at the line of the instruction that holds the slot.
    private func describe(_ error: DecodeError) -> AssemblyError {
        var low = 0
        var high = placed.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if placed[middle].slot <= error.index { low = middle } else { high = middle - 1 }
        }
        let item = placed[max(0, min(low, placed.count - 1))]
        let message: String = switch error.reason {
        case .jumpOutOfRange(let target):
            "the jump lands at slot \(target), outside the program (slots 0 to \(slotCount - 1))"
        case .jumpIntoWideInstruction(let target):
            "the jump lands at slot \(target), the second half of a 16-byte lddw"
        default:
            "invalid instruction (\(error.description))"
        }
        return AssemblyError(line: item.line, column: item.column, message: message)
    }
}

extension Instruction {
    var isJump: Bool {
        if case .jump = self { return true }
        return false
    }

    /// This jump, branch, call or function address with its offset set to `offset`; nil if
    /// the offset does not fit the field.
    func retargeted(to offset: Int) -> Instruction? {
        switch self {
        case .jump: Int16(exactly: offset).map { .jump(offset: $0) }
        case .mayGoto: Int16(exactly: offset).map { .mayGoto(offset: $0) }
        case .branch(let condition, let width, let dst, let source, _):
            Int16(exactly: offset).map { .branch(condition, width, dst: dst, source: source, offset: $0) }
        case .jumpLong: Int32(exactly: offset).map { .jumpLong(offset: $0) }
        case .callLocal: Int32(exactly: offset).map { .callLocal(offset: $0) }
        case .loadImmediate64(let dst, .function, _, let nextImm):
            Int32(exactly: offset).map { .loadImmediate64(dst: dst, source: .function, imm: $0, nextImm: nextImm) }
        default: nil
        }
    }
}
