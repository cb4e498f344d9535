/// Regrouping a chain by the values its ways in leave in A. `groupChains` puts first the
/// tests of the value A holds on the way into a chain only where every way in leaves the
/// same one; where they differ, each way that leaves the value of a test laid out first
/// skips its load, and once threaded again, a way that knows more may skip a test. In
/// `(portrange 1000-2000 and port 80 or dst port 443 or ip6 or port 53)` two of the three
/// ways into `port 53` come from tests of the destination port and one, knowing the
/// destination in the range, from the source port's: with the destination tested first, the
/// third goes straight to the source's test, its port in A (27 instructions before, libpcap's 26).
extension GraphOptimizer {
    /// The chains regrouped so, threaded again, where the program gets shorter and reads
    /// every packet as far (`keepWhileShorter`).
    static func regroupByWaysIn(_ graph: inout DecisionGraph) {
        keepWhileShorter(&graph, rounds: 1) { graph, skip in
            guard skip == 0, mayRegroupByWaysIn(graph) else { return nil }
            var regrouped = graph
            guard groupChains(&regrouped, byWaysIn: true).changed else { return nil }
            if !regrouped.isShared { regrouped = regrouped.rebuilt() }
            _ = threadUntilSettled(&regrouped, mode: .decided)
            return regrouped
        }
    }

    /// Whether a node whose ways in leave different values in A has, among the tests after
    /// it that each have one way in and share an exit with it (up to 8 on each side), one of
    /// a value some way in leaves other than its own: a cheap look before the copy and
    /// layouts (`Knowledge.bit` tells values apart, which can only answer yes too often).
    private static func mayRegroupByWaysIn(_ graph: DecisionGraph) -> Bool {
        var graph = graph
        let order = graph.cachedTopologicalOrder()
        let nodes = graph.nodes, tests = graph.tests.entries
        func bit(_ n: Int) -> UInt64 { Knowledge.bit(tests[nodes[n].test].value) }
        // Per node: the values ways in leave, whether they differ, and how many lead in.
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * nodes.count) { room in
            room.initialize(repeating: 0)
            let (held, mixed, waysIn) = (UnsafeMutableBufferPointer(rebasing: room[..<nodes.count]),
                                         UnsafeMutableBufferPointer(rebasing: room[nodes.count..<(2 * nodes.count)]),
                                         UnsafeMutableBufferPointer(rebasing: room[(2 * nodes.count)...]))
            for n in order {
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = nodes[n].target(outcome) else { continue }
                    if waysIn[m] > 0, held[m] != bit(n) { mixed[m] = 1 }
                    held[m] |= bit(n)
                    waysIn[m] += 1
                }
            }
            for n in order where mixed[n] != 0 {
                for outcome in GraphNode.outcomes {
                    let shared = nodes[n].target(!outcome)
                    var target = nodes[n].target(outcome)
                    for _ in 0..<8 {
                        guard case .node(let m) = target else { break }
                        if bit(m) != bit(n), held[n] & bit(m) != 0 { return true }
                        guard waysIn[m] == 1 else { break }
                        if nodes[m].whenTrue == shared {
                            target = nodes[m].whenFalse
                        } else if nodes[m].whenFalse == shared {
                            target = nodes[m].whenTrue
                        } else {
                            break
                        }
                    }
                }
            }
            return false
        }
    }
}
