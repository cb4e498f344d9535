/// Swapping two tests of a chain so that tests of one value sit together and share a load,
/// where their exits differ (`GraphOptimizer.groupChains` regroups only chains whose tests
/// share an exit). In `(not tcp port 80 and not tcp port 22) or not portrange 1000-2000 or
/// …` threading sends the tests of port 80 and 22 on the source port to the test of the
/// destination's range, and those on the destination to the source's: the chain source 80,
/// destination 80, source 22, destination 22 loads a port four times. Its middle two may
/// swap: a packet from port 22 to port 80, the only one the order decides otherwise, is
/// kept by both ranges' tests alike. And a test may swap with the one before it where A
/// holds its value there: in `(tcp port 80 and tcp port 22 or ip6 host ::1 and port 80)`
/// IPv6's source port, not 80, is tested for 22 once it is loaded, before the destination
/// is tested for 80, as libpcap's program does: the packets the order decides otherwise,
/// from a port not 22 to a port not 80, pass the host test either way and are dropped.
extension GraphOptimizer {
    /// Swaps tried per graph: each costs a layout and a check of the reads.
    static let swapLimit = 4

    /// Steps the check that the packets the order decides otherwise end alike may take.
    static let swapStepLimit = 128

    /// Swaps such pairs while the program gets shorter and reads the packet alike.
    static func swapChainTests(_ graph: inout DecisionGraph) {
        keepWhileShorter(&graph, rounds: swapLimit, swapOne(_:skip:))
    }

    /// Swaps a pair `p`, `q`: `q` on `p`'s exit `c` and reached only from it, of another
    /// value than `p`'s, with the test after `q` (on its exit `d`) of `p`'s value or every
    /// way into `p` testing `q`'s value; where the packets whose outcomes the swap sends
    /// elsewhere (`p`'s other outcome and `q`'s other outcome) end alike from either exit.
    /// Pairs are found in order, those whose ends are alike past decided tests first, and
    /// the first `skip` of them passed over (tried before). The graph so changed, nil where
    /// no pair swaps (then nothing was copied).
    private static func swapOne(_ graph: DecisionGraph, skip: Int) -> DecisionGraph? {
        let order = graph.topologicalOrder()
        let nodes = graph.nodes, tests = graph.tests.entries
        func value(_ n: Int) -> Int { tests[nodes[n].test].value }
        var pairs: [(p: Int, c: Bool, q: Int, d: Bool)] = []
        // How many edges lead into each node, and the value every way into it tested last (A
        // holds it there; -1 where ways differ), on the machine stack for small graphs.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * nodes.count) { room in
            let waysIn = UnsafeMutableBufferPointer(rebasing: room[..<nodes.count])
            let held = UnsafeMutableBufferPointer(rebasing: room[nodes.count...])
            waysIn.initialize(repeating: 0)
            held.initialize(repeating: -1)
            for n in order {
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = nodes[n].target(outcome) else { continue }
                    held[m] = waysIn[m] == 0 || held[m] == value(n) ? value(n) : -1
                    waysIn[m] += 1
                }
            }
            for p in order {
                for c in GraphNode.outcomes {
                    guard case .node(let q) = nodes[p].target(c), waysIn[q] == 1, value(q) != value(p) else { continue }
                    for d in GraphNode.outcomes where nodes[q].target(!d) != nodes[p].target(!c) {
                        // After `q`, a test of `p`'s value, or before `p`, one of `q`'s: swapped,
                        // one load serves both.
                        let after: Int? = if case .node(let r) = nodes[q].target(d) { value(r) } else { nil }
                        if after == value(p) || held[p] == value(q) { pairs.append((p, c, q, d)) }
                    }
                }
            }
        }
        guard !pairs.isEmpty else { return nil }
        var knownIn = [Knowledge?](repeating: nil, count: nodes.count)
        var arena = FactArena(capacity: order.count * 8)
        knownIn.withUnsafeMutableBufferPointer { learnKnowledge(graph, order, $0, &arena) }
        // Whether the packets the order decides otherwise (`p`'s other outcome and `q`'s)
        // end alike: where both ways end past decided tests at one place, or else (`lenient`)
        // where every way from `q`'s other exit leads to `p`'s, reading what it may (the
        // program is kept only where it reads alike).
        func endAlike(_ pair: (p: Int, c: Bool, q: Int, d: Bool), lenient: Bool) -> Bool {
            guard var known = knownIn[pair.p] else { return false }
            let p = nodes[pair.p], q = nodes[pair.q]
            known.learn(p.test, !pair.c, tests, &arena)
            // No packet with both outcomes: nothing to tell apart.
            guard known.decide(q.test, tests, arena) != pair.d else { return !lenient }
            known.learn(q.test, !pair.d, tests, &arena)
            let (before, after) = (p.target(!pair.c), q.target(!pair.d))
            let first = decidedEnd(from: before, known, graph, tests, arena)
            let alike = first != nil && first == decidedEnd(from: after, known, graph, tests, arena)
            guard lenient, !alike else { return alike }
            var steps = swapStepLimit
            return leadsOnly(from: after, to: before, known, graph, tests, graph.tests.valueTable, &arena, &steps, readingAnew: true)
        }
        var left = skip
        var found: (p: Int, c: Bool, q: Int, d: Bool)?
        search: for pass in 0..<2 {
            for pair in pairs where endAlike(pair, lenient: pass == 1) {
                guard left > 0 else {
                    found = pair
                    break search
                }
                left -= 1
            }
        }
        guard let pair = found else { return nil }
        // `q`'s test first: its other exit as it was, `p`'s test on its exit `d`.
        let p = nodes[pair.p], q = nodes[pair.q]
        var swapped = graph
        let below = swapped.node(number: p.test, pair.c ? q.target(pair.d) : p.whenTrue, pair.c ? p.whenFalse : q.target(pair.d))
        swapped.setTest(of: pair.p, q.test)
        swapped.setTargets(of: pair.p, whenTrue: pair.d ? below : q.whenTrue, whenFalse: pair.d ? q.whenFalse : below)
        return swapped
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
