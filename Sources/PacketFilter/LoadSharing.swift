/// Sending a way back through a test it decides, so that the test after it needs no load of
/// its own. Threading sends each way past the tests it decides: in `tcp[13] & 2 != 0 or (not
/// host 10.0.0.1 or ether multicast and ether broadcast or port 80)` a packet known to be IPv4
/// or ARP skips `port 80`'s IPv6 test and enters its IPv4 one, with the multicast bit in A,
/// while the IPv6 test's other way enters it with the EtherType in A: the IPv4 test loads
/// the EtherType again for every way. Sent to the IPv6 test instead, which its knowledge
/// takes to the IPv4 one, the way tests once more and the load goes, as in libpcap's
/// program. The test passed again reads the value the test after it reads, so the packet
/// is read alike, cut ones too.
extension GraphOptimizer {
    /// Tests tried per graph: each costs a layout.
    static let loadSharingLimit = 4

    /// Sends ways as above wherever the program gets shorter; whether it did.
    static func shareLoads(_ graph: inout DecisionGraph) -> Bool {
        mayShareLoads(graph.nodes, graph.tests.entries) && sendWaysBack(&graph)
    }

    /// The tries: apart, so that the check above is all that most compiles run.
    @inline(never)
    private static func sendWaysBack(_ graph: inout DecisionGraph) -> Bool {
        var length: Int?, changed = false, tries = 0
        // A graph taken is rebuilt, its nodes numbered anew: the targets are found again.
        search: while tries < loadSharingLimit {
            for t in loadSharingTargets(graph, graph.cachedTopologicalOrder()) where tries < loadSharingLimit {
                tries += 1
                guard var candidate = waysSent(into: t, graph), let current = length ?? programLength(graph) else { continue }
                length = current
                candidate = candidate.rebuilt()
                guard let shorter = programLength(candidate), shorter < current else { continue }
                (graph, length, changed) = (candidate, shorter, true)
                continue search
            }
            break
        }
        return changed
    }

    /// Whether some node has ways in leaving its value in A and others another: seen without
    /// the topological order, which most graphs then need not compute (nodes no longer
    /// reached can only say yes too often).
    private static func mayShareLoads(_ nodes: [GraphNode], _ tests: [TestEntry]) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: nodes.count) { ways in
            ways.initialize(repeating: 0)
            // Each exit by itself: an array literal in the loop would allocate each time.
            func enter(_ target: GraphTarget, from value: Int) -> Bool {
                guard case .node(let m) = target else { return false }
                ways[m] |= tests[nodes[m].test].value == value ? 1 : 2
                return ways[m] == 3
            }
            for node in nodes {
                let value = tests[node.test].value
                if enter(node.whenTrue, from: value) || enter(node.whenFalse, from: value) { return true }
            }
            return false
        }
    }

    /// The tests some of whose ways in leave their value in A and others another value, only
    /// where each of the others may be sent back: a test leaves its value in A, and a way may
    /// go only to a test after its own whose value was tested above it (else its knowledge
    /// decides nothing there). Told in one sweep on the machine stack; most graphs have none.
    private static func loadSharingTargets(_ graph: DecisionGraph, _ order: [Int]) -> [Int] {
        let nodes = graph.nodes, tests = graph.tests.entries
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4 * nodes.count) { room in
            // By node: the values tested above it (`Knowledge.bit`); the place in `order`
            // (from 1) of its last way in leaving its value in A, and of its last leaving
            // another; 1 where one of those has not tested its value above.
            let count = nodes.count
            let above = UnsafeMutableBufferPointer(rebasing: room[..<count])
            let lastOwn = UnsafeMutableBufferPointer(rebasing: room[count..<(2 * count)])
            let lastForeign = UnsafeMutableBufferPointer(rebasing: room[(2 * count)..<(3 * count)])
            let unsendable = UnsafeMutableBufferPointer(rebasing: room[(3 * count)...])
            // Only the nodes reached: the graph keeps the others until it is rebuilt.
            for n in order { (above[n], lastOwn[n], lastForeign[n], unsendable[n]) = (0, 0, 0, 0) }
            var targets: [Int] = []
            var place: UInt64 = 0
            for n in order {
                place += 1
                let value = tests[nodes[n].test].value, bit = Knowledge.bit(value)
                // Every way in came before.
                if lastOwn[n] > lastForeign[n], lastForeign[n] > 0, unsendable[n] == 0 { targets.append(n) }
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = nodes[n].target(outcome) else { continue }
                    above[m] |= above[n] | bit
                    let next = tests[nodes[m].test].value
                    if next == value {
                        lastOwn[m] = place
                    } else {
                        lastForeign[m] = place
                        if above[n] & Knowledge.bit(next) == 0 { unsendable[m] = 1 }
                    }
                }
            }
            return targets
        }
    }

    /// The graph with every way into node `t` that leaves another value in A sent to a test
    /// of `t`'s value that leads to `t` and that the way's knowledge decides so; nil where one
    /// of them has none.
    private static func waysSent(into t: Int, _ graph: DecisionGraph) -> DecisionGraph? {
        var graph = graph
        let order = graph.cachedTopologicalOrder()
        let nodes = graph.nodes, tests = graph.tests.entries
        func value(_ n: Int) -> Int { tests[nodes[n].test].value }
        var position = Array(repeating: 0, count: nodes.count)
        for (i, n) in order.enumerated() { position[n] = i }
        // The tests of t's value leading to t, and on which outcome.
        var entries: [(node: Int, outcome: Bool)] = []
        for n in order where value(n) == value(t) {
            for outcome in GraphNode.outcomes where nodes[n].target(outcome) == .node(t) { entries.append((n, outcome)) }
        }
        return withUnsafeTemporaryAllocation(of: Knowledge?.self, capacity: nodes.count) { knownIn in
            knownIn.initialize(repeating: nil)
            defer { knownIn.deinitialize() }
            var arena = FactArena(capacity: order.count * 8)
            learnKnowledge(graph, order, knownIn, &arena)
            for s in order where value(s) != value(t) {
                guard let before = knownIn[s] else { continue }
                var sent = (whenTrue: nodes[s].whenTrue, whenFalse: nodes[s].whenFalse)
                for outcome in GraphNode.outcomes where nodes[s].target(outcome) == .node(t) {
                    var known = before
                    known.learn(nodes[s].test, outcome, tests, &arena)
                    // Only a test after `s`: one before it might lead to it (a cycle).
                    guard let entry = entries.first(where: {
                        position[$0.node] > position[s] && known.decide(nodes[$0.node].test, tests, arena) == $0.outcome
                    }) else { return nil }
                    if outcome { sent.whenTrue = .node(entry.node) } else { sent.whenFalse = .node(entry.node) }
                }
                graph.setTargets(of: s, whenTrue: sent.whenTrue, whenFalse: sent.whenFalse)
            }
            return graph
        }
    }
}
