/// Parses one instruction in the kernel syntax that llvm-objdump, the verifier log and
/// bpftool print: `r0 += 1`, `w1 = (s8)w2`, `r0 = *(u32 *)(r1 + 4)`, `if r1 s< 5 goto +2`,
/// `lock *(u64 *)(r10 - 8) += r1`, `r0 = 0x1122334455667788 ll`, `call pc+3`.
/// `r` registers name 64-bit operations and `w` registers 32-bit ones.
enum KernelSyntaxParser {
    /// `wideConstant`: `dst = N` is a 16-byte `lddw` even without `ll` (bpftool's listing).
    static func parse(_ cursor: inout TokenCursor, wideConstant: Bool = false) throws(AssemblyError) -> ParsedInstruction {
        guard let first = cursor.current else { throw cursor.error("expected an instruction") }
        let parsed: ParsedInstruction
        if first.isSymbol("*") {
            parsed = try store(&cursor)
        } else if TokenCursor.registerName(first) != nil {
            parsed = try assignment(&cursor, wideConstant: wideConstant)
        } else if first.kind == .identifier {
            cursor.advance()
            switch first.text {
            case "exit":
                parsed = ParsedInstruction(.exit)
            case "goto":
                let (offset, label) = try cursor.shortTarget(allowPC: true)
                parsed = ParsedInstruction(.jump(offset: offset), target: label)
            case "gotol":
                let (offset, label) = try cursor.longTarget(allowPC: true)
                parsed = ParsedInstruction(.jumpLong(offset: offset), target: label)
            case "may_goto":
                let (offset, label) = try cursor.shortTarget(allowPC: true)
                parsed = ParsedInstruction(.mayGoto(offset: offset), target: label)
            case "call":
                parsed = try call(&cursor)
            case "callx":
                parsed = ParsedInstruction(.callRegister(try cursor.register()))
            case "if":
                parsed = try branch(&cursor)
            case "lock":
                parsed = try lockedUpdate(&cursor)
            case "store_release":
                parsed = try storeRelease(&cursor)
            default:
                throw cursor.error("unknown instruction '\(first.text)'", at: first)
            }
        } else {
            throw cursor.error("expected an instruction, found '\(first.text)'", at: first)
        }
        try cursor.expectEnd()
        return parsed
    }

    private static let compoundOperators: [String: ArithmeticOperation] = [
        "+=": .add, "-=": .sub, "*=": .mul, "/=": .div, "|=": .or, "&=": .and, "<<=": .lsh, ">>=": .rsh,
        "%=": .mod, "^=": .xor, "s>>=": .arsh, "s/=": .sdiv, "s%=": .smod,
    ]

    private static let conditions: [String: JumpCondition] = [
        "==": .eq, "!=": .ne, ">": .gt, ">=": .ge, "<": .lt, "<=": .le,
        "s>": .sgt, "s>=": .sge, "s<": .slt, "s<=": .sle, "&": .set,
    ]

    private static let byteSwaps: [String: (ByteSwapKind, Int)] = [
        "le16": (.toLittleEndian, 16), "le32": (.toLittleEndian, 32), "le64": (.toLittleEndian, 64),
        "be16": (.toBigEndian, 16), "be32": (.toBigEndian, 32), "be64": (.toBigEndian, 64),
        "bswap16": (.swap, 16), "bswap32": (.swap, 32), "bswap64": (.swap, 64),
    ]

    private static let fetchOperations: [String: AtomicOperation] = [
        "add": .fetchAdd, "or": .fetchOr, "and": .fetchAnd, "xor": .fetchXor,
    ]

    // MARK: Assignments

