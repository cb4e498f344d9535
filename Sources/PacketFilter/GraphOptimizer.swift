/// What is known on a path: a test and its outcome.
struct Fact: Hashable, Sendable {
    var test: FilterTest
    var outcome: Bool
}

/// Jump threading over the decision graph: every edge carries the facts known on all paths
/// to it; a test that those facts decide is skipped, its edge sent straight to the side
/// that would be taken. Skipping is safe because a fact names a value that was computed
/// (its loads succeeded) earlier on every path. Rebuilding afterwards drops dead nodes,
/// merges equal ones and removes tests whose two exits meet.
enum GraphOptimizer {
    static let factLimit = 64

    static func optimize(_ graph: inout DecisionGraph) {
        graph = graph.rebuilt()
        for _ in 0..<16 {
            let changed = thread(&graph)
            graph = graph.rebuilt()
            if !changed { break }
        }
    }

    private static func thread(_ graph: inout DecisionGraph) -> Bool {
        let order = graph.topologicalOrder()
        var factsIn: [Int: [Fact]] = [:]
        if case .node(let start) = graph.root { factsIn[start] = [] }
        var changed = false
        for n in order {
            guard let facts = factsIn[n] else { continue }
            let node = graph[n]
            var targets: [GraphTarget] = []
            for outcome in [true, false] {
                var known = facts
                if node.test.operand.constantValue != nil {
                    known.append(Fact(test: node.test, outcome: outcome))
                    if known.count > factLimit { known.removeFirst(known.count - factLimit) }
                }
                var target = node.target(outcome)
                while case .node(let m) = target, let decided = decide(graph[m].test, known) {
                    target = graph[m].target(decided)
                    changed = true
                }
                if case .node(let m) = target {
                    if let existing = factsIn[m] {
                        factsIn[m] = existing.filter { known.contains($0) }
                    } else {
                        factsIn[m] = known
                    }
                }
                targets.append(target)
            }
            graph.setTargets(of: n, whenTrue: targets[0], whenFalse: targets[1])
        }
        return changed
    }

    /// The outcome of `test` if `facts` settle it.
    static func decide(_ test: FilterTest, _ facts: [Fact]) -> Bool? {
        guard let c = test.operand.constantValue else {
            return facts.first { $0.test == test }?.outcome
        }
        // What the facts say about the value: an interval, values it is not, bits it has.
        var low: UInt32 = 0
        var high: UInt32 = .max
        var excluded: [UInt32] = []
        var clearMasks: [UInt32] = []
        var setMasks: [UInt32] = []
        for fact in facts where fact.test.value == test.value {
            if fact.test.condition == test.condition, fact.test.operand == test.operand { return fact.outcome }
            guard let k = fact.test.operand.constantValue else { continue }
            switch (fact.test.condition, fact.outcome) {
            case (.eq, true): return FilterTest.evaluate(test.condition, k, c)
            case (.eq, false): excluded.append(k)
            case (.gt, true): if k == .max { return nil } else { low = max(low, k + 1) }
            case (.gt, false): high = min(high, k)
            case (.ge, true): low = max(low, k)
            case (.ge, false): if k == 0 { return nil } else { high = min(high, k - 1) }
            case (.set, true): setMasks.append(k)
            case (.set, false): clearMasks.append(k)
            }
        }
        // Contradictory facts mean the path cannot run; leave it alone.
        guard low <= high else { return nil }
        if low == high { return FilterTest.evaluate(test.condition, low, c) }
        switch test.condition {
        case .eq:
            if c < low || c > high || excluded.contains(c) { return false }
            if clearMasks.contains(where: { c & $0 != 0 }) { return false }
            if setMasks.contains(where: { c & $0 == 0 }) { return false }
        case .gt:
            if low > c { return true }
            if high <= c { return false }
        case .ge:
            if low >= c { return true }
            if high < c { return false }
        case .set:
            if clearMasks.contains(where: { c & ~$0 == 0 }) { return false }
            if setMasks.contains(where: { $0 & ~c == 0 }) { return true }
            if high < c & (~c &+ 1) { return false }  // below the lowest bit tested
        }
        return nil
    }
}
