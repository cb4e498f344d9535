import ClassicBPF

/// Hoisting a test above its parent: `M(t(x, y), z)` is `t(M(x, z), M(y, z))`, and when `z`
/// tests the value `t` tests, knowing `t`'s outcome decides `z`'s tests on both sides. In
/// `ip6 host ::1 and arp or ether multicast and icmp or udp port 53` the multicast test
/// leads to an IPv4 test on one side and an IPv6 test on the other: with the EtherType
/// tested first, each side's EtherType tests are decided and the multicast test is left
/// only for IPv4, as libpcap's program has it. Whether that is shorter shows only after
/// the other rules ran again, so a hoist is kept only where the program got shorter, and
/// only where it reads the packet alike (`readsAlike`): the rules that run again may drop
/// `m`'s test where both its exits meet, and with it a load that rejected short packets.
extension GraphOptimizer {
    /// Hoists tried per graph: each costs the other rules again and two layouts.
    static let hoistLimit = 4

    // A hoist is tried without `.beyond` passes (`adoptIfShorter`): they cost about as much
    // as the rest of a try, and most tries are not taken. Measured on three sets of 12,000
    // random expressions × 5 link types: 812,035 → 812,180, 805,620 → 805,759 and 816,866 →
    // 817,116 instructions (2–18 programs shorter, 52–88 longer per set, none newly longer
    // than libpcap's), for 4.6 % fewer instructions on the bench's mixes. Splits keep them:
    // tried without, a split made `(ip[8] > 60 or not esp and not port 53 or src net
    // 192.168.0.0/16 or udp port 53)` 38 instructions, shorter than libpcap's 43, but with
    // the shared port tests' loads on IPv6's UDP way, which libpcap's program skips (both
    // outcomes accept): two cut packets of the corpus kept otherwise than by tcpdump.

    static func hoistTests(_ graph: inout DecisionGraph, _ searches: inout BeyondSearches) {
        var tries = 0
        var length: Int?
        var improved = true
        while improved, tries < hoistLimit {
            improved = false
            let entries = graph.tests.entries
            search: for m in graph.cachedTopologicalOrder() {
                // Both sides tests of one value, not `m`'s: looked at first, as few nodes are.
                guard case .node(let t) = graph[m].whenTrue, case .node(let f) = graph[m].whenFalse,
                      entries[graph[t].test].value == entries[graph[f].test].value,
                      entries[graph[t].test].value != entries[graph[m].test].value else { continue }
                for side in GraphNode.outcomes where mayHoist(below: m, side, graph, entries) {
                    guard tries < hoistLimit else { break search }
                    tries += 1
                    var candidate = hoisted(below: m, side, graph)
                    guard let kept = adoptIfShorter(&candidate, &graph, &searches, length: &length, searchingBeyond: false) else { return }
                    guard kept else { continue }
                    improved = true
                    break search
                }
            }
        }
    }

    /// Whether node `m`'s `side` leads to a test of another value than `m`'s whose value the
    /// other side tests too. Only a filter for hoists worth trying: where `m`'s value ends
    /// later in the packet than the hoisted one, dropping `m`'s test would keep packets too
    /// short for it, and `readsAlike` would refuse the hoist.
    private static func mayHoist(below m: Int, _ side: Bool, _ graph: DecisionGraph, _ tests: [TestEntry]) -> Bool {
        let node = graph[m]
        guard case .node(let t) = node.target(side), case .node(let z) = node.target(!side) else { return false }
        let value = tests[graph[t].test].value
        guard value != tests[node.test].value, tests[graph[z].test].value == value,
              let hoistedEnd = end(of: value, graph.tests.valueTable),
              let ownEnd = end(of: tests[node.test].value, graph.tests.valueTable) else {
            return false
        }
        return ownEnd <= hoistedEnd
    }

    /// Where in the packet the loads of `value` end (0 for none), if they are loads at fixed
    /// offsets or none, with arithmetic that cannot fail (the IP version on raw IP, `ldb [0];
    /// and #0xf0`); nil for the rest (an index, a division by a packet's value).
    private static func end(of value: Int, _ values: ValueTable) -> UInt64? {
        guard value < TestTable.apartValues else { return nil }
        let entry = values[Int32(value)]
        switch entry.kind {
        case .constant, .length: return 0
        case .load:
            let size: UInt64 = switch entry.size {
            case .byte: 1
            case .half: 2
            case .word: 4
            }
            return UInt64(entry.k) + size
        case .binary where entry.operation != .div && entry.operation != .mod:
            guard let left = end(of: Int(entry.left), values), let right = end(of: Int(entry.right), values) else { return nil }
            return max(left, right)
        default: return nil
        }
    }

