import ClassicBPF

/// Relations and arithmetic: `expr relop expr` over packet data, `len` and constants.
/// Precedence from low to high: `|`, `&`, `<< >>`, `+ -`, `* /`, unary `-`. `^` and `%`
/// have none in libpcap's grammar, so yacc shifts: each takes everything to its right
/// (`a * b % c` is `a * (b % c)`).
extension FilterParser {
    static let levels: [[String]] = [["|"], ["&"], ["<<", ">>"], ["+", "-"], ["*", "/"]]

    mutating func relation() throws(FilterError) -> Predicate {
        let left = try arithmetic()
        let opToken = current
        guard case .symbol(let op) = opToken.kind, [">", "<", ">=", "<=", "=", "==", "!="].contains(op) else {
            throw unexpected("a comparison ('=', '!=', '<', '<=', '>', '>=')")
        }
        _ = advance()
        let right = try arithmetic()
        var result: Predicate
        switch op {
        case ">": result = test(left.value, .gt, right.value)
        case ">=": result = test(left.value, .ge, right.value)
        case "<": result = arena.not(test(left.value, .ge, right.value))
        case "<=": result = arena.not(test(left.value, .gt, right.value))
        case "!=": result = arena.not(test(left.value, .eq, right.value))
        default: result = test(left.value, .eq, right.value)
        }
        // The guards, then the comparison: `g1 and (g2 and (... and test))`, built from the end.
        for g in right.guards.reversed() { result = arena.and(g, result) }
        for g in left.guards.reversed() { result = arena.and(g, result) }
        return result
    }

    /// `v & m == 0` is `jset #m` false, as libpcap's optimizer rewrites it.
    func test(_ value: FilterValue, _ condition: ClassicCondition, _ operand: FilterValue) -> Predicate {
        if condition == .eq, operand == .constant(0), case .binary(.and, let inner, .constant(let mask)) = value {
            return arena.not(arena.test(FilterTest(value: inner, condition: .set, operand: .constant(mask)), relation: true))
        }
        return arena.test(FilterTest(value: value, condition: condition, operand: operand), relation: true)
    }

    mutating func arithmetic(_ level: Int = 0) throws(FilterError) -> Arithmetic {
        try enterLevel()
        defer { depth -= 1 }
        if level == Self.levels.count { return try operand() }
        var left = try arithmetic(level + 1)
        while case .symbol(let s) = current.kind, Self.levels[level].contains(s) {
            let opToken = advance()
            let right = try arithmetic(level + 1)
            left = try combine(left, s, right, at: opToken)
        }
        return left
    }

    mutating func combine(_ left: Arithmetic, _ symbol: String, _ right: Arithmetic, at token: FilterToken) throws(FilterError) -> Arithmetic {
        let op: ClassicArithmetic = switch symbol {
        case "+": .add
        case "-": .sub
        case "*": .mul
        case "/": .div
        case "%": .mod
        case "&": .and
        case "|": .or
        case "^": .xor
        case "<<": .lsh
        default: .rsh
        }
        if let k = right.value.constantValue {
            if (op == .div || op == .mod) && k == 0 { throw error(op == .div ? "division by zero" : "modulus by zero", at: token) }
            if (op == .lsh || op == .rsh) && k > 31 { throw error("shift by \(k) is more than 31 bits", at: token) }
        }
        var value = FilterValue.binary(op, left.value, right.value)
        // libpcap's optimizer folds these to 0, dropping the load, so we do too.
        if right.value == .constant(0), op == .and || op == .mul { value = .constant(0) }
        // And operations that leave the value as it is, as libpcap's optimizer drops them.
        if let k = right.value.constantValue, Self.isIdentity(op, k) { value = left.value }
        if let a = left.value.constantValue, let b = right.value.constantValue {
            value = .constant(Self.fold(op, a, b))
        }
        // A long chain (`len + len + ...`) nests without parentheses; the code emitter
        // recurses along it, so it is bounded here.
        guard value.depth <= Self.nestingLimit else {
            throw error("the arithmetic has more than \(Self.nestingLimit) operations nested", at: token)
        }
        return Arithmetic(value: value, guards: left.guards + right.guards)
    }

    static func isIdentity(_ op: ClassicArithmetic, _ k: UInt32) -> Bool {
        switch op {
        case .add, .sub, .or, .xor, .lsh, .rsh: k == 0
        case .mul, .div: k == 1
        case .and: k == .max
        case .mod: false
        }
    }

