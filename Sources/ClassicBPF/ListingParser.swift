/// Reads the `tcpdump -d` form back: one instruction per line, an optional `(NNN)` number
/// that must match the line's place, jump targets as absolute instruction numbers. Also
/// takes `#len` for `#pktlen`, `ldx #pktlen` (which libpcap prints as `unimp 0x81`),
/// `ret a`, blank lines and `;` comments.
enum ListingParser {
    static func parse(_ text: String) throws(ClassicSyntaxError) -> [RawClassicInstruction] {
        var instructions: [RawClassicInstruction] = []
        var lineNumber = 0
        // Any line break, so a file written on Windows ("\r\n", one Character) reads too.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var scanner = TextScanner(line.prefix { $0 != ";" }, line: lineNumber)
            scanner.skipSpaces()
            if scanner.isAtEnd { continue }
            instructions.append(try instruction(&scanner, index: instructions.count))
            scanner.skipSpaces()
            guard scanner.isAtEnd else { throw scanner.error("unexpected \(scanner.found) after the instruction") }
        }
        return instructions
    }

    private typealias O = ClassicOpcode

    private static func instruction(_ s: inout TextScanner, index: Int) throws(ClassicSyntaxError) -> RawClassicInstruction {
        if s.take("(") {
            let column = s.column
            let number = try s.number("instruction number", in: 0...Int64(Int32.max))
            guard number == Int64(index) else {
                throw ClassicSyntaxError(line: s.line, column: column,
                                         message: "instruction number \(number) should be \(index), its place in the program")
            }
            guard s.take(")") else { throw s.error("expected ')' after the instruction number, found \(s.found)") }
            s.skipSpaces()
        }
        let column = s.column
        guard let mnemonic = s.word() else { throw s.error("expected an instruction, found \(s.found)") }
        s.skipSpaces()
        switch mnemonic {
        case "ret":
            if s.take("#") { return RawClassicInstruction(code: O.classRET | O.returnK, k: try k(&s, "return value")) }
            if s.take("a") || s.take("A") || s.isAtEnd { return RawClassicInstruction(code: O.classRET | O.returnA) }
            throw s.error("expected '#k' or nothing after ret, found \(s.found)")
        case "ld", "ldh", "ldb":
            let size = mnemonic == "ld" ? O.sizeW : mnemonic == "ldh" ? O.sizeH : O.sizeB
            if s.take("#") {
                if size == O.sizeW, s.take("pktlen") || s.take("len") { return RawClassicInstruction(code: O.classLD | O.modeLEN | O.sizeW) }
                // bpf_asm's ancillary form, `ld #proto`, for any size.
                if let scalar = s.current, scalar.properties.isAlphabetic {
                    return RawClassicInstruction(code: O.classLD | O.modeABS | size, k: try ancillaryField(&s).offset)
                }
                guard size == O.sizeW else { throw s.error("expected an ancillary field after \(mnemonic) #, found \(s.found)") }
                return RawClassicInstruction(code: O.classLD | O.modeIMM, k: try k(&s, "constant"))
            }
            if size == O.sizeW, s.take("M[") { return RawClassicInstruction(code: O.classLD | O.modeMEM, k: try scratch(&s)) }
            guard s.take("[") else { throw s.error("expected '[' after \(mnemonic), found \(s.found)") }
            s.skipSpaces()
            if s.current == "x" || s.current == "X", s.peek(1) == " " || s.peek(1) == "+" || s.peek(1) == "\t" {
                s.advance()
                s.skipSpaces()
                guard s.take("+") else { throw s.error("expected '+' after 'x', found \(s.found)") }
                s.skipSpaces()
                let offset = try k(&s, "offset")
                try close(&s)
                return RawClassicInstruction(code: O.classLD | O.modeIND | size, k: offset)
            }
            let offset: UInt32
            if let scalar = s.current, scalar.properties.isAlphabetic {
                offset = try ancillaryField(&s).offset
            } else {
                offset = try k(&s, "offset")
            }
            try close(&s)
            return RawClassicInstruction(code: O.classLD | O.modeABS | size, k: offset)
        case "ldx":
            if s.take("#") {
                if s.take("pktlen") || s.take("len") { return RawClassicInstruction(code: O.classLDX | O.modeLEN | O.sizeW) }
                return RawClassicInstruction(code: O.classLDX | O.modeIMM, k: try k(&s, "constant"))
            }
            if s.take("M[") { return RawClassicInstruction(code: O.classLDX | O.modeMEM, k: try scratch(&s)) }
            if s.current == "4" { return try headerLength(&s) }
            throw s.error("expected '#k', '#pktlen', 'M[k]' or '4*([k]&0xf)' after ldx, found \(s.found)")
        case "ldxb":
            return try headerLength(&s)
        case "st", "stx":
            guard s.take("M[") else { throw s.error("expected 'M[k]' after \(mnemonic), found \(s.found)") }
            return RawClassicInstruction(code: mnemonic == "st" ? O.classST : O.classSTX, k: try scratch(&s))
        case "ja", "jmp":
            let column = s.column
            let target = try s.number("jump target", in: Int64.field32)
            let offset = target - Int64(index) - 1
            guard Int64.field32.contains(offset) else {
                throw ClassicSyntaxError(line: s.line, column: column, message: "jump target \(target) is too far away")
            }
            return RawClassicInstruction(code: O.classJMP | O.jumpJA, k: UInt32(truncatingIfNeeded: offset))
        case "jeq", "jgt", "jge", "jset":
            let condition = ClassicCondition.allCases.first { $0.mnemonic == mnemonic } ?? .eq
            let (source, value) = try operand(&s, mnemonic)
            s.skipSpaces()
            var jt: UInt8 = 0
            var jf: UInt8 = 0
            if s.take("jt") { jt = try target(&s, index: index, "jt") }
            s.skipSpaces()
            if s.take("jf") { jf = try target(&s, index: index, "jf") }
            return RawClassicInstruction(code: O.classJMP | condition.rawValue | source, jt: jt, jf: jf, k: value)
        case "neg": return RawClassicInstruction(code: O.classALU | O.aluNEG)
        case "tax": return RawClassicInstruction(code: O.classMISC | O.miscTAX)
        case "txa": return RawClassicInstruction(code: O.classMISC | O.miscTXA)
        case "unimp":
            let code = try s.number("opcode", in: 0...0xffff)
            return RawClassicInstruction(code: UInt16(code))
        default:
            if let operation = ClassicArithmetic.allCases.first(where: { $0.mnemonic == mnemonic }) {
                let (source, value) = try operand(&s, mnemonic)
                return RawClassicInstruction(code: O.classALU | operation.rawValue | source, k: value)
            }
            throw ClassicSyntaxError(line: s.line, column: column, message: "unknown instruction '\(mnemonic)'")
        }
    }

    /// A 32-bit field, written signed or unsigned, decimal or hex.
    private static func k(_ s: inout TextScanner, _ what: String) throws(ClassicSyntaxError) -> UInt32 {
        UInt32(truncatingIfNeeded: try s.number(what, in: Int64.field32))
    }

    /// `#k` or `x`: the operand source bit and k.
    private static func operand(_ s: inout TextScanner, _ mnemonic: String) throws(ClassicSyntaxError) -> (UInt16, UInt32) {
        if s.take("#") { return (O.sourceK, try k(&s, "constant")) }
        if s.take("x") || s.take("X") { return (O.sourceX, 0) }
        throw s.error("expected '#k' or 'x' after \(mnemonic), found \(s.found)")
    }

    /// The rest of `M[k]` after `M[`.
    private static func scratch(_ s: inout TextScanner) throws(ClassicSyntaxError) -> UInt32 {
        let value = try k(&s, "scratch index")
        try close(&s)
        return value
    }

    /// `4*([k]&0xf)`, spaces allowed between the parts.
    private static func headerLength(_ s: inout TextScanner) throws(ClassicSyntaxError) -> RawClassicInstruction {
        for part in ["4", "*", "(", "["] {
            guard s.take(part) else { throw s.error("expected '4*([k]&0xf)', found \(s.found)") }
            s.skipSpaces()
        }
        let offset = try k(&s, "offset")
        s.skipSpaces()
        for part in ["]", "&", "0xf", ")"] {
            guard s.take(part) else { throw s.error("expected '4*([k]&0xf)', found \(s.found)") }
            s.skipSpaces()
        }
        return RawClassicInstruction(code: O.classLDX | O.modeMSH | O.sizeB, k: offset)
    }

    /// An ancillary field by libpcap's or bpf_asm's name.
    private static func ancillaryField(_ s: inout TextScanner) throws(ClassicSyntaxError) -> AncillaryField {
        let column = s.column
        guard let name = s.word(), let field = AncillaryField(name: name) else {
            throw ClassicSyntaxError(line: s.line, column: column, message: "unknown ancillary field; known: "
                + AncillaryField.allCases.map(\.name).joined(separator: ", ") + ", vlan_avail, rand")
        }
        return field
    }

    private static func close(_ s: inout TextScanner) throws(ClassicSyntaxError) {
        s.skipSpaces()
        guard s.take("]") else { throw s.error("expected ']', found \(s.found)") }
    }

    /// An absolute jt/jf target, which must lie 1 to 256 instructions ahead.
    private static func target(_ s: inout TextScanner, index: Int, _ what: String) throws(ClassicSyntaxError) -> UInt8 {
        s.skipSpaces()
        let column = s.column
        let target = try s.number("\(what) target", in: Int64.field32)
        let skip = target - Int64(index) - 1
        guard (0...255).contains(skip) else {
            let why = skip < 0 ? "is not after this instruction (\(index))"
                : "is \(skip + 1) instructions ahead; \(what) reaches at most 256"
            throw ClassicSyntaxError(line: s.line, column: column, message: "\(what) target \(target) \(why)")
        }
        return UInt8(skip)
    }
}
