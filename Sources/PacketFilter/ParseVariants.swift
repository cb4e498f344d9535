/// Joins parses of one expression that differ only in how what follows one primitive reads
/// the packet: the live first `vlan` (its tag in the frame or taken out).
///
/// Predicates are pure, so each way of reading is a parse of its own. The joined predicate
/// follows the evaluation down to that primitive, which branches into the variant the
/// packet is in; from there each outcome continues in that variant's parse, so what comes
/// before the primitive is tested once. Parts reached without evaluating the primitive
/// continue in the first variant, the base.
struct ParseVariants {
    /// Each variant's parts from its root down to the primitive, all alike in shape.
    var paths: [[Predicate]]

    /// The variants' paths to their `target`s; nil if a parse lacks it or the parses differ.
    init?(roots: [Predicate], targets: [Predicate], in arena: PredicateArena) {
        var paths: [[Predicate]] = []
        paths.reserveCapacity(roots.count)
        for (root, target) in zip(roots, targets) {
            guard let path = Self.path(to: target, from: root, in: arena), paths.isEmpty || Self.alike(path, paths[0], in: arena) else { return nil }
            paths.append(path)
        }
        self.paths = paths
    }

    /// The joined expression: at the primitive, `branch` picks a continuation (by variant)
    /// from those after it holds (`whenTrue`) and after it fails (`whenFalse`).
    func joined(in arena: PredicateArena, branch: (_ whenTrue: [Predicate], _ whenFalse: [Predicate]) -> Predicate) -> Predicate {
        let base = paths[0]
        let variants = paths.indices
        /// The right sides of the `and` or `or` at `level`, by variant; of a `choose`, the
        /// side it takes when its condition holds (`whenTrue`) or fails.
        func rights(_ level: Int, whenTrue: Bool = true) -> [Predicate] {
            paths.map { path in
                switch arena.parts[Int(path[level].index)] {
                case .and(_, let right), .or(_, let right): right
                case .choose(_, let t, let f): whenTrue ? t : f
                default: path[level]
                }
            }
        }
        // Where each part on the path continues, from the root down: a right side after the
        // path comes from the parse of the variant the evaluation is in.
        // One entry a level, room made at once.
        var whenTrue: [[Predicate]] = [], whenFalse: [[Predicate]] = []
        whenTrue.reserveCapacity(base.count)
        whenFalse.reserveCapacity(base.count)
        whenTrue.append(variants.map { _ in arena.always(true) })
        whenFalse.append(variants.map { _ in arena.always(false) })
        for level in 0..<(base.count - 1) {
            // `then` reads the continuations as they come in, which are constants: a closure
            // over the variables would check each access at run time.
            let (t0, f0) = (whenTrue[level], whenFalse[level])
            var (t, f) = (t0, f0)
            let next = base[level + 1].index
            func then(_ rights: [Predicate]) -> [Predicate] {
                variants.map { arena.choose(rights[$0], t0[$0], f0[$0]) }
            }
            switch arena.parts[Int(base[level].index)] {
            case .not: swap(&t, &f)
            case .and(let left, _) where left.index == next: t = then(rights(level))
            case .or(let left, _) where left.index == next: f = then(rights(level))
            case .choose(let condition, _, _) where condition.index == next:
                (t, f) = (then(rights(level)), then(rights(level, whenTrue: false)))
            default: break  // the path goes right: what follows is the part's own continuation
            }
            whenTrue.append(t)
            whenFalse.append(f)
        }
        // Back up from the primitive: a left side before the path is tested first, in the base.
        var result = branch(whenTrue[base.count - 1], whenFalse[base.count - 1])
        for level in stride(from: base.count - 2, through: 0, by: -1) {
            let next = base[level + 1].index
            switch arena.parts[Int(base[level].index)] {
            case .and(let left, _) where left.index != next: result = arena.choose(left, result, whenFalse[level][0])
            case .or(let left, _) where left.index != next: result = arena.choose(left, whenTrue[level][0], result)
            // A `choose` on the path past its condition: the other side in the base.
            case .choose(let condition, let t, let f) where condition.index != next:
                let other = arena.choose(t.index == next ? f : t, whenTrue[level][0], whenFalse[level][0])
                result = t.index == next ? arena.choose(condition, result, other) : arena.choose(condition, other, result)
            default: break
            }
        }
        return result
    }

    /// Whether two paths have the same parts but for their numbers. Out of line: a closure in
    /// a typed-throws caller could clobber its error in a release build (Swift 6.3).
    @inline(never)
    static func alike(_ a: [Predicate], _ b: [Predicate], in arena: PredicateArena) -> Bool {
        func shape(_ p: Predicate) -> Int {
            switch arena.parts[Int(p.index)] {
            case .always: 0
            case .test: 1
            case .not: 2
            case .and: 3
            case .or: 4
            case .choose: 5
            }
        }
        return a.count == b.count && zip(a, b).allSatisfy { shape($0.0) == shape($0.1) }
    }

    /// The parts from `root` down to `target`, both included; nil if `target` is not there.
    static func path(to target: Predicate, from root: Predicate, in arena: PredicateArena) -> [Predicate]? {
        var path: [Predicate] = []
        // Room for a deep path at once: growing it step by step costs more than the search.
        path.reserveCapacity(32)
        return search(root, for: target, in: arena, &path) ? path : nil
    }

    /// Appends to `path` the parts from `p` down to `target`; false, with `path` as it was,
    /// if `target` is not there. The path is passed on, not captured: a closure over it
    /// would check each access at run time.
    private static func search(_ p: Predicate, for target: Predicate, in arena: PredicateArena, _ path: inout [Predicate]) -> Bool {
        path.append(p)
        if p.index == target.index { return true }
        switch arena.parts[Int(p.index)] {
        case .not(let q): if search(q, for: target, in: arena, &path) { return true }
        case .and(let a, let b), .or(let a, let b):
            if search(a, for: target, in: arena, &path) || search(b, for: target, in: arena, &path) { return true }
        case .choose(let c, let t, let f):
            if search(c, for: target, in: arena, &path) || search(t, for: target, in: arena, &path)
                || search(f, for: target, in: arena, &path) { return true }
        case .always, .test: break
        }
        path.removeLast()
        return false
    }
}
