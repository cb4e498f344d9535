/// Reads the tokens of one line (or one operand of it) for the syntax parsers, with the
/// pieces both syntaxes share: registers, numbers in their range rules, jump targets and
/// the `lddw` pseudo sources. Every failure is an `AssemblyError` at the offending token.
struct TokenCursor {
    let tokens: [Token]
    let line: SourceLine
    var position: Int
    let end: Int

    init(tokens: [Token], line: SourceLine) {
        self.tokens = tokens
        self.line = line
        position = 0
        end = tokens.count
    }

    private init(tokens: [Token], line: SourceLine, range: Range<Int>) {
        self.tokens = tokens
        self.line = line
        position = range.lowerBound
        end = range.upperBound
    }

    var current: Token? { position < end ? tokens[position] : nil }
    var isAtEnd: Bool { position >= end }

    func peek(_ ahead: Int) -> Token? { position + ahead < end ? tokens[position + ahead] : nil }

    @discardableResult
    mutating func advance() -> Token? {
        guard position < end else { return nil }
        position += 1
        return tokens[position - 1]
    }

    mutating func skip(_ count: Int) { position = min(position + count, end) }

    /// Byte offset for an error at the current position: the current token, or just past
    /// the last token of this cursor's range when there is none left.
    var currentOffset: Int {
        if let current { return current.offset }
        guard end > 0, end <= tokens.count else { return 0 }
        let last = tokens[end - 1]
        return last.offset + last.text.utf8.count
    }

    var found: String { current.map { "'\($0.text)'" } ?? "the end of the line" }

    func error(_ message: String) -> AssemblyError { line.error(message, atOffset: currentOffset) }
    func error(_ message: String, at token: Token) -> AssemblyError { line.error(message, atOffset: token.offset) }

    /// An error at `token`, or at the current position when there is none.
    func error(_ message: String, at token: Token?) -> AssemblyError {
        line.error(message, atOffset: token?.offset ?? currentOffset)
    }

    mutating func take(_ symbol: String) -> Bool {
        guard let current, current.isSymbol(symbol) else { return false }
        position += 1
        return true
    }

    mutating func takeIdentifier(_ name: String) -> Bool {
        guard let current, current.isIdentifier(name) else { return false }
        position += 1
        return true
    }

    mutating func expect(_ symbol: String, after what: String? = nil) throws(AssemblyError) {
        guard take(symbol) else {
            throw error("expected '\(symbol)'\(what.map { " after \($0)" } ?? ""), found \(found)")
        }
    }

    mutating func expectIdentifier(_ name: String) throws(AssemblyError) {
        guard takeIdentifier(name) else { throw error("expected '\(name)', found \(found)") }
    }

    mutating func expectEnd(_ context: String = "the instruction") throws(AssemblyError) {
        if let current { throw error("unexpected '\(current.text)' after \(context)", at: current) }
    }

    /// Splits the rest into comma-separated operands (commas inside brackets do not split).
    func operands() throws(AssemblyError) -> [TokenCursor] {
        guard position < end else { return [] }
        var result: [TokenCursor] = []
        var depth = 0
        var start = position
        for index in position..<end {
            let token = tokens[index]
            if token.isSymbol("[") || token.isSymbol("(") { depth += 1 }
            if token.isSymbol("]") || token.isSymbol(")") { depth -= 1 }
            if token.isSymbol(","), depth <= 0 {
                guard index > start else { throw error("expected an operand before ','", at: token) }
                result.append(TokenCursor(tokens: tokens, line: line, range: start..<index))
                start = index + 1
            }
        }
        guard start < end else { throw errorAtEnd("expected an operand after ','") }
        result.append(TokenCursor(tokens: tokens, line: line, range: start..<end))
        return result
    }

    /// An error just past the last token, for something missing at the end of the line.
    func errorAtEnd(_ message: String) -> AssemblyError {
        var copy = self
        copy.position = end
        return copy.error(message)
    }

    // MARK: Registers

    /// A register as written: `r1` (64-bit name) or `w1` (32-bit name).
    struct RegisterOperand {
        var register: Register
        var is32Bit: Bool
        var token: Token
    }

    /// Whether `token` is `r`/`w` followed by digits only, and the register if it exists.
    static func registerName(_ token: Token) -> (register: Register?, is32Bit: Bool)? {
        guard token.kind == .identifier else { return nil }
        let bytes = token.text.utf8
        guard let first = bytes.first, first == UInt8(ascii: "r") || first == UInt8(ascii: "w"), bytes.count >= 2,
              bytes.dropFirst().allSatisfy(\.isASCIIDigit) else { return nil }
        var number = 0
        for digit in bytes.dropFirst() { number = min(number * 10 + Int(digit - 0x30), 1000) }
        return (Register(rawValue: UInt8(min(number, 255))), first == UInt8(ascii: "w"))
    }

    var isAtRegister: Bool { current.flatMap(Self.registerName) != nil }