    /// Everything that starts with a destination register: arithmetic, moves, loads, atomics with a result.
    private static func assignment(_ cursor: inout TokenCursor, wideConstant: Bool) throws(AssemblyError) -> ParsedInstruction {
        let dst = try cursor.registerOperand()
        let width: Width = dst.is32Bit ? .bits32 : .bits64
        guard let op = cursor.current, op.kind == .symbol else {
            throw cursor.error("expected '=' or an operator like '+=' after '\(dst.token.text)', found \(cursor.found)")
        }
        cursor.advance()
        if let operation = compoundOperators[op.text] {
            let source: Operand
            if cursor.isAtNumber {
                source = .immediate(try cursor.immediate32())
            } else {
                source = .register(try cursor.register(matching: dst))
            }
            return ParsedInstruction(.arithmetic(operation, width, dst: dst.register, source: source))
        }
        guard op.isSymbol("=") else {
            throw cursor.error("expected '=' or an operator like '+=' after '\(dst.token.text)', found '\(op.text)'", at: op)
        }
        guard let value = cursor.current else { throw cursor.error("expected a value after '='") }

        if value.isSymbol("-"), let next = cursor.peek(1), TokenCursor.registerName(next) != nil {
            cursor.advance()
            let operand = try cursor.registerOperand()
            try requireSame(operand, as: dst, "negation names one register on both sides, as in \(dst.token.text) = -\(dst.token.text)", &cursor)
            return ParsedInstruction(.negate(width, dst: dst.register))
        }
        if cursor.isAtNumber {
            let (literal, token) = try cursor.number("an immediate")
            if cursor.takeIdentifier("ll") || wideConstant {
                try require64(dst, "a 64-bit immediate (ll)", &cursor)
                guard let value = literal.immediate64 else {
                    throw cursor.error("immediate \(literal.text) does not fit in 64 bits", at: token)
                }
                return ParsedInstruction(.loadImmediate64(dst: dst.register, value: value))
            }
            guard let imm = literal.immediate32 else {
                throw cursor.error("immediate \(literal.text) does not fit in 32 bits; add 'll' for a 64-bit load", at: token)
            }
            return ParsedInstruction(.arithmetic(.mov, width, dst: dst.register, source: .immediate(imm)))
        }
        if value.isSymbol("(") {
            cursor.advance()
            guard let type = cursor.current, type.kind == .identifier, let bits = ["s8": 8, "s16": 16, "s32": 32][type.text] else {
                throw cursor.error("expected (s8), (s16) or (s32), found \(cursor.found)")
            }
            cursor.advance()
            try cursor.expect(")", after: "'\(type.text)'")
            let src = try cursor.register(matching: dst)
            if width == .bits32 && bits == 32 {
                throw cursor.error("(s32) needs 64-bit registers: write r\(dst.register.rawValue) = (s32)r\(src.rawValue)", at: type)
            }
            return ParsedInstruction(.moveSignExtend(width, dst: dst.register, src: src, bits: bits))
        }
        if value.isSymbol("*") {
            cursor.advance()
            return try load(&cursor, dst)
        }
        guard value.kind == .identifier else { throw cursor.error("expected a value after '=', found '\(value.text)'", at: value) }
        if TokenCursor.registerName(value) != nil {
            let src = try cursor.register(matching: dst)
            return ParsedInstruction(.arithmetic(.mov, width, dst: dst.register, source: .register(src)))
        }
        if let swap = byteSwaps[value.text] {
            let (kind, bits) = swap
            cursor.advance()
            let operand = try cursor.registerOperand()
            guard operand.register == dst.register else {
                throw cursor.error("\(value.text) names one register on both sides, as in \(dst.token.text) = \(value.text) \(dst.token.text)",
                                   at: operand.token)
            }
            return ParsedInstruction(.byteSwap(kind, bits: bits, dst: dst.register))
        }
        if cursor.isAtPseudoSource {
            try require64(dst, "a 64-bit load", &cursor)
            let parsed = try cursor.pseudoSource(dst: dst.register)
            _ = cursor.takeIdentifier("ll")
            return parsed
        }
        cursor.advance()
        switch value.text {
        case "load_acquire":
            try cursor.expect("(", after: "load_acquire")
            let (size, base, offset, _) = try typedAddress(&cursor)
            try cursor.expect(")", after: "the address")
            return ParsedInstruction(.loadAcquire(size, dst: dst.register, base: base, offset: offset))
        case "xchg_64", "xchg32_32", "atomic_xchg", "atomic64_xchg":
            let implied: MemorySize? = value.text == "xchg_64" ? .double : value.text == "xchg32_32" ? .word : nil
            try cursor.expect("(", after: value.text)
            let (size, base, offset) = try atomicAddress(&cursor, implied: implied, value.text)
            try cursor.expect(",", after: "the address")
            let src = try cursor.registerOperand()
            try requireSame(src, as: dst, "\(value.text) returns the old value in its operand register", &cursor)
            try requireAtomicRegisters(size, dst, &cursor)
            try cursor.expect(")", after: "the operands")
            return ParsedInstruction(.atomic(.exchange, size, base: base, offset: offset, source: src.register))
        case "cmpxchg_64", "cmpxchg32_32", "atomic_cmpxchg", "atomic64_cmpxchg":
            let implied: MemorySize? = value.text == "cmpxchg_64" ? .double : value.text == "cmpxchg32_32" ? .word : nil
            guard dst.register == .r0 else {
                throw cursor.error("\(value.text) always writes r0, not \(dst.token.text)", at: dst.token)
            }
            try cursor.expect("(", after: value.text)
            let (size, base, offset) = try atomicAddress(&cursor, implied: implied, value.text)
            try cursor.expect(",", after: "the address")
            let expected = try cursor.registerOperand()
            guard expected.register == .r0 else {
                throw cursor.error("\(value.text) compares with r0, not \(expected.token.text)", at: expected.token)
            }
            try cursor.expect(",", after: "r0")
            let src = try cursor.registerOperand()
            try requireAtomicRegisters(size, dst, &cursor)
            try requireAtomicRegisters(size, src, &cursor)
            try cursor.expect(")", after: "the operands")
            return ParsedInstruction(.atomic(.compareExchange, size, base: base, offset: offset, source: src.register))
        default:
            break
        }
        for prefix in ["atomic_fetch_", "atomic64_fetch_"] where value.text.hasPrefix(prefix) {
            guard let operation = fetchOperations[String(value.text.dropFirst(prefix.count))] else { break }
            try cursor.expect("(", after: value.text)
            let (size, base, offset) = try atomicAddress(&cursor, implied: nil, value.text)
            try cursor.expect(",", after: "the address")
            let src = try cursor.registerOperand()
            try requireSame(src, as: dst, "\(value.text) returns the old value in its operand register", &cursor)
            try requireAtomicRegisters(size, dst, &cursor)
            try cursor.expect(")", after: "the operands")
            return ParsedInstruction(.atomic(operation, size, base: base, offset: offset, source: src.register))
        }
        throw cursor.error("unknown value '\(value.text)' after '='", at: value)
    }

