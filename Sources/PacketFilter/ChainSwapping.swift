/// Swapping two tests of a chain so that tests of one value sit together and share a load,
/// where their exits differ (`GraphOptimizer.groupChains` regroups only chains whose tests
/// share an exit). In `(not tcp port 80 and not tcp port 22) or not portrange 1000-2000 or
/// …` threading sends the tests of port 80 and 22 on the source port to the test of the
/// destination's range, and those on the destination to the source's: the chain source 80,
/// destination 80, source 22, destination 22 loads a port four times. Its middle two may
/// swap: a packet from port 22 to port 80, the only one the order decides otherwise, is
/// kept by both ranges' tests alike.
extension GraphOptimizer {
    /// Swaps tried per graph: each costs a layout and a check of the reads.
    static let swapLimit = 4

    /// Swaps such pairs while the program gets shorter and reads the packet alike.
    static func swapChainTests(_ graph: inout DecisionGraph) {
        keepWhileShorter(&graph, rounds: swapLimit, swapOne)
    }

    /// Swaps the first pair `p`, `q` found: `q` on `p`'s exit `c` and reached only from it,
    /// of another value than `p`'s, with the test after `q` (on its exit `d`) of `p`'s value;
    /// where the packets whose outcomes the swap sends elsewhere (`p`'s other outcome and
    /// `q`'s other outcome) end alike from either exit. The graph so changed, nil where no
    /// pair swaps (then nothing was copied).
    private static func swapOne(_ graph: DecisionGraph) -> DecisionGraph? {
        let order = graph.topologicalOrder()
        let nodes = graph.nodes, tests = graph.tests.entries
        func value(_ n: Int) -> Int { tests[nodes[n].test].value }
        var pairs: [(p: Int, c: Bool, q: Int, d: Bool)] = []
        // How many edges lead into each node, on the machine stack for small graphs.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: nodes.count) { waysIn in
            waysIn.initialize(repeating: 0)
            for n in order {
                if case .node(let m) = nodes[n].whenTrue { waysIn[m] += 1 }
                if case .node(let m) = nodes[n].whenFalse { waysIn[m] += 1 }
            }
            for p in order {
                for c in GraphNode.outcomes {
                    guard case .node(let q) = nodes[p].target(c), waysIn[q] == 1, value(q) != value(p) else { continue }
                    for d in GraphNode.outcomes {
                        guard case .node(let r) = nodes[q].target(d), value(r) == value(p), nodes[q].target(!d) != nodes[p].target(!c)
                        else { continue }
                        pairs.append((p, c, q, d))
                    }
                }
            }
        }
        guard !pairs.isEmpty else { return nil }
        var knownIn = [Knowledge?](repeating: nil, count: nodes.count)
        var arena = FactArena(capacity: order.count * 8)
        knownIn.withUnsafeMutableBufferPointer { learnKnowledge(graph, order, $0, &arena) }
        for pair in pairs {
            guard var known = knownIn[pair.p] else { continue }
            let p = nodes[pair.p], q = nodes[pair.q]
            known.learn(p.test, !pair.c, tests, &arena)
            // No packet with both outcomes: nothing to tell apart.
            if known.decide(q.test, tests, arena) != pair.d {
                known.learn(q.test, !pair.d, tests, &arena)
                guard let first = decidedEnd(from: p.target(!pair.c), known, graph, tests, arena),
                      first == decidedEnd(from: q.target(!pair.d), known, graph, tests, arena) else { continue }
            }
            // `q`'s test first: its other exit as it was, `p`'s test on its exit `d`.
            var graph = graph
            let below = graph.node(number: p.test, pair.c ? q.target(pair.d) : p.whenTrue, pair.c ? p.whenFalse : q.target(pair.d))
            graph.setTest(of: pair.p, q.test)
            graph.setTargets(of: pair.p, whenTrue: pair.d ? below : q.whenTrue, whenFalse: pair.d ? q.whenFalse : below)
            return graph
        }
        return nil
    }

    /// Where the way from `start` ends past the tests `known` decides: a verdict, or the
    /// first test it does not decide. Nil past `rejoinStepLimit` steps.
    private static func decidedEnd(from start: GraphTarget, _ known: Knowledge, _ graph: DecisionGraph, _ tests: [TestEntry],
                                   _ arena: FactArena) -> GraphTarget? {
        var target = start
        for _ in 0..<rejoinStepLimit {
            guard case .node(let m) = target, let outcome = known.decide(graph[m].test, tests, arena) else { return target }
            target = graph[m].target(outcome)
        }
        return nil
    }
}