    /// A register written `r1` or `w1` (kernel) or `%r1` (conformance; `percent` allows it).
    mutating func registerOperand(percent: Bool = false) throws(AssemblyError) -> RegisterOperand {
        let start = current
        let hasPercent = percent && take("%")
        guard let token = current, let name = Self.registerName(token) else {
            throw error("expected a register\(percent ? " like %r1" : " like r1"), found \(found)", at: start ?? current)
        }
        guard let register = name.register else {
            throw error("register \(hasPercent ? "%" : "")\(token.text) does not exist", at: start ?? token)
        }
        if hasPercent && name.is32Bit { throw error("expected a register like %r1, found '%\(token.text)'", at: start ?? token) }
        position += 1
        return RegisterOperand(register: register, is32Bit: name.is32Bit, token: token)
    }

    mutating func register(percent: Bool = false) throws(AssemblyError) -> Register {
        try registerOperand(percent: percent).register
    }

    // MARK: Numbers

    /// A number with an optional sign, and the token where it starts.
    mutating func number(_ what: String) throws(AssemblyError) -> (NumberLiteral, Token) {
        guard let first = current else { throw error("expected \(what), found the end of the line") }
        var negative = false
        var sign = ""
        if first.isSymbol("-") || first.isSymbol("+") {
            negative = first.text == "-"
            sign = first.text
            position += 1
        }
        guard let digits = current, digits.kind == .number else {
            throw error("expected \(what), found \(found)", at: current ?? first)
        }
        position += 1
        switch NumberLiteral.parse(digits, negative: negative, signText: sign) {
        case .number(let literal): return (literal, first)
        case .invalid: throw error("'\(digits.text)' is not a number", at: digits)
        case .tooLarge: throw error("number \(sign)\(digits.text) is too large", at: first)
        }
    }

    var isAtNumber: Bool {
        guard let current else { return false }
        if current.kind == .number { return true }
        return (current.isSymbol("-") || current.isSymbol("+")) && peek(1)?.kind == .number
    }

    mutating func immediate32(_ what: String = "an immediate") throws(AssemblyError) -> Int32 {
        let (literal, token) = try number(what)
        guard let value = literal.immediate32 else {
            throw error("immediate \(literal.text) does not fit in 32 bits", at: token)
        }
        return value
    }

    mutating func immediate64() throws(AssemblyError) -> UInt64 {
        let (literal, token) = try number("a 64-bit immediate")
        guard let value = literal.immediate64 else { throw error("immediate \(literal.text) does not fit in 64 bits", at: token) }
        return value
    }

    /// A memory offset after its base register: `+ 8`, `- 8`, or nothing (zero).
    mutating func memoryOffset() throws(AssemblyError) -> Int16 {
        guard let sign = current, sign.isSymbol("+") || sign.isSymbol("-") else { return 0 }
        let (literal, token) = try number("an offset")
        guard let value = literal.signedValue.flatMap({ Int16(exactly: $0) }) else {
            throw error("offset \(literal.text.hasPrefix("+") ? String(literal.text.dropFirst()) : literal.text) does not fit in 16 bits", at: token)
        }
        return value
    }

    // MARK: Jump targets

    enum Target {
        case offset(Int64, NumberLiteral, Token)
        case label(String, Token)
    }

    /// `+3`, `-3`, `3`, `pc+3` (kernel) or a label; llvm-objdump's `<label>` after a number is ignored.
    mutating func target(allowPC: Bool) throws(AssemblyError) -> Target {
        guard let first = current else { throw error("expected a jump offset like +3 or a label, found the end of the line") }
        if first.kind == .identifier {
            let isPC = allowPC && first.text == "pc" && (peek(1)?.isSymbol("+") == true || peek(1)?.isSymbol("-") == true)
            if !isPC {
                position += 1
                return .label(first.text, first)
            }
            position += 1
        }
        guard isAtNumber else { throw error("expected a jump offset like +3 or a label, found \(found)") }
        let (literal, token) = try number("a jump offset")
        if take("<") {
            while let symbol = current, !symbol.isSymbol(">") { position += 1 }
            try expect(">", after: "the symbol name")
        }
        guard let value = literal.signedValue else { throw error("jump offset \(literal.text) is too large", at: token) }
        return .offset(value, literal, first)
    }

    /// A target for a 16-bit offset field; labels are resolved later.
    mutating func shortTarget(allowPC: Bool) throws(AssemblyError) -> (Int16, LabelReference?) {
        switch try target(allowPC: allowPC) {
        case .label(let name, let token): return (0, reference(name, token))
        case .offset(let value, let literal, let token):
            guard let offset = Int16(exactly: value) else { throw error("jump offset \(literal.text) does not fit in 16 bits", at: token) }
            return (offset, nil)
        }
    }