    /// After `dst = *`: a load from `(uN *)(rB + off)` or a legacy packet load from `(uN *)skb[...]`.
    private static func load(_ cursor: inout TokenCursor, _ dst: TokenCursor.RegisterOperand) throws(AssemblyError) -> ParsedInstruction {
        let (size, isSigned, type) = try pointerType(&cursor)
        if let skb = cursor.current, skb.isIdentifier("skb") {
            cursor.advance()
            guard dst.register == .r0, !dst.is32Bit else { throw cursor.error("legacy packet loads always write r0", at: dst.token) }
            guard !isSigned, size != .double else { throw cursor.error("legacy packet loads read u8, u16 or u32", at: type) }
            try cursor.expect("[", after: "skb")
            var index: Register?
            var imm: Int32 = 0
            if cursor.isAtRegister {
                index = try cursor.baseRegister()
                if cursor.current?.isSymbol("+") == true || cursor.current?.isSymbol("-") == true {
                    imm = try cursor.immediate32("a packet offset")
                }
            } else {
                imm = try cursor.immediate32("a packet offset")
            }
            try cursor.expect("]", after: "the packet offset")
            return ParsedInstruction(.loadPacket(size, index: index, imm: imm))
        }
        let (base, offset) = try cursor.address()
        if isSigned {
            guard size != .double else { throw cursor.error("sign-extending loads read s8, s16 or s32", at: type) }
            return ParsedInstruction(.loadSignExtend(size, dst: dst.register, base: base, offset: offset))
        }
        return ParsedInstruction(.load(size, dst: dst.register, base: base, offset: offset))
    }

    // MARK: Statements without a destination register

    /// `*(uN *)(rB + off) = rS` or `= imm`.
    private static func store(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        cursor.advance()
        let (size, base, offset, _) = try typedAddress(&cursor)
        try cursor.expect("=", after: "the address")
        if cursor.isAtNumber {
            return ParsedInstruction(.store(size, base: base, offset: offset, source: .immediate(try cursor.immediate32())))
        }
        return ParsedInstruction(.store(size, base: base, offset: offset, source: .register(try cursor.register())))
    }

