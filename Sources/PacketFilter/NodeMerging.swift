/// Merging a test into another of the same test that leads, for every packet reaching the
/// first, to where the first leads. Threading gives each path its own copy of a test once
/// it jumps past what that path decides after it: in `(ether broadcast or icmp6 and less
/// 80) and (ip6 or less 80) or ether[12:2] = 0x800` a broadcast packet and an ICMPv6 one
/// each get a `less 80`, one of which goes on to the EtherType test, the other (knowing it
/// IPv6) straight to the reject. libpcap's optimizer, which threads only past tests an
/// edge's facts decide, keeps one. Sending the second copy's ways into the first costs
/// that path the decided test again and saves the copy's code. A test left with both exits
/// on one node is then dropped with its load, which rejected packets too short for it:
/// `optimize` keeps the merged graph only where it reads the packet alike (`readsAlike`).
/// Where it does not, the optimizer runs again `keepingReads`: such a test then stays, its
/// exits met, as libpcap's `jeq #443 jt 21 jf 21` does.
extension GraphOptimizer {
    /// Merges such nodes; whether it changed an edge. Knowledge is computed only where a
    /// pair may merge: one exit the same, and the other of the node kept a test of a value
    /// tested above the node merged away (`Knowledge.bit`), which its knowledge may decide.
    static func mergeEquivalentNodes(_ graph: inout DecisionGraph, keepingReads: Bool = false) -> Bool {
        let order = graph.cachedTopologicalOrder()
        let count = graph.nodes.count, tests = graph.tests.entries.count
        // The nodes of each test, as lists through `next` from `first` (by test), the values
        // tested above each node, then marks and a stack for merging: on the machine stack for
        // small graphs.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: tests + 4 * count) { room in
            let first = UnsafeMutableBufferPointer(rebasing: room[..<tests])
            let next = UnsafeMutableBufferPointer(rebasing: room[tests..<(tests + count)])
            let marks = UnsafeMutableBufferPointer(rebasing: room[(tests + count)..<(tests + 2 * count)])
            let stack = UnsafeMutableBufferPointer(rebasing: room[(tests + 2 * count)..<(tests + 3 * count)])
            first.initialize(repeating: -1)
            let above = UnsafeMutableBufferPointer(rebasing: room[(tests + 3 * count)...])
            above.initialize(repeating: 0)
            guard hasCandidates(graph, order, first: first, next: next, above: above) else { return false }
            marks.initialize(repeating: 0)
            return withUnsafeTemporaryAllocation(of: Knowledge?.self, capacity: count) { knownIn in
                knownIn.initialize(repeating: nil)
                defer { knownIn.deinitialize() }
                var arena = FactArena(capacity: order.count * 8)
                learnKnowledge(graph, order, knownIn, &arena)
                return merge(&graph, order, first: first, next: next, knownIn, &arena, marks: marks, stack: stack,
                             keepingReads: keepingReads)
            }
        }
    }

    /// Fills the lists of nodes by test and tells whether a pair may merge (`standsFor`).
    private static func hasCandidates(_ graph: DecisionGraph, _ order: [Int], first: UnsafeMutableBufferPointer<Int>,
                                      next: UnsafeMutableBufferPointer<Int>, above: UnsafeMutableBufferPointer<Int>) -> Bool {
        let nodes = graph.nodes, tests = graph.tests.entries
        // `Knowledge.bit`, as an Int like the rest of the room.
        func bit(_ n: Int) -> Int { Int(truncatingIfNeeded: Knowledge.bit(tests[nodes[n].test].value)) }
        // Whether `a`'s differing exit may be decided on the way into `b`.
        func mayStandFor(_ a: Int, _ b: Int) -> Bool {
            let differing: GraphTarget
            if nodes[a].whenFalse == nodes[b].whenFalse {
                differing = nodes[a].whenTrue
            } else if nodes[a].whenTrue == nodes[b].whenTrue {
                differing = nodes[a].whenFalse
            } else {
                return false
            }
            guard case .node(let x) = differing else { return false }
            return (above[b] | bit(b)) & bit(x) != 0
        }
        var found = false
        for n in order {
            if case .node(let m) = nodes[n].whenTrue { above[m] |= above[n] | bit(n) }
            if case .node(let m) = nodes[n].whenFalse { above[m] |= above[n] | bit(n) }
            var m = first[nodes[n].test]
            while m >= 0, !found {
                found = mayStandFor(m, n) || mayStandFor(n, m)
                m = next[m]
            }
            next[n] = first[nodes[n].test]
            first[nodes[n].test] = n
        }
        return found
    }

    /// What is known on the way into each node reached, as a `.decided` threading pass knows it.
    static func learnKnowledge(_ graph: DecisionGraph, _ order: [Int], _ knownIn: UnsafeMutableBufferPointer<Knowledge?>,
                                       _ arena: inout FactArena) {
        let tests = graph.tests.entries
        if case .node(let start) = graph.root { knownIn[start] = Knowledge() }
        for n in order {
            guard let before = knownIn[n] else { continue }
            let node = graph[n]
            for outcome in GraphNode.outcomes {
                guard case .node(let m) = node.target(outcome) else { continue }
                var known = before
                known.learn(node.test, outcome, tests, &arena)
                knownIn[m] = knownIn[m].map { $0.meet(known, tests, &arena) } ?? known
            }
        }
    }

    /// Sends the ways into each node that another of its test can stand for into that one.
    /// Knowledge below a node that gained ways no longer holds (`marks` 1): such nodes are
    /// not merged away in this pass.
    private static func merge(_ graph: inout DecisionGraph, _ order: [Int],
                              first: UnsafeMutableBufferPointer<Int>, next: UnsafeMutableBufferPointer<Int>,
                              _ knownIn: UnsafeMutableBufferPointer<Knowledge?>, _ arena: inout FactArena,
                              marks: UnsafeMutableBufferPointer<Int>, stack: UnsafeMutableBufferPointer<Int>,
                              keepingReads: Bool) -> Bool {
        let tests = graph.tests.entries, values = graph.tests.valueTable
        var changed = false
        for b in order where marks[b] == 0 && graph.root != .node(b) {
            guard let known = knownIn[b] else { continue }
            var a = first[graph[b].test]
            while a >= 0 {
                defer { a = next[a] }
                guard a != b, marks[a] != 2, standsFor(a, b, known, graph, tests, &arena),
                      !isReachable(b, from: a, graph, marks: marks, stack: stack) else { continue }
                for p in order where marks[p] != 2 {
                    let node = graph[p]
                    let whenTrue = node.whenTrue == .node(b) ? GraphTarget.node(a) : node.whenTrue
                    let whenFalse = node.whenFalse == .node(b) ? GraphTarget.node(a) : node.whenFalse
                    // The length is no load: its test may go.
                    if keepingReads, whenTrue == whenFalse, node.whenTrue != node.whenFalse,
                       values[Int32(tests[node.test].value)].kind != .length {
                        graph.keepRead(of: p)
                    }
                    graph.setTargets(of: p, whenTrue: whenTrue, whenFalse: whenFalse)
                }
                // `b` is gone, and what is known below `a` changed.
                marks[b] = 2
                markBelow(a, graph, marks: marks, stack: stack)
                changed = true
                break
            }
        }
        return changed
    }

    /// Whether node `a` leads every packet that `known` describes on the way into node `b`
    /// (of the same test) where `b` does: from each of `a`'s exits, past the tests `known`
    /// and the outcome decide, to `b`'s exit. Both exits the same is left to the rebuild.
    private static func standsFor(_ a: Int, _ b: Int, _ known: Knowledge, _ graph: DecisionGraph, _ tests: [TestEntry],
                                  _ arena: inout FactArena) -> Bool {
        let nodeA = graph[a], nodeB = graph[b]
        guard nodeA.whenTrue == nodeB.whenTrue || nodeA.whenFalse == nodeB.whenFalse else { return false }
        let mark = arena.mark
        defer { arena.rewind(to: mark) }
        for outcome in GraphNode.outcomes where nodeA.target(outcome) != nodeB.target(outcome) {
            var path = known
            path.learn(nodeB.test, outcome, tests, &arena)
            var target = nodeA.target(outcome)
            while target != nodeB.target(outcome) {
                guard case .node(let m) = target, let decided = path.decide(graph[m].test, tests, arena) else { return false }
                target = graph[m].target(decided)
            }
        }
        return true
    }

    /// Whether node `b` is reachable from node `a` (then sending `b`'s ways into `a` makes a
    /// cycle). Uses `marks` 3 for the nodes seen, cleared again.
    private static func isReachable(_ b: Int, from a: Int, _ graph: DecisionGraph,
                                marks: UnsafeMutableBufferPointer<Int>, stack: UnsafeMutableBufferPointer<Int>) -> Bool {
        var seen = 0
        visit(from: a, graph, marks: marks, stack: stack, seen: &seen)
        var found = false
        for i in 0..<seen {
            let n = stack[i]
            if n == b { found = true }
            marks[n] -= 3
        }
        return found
    }

    /// Marks the nodes reachable from `a`, `a` too, as no longer known (1) where not gone.
    private static func markBelow(_ a: Int, _ graph: DecisionGraph,
                                  marks: UnsafeMutableBufferPointer<Int>, stack: UnsafeMutableBufferPointer<Int>) {
        var seen = 0
        visit(from: a, graph, marks: marks, stack: stack, seen: &seen)
        for i in 0..<seen { marks[stack[i]] = marks[stack[i]] - 3 == 2 ? 2 : 1 }
    }

    /// Adds 3 to the mark of each node reachable from `a` (`a` too) and lists them at the
    /// start of `stack` (`seen` of them); the rest of `stack` is the work list.
    private static func visit(from a: Int, _ graph: DecisionGraph,
                              marks: UnsafeMutableBufferPointer<Int>, stack: UnsafeMutableBufferPointer<Int>, seen: inout Int) {
        marks[a] += 3
        stack[0] = a
        seen = 1
        var done = 0
        while done < seen {
            let n = stack[done]
            done += 1
            for outcome in GraphNode.outcomes {
                guard case .node(let m) = graph[n].target(outcome), marks[m] < 3 else { continue }
                marks[m] += 3
                stack[seen] = m
                seen += 1
            }
        }
    }
}
