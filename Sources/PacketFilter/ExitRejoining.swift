/// Sending a test's exit back where another test of the same comparison goes, so that the
/// two lay out the same branch. Threading gives a test the place its path decides, past
/// tests a general copy still runs: in `(less 80 or esp or udp) and (greater 1000 or not
/// udp port 53) and ether multicast` the UDP test after an IPv6 fragment header goes
/// straight to the multicast test (`greater 1000` cannot matter there: either way the
/// port test is decided), while the UDP tests of IPv4 and plain IPv6 go to `greater 1000`.
/// libpcap, which threads only past decided tests, lays one `jeq #17` out for all three.
/// The way back reads only what was read on every way to the test (or the length), or bytes
/// before the end of what was (`[0]` past `[56]`), so a packet cut short is dropped or kept
/// as before.
extension GraphOptimizer {
    /// Steps one check of a way back may take.
    static let rejoinStepLimit = 32

    /// Sends such exits back while the program gets shorter and reads the packet alike
    /// (`readsAlike`: tests the rebuild merges may leave a test with both exits on one node,
    /// dropped with its load), as tests merged may send more back. Where that drops a load,
    /// the same with such tests kept for their loads: in `(net 10.0.0.0/8 and less 80 and
    /// (not ether multicast and not net 10.0.0.0/8)) or not ether multicast or len > 100` the
    /// multicast test after `less 80` becomes the other one, which leaves the net tests with
    /// nothing to decide but their loads (26 instructions before, 21 now, libpcap's 24).
    static func rejoinExits(_ graph: inout DecisionGraph) {
        // All exits found are sent at once: there is no other change to try. The second try
        // is of the same graph (one not taken leaves it as it was): the exits sent the first.
        var sent: DecisionGraph?
        keepWhileShorter(&graph, rounds: rejoinRounds) { graph, skip in
            switch skip {
            case 0:
                sent = rejoin(graph)
                return sent
            case 1: return sent?.rebuilt(keepingReads: true)
            default: return nil
            }
        }
    }

    static let rejoinRounds = 4

