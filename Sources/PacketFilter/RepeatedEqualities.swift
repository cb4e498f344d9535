/// Dropping an `==` test that its false side repeats. In `not (port 80 and not tcp port 22)
/// or port 80 and not stp or not ether multicast` on Ethernet, the EtherType is tested for
/// IPv6, then IPv4, each sending its packets to accept, then `> 1500` (an 802.3 length)
/// sending its packets there too: 0x86dd and 0x800 are above 1500, so the first two tests
/// only repeat the third, and libpcap's program has the third alone. A test `v == c` goes
/// where its false side leads once the tests of `v` there have been decided for `v = c`,
/// and that false side starts with a test of `v`: the packet is read alike, cut ones too.
extension GraphOptimizer {
    /// Tests of the same value followed from one side; a chain of them is seldom longer.
    static let repeatSteps = 16

    /// Sends every such test's ways to its false side; whether it did (the graph is then rebuilt).
    static func dropRepeatedEqualities(_ graph: inout DecisionGraph) -> Bool {
        let tests = graph.tests.entries
        var changed = false
        // In any order, unreachable nodes too: a test sent to its false side still decides the
        // same for the walks of the others, and the rebuild drops what no edge leads to.
        for n in graph.nodes.indices {
            let node = graph[n]
            let test = tests[node.test]
            guard test.condition == .eq, let c = test.constant, case .node(let next) = node.whenFalse,
                  tests[graph[next].test].value == test.value,
                  settled(node.whenTrue, test.value, c, graph, tests) == settled(node.whenFalse, test.value, c, graph, tests)
            else { continue }
            graph.setTargets(of: n, whenTrue: node.whenFalse, whenFalse: node.whenFalse)
            changed = true
        }
        if changed { graph = graph.rebuilt() }
        return changed
    }

    /// Where `target` leads for packets whose `value` is `c`: past the tests of `value` with a
    /// constant operand, up to the first other test or verdict.
    private static func settled(_ target: GraphTarget, _ value: Int, _ c: UInt32, _ graph: DecisionGraph,
                                _ tests: [TestEntry]) -> GraphTarget {
        var at = target
        for _ in 0..<repeatSteps {
            guard case .node(let n) = at else { break }
            let test = tests[graph[n].test]
            guard test.value == value, let k = test.constant else { break }
            at = graph[n].target(FilterTest.evaluate(test.condition, c, k))
        }
        return at
    }
}