    /// `lock *(u64 *)(rB + off) += rS` (also `|=`, `&=`, `^=`).
    private static func lockedUpdate(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        try cursor.expect("*", after: "lock")
        let (size, base, offset, type) = try typedAddress(&cursor)
        try requireAtomicSize(size, at: type, &cursor)
        let operations: [String: AtomicOperation] = ["+=": .add, "|=": .or, "&=": .and, "^=": .xor]
        guard let op = cursor.current, let operation = operations[op.text], op.kind == .symbol else {
            throw cursor.error("expected '+=', '|=', '&=' or '^=' after the address, found \(cursor.found)")
        }
        cursor.advance()
        let src = try cursor.registerOperand()
        try requireAtomicRegisters(size, src, &cursor)
        return ParsedInstruction(.atomic(operation, size, base: base, offset: offset, source: src.register))
    }

    /// `store_release((uN *)(rB + off), rS)`.
    private static func storeRelease(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        try cursor.expect("(", after: "store_release")
        let (size, base, offset, _) = try typedAddress(&cursor)
        try cursor.expect(",", after: "the address")
        let src = try cursor.register()
        try cursor.expect(")", after: "the operands")
        return ParsedInstruction(.storeRelease(size, base: base, offset: offset, source: src))
    }

    /// `if DST OP SRC goto TARGET`.
    private static func branch(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        let dst = try cursor.registerOperand()
        guard let op = cursor.current, op.kind == .symbol, let condition = conditions[op.text] else {
            throw cursor.error("expected a comparison like '==', '!=', 's<' or '&', found \(cursor.found)")
        }
        cursor.advance()
        let source: Operand
        if cursor.isAtNumber {
            source = .immediate(try cursor.immediate32())
        } else {
            source = .register(try cursor.register(matching: dst))
        }
        try cursor.expectIdentifier("goto")
        let (offset, label) = try cursor.shortTarget(allowPC: true)
        let width: Width = dst.is32Bit ? .bits32 : .bits64
        return ParsedInstruction(.branch(condition, width, dst: dst.register, source: source, offset: offset), target: label)
    }

    /// `call 5`, `call name#5` (bpftool), `call pc+3`, `call label`, `call kfunc[id:N]`, `call kernel-function#N`.
    private static func call(_ cursor: inout TokenCursor) throws(AssemblyError) -> ParsedInstruction {
        if cursor.isAtNumber { return ParsedInstruction(.call(helper: try cursor.immediate32("a helper number"))) }
        guard let name = cursor.current, name.kind == .identifier else {
            throw cursor.error("expected a helper number, pc+offset, a label or kfunc[id:N], found \(cursor.found)")
        }
        if name.text == "kfunc", cursor.peek(1)?.isSymbol("[") == true { return ParsedInstruction(try cursor.kernelFunction()) }
        if name.text == "kernel", cursor.peek(1)?.isSymbol("-") == true, cursor.peek(2)?.isIdentifier("function") == true,
           cursor.peek(3)?.isSymbol("#") == true {
            cursor.skip(4)
            return ParsedInstruction(.callKernelFunction(btfID: try cursor.immediate32("a BTF id"), module: 0))
        }
        if cursor.peek(1)?.isSymbol("#") == true {
            cursor.skip(2)
            return ParsedInstruction(.call(helper: try cursor.immediate32("a helper number")))
        }
        let (offset, label) = try cursor.longTarget(allowPC: true)
        return ParsedInstruction(.callLocal(offset: offset), target: label)
    }

    // MARK: Operand pieces

    /// `(uN *)` or `(sN *)`.
    private static func pointerType(_ cursor: inout TokenCursor) throws(AssemblyError) -> (MemorySize, isSigned: Bool, Token) {
        try cursor.expect("(")
        let types: [String: (MemorySize, Bool)] = [
            "u8": (.byte, false), "u16": (.half, false), "u32": (.word, false), "u64": (.double, false),
            "s8": (.byte, true), "s16": (.half, true), "s32": (.word, true), "s64": (.double, true),
        ]
        guard let type = cursor.current, type.kind == .identifier, let sizeAndSign = types[type.text] else {
            throw cursor.error("expected a type like u64, found \(cursor.found)")
        }
        cursor.advance()
        try cursor.expect("*", after: "'\(type.text)'")
        try cursor.expect(")", after: "'\(type.text) *'")
        return (sizeAndSign.0, sizeAndSign.1, type)
    }

