/// Parses one instruction in the conformance-suite syntax: a mnemonic and comma-separated
/// operands, e.g. `add32 %r1, 5`, `ldxdw %r0, [%r10-8]`, `jne %r1, %r2, +3`, `lock fetch add [%r10-8], %r1`.
enum ConformanceSyntaxParser {
    private enum Form: Sendable {
        case arithmetic(ArithmeticOperation, Width)
        case negate(Width)
        case moveSignExtend(Width, bits: Int)
        case byteSwap(ByteSwapKind, bits: Int)
        case load(MemorySize), loadSignExtend(MemorySize), loadAcquire(MemorySize)
        case storeImmediate(MemorySize), storeRegister(MemorySize), storeRelease(MemorySize)
        case loadImmediate64
        case loadAbsolute(MemorySize), loadIndirect(MemorySize)
        case jump, jumpLong, branch(JumpCondition, Width), call, callRegister, exit, mayGoto

        var operandCount: Int {
            switch self {
            case .exit: 0
            case .negate, .byteSwap, .loadAbsolute, .jump, .jumpLong, .call, .callRegister, .mayGoto: 1
            case .branch: 3
            default: 2
            }
        }

        func usage(_ name: String) -> String {
            switch self {
            case .arithmetic: "\(name) %rD, %rS or \(name) %rD, imm"
            case .negate, .byteSwap: "\(name) %rD"
            case .moveSignExtend: "\(name) %rD, %rS"
            case .load, .loadSignExtend, .loadAcquire: "\(name) %rD, [%rS+off]"
            case .storeImmediate: "\(name) [%rD+off], imm"
            case .storeRegister, .storeRelease: "\(name) [%rD+off], %rS"
            case .loadImmediate64: "lddw %rD, imm64"
            case .loadAbsolute: "\(name) imm"
            case .loadIndirect: "\(name) %rS, imm"
            case .jump, .jumpLong, .mayGoto: "\(name) +off or \(name) label"
            case .branch: "\(name) %rD, %rS or imm, +off or label"
            case .call: "call imm, call local label, call kfunc[id:N] or call %rS"
            case .callRegister: "\(name) %rS"
            case .exit: "exit"
            }
        }
    }

    private static let forms: [String: Form] = {
        var forms: [String: Form] = [
            "lddw": .loadImmediate64, "ja": .jump, "ja32": .jumpLong, "call": .call, "callx": .callRegister,
            "exit": .exit, "may_goto": .mayGoto,
            "neg": .negate(.bits64), "neg64": .negate(.bits64), "neg32": .negate(.bits32),
            "movsx832": .moveSignExtend(.bits32, bits: 8), "movsx1632": .moveSignExtend(.bits32, bits: 16),
            "movsx864": .moveSignExtend(.bits64, bits: 8), "movsx1664": .moveSignExtend(.bits64, bits: 16),
            "movsx3264": .moveSignExtend(.bits64, bits: 32),
        ]
        for (name, op) in arithmeticNames {
            forms[name] = .arithmetic(op, .bits64)
            forms[name + "64"] = .arithmetic(op, .bits64)
            forms[name + "32"] = .arithmetic(op, .bits32)
        }
        for (name, condition) in conditionNames {
            forms[name] = .branch(condition, .bits64)
            forms[name + "32"] = .branch(condition, .bits32)
        }
        for bits in [16, 32, 64] {
            forms["le\(bits)"] = .byteSwap(.toLittleEndian, bits: bits)
            forms["be\(bits)"] = .byteSwap(.toBigEndian, bits: bits)
            forms["swap\(bits)"] = .byteSwap(.swap, bits: bits)
            forms["bswap\(bits)"] = .byteSwap(.swap, bits: bits)
        }
        for size in MemorySize.allCases {
            let suffix = size.conformanceSuffix
            forms["ldx" + suffix] = .load(size)
            forms["st" + suffix] = .storeImmediate(size)
            forms["stx" + suffix] = .storeRegister(size)
            forms["ldxacq" + suffix] = .loadAcquire(size)
            forms["stxrel" + suffix] = .storeRelease(size)
            if size != .double {
                forms["ldxs" + suffix] = .loadSignExtend(size)
                forms["ldabs" + suffix] = .loadAbsolute(size)
                forms["ldind" + suffix] = .loadIndirect(size)
            }
        }
        return forms
    }()

