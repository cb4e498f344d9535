/// Deciding a part of the expression that ran before on every way to it. In
/// `port 80 or (dst port 443 or port 80)` the second `port 80` runs only where the first came
/// out false, and in `not host a and not (p and not host a)` the inner `host a` only where
/// the outer one was false: each is decided, and the expressions are
/// `port 80 or dst port 443` and `not host a and not p`. The earlier run read every byte the
/// repeat reads (a read past the packet's end had rejected it there), so deciding the repeat
/// keeps every packet's verdict, cut ones too. The graph's threading decides such tests
/// only where every way in knows them, and ways that meet keep only what all of them know.
extension PredicateTree {
    /// This expression with each part that ran before on the way to it decided, and the
    /// `and`, `or` and `not` above a decided part folded (`x or false` is `x`). Not where the
    /// decision would leave another part's outcome no say (`x and false`): see `joined`.
    /// Itself where no two primitives or relations were written alike
    /// (`PredicateArena.repeatsLeaf`), with `geneve` (its tests write scratch words) and with
    /// a `choose` (whose continuations are shared: unsharing them per way in could grow
    /// exponentially).
    func decidingRepeats() -> PredicateTree {
        guard arena.repeatsLeaf, arena.genevesWritten == 0 else { return self }
        var decider = RepeatDecider(arena)
        guard decider.number(root), decider.repeats else { return self }
        decider.outcomes = Array(repeating: -1, count: decider.shapes.count)
        return PredicateTree(arena: arena, root: decider.decided(root))
    }
}

/// Numbers each part by its structure, so that equal parts have one number; then walks the
/// expression in the order it runs, knowing the outcome of each part that ran before.
private struct RepeatDecider {
    let arena: PredicateArena
    /// Each part's structural number, -1 until numbered.
    var numbers: [Int32]
    /// Each structural number's shape: a kind and up to three operands.
    var shapes: [SIMD4<Int32>] = []
    var index = FingerprintIndex(capacity: 64)
    /// Whether two parts have one number.
    var repeats = false
    /// The outcome known for each structural number (-1 unknown; sized once all are
    /// numbered), and the numbers learned on the way in, to forget on the way out.
    var outcomes: [Int8] = []
    var learned: [Int32] = []

    init(_ arena: PredicateArena) {
        self.arena = arena
        numbers = Array(repeating: -1, count: arena.parts.count)
    }

    /// Numbers `p` and the parts below it; false where a `choose` is met.
    mutating func number(_ p: Predicate) -> Bool {
        guard numbers[Int(p.index)] < 0 else { return true }
        let shape: SIMD4<Int32>
        switch arena.parts[Int(p.index)] {
        case .always(let value): shape = SIMD4(0, value ? 1 : 0, 0, 0)
        case .test(let value, let condition, let operand): shape = SIMD4(1, value, Int32(condition.rawValue), operand)
        case .not(let q):
            guard number(q) else { return false }
            shape = SIMD4(2, numbers[Int(q.index)], 0, 0)
        case .and(let a, let b):
            guard number(a), number(b) else { return false }
            shape = SIMD4(3, numbers[Int(a.index)], numbers[Int(b.index)], 0)
        case .or(let a, let b):
            guard number(a), number(b) else { return false }
            shape = SIMD4(4, numbers[Int(a.index)], numbers[Int(b.index)], 0)
        case .choose: return false
        }
        func word(_ i: Int, _ j: Int) -> UInt64 { UInt64(UInt32(bitPattern: shape[i])) << 32 | UInt64(UInt32(bitPattern: shape[j])) }
        let shapes = self.shapes
        let number = index.intern(mix(word(0, 1), word(2, 3)), count: shapes.count) { shapes[$0] == shape }
        if number == shapes.count { self.shapes.append(shape) } else { repeats = true }
        numbers[Int(p.index)] = Int32(truncatingIfNeeded: number)
        return true
    }