    /// Sends exit `o` of node `a` to `g`, the exit `o` of a node `b` of the same comparison
    /// whose other exit is `a`'s, where every packet reaching `a` then goes from `g` to
    /// where `a` sent it, reading only what was read on its way to `a`. The graph so
    /// changed, nil where no exit was sent (then nothing was copied).
    private static func rejoin(_ graph: DecisionGraph) -> DecisionGraph? {
        let order = graph.topologicalOrder()
        let tests = graph.tests.entries, values = graph.tests.valueTable
        let count = graph.nodes.count
        var pairs: [(a: Int, outcome: Bool, g: Int)] = []
        // Each test's comparison (condition and constant) named by its first test, found
        // through an open-addressed table of tests; lists of the nodes of each comparison
        // through `next` from `first` (by that test); each node's place in `order`, -1 before
        // it is met, the values tested above it (`Knowledge.bit`) and its own value's bit,
        // with the sign bit for a test of the length (which any way may pass), how far from
        // the packet's start its value reads (`fixedReadEnd`, Int.max where not only from
        // there) and how far every way out of it has read. On the machine
        // stack for small graphs, read through pointers: most graphs have no pair, and this
        // is all they cost.
        var slots = 16
        while slots < 2 * tests.count { slots *= 2 }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * tests.count + slots + 6 * count) { room in
            let comparison = UnsafeMutableBufferPointer(rebasing: room[..<tests.count])
            let first = UnsafeMutableBufferPointer(rebasing: room[tests.count..<(2 * tests.count)])
            let table = UnsafeMutableBufferPointer(rebasing: room[(2 * tests.count)..<(2 * tests.count + slots)])
            let rest = 2 * tests.count + slots
            let next = UnsafeMutableBufferPointer(rebasing: room[rest..<(rest + count)])
            let above = UnsafeMutableBufferPointer(rebasing: room[(rest + count)..<(rest + 2 * count)])
            let own = UnsafeMutableBufferPointer(rebasing: room[(rest + 2 * count)..<(rest + 3 * count)])
            let position = UnsafeMutableBufferPointer(rebasing: room[(rest + 3 * count)..<(rest + 4 * count)])
            let readEnd = UnsafeMutableBufferPointer(rebasing: room[(rest + 4 * count)..<(rest + 5 * count)])
            let readOut = UnsafeMutableBufferPointer(rebasing: room[(rest + 5 * count)...])
            first.initialize(repeating: -1)
            table.initialize(repeating: -1)
            above.initialize(repeating: 0)
            position.initialize(repeating: -1)
            tests.withUnsafeBufferPointer { tests in
                for t in tests.indices {
                    comparison[t] = -1
                    guard let k = tests[t].constant else { continue }
                    let condition = tests[t].condition
                    var slot = Int(truncatingIfNeeded: mix(UInt64(k), UInt64(condition.rawValue)) >> 32) & (slots - 1)
                    while table[slot] >= 0, tests[table[slot]].constant != k || tests[table[slot]].condition != condition {
                        slot = (slot + 1) & (slots - 1)
                    }
                    if table[slot] < 0 { table[slot] = t }
                    comparison[t] = table[slot]
                }
            }
            graph.nodes.withUnsafeBufferPointer { nodes in
                for n in order {
                    let value = tests[nodes[n].test].value
                    own[n] = Int(truncatingIfNeeded: Knowledge.bit(value)) | (values[Int32(value)].kind == .length ? Int.min : 0)
                    readEnd[n] = values.fixedReadEnd(Int32(value)) ?? Int.max
                    readOut[n] = Int.max
                }
                if case .node(let start) = graph.root { readOut[start] = 0 }
                // Whether `g`'s test may be passed from `a`: decided there, of a value read
                // above (or the length), or reading no further than every way out of `a` has.
                func mayPass(_ g: Int, from a: Int) -> Bool {
                    own[g] < 0 || (above[a] | own[a]) & own[g] & Int.max != 0 || readEnd[g] <= readOut[a]
                }
                for (i, n) in order.enumerated() {
                    position[n] = i
                    let (whenTrue, whenFalse) = (nodes[n].whenTrue, nodes[n].whenFalse)
                    // Until here `readOut` held how far every way into `n` read.
                    readOut[n] = readEnd[n] == Int.max ? readOut[n] : max(readOut[n], readEnd[n])
                    func passOn(_ target: GraphTarget) {
                        guard case .node(let m) = target else { return }
                        above[m] |= above[n] | own[n] & Int.max
                        readOut[m] = min(readOut[m], readOut[n])
                    }
                    passOn(whenTrue)
                    passOn(whenFalse)
                    let c = comparison[nodes[n].test]
                    guard c >= 0 else { continue }
                    // Every node listed comes before `n`. As `a`, its exit may be sent to `n`'s
                    // (after `n`); as `b`, its exit is a place for `n`'s only if not yet met.
                    var b = first[c]
                    while b >= 0 {
                        for side in 0..<2 {
                            let outcome = side == 0
                            let (mine, theirs) = outcome ? (whenTrue, nodes[b].whenTrue) : (whenFalse, nodes[b].whenFalse)
                            let (myOther, theirOther) = outcome ? (whenFalse, nodes[b].whenFalse) : (whenTrue, nodes[b].whenTrue)
                            guard myOther.code == theirOther.code, mine.code != theirs.code else { continue }
                            if case .node(let g) = mine, mayPass(g, from: b) { pairs.append((b, outcome, g)) }
                            if case .node(let g) = theirs, position[g] < 0, mayPass(g, from: n) { pairs.append((n, outcome, g)) }
                        }
                        b = next[b]
                    }
                    next[n] = first[c]
                    first[c] = n
                }
                // The place `a` sends the packets to must come after `g`, or no way from `g` reaches it.
                pairs.removeAll { pair in
                    let node = nodes[pair.a]
                    if case .node(let s) = pair.outcome ? node.whenTrue : node.whenFalse { return position[s] <= position[pair.g] }
                    return false
                }
            }
            guard !pairs.isEmpty else { return nil }
            var graph = graph
            return withUnsafeTemporaryAllocation(of: Knowledge?.self, capacity: count) { knownIn in
                knownIn.initialize(repeating: nil)
                defer { knownIn.deinitialize() }
                var arena = FactArena(capacity: order.count * 8)
                learnKnowledge(graph, order, knownIn, &arena)
                // Below a `g` that gained a way in, what was learned no longer holds: from its
                // place in `order` on, no exit is sent.
                var knownBefore = count
                var changed = false
                for pair in pairs where position[pair.a] < knownBefore {
                    guard var known = knownIn[pair.a] else { continue }
                    let node = graph[pair.a]
                    known.learn(node.test, pair.outcome, tests, &arena)
                    var steps = rejoinStepLimit
                    guard leadsOnly(from: .node(pair.g), to: node.target(pair.outcome), known, graph, tests, values, &arena, &steps,
                                    covering: readOut[pair.a])
                    else { continue }
                    graph.setTargets(of: pair.a, whenTrue: pair.outcome ? .node(pair.g) : node.whenTrue,
                                     whenFalse: pair.outcome ? node.whenFalse : .node(pair.g))
                    knownBefore = min(knownBefore, position[pair.g])
                    changed = true
                }
                return changed ? graph : nil
            }
        }
    }

    /// Whether every way from `start` that `known` allows reaches `end`, past tests `known`
    /// decides or of values read on every way here (or the packet's length) or reading the
    /// packet from its start no further than `covering`, or with `readingAnew` of any
    /// constant test (the caller checks the reads).
    static func leadsOnly(from start: GraphTarget, to end: GraphTarget, _ known: Knowledge, _ graph: DecisionGraph,
                          _ tests: [TestEntry], _ values: ValueTable, _ arena: inout FactArena, _ steps: inout Int,
                          readingAnew: Bool = false, covering: Int = -1) -> Bool {
        var target = start
        var known = known
        while target != end {
            guard case .node(let m) = target, steps > 0 else { return false }
            steps -= 1
            let node = graph[m]
            if let outcome = known.decide(node.test, tests, arena) {
                target = node.target(outcome)
                continue
            }
            let value = tests[node.test].value
            guard tests[node.test].constant != nil,
                  readingAnew || values[Int32(value)].kind == .length || known.names(value, tests, arena)
                  || values.fixedReadEnd(Int32(value)).map({ $0 <= covering }) == true else { return false }
            var other = known
            other.learn(node.test, false, tests, &arena)
            guard leadsOnly(from: node.whenFalse, to: end, other, graph, tests, values, &arena, &steps, readingAnew: readingAnew,
                            covering: covering)
            else { return false }
            known.learn(node.test, true, tests, &arena)
            target = node.whenTrue
        }
        return true
    }
}
