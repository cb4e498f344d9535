/// Reordering a switch: tests of one value against different constants, each on the false
/// exit of the one before (`ip6 proto` is 132, 6 or 17, else esp's 50). At most one of them
/// holds, so any order sends each packet to the same place, and they read the same value,
/// cut packets too. A test moved last, where its code is that of a test elsewhere with the
/// same exits, is laid out as that test's tail: in `(dst port 443 and arp and not src net
/// 192.168.0.0/16 or icmp6 or esp or portrange 1000-2000)` IPv6's `esp` test, first of its
/// switch, goes last, where IPv4's `jeq #0x32` (after its own switch) serves both, as in
/// libpcap's program.
extension GraphOptimizer {
    /// Moves tried per graph: each costs a layout.
    static let switchMoveLimit = 2

    /// Moves such tests while the program gets shorter. The tests of a switch read one
    /// value, so any order reads the packet alike: that is not checked.
    static func reorderSwitches(_ graph: inout DecisionGraph) {
        keepWhileShorter(&graph, rounds: switchMoveLimit, checkingReads: false, moveInSwitch(_:skip:))
    }

    /// The graph with a test of a switch moved last, where a node outside it tests the same
    /// comparison with the same exits as it would have there; past the first `skip` such
    /// moves. Nil where there is none (then nothing was copied).
    private static func moveInSwitch(_ graph: DecisionGraph, skip: Int) -> DecisionGraph? {
        let order = graph.topologicalOrder()
        let nodes = graph.nodes, tests = graph.tests.entries
        func isEquality(_ n: Int) -> Bool { tests[nodes[n].test].condition == .eq && tests[nodes[n].test].constant != nil }
        var left = skip
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * nodes.count) { room in
            let waysIn = UnsafeMutableBufferPointer(rebasing: room[..<nodes.count])
            let chain = UnsafeMutableBufferPointer(rebasing: room[nodes.count...])
            waysIn.initialize(repeating: 0)
            for n in order {
                for outcome in GraphNode.outcomes {
                    if case .node(let m) = nodes[n].target(outcome) { waysIn[m] += 1 }
                }
            }
            for head in order where isEquality(head) {
                // The switch from `head` on: along false exits, each test of `head`'s value with
                // no other way in (a test of `head`'s value before it would have begun it).
                let value = tests[nodes[head].test].value
                var length = 1
                chain[0] = head
                while case .node(let next) = nodes[chain[length - 1]].whenFalse, waysIn[next] == 1, isEquality(next),
                      tests[nodes[next].test].value == value,
                      // A constant tested again is never met there: moved before, it would be.
                      !chain[..<length].contains(where: { tests[nodes[$0].test].constant == tests[nodes[next].test].constant }) {
                    chain[length] = next
                    length += 1
                }
                guard length > 1 else { continue }
                let end = nodes[chain[length - 1]].whenFalse
                for i in 0..<(length - 1) {
                    let moved = nodes[chain[i]]
                    let constant = tests[moved.test].constant
                    guard order.contains(where: { n in
                        nodes[n].whenTrue == moved.whenTrue && nodes[n].whenFalse == end && isEquality(n)
                            && tests[nodes[n].test].constant == constant && !chain[..<length].contains(n)
                    }) else { continue }
                    guard left == 0 else {
                        left -= 1
                        continue
                    }
                    // The chain's nodes keep their places, the tests shifted up past the moved one.
                    var reordered = graph
                    for j in i..<(length - 1) {
                        let next = nodes[chain[j + 1]]
                        reordered.setTest(of: chain[j], next.test)
                        reordered.setTargets(of: chain[j], whenTrue: next.whenTrue, whenFalse: .node(chain[j + 1]))
                    }
                    reordered.setTest(of: chain[length - 1], moved.test)
                    reordered.setTargets(of: chain[length - 1], whenTrue: moved.whenTrue, whenFalse: end)
                    return reordered
                }
            }
            return nil
        }
    }
}