    /// The graph with node `m`'s child on `side` tested in `m`'s place, `m`'s test below it.
    private static func hoisted(below m: Int, _ side: Bool, _ graph: DecisionGraph) -> DecisionGraph {
        var result = graph
        let node = graph[m]
        guard case .node(let t) = node.target(side) else { return graph }
        let child = graph[t], other = node.target(!side)
        func below(_ target: GraphTarget) -> GraphTarget {
            side ? result.node(number: node.test, target, other) : result.node(number: node.test, other, target)
        }
        let whenTrue = below(child.whenTrue), whenFalse = below(child.whenFalse)
        result.setTest(of: m, child.test)
        result.setTargets(of: m, whenTrue: whenTrue, whenFalse: whenFalse)
        return result.rebuilt()
    }

    /// Tries `candidate`, a reshaping of `graph`: threaded again (by `.beyond` passes too
    /// where `searchingBeyond`) and with the other rules run again, it takes `graph`'s place
    /// where its program is shorter and reads every packet as far (`readsAlike`). `length`
    /// keeps `graph`'s program length between tries. Whether it was taken; nil where
    /// `graph`'s program cannot be laid out.
    static func adoptIfShorter(_ candidate: inout DecisionGraph, _ graph: inout DecisionGraph, _ searches: inout BeyondSearches,
                               length: inout Int?, searchingBeyond: Bool = true) -> Bool? {
        guard let current = length ?? programLength(graph) else { return nil }
        length = current
        var candidateSearches = searches
        if searchingBeyond {
            // Not following ways apart (`WaySearch`): 2.2 % fewer instructions on the mixes,
            // and random sets' lengths about as with (811,834 → 811,850, 805,264 → 805,254,
            // 816,670 → 816,674 on sets 1–3).
            candidateSearches.followingWays = false
            _ = threadPasses(&candidate, &candidateSearches)
            candidateSearches.followingWays = searches.followingWays
        } else {
            _ = threadUntilSettled(&candidate, mode: .decided)
        }
        applyRules(&candidate, &candidateSearches, reshaping: true)
        guard let shorter = programLength(candidate), shorter < current, readsAlike(candidate, graph) else { return false }
        (graph, searches, length) = (candidate, candidateSearches, shorter)
        searches.reshaped = true
        return true
    }

    /// Up to `rounds` times, `change`'s changed copy of `graph` (nil: it found nothing to
    /// change), which takes `graph`'s place where its program is shorter and reads every
    /// packet as far (`readsAlike`, unless the change reads as the graph did by its making:
    /// not `checkingReads`); the rules are not run again. Where a copy is not taken,
    /// `change` is asked for another, told how many it gave for this graph (`skip`). Whether
    /// one was taken.
    @discardableResult
    static func keepWhileShorter(_ graph: inout DecisionGraph, rounds: Int, checkingReads: Bool = true,
                                 _ change: (DecisionGraph, _ skip: Int) -> DecisionGraph?) -> Bool {
        var length: Int?
        var skip = 0
        var kept = false
        for _ in 0..<rounds {
            // Found here, where it is kept: `change` reads it (`topologicalOrder`) without.
            _ = graph.cachedTopologicalOrder()
            guard var candidate = change(graph, skip) else { return kept }
            candidate = candidate.rebuilt()
            if length == nil { length = programLength(graph) }
            guard let current = length else { return kept }
            guard let shorter = programLength(candidate), shorter < current,
                  !checkingReads || readsAlike(candidate, graph) else {
                skip += 1
                continue
            }
            (graph, length, skip, kept) = (candidate, shorter, 0, true)
        }
        return kept
    }

    /// The length of the graph's program as the tries lay it out, nil if it cannot be laid out.
    static func programLength(_ graph: DecisionGraph) -> Int? {
        (try? CodeEmitter.emit(graph, snapshotLength: 0xffff, reuseRegisters: true))?.count
    }
}