    static let arithmeticNames: [(String, ArithmeticOperation)] = [
        ("add", .add), ("sub", .sub), ("mul", .mul), ("div", .div), ("sdiv", .sdiv), ("or", .or), ("and", .and),
        ("lsh", .lsh), ("rsh", .rsh), ("mod", .mod), ("smod", .smod), ("xor", .xor), ("mov", .mov), ("arsh", .arsh),
    ]

    static let conditionNames: [(String, JumpCondition)] = [
        ("jeq", .eq), ("jgt", .gt), ("jge", .ge), ("jset", .set), ("jne", .ne), ("jsgt", .sgt), ("jsge", .sge),
        ("jlt", .lt), ("jle", .le), ("jslt", .slt), ("jsle", .sle),
    ]

    static func parse(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        guard let mnemonic = cursor.current, mnemonic.kind == .identifier else {
            throw cursor.error("expected a mnemonic, found \(cursor.found)")
        }
        cursor.advance()
        let name = mnemonic.text.lowercased()
        if name == "lock" { return try lock(&cursor) }
        guard let form = forms[name] else { throw cursor.error("unknown mnemonic '\(mnemonic.text)'", at: mnemonic) }
        var operands = try cursor.operands()
        if operands.count != form.operandCount {
            let message = "\(name) takes \(form.operandCount) operand\(form.operandCount == 1 ? "" : "s"), found "
                + "\(operands.count) (\(form.usage(name)))"
            if operands.count > form.operandCount { throw operands[form.operandCount].error(message) }
            throw cursor.errorAtEnd(message)
        }
        let instruction: ParsedInstruction
        switch form {
        case .arithmetic(let op, let width):
            let dst = try operands[0].register(percent: true)
            instruction = ParsedInstruction(.arithmetic(op, width, dst: dst, source: try operands[1].registerOrImmediate()))
        case .negate(let width):
            instruction = ParsedInstruction(.negate(width, dst: try operands[0].register(percent: true)))
        case .moveSignExtend(let width, let bits):
            let dst = try operands[0].register(percent: true)
            instruction = ParsedInstruction(.moveSignExtend(width, dst: dst, src: try operands[1].register(percent: true), bits: bits))
        case .byteSwap(let kind, let bits):
            instruction = ParsedInstruction(.byteSwap(kind, bits: bits, dst: try operands[0].register(percent: true)))
        case .load(let size), .loadSignExtend(let size), .loadAcquire(let size):
            let dst = try operands[0].register(percent: true)
            let (base, offset) = try operands[1].memoryOperand()
            instruction = switch form {
            case .load: ParsedInstruction(.load(size, dst: dst, base: base, offset: offset))
            case .loadSignExtend: ParsedInstruction(.loadSignExtend(size, dst: dst, base: base, offset: offset))
            default: ParsedInstruction(.loadAcquire(size, dst: dst, base: base, offset: offset))
            }
        case .storeImmediate(let size):
            let (base, offset) = try operands[0].memoryOperand()
            instruction = ParsedInstruction(.store(size, base: base, offset: offset, source: .immediate(try operands[1].immediate32())))
        case .storeRegister(let size), .storeRelease(let size):
            let (base, offset) = try operands[0].memoryOperand()
            let src = try operands[1].register(percent: true)
            if case .storeRelease = form {
                instruction = ParsedInstruction(.storeRelease(size, base: base, offset: offset, source: src))
            } else {
                instruction = ParsedInstruction(.store(size, base: base, offset: offset, source: .register(src)))
            }
        case .loadImmediate64:
            let dst = try operands[0].register(percent: true)
            if operands[1].isAtPseudoSource {
                instruction = try operands[1].pseudoSource(dst: dst)
            } else {
                instruction = ParsedInstruction(.loadImmediate64(dst: dst, value: try operands[1].immediate64()))
            }
        case .loadAbsolute(let size):
            instruction = ParsedInstruction(.loadPacket(size, index: nil, imm: try operands[0].immediate32()))
        case .loadIndirect(let size):
            let index = try operands[0].register(percent: true)
            instruction = ParsedInstruction(.loadPacket(size, index: index, imm: try operands[1].immediate32()))
        case .jump, .mayGoto:
            let (offset, label) = try operands[0].shortTarget(allowPC: false)
            let jump: Instruction = if case .jump = form { .jump(offset: offset) } else { .mayGoto(offset: offset) }
            instruction = ParsedInstruction(jump, target: label)
        case .jumpLong:
            let (offset, label) = try operands[0].longTarget(allowPC: false)
            instruction = ParsedInstruction(.jumpLong(offset: offset), target: label)
        case .branch(let condition, let width):
            let dst = try operands[0].register(percent: true)
            let source = try operands[1].registerOrImmediate()
            let (offset, label) = try operands[2].shortTarget(allowPC: false)
            instruction = ParsedInstruction(.branch(condition, width, dst: dst, source: source, offset: offset), target: label)
        case .call:
            instruction = try call(&operands[0])
        case .callRegister:
            instruction = ParsedInstruction(.callRegister(try operands[0].register(percent: true)))
        case .exit:
            instruction = ParsedInstruction(.exit)
        }
        for index in operands.indices { try operands[index].expectEnd("the operand") }
        return instruction
    }