    static func fold(_ op: ClassicArithmetic, _ a: UInt32, _ b: UInt32) -> UInt32 {
        switch op {
        case .add: a &+ b
        case .sub: a &- b
        case .mul: a &* b
        case .div: b == 0 ? 0 : a / b
        case .mod: b == 0 ? 0 : a % b
        case .and: a & b
        case .or: a | b
        case .xor: a ^ b
        case .lsh: b > 31 ? 0 : a << b
        case .rsh: b > 31 ? 0 : a >> b
        }
    }

    mutating func operand() throws(FilterError) -> Arithmetic {
        var result = try primary()
        if current.isSymbol("^") || current.isSymbol("%") {
            let opToken = advance()
            let right = try arithmetic()
            result = try combine(result, opToken.isSymbol("^") ? "^" : "%", right, at: opToken)
        }
        return result
    }

    mutating func primary() throws(FilterError) -> Arithmetic {
        let token = current
        if token.isSymbol("-") {
            _ = advance()
            let inner = try operand()
            if let k = inner.value.constantValue { return Arithmetic(value: .constant(0 &- k), guards: inner.guards) }
            return Arithmetic(value: .negate(inner.value), guards: inner.guards)
        }
        if token.isSymbol("(") {
            _ = advance()
            let inner = try arithmetic()
            try expect(")")
            return inner
        }
        // An escaped word (`\ip`) is a name, as in libpcap: no number, `len` or packet data.
        guard case .word(let w, false) = token.kind else { throw unexpected("a number, 'len' or packet data such as ip[0]") }
        if w == "len" {
            _ = advance()
            return Arithmetic(value: .length)
        }
        if let k = AddressParser.number(w) ?? FilterNames.constant(w) {
            _ = advance()
            return Arithmetic(value: .constant(k))
        }
        if token.isProtocolQualifier, peek().isSymbol("[") {
            _ = advance()
            _ = advance()
            let index = try arithmetic()
            var size = LoadSize.byte
            if current.isSymbol(":") {
                _ = advance()
                let sizeToken = current
                let n = try number()
                switch n {
                case 1: size = .byte
                case 2: size = .half
                case 4: size = .word
                default: throw error("data size must be 1, 2, or 4", at: sizeToken)
                }
            }
            try expect("]")
            let base: (guard: Predicate, index: FilterValue?, offset: UInt32)
            do {
                base = try builder.dataBase(w)
            } catch {
                throw FilterError(offset: token.offset, length: max(1, current.offset - token.offset), message: error.message)
            }
            var guards = index.guards
            guards.append(base.guard)
            let value: FilterValue
            switch (base.index, index.value.constantValue) {
            case (nil, let k?):
                let (sum, overflow) = base.offset.addingReportingOverflow(k)
                value = overflow ? .loadIndexed(size, index: .constant(k), base.offset) : .load(size, sum)
            case (nil, nil):
                value = .loadIndexed(size, index: index.value, base.offset)
            case (let x?, let k?):
                let (sum, overflow) = base.offset.addingReportingOverflow(k)
                value = overflow ? .loadIndexed(size, index: .binary(.add, x, .constant(k)), base.offset)
                    : .loadIndexed(size, index: x, sum)
            case (let x?, nil):
                value = .loadIndexed(size, index: .binary(.add, index.value, x), base.offset)
            }
            return Arithmetic(value: value, guards: guards)
        }
        throw error("'\(w)' is not a number, 'len' or packet data such as ip[0]")
    }
}

extension PredicateBuilder {
    /// `ether broadcast`, `ip multicast`, `ip6 multicast`...
    func castPrimitive(_ name: String, broadcast: Bool) throws(Failure) -> Predicate {
        switch (name, broadcast) {
        case ("ether", true), ("link", true): return try etherBroadcast()
        case ("ether", false), ("link", false): return try etherMulticast()
        case ("ip", true):
            // Without the netmask libpcap knows only the all-zeros and all-ones broadcasts.
            let destination = packet(.word, networkOffset + 16)
            return try arena.and(linkProtocol(0x0800), arena.or(arena.equal(destination, 0), arena.equal(destination, 0xffff_ffff)))
        case ("ip", false):
            return try arena.and(linkProtocol(0x0800), arena.compare(packet(.byte, networkOffset + 16), .ge, 224))
        case ("ip6", false):
            return try arena.and(linkProtocol(0x86dd), arena.equal(packet(.byte, networkOffset + 24), 0xff))
        default:
            throw Failure(message: "only link-layer and IP broadcast and multicast filters are supported")
        }
    }
}