    /// `(uN *)(rB + off)`.
    private static func typedAddress(_ cursor: inout TokenCursor) throws(AssemblyError) -> (MemorySize, Register, Int16, type: Token) {
        let (size, isSigned, type) = try pointerType(&cursor)
        if isSigned { throw cursor.error("expected an unsigned type like u64, found '\(type.text)'", at: type) }
        let (base, offset) = try cursor.address()
        return (size, base, offset, type)
    }

    /// The address of an atomic: `(u64 *)(rB + off)` (kernel), or `rB + off` / `(rB + off)` when the
    /// name says the size (`xchg_64`, `cmpxchg32_32`).
    private static func atomicAddress(_ cursor: inout TokenCursor, implied: MemorySize?, _ name: String)
        throws(AssemblyError) -> (MemorySize, Register, Int16) {
        let size: MemorySize
        let base: Register
        let offset: Int16
        if cursor.current?.isSymbol("(") == true, let type = cursor.peek(1), type.kind == .identifier, !cursor.isRegister(at: 1) {
            (size, base, offset, _) = try typedAddress(&cursor)
            if let implied, implied != size {
                throw cursor.error("\(name) works on \(implied.unsignedTypeName), not \(size.unsignedTypeName)", at: type)
            }
            try requireAtomicSize(size, at: type, &cursor)
        } else if let implied {
            size = implied
            (base, offset) = try cursor.address(parenthesized: cursor.current?.isSymbol("(") == true)
        } else {
            throw cursor.error("expected a typed address like (u64 *)(r10 - 8), found \(cursor.found)")
        }
        return (size, base, offset)
    }

    private static func requireAtomicSize(_ size: MemorySize, at type: Token, _ cursor: inout TokenCursor) throws(AssemblyError) {
        guard size == .word || size == .double else {
            throw cursor.error("atomic operations work on u32 or u64, not \(size.unsignedTypeName)", at: type)
        }
    }

    /// A 64-bit atomic needs `r` registers; a 32-bit one takes `w` or `r`.
    private static func requireAtomicRegisters(_ size: MemorySize, _ operand: TokenCursor.RegisterOperand,
                                               _ cursor: inout TokenCursor) throws(AssemblyError) {
        if size == .double && operand.is32Bit {
            throw cursor.error("a u64 atomic operation needs r registers, found '\(operand.token.text)'", at: operand.token)
        }
    }

    private static func require64(_ dst: TokenCursor.RegisterOperand, _ what: String, _ cursor: inout TokenCursor) throws(AssemblyError) {
        if dst.is32Bit {
            throw cursor.error("\(what) needs an r register, found '\(dst.token.text)'", at: dst.token)
        }
    }

    private static func requireSame(_ operand: TokenCursor.RegisterOperand, as dst: TokenCursor.RegisterOperand,
                                    _ message: String, _ cursor: inout TokenCursor) throws(AssemblyError) {
        guard operand.register == dst.register, operand.is32Bit == dst.is32Bit else {
            throw cursor.error(message, at: operand.token)
        }
    }
}

extension TokenCursor {
    func isRegister(at ahead: Int) -> Bool { peek(ahead).flatMap(Self.registerName) != nil }

    /// A source register whose letter matches the destination's (`w` with `w`, `r` with `r`).
    mutating func register(matching dst: RegisterOperand) throws(AssemblyError) -> Register {
        let operand = try registerOperand()
        guard operand.is32Bit == dst.is32Bit else {
            let letter = dst.is32Bit ? "w" : "r"
            throw error("expected \(letter)\(operand.register.rawValue), not '\(operand.token.text)': both registers of a "
                        + "\(dst.is32Bit ? "32" : "64")-bit operation are \(letter) registers", at: operand.token)
        }
        return operand.register
    }

    /// A register used as an address: must be an `r` register.
    mutating func baseRegister() throws(AssemblyError) -> Register {
        let operand = try registerOperand()
        if operand.is32Bit {
            throw error("'\(operand.token.text)' cannot address memory; write r\(operand.register.rawValue)", at: operand.token)
        }
        return operand.register
    }

    /// `(rB + off)`, `(rB - off)` or `(rB)`; without parentheses when `parenthesized` is false.
    mutating func address(parenthesized: Bool = true) throws(AssemblyError) -> (Register, Int16) {
        if parenthesized { try expect("(", after: "the type") }
        let base = try baseRegister()
        let offset = try memoryOffset()
        if parenthesized { try expect(")", after: "the address") }
        return (base, offset)
    }
}