    private static func call(_ operand: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        if operand.takeIdentifier("local") {
            let (offset, label) = try operand.longTarget(allowPC: false)
            return ParsedInstruction(.callLocal(offset: offset), target: label)
        }
        if operand.takeIdentifier("helper") { return ParsedInstruction(.call(helper: try operand.immediate32("a helper number"))) }
        if operand.takeIdentifier("runtime") {
            return ParsedInstruction(.callKernelFunction(btfID: try operand.immediate32("a BTF id"), module: 0))
        }
        if operand.current?.isIdentifier("kfunc") == true { return ParsedInstruction(try operand.kernelFunction()) }
        if operand.isAtNumber { return ParsedInstruction(.call(helper: try operand.immediate32("a helper number"))) }
        if operand.isAtRegister || operand.current?.isSymbol("%") == true {
            return ParsedInstruction(.callRegister(try operand.register(percent: true)))
        }
        throw operand.error("expected a helper number, 'local' and a label, 'kfunc[id:N]' or a register, found \(operand.found)")
    }

    /// `lock [fetch] op[32] [%rD+off], %rS`.
    private static func lock(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        let fetch = cursor.takeIdentifier("fetch")
        let needOperation = "lock needs an operation: add, or, and, xor, xchg or cmpxchg, optionally after 'fetch'"
        guard let opToken = cursor.current, opToken.kind == .identifier else {
            throw cursor.error(cursor.isAtEnd ? needOperation : "\(needOperation); found \(cursor.found)")
        }
        cursor.advance()
        var name = Substring(opToken.text.lowercased())
        var size = MemorySize.double
        if name.hasSuffix("32") {
            size = .word
            name = name.dropLast(2)
        } else if name.hasSuffix("64") {
            name = name.dropLast(2)
        }
        let op: AtomicOperation
        switch (name, fetch) {
        case ("add", false): op = .add
        case ("or", false): op = .or
        case ("and", false): op = .and
        case ("xor", false): op = .xor
        case ("add", true): op = .fetchAdd
        case ("or", true): op = .fetchOr
        case ("and", true): op = .fetchAnd
        case ("xor", true): op = .fetchXor
        case ("xchg", _): op = .exchange
        case ("cmpxchg", _): op = .compareExchange
        default: throw cursor.error("unknown atomic operation '\(opToken.text)'; \(needOperation)", at: opToken)
        }
        var operands = try cursor.operands()
        let written = "lock \(fetch ? "fetch " : "")\(opToken.text)"
        guard operands.count == 2 else {
            let message = "\(written) takes 2 operands, found \(operands.count) (\(written) [%rD+off], %rS)"
            if operands.count > 2 { throw operands[2].error(message) }
            throw cursor.errorAtEnd(message)
        }
        let (base, offset) = try operands[0].memoryOperand()
        let src = try operands[1].register(percent: true)
        try operands[0].expectEnd("the operand")
        try operands[1].expectEnd("the operand")
        return ParsedInstruction(.atomic(op, size, base: base, offset: offset, source: src))
    }
}

extension TokenCursor {
    /// `[%rN]`, `[%rN+off]` or `[%rN-off]`.
    mutating func memoryOperand() throws(AssemblyError) -> (Register, Int16) {
        guard take("[") else { throw error("expected a memory operand like [%r1+8], found \(found)") }
        let base = try register(percent: true)
        let offset = try memoryOffset()
        try expect("]", after: "the memory operand")
        return (base, offset)
    }

    mutating func registerOrImmediate() throws(AssemblyError) -> Operand {
        if isAtNumber { return .immediate(try immediate32()) }
        if current?.isSymbol("%") == true || isAtRegister { return .register(try register(percent: true)) }
        throw error("expected a register or an immediate, found \(found)")
    }
}

extension MemorySize {
    /// The size letters of conformance mnemonics: b, h, w, dw.
    var conformanceSuffix: String {
        switch self {
        case .byte: "b"
        case .half: "h"
        case .word: "w"
        case .double: "dw"
        }
    }
}
