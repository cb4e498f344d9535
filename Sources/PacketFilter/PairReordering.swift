/// Laying out anew a region of tests that compare two values with constants (`==` only):
/// the source and destination ports of `(tcp port 22 and port 80 or port 53) and tcp port 80`
/// are tested in the order the primitives give, each port's test repeated under the other's
/// outcomes, and no rule moves a test past more than its neighbour. What the region does
/// depends only on which of its constants each value equals (or none), so it is a table of
/// exits, which is laid out again with one value's tests first and, under each of its
/// outcomes, the other's tests that still matter: libpcap's optimizer reaches the same by
/// moving its blocks (29 instructions on Ethernet; ours 34 before, 29 now).
extension GraphOptimizer {
    /// Nodes a region may have, and constants each of its two values may be compared with.
    static let pairRegionLimit = 24
    static let pairConstantLimit = 8
    /// Layouts tried per graph: each costs a layout and a reads check.
    static let pairRounds = 4

    /// Replaces such regions, one layout at a time, while the program gets shorter and reads
    /// the packet alike (`keepWhileShorter`). Only layouts of fewer tests and loads than the
    /// region has are tried: most regions are laid out well already, and each try costs a
    /// layout and a reads check.
    static func reorderPairs(_ graph: inout DecisionGraph) {
        guard hasSandwich(&graph) else { return }
        // The layouts worth trying, found again for each graph kept (`skip` 0).
        var tables: [PairTable] = []
        keepWhileShorter(&graph, rounds: pairRounds) { graph, skip in
            if skip == 0 {
                var graph = graph
                tables = pairRegions(&graph).flatMap { region in
                    [true, false].map { PairTable(graph, region, valueFirst: $0) }.filter { $0.cost < region.cost }
                }
            }
            return skip < tables.count ? tables[skip].laidOut(in: graph) : nil
        }
    }

    /// Whether a `==` test of one value is right below a test of another right below one of
    /// the first (A, B, A): most graphs have none, and then no region has two orders to
    /// choose from. A plain walk, as every optimized compile pays for it.
    static func hasSandwich(_ graph: inout DecisionGraph) -> Bool {
        let order = graph.cachedTopologicalOrder()
        return graph.nodes.withUnsafeBufferPointer { nodes in
            graph.tests.entries.withUnsafeBufferPointer { tests in
                /// The value of node `target`'s test if it compares it with a constant, else -1.
                func compared(_ target: GraphTarget) -> Int {
                    guard case .node(let n) = target else { return -1 }
                    let test = tests[nodes[n].test]
                    return test.isPairTest ? test.value : -1
                }
                for n in order {
                    let a = compared(.node(n))
                    guard a >= 0 else { continue }
                    for outcome in GraphNode.outcomes {
                        let target = nodes[n].target(outcome), b = compared(target)
                        guard case .node(let m) = target, b >= 0, b != a else { continue }
                        if compared(nodes[m].whenTrue) == a || compared(nodes[m].whenFalse) == a { return true }
                    }
                }
                return false
            }
        }
    }

    /// A region: its first node, its two values (the first node's first), the test of each
    /// against each constant in the order met, and its nodes.
    struct PairRegion {
        var start: Int
        var values: (Int, Int)
        var tests: [(value: Int, constant: UInt32, test: Int)]
        var nodes: [Int]
        /// Its tests and loads: a node loads where a way in from the region comes from the
        /// other value's test, or from outside it (an estimate: A may hold it there).
        var cost: Int
    }