    /// `p` with the parts whose outcome is known decided.
    mutating func decided(_ p: Predicate) -> Predicate {
        let known = outcomes[Int(numbers[Int(p.index)])]
        if known >= 0 { return arena.always(known == 1) }
        switch arena.parts[Int(p.index)] {
        case .always, .test, .choose: return p
        case .not(let q):
            let inner = decided(q)
            if let value = constant(inner) { return arena.always(!value) }
            return inner.index == q.index ? p : arena.not(inner)
        case .and(let a, let b): return joined(p, a, b, isAnd: true)
        case .or(let a, let b): return joined(p, a, b, isAnd: false)
        }
    }

    /// `a and b` (`isAnd`) or `a or b` decided: `b` runs only where `a` came out true (false).
    private mutating func joined(_ p: Predicate, _ a: Predicate, _ b: Predicate, isAnd: Bool) -> Predicate {
        // `(x and b) or b` is `b` where `x` reads no packet byte (`less 80`): whatever `x`
        // says, `b` decides. So is `(b and x) or b`, and `(x or b) and b`.
        if case let (.and(x, y), false) = (arena.parts[Int(a.index)], isAnd), absorbs(x, y, into: b) { return decided(b) }
        if case let (.or(x, y), true) = (arena.parts[Int(a.index)], isAnd), absorbs(x, y, into: b) { return decided(b) }
        let first = decided(a)
        // `b` never runs: the outcome is `a`'s.
        if constant(first) == !isAnd { return first }
        let mark = learned.count
        learn(a, isAnd)
        let second = decided(b)
        while learned.count > mark { outcomes[Int(learned.removeLast())] = -1 }
        // `a` always lets `b` run: `b` alone. `b` decided as what lets it run: `a` alone.
        if constant(first) == isAnd { return second }
        if constant(second) == isAnd { return first }
        // `b` decided the other way would leave `a`'s outcome no say: the graph would drop
        // `a`'s test, and with it reads that reject a cut packet (`p or not p`, whose repeat is
        // then decided as the graph decides it, keeping `p`'s test where libpcap does).
        let kept = constant(second) == nil ? second : b
        if first.index == a.index, kept.index == b.index { return p }
        return isAnd ? arena.and(first, kept) : arena.or(first, kept)
    }

    /// Whether one of `x` and `y` is `b` and the other reads nothing that can fail.
    private func absorbs(_ x: Predicate, _ y: Predicate, into b: Predicate) -> Bool {
        let same = numbers[Int(b.index)]
        return (numbers[Int(y.index)] == same && readsNothing(x)) || (numbers[Int(x.index)] == same && readsNothing(y))
    }

    /// Whether `p` tests only the packet's length and constants.
    private func readsNothing(_ p: Predicate) -> Bool {
        func plain(_ value: Int32) -> Bool { [.length, .constant].contains(arena.values[Int(value)].kind) }
        switch arena.parts[Int(p.index)] {
        case .always: return true
        case .test(let value, _, let operand): return plain(value) && plain(operand)
        case .not(let q): return readsNothing(q)
        case .and(let a, let b), .or(let a, let b): return readsNothing(a) && readsNothing(b)
        case .choose: return false
        }
    }

    private func constant(_ p: Predicate) -> Bool? {
        if case .always(let value) = arena.parts[Int(p.index)] { return value }
        return nil
    }

    /// Records that `p` came out `outcome`, and what that tells of the parts below it.
    private mutating func learn(_ p: Predicate, _ outcome: Bool) {
        let number = Int(numbers[Int(p.index)])
        if outcomes[number] < 0 {
            outcomes[number] = outcome ? 1 : 0
            learned.append(Int32(truncatingIfNeeded: number))
        }
        switch arena.parts[Int(p.index)] {
        case .not(let q): learn(q, !outcome)
        // Both ran, and came out as the whole did.
        case .and(let a, let b) where outcome, .or(let a, let b) where !outcome:
            learn(a, outcome)
            learn(b, outcome)
        default: break
        }
    }
}