    /// A target for a 32-bit offset field (`gotol`, local calls, function addresses).
    mutating func longTarget(allowPC: Bool) throws(AssemblyError) -> (Int32, LabelReference?) {
        switch try target(allowPC: allowPC) {
        case .label(let name, let token): return (0, reference(name, token))
        case .offset(let value, let literal, let token):
            guard let offset = Int32(exactly: value) else { throw error("jump offset \(literal.text) does not fit in 32 bits", at: token) }
            return (offset, nil)
        }
    }

    func reference(_ name: String, _ token: Token) -> LabelReference {
        LabelReference(name: name, line: line.number, column: line.column(atOffset: token.offset))
    }

    // MARK: Pseudo sources

    var isAtPseudoSource: Bool {
        guard let current, current.kind == .identifier, peek(1)?.isSymbol("[") == true else { return false }
        return ["map", "map_value", "btf_var", "func"].contains(current.text)
    }

    /// The operand of a `lddw` that is not a plain number: `map[fd:N]`, `map[idx:N]`,
    /// `map_value[fd:N]+OFF`, `map_value[idx:N]+OFF`, `btf_var[id:N]`, `btf_var[id:N, fd:M]`,
    /// `func[+N]` or `func[label]`.
    mutating func pseudoSource(dst: Register) throws(AssemblyError) -> ParsedInstruction {
        guard let kind = advance() else { throw error("expected a pseudo source, found the end of the line") }
        try expect("[", after: "'\(kind.text)'")
        switch kind.text {
        case "map", "map_value":
            guard let key = current, key.isIdentifier("fd") || key.isIdentifier("idx") else {
                if current?.isIdentifier("id") == true {
                    throw error("map[id:N] names a loaded map by id; write map[fd:N] or map[idx:N]")
                }
                throw error("expected 'fd:' or 'idx:' in \(kind.text)[...], found \(found)")
            }
            position += 1
            try expect(":", after: "'\(key.text)'")
            let value = try immediate32("a map \(key.text)")
            try expect("]", after: "the map \(key.text)")
            var valueOffset: Int32 = 0
            if kind.text == "map_value", current?.isSymbol("+") == true {
                let (literal, token) = try number("a value offset")
                guard let offset = UInt32(exactly: literal.magnitude), !literal.isNegative else {
                    throw error("value offset \(literal.text) does not fit in 32 bits", at: token)
                }
                valueOffset = Int32(bitPattern: offset)
            }
            let source: PseudoSource = switch (kind.text, key.text) {
            case ("map", "fd"): .mapFD
            case ("map", _): .mapIndex
            case (_, "fd"): .mapValue
            default: .mapIndexValue
            }
            return ParsedInstruction(.loadImmediate64(dst: dst, source: source, imm: value, nextImm: valueOffset))
        case "btf_var":
            try expectIdentifier("id")
            try expect(":", after: "'id'")
            let id = try immediate32("a BTF id")
            var fd: Int32 = 0
            if take(",") {
                try expectIdentifier("fd")
                try expect(":", after: "'fd'")
                fd = try immediate32("a BTF file descriptor")
            }
            try expect("]", after: "the BTF id")
            return ParsedInstruction(.loadImmediate64(dst: dst, source: .btfID, imm: id, nextImm: fd))
        case "func":
            let (offset, label) = try longTarget(allowPC: true)
            try expect("]", after: "the function")
            return ParsedInstruction(.loadImmediate64(dst: dst, source: .function, imm: offset, nextImm: 0), target: label)
        default:
            throw error("unknown pseudo source '\(kind.text)'; use map, map_value, btf_var or func", at: kind)
        }
    }

    /// `kfunc[id:N]` or `kfunc[id:N, module:M]`, after `call`.
    mutating func kernelFunction() throws(AssemblyError) -> Instruction {
        try expectIdentifier("kfunc")
        try expect("[", after: "'kfunc'")
        try expectIdentifier("id")
        try expect(":", after: "'id'")
        let id = try immediate32("a BTF id")
        var module: Int16 = 0
        if take(",") {
            try expectIdentifier("module")
            try expect(":", after: "'module'")
            let (literal, token) = try number("a module index")
            guard let value = literal.signedValue.flatMap({ Int16(exactly: $0) }) else {
                throw error("module index \(literal.text) does not fit in 16 bits", at: token)
            }
            module = value
        }
        try expect("]", after: "the kernel function")
        return .callKernelFunction(btfID: id, module: module)
    }
}

/// A use of a label, resolved when the whole program has been read.
struct LabelReference {
    var name: String
    var line: Int
    var column: Int
}

/// One parsed instruction; `target` names the label its offset field must point to.
struct ParsedInstruction {
    var instruction: Instruction
    var target: LabelReference?

    init(_ instruction: Instruction, target: LabelReference? = nil) {
        self.instruction = instruction
        self.target = target
    }
}

extension MemorySize {
    /// The C type name used by the kernel syntax: u8, u16, u32, u64.
    var unsignedTypeName: String { "u\(rawValue * 8)" }
    var signedTypeName: String { "s\(rawValue * 8)" }
}