    /// The regions of `graph` worth laying out anew: from a node of a `==` test, the nodes
    /// below it of such tests of its value and one other, at least two of each (one value's
    /// test under the other's and again below: else no order is better), in topological order.
    static func pairRegions(_ graph: inout DecisionGraph) -> [PairRegion] {
        let order = graph.cachedTopologicalOrder()
        let tests = graph.tests.entries
        func comparesConstant(_ n: Int) -> Bool { tests[graph[n].test].isPairTest }
        func value(_ n: Int) -> Int { tests[graph[n].test].value }
        // By node: its place in the region being gathered (-1 outside), and whether a region has it.
        var place = [Int](repeating: -1, count: graph.nodes.count)
        var covered = [Bool](repeating: false, count: graph.nodes.count)
        var regions: [PairRegion] = []
        for start in order where !covered[start] && comparesConstant(start) {
            let first = value(start)
            var second: Int?
            var members = [start]
            place[start] = 0
            defer { for n in members { place[n] = -1 } }
            var at = 0
            while at < members.count, members.count <= pairRegionLimit {
                let node = graph[members[at]]
                at += 1
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = node.target(outcome), place[m] < 0, comparesConstant(m), !covered[m] else { continue }
                    if value(m) != first, second == nil { second = value(m) }
                    guard value(m) == first || value(m) == second else { continue }
                    place[m] = members.count
                    members.append(m)
                }
            }
            guard members.count <= pairRegionLimit, let second else { continue }
            var found: [(value: Int, constant: UInt32, test: Int)] = []
            for n in members {
                let test = tests[graph[n].test]
                guard let k = test.constant, !found.contains(where: { $0.value == test.value && $0.constant == k }) else { continue }
                found.append((test.value, k, graph[n].test))
            }
            let firsts = members.filter { value($0) == first }.count
            let constants = found.filter { $0.value == first }.count
            guard firsts >= 2, members.count - firsts >= 2, constants <= pairConstantLimit,
                  found.count - constants <= pairConstantLimit else { continue }
            // A node loads unless every way in comes from a region test of its own value.
            var loads = [Bool](repeating: false, count: members.count)
            loads[0] = true
            for n in order {
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = graph[n].target(outcome), place[m] > 0 else { continue }
                    if place[n] < 0 || value(n) != value(m) { loads[place[m]] = true }
                }
            }
            for n in members { covered[n] = true }
            regions.append(PairRegion(start: start, values: (first, second), tests: found, nodes: members,
                                      cost: members.count + loads.filter { $0 }.count))
        }
        return regions
    }

    /// Where a region sends a packet, by which of its constants each value equals, and that
    /// laid out with one value's tests first (`outer`) and the other's under each outcome.
    struct PairTable {
        let region: PairRegion
        /// The value tested first.
        let outer: Int
        let outerTests: [(value: Int, constant: UInt32, test: Int)], innerTests: [(value: Int, constant: UInt32, test: Int)]
        /// By class of the outer value (one per constant in the order met, the last for none
        /// of them), the exits by class of the inner value.
        var rows: [[GraphTarget]] = []

        init(_ graph: DecisionGraph, _ region: PairRegion, valueFirst: Bool) {
            self.region = region
            let (first, inner) = valueFirst ? region.values : (region.values.1, region.values.0)
            outer = first
            outerTests = region.tests.filter { $0.value == first }
            innerTests = region.tests.filter { $0.value == inner }
            rows = (0...outerTests.count).map { o in (0...innerTests.count).map { i in exit(graph, o, i) } }
        }

        /// Where the region sends a packet whose values equal the constants of classes `o`
        /// and `i` (past the last: none of them).
        private func exit(_ graph: DecisionGraph, _ o: Int, _ i: Int) -> GraphTarget {
            var target = GraphTarget.node(region.start)
            while case .node(let n) = target, region.nodes.contains(n) {
                let test = graph.tests[graph[n].test]
                let (classes, chosen) = test.value == outer ? (outerTests, o) : (innerTests, i)
                target = graph[n].target(chosen < classes.count && classes[chosen].constant == test.constant)
            }
            return target
        }

        /// The inner tests a row needs: those whose class goes elsewhere than none of them does.
        private func needed(_ row: [GraphTarget]) -> [Int] { innerTests.indices.filter { row[$0] != row[innerTests.count] } }

        /// The outer classes that go otherwise than none of them does.
        private var outerNeeded: [Int] { outerTests.indices.filter { rows[$0] != rows[outerTests.count] } }

        /// Tests and loads of the layout: one load for the outer value, one per distinct row
        /// that tests the inner one (equal rows are one chain).
        var cost: Int {
            var distinct: [[GraphTarget]] = []
            for o in outerNeeded + [outerTests.count] where !distinct.contains(rows[o]) { distinct.append(rows[o]) }
            let inner = distinct.map { needed($0).count }
            return outerNeeded.count + 1 + inner.reduce(0, +) + inner.filter { $0 > 0 }.count
        }

        /// `graph` with the region's start laid out so; nil where it would test nothing.
        func laidOut(in graph: DecisionGraph) -> DecisionGraph? {
            var graph = graph
            func chain(_ row: [GraphTarget]) -> GraphTarget {
                var target = row[innerTests.count]
                for i in needed(row).reversed() { target = graph.node(number: innerTests[i].test, row[i], target) }
                return target
            }
            var target = chain(rows[outerTests.count])
            for o in outerNeeded.reversed() { target = graph.node(number: outerTests[o].test, chain(rows[o]), target) }
            guard case .node(let new) = target else { return nil }
            let node = graph[new]
            graph.setTest(of: region.start, node.test)
            graph.setTargets(of: region.start, whenTrue: node.whenTrue, whenFalse: node.whenFalse)
            return graph
        }
    }
}

private extension TestEntry {
    /// Whether a region of `reorderPairs` may hold the test: an `==` of a constant, not kept
    /// for its load alone.
    var isPairTest: Bool { condition == .eq && constant != nil && !keepsRead }
}
