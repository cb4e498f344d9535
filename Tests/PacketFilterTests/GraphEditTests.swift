@testable import PacketFilter
import Testing

/// The optimizer skips a rebuild when its edits left the graph shared; `isShared` must say
/// exactly whether some two nodes are now equal or (simplifying) a test's exits meet.
@Suite("Decision graph edits")
struct GraphEditTests {
    static let expressions = [
        "tcp port 80", "host 10.0.0.1 and (port 80 or port 443)", "udp port 53 or icmp or icmp6",
        "not (tcp port 22 or udp port 53) and greater 100", "vlan 10 and ip6 net 2001:db8::/32",
        "ip proto 6 or ip proto 17 or ip proto 132", "tcp[13] & 2 != 0 and src net 10.0.0.0/8",
    ]

    /// Whether some two nodes are equal or some node's exits meet, by looking at every pair.
    static func needsRebuild(_ graph: DecisionGraph) -> Bool {
        let nodes = graph.nodes
        for (n, node) in nodes.enumerated() {
            if node.whenTrue == node.whenFalse { return true }
            if nodes[(n + 1)...].contains(node) { return true }
        }
        return false
    }

    @Test("isShared agrees with a look at every pair of nodes after random edits", arguments: expressions)
    func randomEdits(_ expression: String) throws {
        var random = FuzzTests.SplitMix(state: UInt64(expression.utf8.count))
        var changes = 0
        for _ in 0..<400 {
            var graph = DecisionGraph(try FilterParser.parse(expression, linkType: .ethernet))
            #expect(graph.isShared && !Self.needsRebuild(graph))
            let order = graph.topologicalOrder()
            for _ in 0..<Int.random(in: 0..<16, using: &random) + 1 where order.count > 1 {
                // A node's new exits go to verdicts or to nodes after it, so the graph stays a DAG.
                let at = Int.random(in: 0..<order.count - 1, using: &random)
                func target() -> GraphTarget {
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0: .accept
                    case 1: .reject
                    default: .node(order[at + 1 + Int.random(in: 0..<order.count - at - 1, using: &random)])
                    }
                }
                let node = order[at]
                // Each edit alone: `isShared` speaks of one change at a time.
                func check(_ edit: (inout DecisionGraph) -> Void) {
                    let wasShared = graph.isShared
                    edit(&graph)
                    // Once not shared, the graph stays so until rebuilt.
                    #expect(graph.isShared == (wasShared && !Self.needsRebuild(graph)), "\(expression) after an edit")
                    if wasShared && !graph.isShared { changes += 1 }
                }
                if Int.random(in: 0..<3, using: &random) == 0 {
                    // Becoming a copy of a later node: then two nodes are equal.
                    let copy = graph[order[at + 1 + Int.random(in: 0..<order.count - at - 1, using: &random)]]
                    check { $0.setTest(of: node, copy.test) }
                    check { $0.setTargets(of: node, whenTrue: copy.whenTrue, whenFalse: copy.whenFalse) }
                } else {
                    let (whenTrue, whenFalse) = (target(), target())
                    check { $0.setTargets(of: node, whenTrue: whenTrue, whenFalse: whenFalse) }
                    let test = Int.random(in: 0..<graph.tests.entries.count, using: &random)
                    check { $0.setTest(of: node, test) }
                }
            }
            // Shared means a rebuild only drops the nodes no edge leads to.
            if graph.isShared {
                #expect(graph.rebuilt().nodes.count == graph.topologicalOrder().count)
            }
        }
        #expect(changes > 0, "the edits never made two nodes equal: the test checks nothing")
    }
}
