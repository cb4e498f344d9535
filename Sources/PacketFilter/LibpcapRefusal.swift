/// Whether tcpdump would refuse a filter ("expression rejects all packets"): libpcap's
/// optimizer, followed as far as its refusals depend on it.
extension GraphOptimizer {
    /// Whether libpcap's optimizer finds that `predicate` matches no packet, so that a filter
    /// is refused only where tcpdump refuses it, even when ours proves more. libpcap threads
    /// jumps over unshared tests (it merges equal blocks only at its end) and decides a test
    /// only from one of the same condition and operand on the same value, or an `==` from
    /// another constant's `==` that held (`Knowledge.decideLikeLibpcap`). `predicate` is to be
    /// laid out as libpcap's program is (`FilterLayout.libpcap`): on ports shared by the
    /// protocols this proves more than libpcap (`port 80 or dst host 192.1.2.23 and (tcp port
    /// 22 and host 10.0.0.1 and udp port 53)` compiles with tcpdump, as libpcap's `port 80`
    /// jumps on TCP past the `tcp` test of `tcp port 22`).
    static func provesFalseLikeLibpcap(_ predicate: PredicateTree) -> Bool {
        var graph = DecisionGraph(predicate, simplify: false, shares: false)
        // Until no edge moves, or no way is left to the accept (the passes after would not
        // bring one back).
        var passes = 0
        while passes < 16, graph.canAccept, threadLikeLibpcap(&graph) { passes += 1 }
        return !graph.canAccept
    }

    /// One pass of libpcap's jump threading (its `opt_j` on every edge); whether it changed an
    /// edge. As there, what an edge knows is what held on every way to it in the graph as the
    /// pass found it (libpcap finds its edge dominators once a pass), not after the edges
    /// above it moved; and edges are threaded from the leaves up, each past a decided test to
    /// where that test's edge was already threaded. Threading first from the root with what
    /// the moved edges knew proves less: in `less 80 or udp port 53 and ip6 host ::1 and
    /// icmp`, `port 53`'s IPv6 edge moves past `ip6 host`'s EtherType test, after which no
    /// fact of the EtherType holds on every way to `icmp`'s; libpcap decides that first.
    private static func threadLikeLibpcap(_ graph: inout DecisionGraph) -> Bool {
        let order = graph.cachedTopologicalOrder()
        let nodes = graph.nodes, tests = graph.tests.entries
        var arena = FactArena(capacity: order.count * 8)
        // libpcap's facts are edges: a fact names the node, not its test.
        func knowledge(_ before: Knowledge, after n: Int, _ outcome: Bool) -> Knowledge {
            var known = before
            known.facts = arena.add(Fact(test: n, outcome: outcome), to: known.facts)
            return known
        }
        // A test of a constant (the protocol of a raw IPv4 link) is folded before the edges
        // move, but after the pass has found what they know. A relation's value is numbered
        // apart (`TestTable.apartValues`), as a constant too.
        let valueTable = graph.tests.valueTable
        let folded = tests.map { test -> Bool? in
            guard let constant = test.constant,
                  let value = valueTable.constant(Int32(test.value & (TestTable.apartValues - 1))) else { return nil }
            return FilterTest.evaluate(test.condition, value, constant)
        }
        var knownIn = [Knowledge?](repeating: nil, count: nodes.count)
        if case .node(let start) = graph.root { knownIn[start] = Knowledge() }
        for n in order {
            guard let before = knownIn[n] else { continue }
            for outcome in GraphNode.outcomes {
                guard case .node(let m) = nodes[n].target(outcome) else { continue }
                let known = knowledge(before, after: n, outcome)
                knownIn[m] = knownIn[m].map { $0.meetFacts(known, &arena) } ?? known
            }
        }
        // Where each edge goes (true at 2n + 1, false at 2n), threaded or not.
        var targets = [GraphTarget](repeating: .accept, count: 2 * nodes.count)
        for (n, node) in nodes.enumerated() { (targets[2 * n], targets[2 * n + 1]) = (node.whenFalse, node.whenTrue) }
        var changed = false
        for n in order.reversed() {
            guard let before = knownIn[n] else { continue }
            for outcome in GraphNode.outcomes {
                let taken = folded[nodes[n].test] ?? outcome
                let known = knowledge(before, after: n, taken)
                var target = nodes[n].target(taken)
                while case .node(let m) = target,
                      let decided = folded[nodes[m].test] ?? known.decideLikeLibpcap(nodes[m].test, tests, arena, factsNameNodes: nodes) {
                    target = targets[2 * m + (decided ? 1 : 0)]
                }
                if target != nodes[n].target(outcome) {
                    targets[2 * n + (outcome ? 1 : 0)] = target
                    changed = true
                }
            }
        }
        guard changed else { return false }
        for n in order { graph.setTargets(of: n, whenTrue: targets[2 * n + 1], whenFalse: targets[2 * n]) }
        return true
    }
}
