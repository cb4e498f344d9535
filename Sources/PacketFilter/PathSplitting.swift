/// Splitting a shared test per way in. Where ways meet, a node knows only what holds on all
/// of them (`Knowledge.meet`), so a test below it that each way decides, but not alike, stays:
/// in `tcp port 80 or portrange 1000-2000 or tcp port 80 and …` the port ranges are tested
/// once for TCP, UDP and SCTP, and after them the protocol is tested again, though each way
/// in knew it. libpcap lays such tests out once per protocol and keeps knowing it. Here each
/// way into the node gets its own copy of what lies below, without the tests that way
/// decides; copies that come out equal are one node again. Whether that is shorter shows only
/// after the other rules ran again, so a split is kept only where the program got shorter,
/// and only where it reads the packet alike (`readsAlike`): a copy whose test has both exits
/// on one node drops that test's load, which rejected packets too short for it.
extension GraphOptimizer {
    /// Splits tried per graph: each costs the other rules again and a layout.
    static let splitLimit = 4
    /// Tests a copy may look at from one way in; beyond, that way keeps the shared node.
    static let splitSteps = 64
    /// Nodes a graph may have for splits to be tried: the knowledge of every edge is computed.
    static let splitGraphLimit = 256

    /// Splits that add no node are tried first; then ones adding up to two, which pay only
    /// where a chain they unshare is regrouped (`not tcp and not (udp port 2051 or port 2048
    /// or udp port 2017)`: UDP's ports all tested on one load each, as libpcap does). Tried
    /// first, those could take the place of better splits; tried only where the first round
    /// met one, as most graphs have none.
    static func splitPaths(_ graph: inout DecisionGraph, _ searches: inout BeyondSearches) {
        if splitPaths(&graph, &searches, growth: 0) { _ = splitPaths(&graph, &searches, growth: 2) }
    }

    /// Whether a split was passed over for adding more than `growth` nodes but at most two.
    private static func splitPaths(_ graph: inout DecisionGraph, _ searches: inout BeyondSearches, growth: Int) -> Bool {
        var tries = 0
        var passedOver = false
        var length: Int?
        while tries < splitLimit {
            let order = graph.cachedTopologicalOrder()
            // Most graphs have no join: that is seen sooner than the joins that may gain. Where
            // the last `.beyond` pass was skipped, no join tested a value again (`mayLookBeyond`).
            guard order.count <= splitGraphLimit, !searches.skipped, hasJoin(&graph) else { return passedOver }
            var joins: [Int] = []
            _ = joinsTestingAgain(order, graph.nodes, graph.tests.entries) { joins.append($0); return false }
            // The joins are tried in turn until one is kept; what is known on the way into
            // each node is found once for all of them.
            var splits = Splits(graph, order)
            var next = 0, kept = false
            while !kept, tries < splitLimit, next < joins.count, let (split, at) = splits.candidate(joins[next...]) {
                next = at + 1
                // Only a split whose copies came out as at most `growth` more nodes than it
                // replaced is worth the other rules and a layout: most add more.
                var candidate = split.rebuilt()
                let added = candidate.cachedTopologicalOrder().count - order.count
                guard added <= growth else {
                    passedOver = passedOver || added <= 2
                    continue
                }
                tries += 1
                guard let adopted = adoptIfShorter(&candidate, &graph, &searches, length: &length) else { return passedOver }
                kept = adopted
            }
            guard kept else { return passedOver }
        }
        return passedOver
    }

    /// The splits of one graph: what is known on the way into each of its nodes, and room
    /// for what the copies learn.
    private struct Splits {
        let graph: DecisionGraph
        let order: [Int]
        var knownIn: [Knowledge?]
        var arena: FactArena

        init(_ graph: DecisionGraph, _ order: [Int]) {
            (self.graph, self.order) = (graph, order)
            knownIn = [Knowledge?](repeating: nil, count: graph.nodes.count)
            arena = FactArena(capacity: order.count * 8)
            knownIn.withUnsafeMutableBufferPointer { learnKnowledge(graph, order, $0, &arena) }
        }

        /// The graph with the first of `joins` split where some way's copy drops a test (each
        /// way into it sent to its own copy), and that join's place in `joins`; nil if none.
        mutating func candidate(_ joins: ArraySlice<Int>) -> (DecisionGraph, Int)? {
            let tests = graph.tests.entries
            for (at, n) in zip(joins.indices, joins) {
                var candidate = graph
                var dropped = false
                for p in order {
                    guard let before = knownIn[p] else { continue }
                    let node = graph[p]
                    var targets = (whenTrue: node.whenTrue, whenFalse: node.whenFalse)
                    for outcome in GraphNode.outcomes where node.target(outcome) == .node(n) {
                        var known = before
                        known.learn(node.test, outcome, tests, &arena)
                        var steps = splitSteps, drops = false
                        guard let copy = copy(of: .node(n), known, &candidate, tests, &arena, &steps, &drops) else { continue }
                        dropped = dropped || drops
                        if outcome { targets.whenTrue = copy } else { targets.whenFalse = copy }
                    }
                    candidate.setTargets(of: p, whenTrue: targets.whenTrue, whenFalse: targets.whenFalse)
                }
                if dropped { return (candidate, at) }
            }
            return nil
        }
    }

    /// `target`'s subgraph for the packets `known` describes: without the tests it decides,
    /// nodes left as they were where nothing below them changed. Nil past `steps` tests.
    private static func copy(of target: GraphTarget, _ known: Knowledge, _ graph: inout DecisionGraph,
                             _ tests: [TestEntry], _ arena: inout FactArena, _ steps: inout Int,
                             _ dropped: inout Bool) -> GraphTarget? {
        guard case .node(let n) = target else { return target }
        guard steps > 0 else { return nil }
        steps -= 1
        let node = graph[n]
        if let outcome = known.decide(node.test, tests, arena) {
            dropped = true
            return copy(of: node.target(outcome), known, &graph, tests, &arena, &steps, &dropped)
        }
        var whenTrue = known, whenFalse = known
        whenTrue.learn(node.test, true, tests, &arena)
        whenFalse.learn(node.test, false, tests, &arena)
        guard let t = copy(of: node.whenTrue, whenTrue, &graph, tests, &arena, &steps, &dropped),
              let f = copy(of: node.whenFalse, whenFalse, &graph, tests, &arena, &steps, &dropped) else { return nil }
        if t == node.whenTrue, f == node.whenFalse { return target }
        return graph.node(number: node.test, t, f)
    }
}
