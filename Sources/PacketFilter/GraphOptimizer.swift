/// What is known on the way into a test: facts that hold on every path there, and for some
/// values (by number) the few constants they can be, when every path pinned them (`ip
/// proto` is one of tcp, udp and sctp after `port 80`'s protocol checks).
struct Knowledge: Sendable {
    var facts = FactList()
    /// The values whose possible constants are known: a list through the arena's entries
    /// (-1 when empty), so that copying knowledge (every edge does) copies two words.
    var possible: Int32 = -1
    static let memberLimit = 16
    /// The values (by their number's low six bits) that a fact may be about, and that an `==`
    /// that held may pin: a look here spares reading the facts about a value none names.
    var named: UInt64 = 0
    var pinnable: UInt64 = 0
    /// The values (the same bits) that may have an entry among the possible constants: a
    /// look here spares walking that list for the others, as most tests' values are.
    var listed: UInt64 = 0

    static func bit(_ value: Int) -> UInt64 { 1 << UInt64(value & 63) }

    /// The constants `value` can be by its newest entry among the possible ones, if it has one.
    private func possible(_ value: Int, _ arena: FactArena) -> Range<Int>? {
        listed & Self.bit(value) == 0 ? nil : arena.possible(possible, value)
    }

    /// Says `value` can be the members of `arena` from `start` to the end, or (with nil)
    /// that nothing is known of it.
    private mutating func setPossible(_ value: Int, membersFrom start: Int?, _ arena: inout FactArena) {
        possible = arena.setPossible(possible, value, membersFrom: start)
        listed |= Self.bit(value)
    }

    /// The constants `value` can be here, if known: members of `arena`, or the one it is pinned to.
    private func members(of value: Int, _ tests: [TestEntry], _ arena: FactArena) -> Members? {
        if let range = possible(value, arena) { return .range(range) }
        return pinned(value, tests, arena).map { .one($0) }
    }

    private enum Members {
        case range(Range<Int>)
        case one(UInt32)
    }

    /// The constant a `value == k` fact that held pins `value` to, if there is one: the
    /// newest. Two such facts of different constants cannot both hold of a packet, so
    /// which one counts matters only on a way no packet takes (reading the whole list for
    /// the oldest, as before, cost 1.7 % more of the mixes' compile instructions).
    @inline(__always)
    func pinned(_ value: Int, _ tests: [TestEntry], _ arena: FactArena) -> UInt32? {
        guard pinnable & Self.bit(value) != 0 else { return nil }
        var cell = facts.head
        for _ in 0..<facts.count {
            let (fact, older) = arena.fact(at: cell)
            if fact.outcome, tests[fact.test].value == value, tests[fact.test].condition == .eq,
               let k = tests[fact.test].constant {
                return k
            }
            cell = older
        }
        return nil
    }

    /// This knowledge after `test` came out as `outcome`.
    @inline(__always)
    mutating func learn(_ test: Int, _ outcome: Bool, _ tests: [TestEntry], _ arena: inout FactArena) {
        guard let k = tests[test].constant else { return }
        if facts.count == FactList.limit { makeRoom(tests, &arena) }
        facts = arena.add(Fact(test: test, outcome: outcome), to: facts)
        let value = tests[test].value
        named |= Self.bit(value)
        if outcome, tests[test].condition == .eq { pinnable |= Self.bit(value) }
        if let set = possible(value, arena) {
            let condition = tests[test].condition
            let start = arena.membersEnd
            for i in set where FilterTest.evaluate(condition, arena.member(i), k) == outcome { arena.addMember(arena.member(i)) }
            // None left means the path cannot run; forget rather than reason from a contradiction.
            setPossible(value, membersFrom: arena.membersEnd > start ? start : nil, &arena)
        }
    }

    /// Before a fact is added to a full list: the oldest fact, the one it would push out, goes
    /// to the front instead when no other fact of the list is about its value, and so may the
    /// next oldest, up to `moveLimit` (which bounds the work per fact added); the one then
    /// oldest leaves, whatever it says. So of a value with many facts the newest stay, and
    /// a lone fact stays too. A fact that pins a value, leaving or moved, is said among the
    /// possible constants too: `decide` looks there first, before reading the facts.
    @inline(never)
    private mutating func makeRoom(_ tests: [TestEntry], _ arena: inout FactArena) {
        var moves = 0
        while let oldest = arena.oldest(facts) {
            keepPinned(oldest, tests, &arena)
            guard moves < Self.moveLimit,
                  !arena.mentions(facts, newest: Int(facts.count) - 1, tests[oldest.test].value, tests) else { return }
            facts = arena.add(oldest, to: facts)
            moves += 1
        }
    }

    static let moveLimit = 4

    /// A fact about to fall off the list: if it pins a value, that is said among the possible
    /// constants, which the list's length does not limit. So on a long chain (`host a or
    /// host b or ...`) the EtherType test at its start still decides the ones after it.
    private mutating func keepPinned(_ fact: Fact, _ tests: [TestEntry], _ arena: inout FactArena) {
        let value = tests[fact.test].value
        guard fact.outcome, tests[fact.test].condition == .eq, let k = tests[fact.test].constant,
              possible(value, arena) == nil else { return }
        let start = arena.membersEnd
        arena.addMember(k)
        setPossible(value, membersFrom: start, &arena)
    }

    /// The facts that hold on both ways in, and nothing else: for facts about nodes.
    func meetFacts(_ other: Knowledge, _ arena: inout FactArena) -> Knowledge {
        Knowledge(facts: facts == other.facts ? facts : arena.shared(facts, other.facts),
                  named: named | other.named, pinnable: pinnable | other.pinnable)
    }

    /// What holds on both ways in.
    func meet(_ other: Knowledge, _ tests: [TestEntry], _ arena: inout FactArena) -> Knowledge {
        var result = Knowledge(named: named | other.named, pinnable: pinnable | other.pinnable)
        // Oldest first, as the list would have been built.
        result.facts = facts == other.facts ? facts : arena.shared(facts, other.facts)
        // The values both sides pin: only those this side pins need looking at, each once
        // (a value's later entries would find what its first found), with the constant it
        // is pinned to here (`pinned`), found in one walk of the facts.
        let room = arena.possibleEntries(possible) + Int(facts.count)
        withUnsafeTemporaryAllocation(of: (value: Int, pin: UInt32?).self, capacity: room) { values in
            var count = 0
            withUnsafeTemporaryAllocation(of: Int.self, capacity: room) { known in
                for i in 0..<arena.possibleValues(possible, into: known) where !values[..<count].contains(where: { $0.value == known[i] }) {
                    values[count] = (known[i], nil)
                    count += 1
                }
            }
            arena.withFacts(facts) { words in
                for word in words {
                    let fact = Fact(word: word)
                    guard fact.outcome, tests[fact.test].condition == .eq else { continue }
                    let value = tests[fact.test].value
                    if let i = values[..<count].firstIndex(where: { $0.value == value }) {
                        if let k = tests[fact.test].constant { values[i].pin = k }
                    } else {
                        values[count] = (value, tests[fact.test].constant)
                        count += 1
                    }
                }
            }
            result.merge(values[..<count], self, other, tests, &arena)
        }
        return result
    }

    /// For `meet`: each of `values` can be the constants `mine` or `other` allows it, where
    /// both know them and they are few (`memberLimit`). Out of `meet`'s closures, which
    /// capture the arena: each look into it from there copied it (2.6 % of the mixes'
    /// compile instructions, in retains and releases).
    private mutating func merge(_ values: UnsafeMutableBufferPointer<(value: Int, pin: UInt32?)>.SubSequence, _ mine: Knowledge,
                                _ other: Knowledge, _ tests: [TestEntry], _ arena: inout FactArena) {
        for (value, pin) in values {
            // A pin found means an `==` held, whose value `learn` marked pinnable.
            let own = mine.possible(value, arena).map(Members.range) ?? pin.map(Members.one)
            guard let own, let theirs = other.members(of: value, tests, arena) else { continue }
            // The union, mine first, built at the end of the arena's members.
            let start = arena.membersEnd
            Self.add(own, &arena, unlessFrom: nil)
            Self.add(theirs, &arena, unlessFrom: start)
            if arena.membersEnd - start <= Self.memberLimit {
                setPossible(value, membersFrom: start, &arena)
            } else {
                arena.dropMembers(from: start)
            }
        }
    }

    /// Adds `members` to the arena's, each unless one from `start` on is it already.
    private static func add(_ members: Members, _ arena: inout FactArena, unlessFrom start: Int?) {
        switch members {
        case .range(let range):
            for i in range { arena.addMember(arena.member(i), unlessFrom: start) }
        case .one(let k): arena.addMember(k, unlessFrom: start)
        }
    }

    /// Keeps, after `meet`, the facts of either way in that the other's knowledge decides the
    /// same: one way knows the EtherType is not IPv4, the other that it is IPv6. Returns
    /// whether it kept any.
    mutating func keepImplied(_ one: Knowledge, _ other: Knowledge, _ tests: [TestEntry], _ arena: inout FactArena) -> Bool {
        guard one.facts != other.facts else { return false }
        let found = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Int(one.facts.count + other.facts.count)) { words in
            var count = 0
            for (list, decider) in [(one.facts, other), (other.facts, one)] {
                var cell = list.head
                for _ in 0..<list.count {
                    let (fact, older) = arena.fact(at: cell)
                    cell = older
                    if !arena.contains(facts, fact), decider.decide(fact.test, tests, arena) == fact.outcome {
                        words[count] = UInt32(truncatingIfNeeded: fact.test) << 1 | (fact.outcome ? 1 : 0)
                        count += 1
                    }
                }
            }
            return Array(words[..<count])
        }
        for word in found where !arena.contains(facts, Fact(word: word)) {
            if facts.count == FactList.limit { makeRoom(tests, &arena) }
            facts = arena.add(Fact(word: word), to: facts)
        }
        return !found.isEmpty
    }

    /// The outcome of `test` if libpcap's optimizer, knowing the same, settles it: a fact
    /// about the same test, or an `==` that held on the same value, for another `==`. With
    /// `factsNameNodes`, a fact names the node whose test it is about (`nodes`): libpcap's facts
    /// are edges, so paths through two equal tests meet knowing neither.
    func decideLikeLibpcap(_ test: Int, _ tests: [TestEntry], _ arena: FactArena,
                           factsNameNodes nodes: [GraphNode]? = nil) -> Bool? {
        let entry = tests[test]
        var cell = facts.head
        for _ in 0..<facts.count {
            let (fact, older) = arena.fact(at: cell)
            cell = older
            let factTest = nodes.map { $0[fact.test].test } ?? fact.test
            if factTest == test { return fact.outcome }
            let known = tests[factTest]
            if fact.outcome, known.value == entry.value, known.condition == .eq, entry.condition == .eq,
               known.constant != nil, entry.constant != nil {
                return false
            }
        }
        return nil
    }

    /// The outcome of `test` if this knowledge settles it.
    @inline(__always)
    func decide(_ test: Int, _ tests: [TestEntry], _ arena: FactArena) -> Bool? {
        if let k = tests[test].constant {
            let value = tests[test].value
            let condition = tests[test].condition
            if let set = possible(value, arena) {
                if let first = set.first {
                    let outcome = FilterTest.evaluate(condition, arena.member(first), k)
                    if set.allSatisfy({ FilterTest.evaluate(condition, arena.member($0), k) == outcome }) { return outcome }
                }
            } else if pinnable & Self.bit(value) != 0, let only = pinned(value, tests, arena) {
                // One member: `members` without a range.
                return FilterTest.evaluate(condition, only, k)
            }
        }
        // No fact names the value: none decides an `==` or a mask test, and a test of no
        // constant has no facts at all (`learn`).
        if tests[test].constant == nil || (named & Self.bit(tests[test].value) == 0
                                           && (tests[test].condition == .eq || tests[test].condition == .set)) {
            return nil
        }
        return GraphOptimizer.decide(test, facts, arena, tests)
    }
}

/// The places one side of a test passes through, in a buffer the threading pass lends it.
struct Way {
    let places: UnsafeMutableBufferPointer<GraphTarget>
    var count = 0

    init(_ places: UnsafeMutableBufferPointer<GraphTarget>) { self.places = places }

    mutating func append(_ place: GraphTarget) {
        places[count] = place
        count += 1
    }

    func contains(_ place: GraphTarget) -> Bool {
        for i in 0..<count where places[i] == place { return true }
        return false
    }

    /// The first of these places that `other` passes through too.
    func first(in other: Way) -> GraphTarget? {
        for i in 0..<count where other.contains(places[i]) { return places[i] }
        return nil
    }
}

/// What a threading pass does with an edge.
enum ThreadingMode {
    /// Jumps past the tests the edge's facts decide.
    case decided
    /// Also past tests after which every way meets again (`GraphOptimizer.destination`).
    case beyond
}

/// How `.beyond` passes search, and what they did.
struct BeyondSearches {
    /// Off: every `.beyond` pass searches, as before the searches were skipped where they
    /// can find nothing (for a test that they change nothing).
    var skippingFruitless = true
    /// Whether searches follow each way apart too (`WaySearch`); only in a pass not skipped.
    var followingWays = true
    /// Whether a `.beyond` pass was skipped, and whether a search that followed ways apart
    /// changed an edge.
    var skipped = false
    var followedWays = false
    /// Whether a reshaping rule may have changed the graph (`optimize` then checks it).
    var reshaped = false
    /// Whether a merge keeps a test whose exits it makes meet (`mergeEquivalentNodes`).
    var keepingReads = false
}

/// Room for `destination`'s searches, lent by the threading pass: a search marks nodes with
/// its own stamp, so none needs clearing.
struct DestinationSearch {
    let marks: UnsafeMutableBufferPointer<UInt32>
    /// Nodes still to look at, then the nodes found, by where they are in the pass's order.
    let stack: UnsafeMutableBufferPointer<UInt32>
    let found: UnsafeMutableBufferPointer<UInt32>
    /// Each node's place in the pass's topological order.
    let position: UnsafeMutableBufferPointer<UInt32>
    /// How many ways from the nodes swept so far lead into each node.
    let waysIn: UnsafeMutableBufferPointer<UInt32>
    /// How many edges lead into each node.
    let predecessors: UnsafeMutableBufferPointer<UInt32>
    /// 1 for a node whose test a node after it tests too.
    let twins: UnsafeMutableBufferPointer<UInt32>
    /// 1 for a node from which a way may test one value twice: only there can a way learn
    /// what decides a later test.
    let repeats: UnsafeMutableBufferPointer<UInt32>
    /// The steps searches that follow ways apart may take past their own limit.
    var waySteps: WaySteps
    /// The node whose edges the pass is threading.
    var current = 0
    /// Whether searches follow each way apart (`WaySearch`), and whether one found a place.
    var followsWays = true
    var followedWays = false
    var stamp: UInt32 = 0
    var mode = ThreadingMode.decided
    /// After a `.decided` pass that changed edges: whether another would change none.
    var settles = false
    /// Nodes one search may look at: beyond that, it gives up (long expressions).
    static let nodeLimit = 48
    static let parts = 8

    init(_ room: UnsafeMutableBufferPointer<UInt32>, nodes count: Int) {
        func part(_ i: Int) -> UnsafeMutableBufferPointer<UInt32> {
            UnsafeMutableBufferPointer(rebasing: room[(i * count)..<((i + 1) * count)])
        }
        (marks, stack, found, position, waysIn, predecessors) = (part(0), part(1), part(2), part(3), part(4), part(5))
        (twins, repeats) = (part(6), part(7))
        waySteps = WaySteps(nodes: count)
    }
}

/// What `groupChains` knows of a node.
private struct ChainNode {
    var predecessors = 0
    /// The value A holds on the way in, when every way in leaves the same one (a test leaves
    /// its value in A); -1 when not.
    var entryValue = -1
    /// Whether the node is in a chain after its head.
    var inChain = false
}

/// Jump threading over the decision graph: every edge carries the facts known on all paths
/// to it; a test that those facts decide is skipped, its edge sent straight to the side
/// that would be taken. Skipping is safe because a fact names a value that was computed
/// (its loads succeeded) earlier on every path. Rebuilding afterwards drops dead nodes,
/// merges equal ones and removes tests whose two exits meet. Then a test may be merged into
/// a copy threading made (`NodeMerging`) or hoisted above its parent (`TestHoisting`).
enum GraphOptimizer {

    /// `predicate`'s graph optimized with every search.
    static func optimized(_ predicate: PredicateTree, reshaping: Bool = true,
                          followingWays: Bool = true) -> (graph: DecisionGraph, searches: BeyondSearches) {
        var searches = BeyondSearches(followingWays: followingWays)
        let graph = optimized(predicate, &searches, reshaping: reshaping)
        return (graph, searches)
    }

    /// Without `reshaping`, no test is merged into another (`mergeEquivalentNodes`), hoisted
    /// (`hoistTests`) or swapped with the next of a chain (`swapChainTests`), no path split, no
    /// exit sent back (`rejoinExits`), and regrouped chains are not threaded again: the
    /// optimizer as it was before them, which tests compare with.
    static func optimized(_ predicate: PredicateTree, _ searches: inout BeyondSearches, reshaping: Bool = true) -> DecisionGraph {
        // Stores (past `geneve`) are side effects the passes do not know. libpcap does not
        // optimize such filters either: the graph as built, whose code reuses registers.
        guard predicate.arena.genevesWritten == 0 else { return DecisionGraph(unoptimized: predicate) }
        var graph = DecisionGraph(predicate)
        let originalSearches = searches
        // Up to here the graph without the rules is threaded alike: kept for comparing where
        // a `.beyond` pass searched, which costs more than the copy. Elsewhere it is threaded
        // again when needed.
        let searched = threadPasses(&graph, &searches)
        let threaded = reshaping && searched ? (graph, searches) : nil
        applyRules(&graph, &searches, reshaping: reshaping)
        if reshaping {
            hoistTests(&graph, &searches)
            splitPaths(&graph, &searches)
        }
        var reshapedDropped = false
        if reshaping, searches.reshaped {
            reshapedDropped = !keepTruncatedVerdicts(&graph, &searches, threaded ?? {
                var (reference, referenceSearches) = (DecisionGraph(predicate), originalSearches)
                _ = threadPasses(&reference, &referenceSearches)
                return (reference, referenceSearches)
            }())
        }
        if reshaping, shareLoads(&graph) { searches.reshaped = true }
        if reshaping {
            _ = dropRepeatedEqualities(&graph)
            // Where no two edges meet (the graph is a tree), sending an exit back or swapping
            // two tests seldom pays (5 programs of 12,000 random expressions × 5 link types)
            // and made `tcp port 80`'s compile 15 % longer.
            if hasJoin(&graph) {
                rejoinExits(&graph)
                swapChainTests(&graph)
                reorderSwitches(&graph)
                regroupByWaysIn(&graph)
            }
            reorderPairs(&graph)
        }
        if reshapedDropped, !originalSearches.keepingReads {
            // The reshaped graph was given up for reading the packet otherwise, as where a
            // merge made a test's exits meet and dropped it with its load (4 of 12,000 random
            // expressions on Ethernet): merging again, keeping such tests, may still give the
            // shorter program.
            var keeping = originalSearches
            keeping.keepingReads = true
            let kept = optimized(predicate, &keeping)
            if let length = programLength(kept), length < programLength(graph) ?? Int.max { (graph, searches) = (kept, keeping) }
        }
        return graph
    }

    /// The threading passes that begin `optimized`, the same with the reshaping rules or
    /// without; whether a `.beyond` pass searched.
    static func threadPasses(_ graph: inout DecisionGraph, _ searches: inout BeyondSearches) -> Bool {
        // The graph comes shared from the start, and a pass that changed nothing needs no
        // rebuild: only reachable nodes are ever visited, in an order that depends on the
        // graph's shape, not on how its nodes are numbered. So a graph still shared after a
        // pass needs none either: a rebuild would only drop nodes no edge leads to.
        // Looking past undecided tests comes last: jumping over them earlier would split up
        // the shared tails that the other rules drop whole.
        // A `.beyond` pass that can find nothing is a `.decided` one: after a `.decided` pass
        // that changed nothing, or whose changes another would keep, it would change nothing either.
        // Without a join no `.beyond` pass runs.
        let settled = threadUntilSettled(&graph, mode: .decided)
        let joins = hasJoin(&graph)
        searches.skipped = settled && searches.skippingFruitless && joins
            && !mayLookBeyond(graph.cachedTopologicalOrder(), graph.nodes, graph.tests.entries)
        guard joins, !searches.skipped else { return false }
        _ = threadUntilSettled(&graph, mode: .beyond, &searches)
        return true
    }

    /// The rules that follow the threading passes, which a try of a hoist or split runs
    /// again (`adoptIfShorter`).
    static func applyRules(_ graph: inout DecisionGraph, _ searches: inout BeyondSearches, reshaping: Bool) {
        if reshaping, mergeEquivalentNodes(&graph, keepingReads: searches.keepingReads) {
            searches.reshaped = true
            if !graph.isShared { graph = graph.rebuilt() }
        }
        let grouping = groupChains(&graph)
        // A test moved to the head of its chain is known on the shared exit's edges of the
        // tests after it, where that exit tests its value: `stp` on Linux cooked captures
        // tests the protocol (4) before `greater 1000`, whose false exit, testing the protocol
        // again, then knows it. And a test moved next to one of its value may be decided there.
        if reshaping, grouping.decidesMore {
            searches.reshaped = true
            _ = threadUntilSettled(&graph, mode: .decided)
        }
        if grouping.changed, !graph.isShared { graph = graph.rebuilt() }
    }

    /// Threading passes in `mode` until one changes nothing (then true) or, on a graph still
    /// shared and small, until one has changed something (false, unless another `.decided`
    /// pass would change nothing: `settles`), at most 16.
    static func threadUntilSettled(_ graph: inout DecisionGraph, mode: ThreadingMode) -> Bool {
        var searches = BeyondSearches()
        return threadUntilSettled(&graph, mode: mode, &searches)
    }

    private static func threadUntilSettled(_ graph: inout DecisionGraph, mode: ThreadingMode,
                                           _ searches: inout BeyondSearches) -> Bool {
        for _ in 0..<16 {
            let pass = thread(&graph, mode: mode, &searches)
            guard pass.changed else { return true }
            if graph.isShared {
                // Another pass would find the facts this one left on the edges and seldom decide
                // anything new (the `.beyond` pass after the `.decided` ones does it then). With
                // more nodes than a fact list holds, which facts are kept depends on the order
                // paths meet in: pass again.
                if graph.cachedTopologicalOrder().count <= FactList.limit { return pass.settles }
            } else {
                graph = graph.rebuilt()
            }
        }
        return false
    }

    /// Reorders each chain of tests that share an exit — `a or b or c`, all true exits to one
    /// place, or `a and b and c`, all false exits — so that tests of the same value sit
    /// together and A is loaded once for them: `[26] == a, [26] == b, [30] == a, [30] == b`
    /// for `host a or b`; tests of the value A holds on the way in come first. A chain whose
    /// tests share either exit (`a and not b`) is reordered so only where a test after its
    /// head tests the value A holds. Only nodes with no other way in are moved. As with
    /// libpcap's "pull-up" of such tests, a packet too short for a later load may now be
    /// decided by a test that came before it. Also tells whether a chain changed whose shared
    /// exit tests the value of one of its tests, or whose head now tests the value A holds on
    /// the way in: then what is known on an edge may decide more tests than when it was threaded.
    ///
    /// `byWaysIn` regroups only the chains whose ways in leave different values in A, the
    /// group of the value most of them leave first (`regroupByWaysIn`).
    static func groupChains(_ graph: inout DecisionGraph, byWaysIn: Bool = false) -> (changed: Bool, decidesMore: Bool) {
        // What is known of each node, and room for one chain and its tests regrouped, on the
        // machine stack for small graphs (no allocation).
        let count = graph.nodes.count
        return withUnsafeTemporaryAllocation(of: ChainNode.self, capacity: count) { nodes in
            nodes.initialize(repeating: ChainNode())
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { room in
                groupChains(&graph, nodes, chainRoom: UnsafeMutableBufferPointer(rebasing: room[..<count]),
                            groupedRoom: UnsafeMutableBufferPointer(rebasing: room[count...]), byWaysIn: byWaysIn)
            }
        }
    }

    private static func groupChains(_ graph: inout DecisionGraph, _ nodes: UnsafeMutableBufferPointer<ChainNode>,
                                    chainRoom: UnsafeMutableBufferPointer<Int>,
                                    groupedRoom: UnsafeMutableBufferPointer<Int>, byWaysIn: Bool) -> (changed: Bool, decidesMore: Bool) {
        let order = graph.cachedTopologicalOrder()
        let table = graph.tests.entries
        for n in order {
            let node = graph[n]
            let value = table[node.test].value
            func enter(_ target: GraphTarget) {
                guard case .node(let m) = target else { return }
                nodes[m].entryValue = nodes[m].predecessors == 0 || nodes[m].entryValue == value ? value : -1
                nodes[m].predecessors += 1
            }
            enter(node.whenTrue)
            enter(node.whenFalse)
        }
        var changed = false, decidesMore = false
        for head in order where !nodes[head].inChain && (!byWaysIn || nodes[head].entryValue < 0 && nodes[head].predecessors > 1) {
            // False first, without an array per node.
            for side in 0..<2 {
                // Along the head's false exit with its true exit shared (or), or the other way
                // (and); each node after it may share either exit (`a and not b`).
                let shared = graph[head].target(side == 0)
                func along(_ n: Int) -> Bool { graph[n].whenTrue != shared }
                func continues(_ target: GraphTarget) -> Int? {
                    guard case .node(let next) = target, !nodes[next].inChain, nodes[next].predecessors == 1,
                          graph[next].whenTrue == shared || graph[next].whenFalse == shared else { return nil }
                    return next
                }
                guard let second = continues(graph[head].target(along(head))) else { continue }
                // A chain holds a node at most once (the graph has no cycles): it fits its room.
                (chainRoom[0], chainRoom[1]) = (head, second)
                var length = 2
                while length < chainRoom.count, let next = continues(graph[chainRoom[length - 1]].target(along(chainRoom[length - 1]))) {
                    chainRoom[length] = next
                    length += 1
                }
                func value(_ n: Int) -> Int { table[graph[n].test].value }
                // Sharing both exits (`a and not b`), a chain is regrouped only where it tests
                // the value A holds on the way in after its head, as libpcap's program tests it
                // there; elsewhere only up to its first node sharing the other exit, as
                // libpcap's pull-up leaves the others where a cut packet's loads fail.
                let uniform = chainRoom[..<length].prefix { along($0) == along(head) }.count
                if uniform < length, !chainRoom[1..<length].contains(where: { value($0) == nodes[head].entryValue }) {
                    guard uniform > 1 else { continue }
                    length = uniform
                }
                let chain = chainRoom[..<length]
                for n in chain.dropFirst() { nodes[n].inChain = true }
                // Each node's test and the exit it shares, as one number.
                func step(_ n: Int) -> Int { graph[n].test << 1 | (along(n) ? 0 : 1) }
                // The steps grouped by value, each chain node's once; the group of the value A
                // already holds goes first. A step the chain holds twice is kept once: the
                // second copy is reached only where the first took the way along, and so
                // would (a second `not (port …)` chain repeating ports of a first one).
                var filled = 0
                func add(_ n: Int) {
                    guard !groupedRoom[..<filled].contains(step(n)) else { return }
                    groupedRoom[filled] = step(n)
                    filled += 1
                }
                let first = byWaysIn ? mostHeld(chain, into: head, waysIn: nodes[head].predecessors, order, graph.nodes, table) : nodes[head].entryValue
                for n in chain where value(n) == first { add(n) }
                for n in chain where !groupedRoom[..<filled].contains(where: { table[$0 >> 1].value == value(n) }) {
                    for m in chain where value(m) == value(n) { add(m) }
                }
                let grouped = groupedRoom[..<filled]
                guard filled < length || zip(chain, grouped).contains(where: { step($0) != $1 }) else { continue }
                // Each kept node goes on to the next; the last where the chain's last went.
                let beyond = graph[chain[length - 1]].target(along(chain[length - 1]))
                for (i, n) in chain.prefix(filled).enumerated() {
                    let next = i + 1 < filled ? GraphTarget.node(chain[i + 1]) : beyond
                    graph.setTest(of: n, grouped[i] >> 1)
                    if grouped[i] & 1 == 1 {
                        graph.setTargets(of: n, whenTrue: shared, whenFalse: next)
                    } else {
                        graph.setTargets(of: n, whenTrue: next, whenFalse: shared)
                    }
                }
                changed = true
                if case .node(let exit) = shared, chain.contains(where: { value($0) == table[graph[exit].test].value }) {
                    decidesMore = true
                }
                // A test of the value A holds now comes first: the tests before may decide it.
                if value(head) == first { decidesMore = true }
            }
        }
        return (changed, decidesMore)
    }

    /// Of the values `chain` tests, the one that most of the `waysIn` ways into `head` leave
    /// in A (tested last); the head's own where none is left by more.
    private static func mostHeld(_ chain: some Collection<Int>, into head: Int, waysIn: Int, _ order: [Int], _ nodes: [GraphNode],
                                 _ tests: [TestEntry]) -> Int {
        func value(_ n: Int) -> Int { tests[nodes[n].test].value }
        // The value each way in leaves, found in one walk (on the machine stack for small
        // graphs): a long chain would otherwise walk the graph once per test.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: waysIn) { held in
            var count = 0
            for n in order where count < waysIn {
                for outcome in GraphNode.outcomes where nodes[n].target(outcome) == .node(head) {
                    held[count] = value(n)
                    count += 1
                }
            }
            func waysHolding(_ value: Int) -> Int { held[..<count].reduce(0) { $0 + ($1 == value ? 1 : 0) } }
            var most = value(head)
            var mostWays = waysHolding(most)
            for n in chain where value(n) != value(head) {
                let ways = waysHolding(value(n))
                if ways > mostWays { (most, mostWays) = (value(n), ways) }
            }
            return most
        }
    }

    /// One threading pass: whether it changed an edge, and (in `.decided` mode) whether
    /// another pass would change none of them (`settles`).
    private static func thread(_ graph: inout DecisionGraph, mode asked: ThreadingMode,
                               _ searches: inout BeyondSearches) -> (changed: Bool, settles: Bool) {
        var mode = asked
        // Searching past undecided tests starts only at a node two edges lead into. Where
        // none is left, the pass before dropped tests whose exits it made meet, and a test they
        // stood between may now be decided by one before them (in `not (not ((not dst port 443
        // and tcp) or dst port 443) and not udp)`, `tcp` once `sctp` held and the fragment test
        // between them went). There, and where no search can find anything, a `.decided` pass.
        if mode == .beyond, !hasJoin(&graph)
            || searches.skippingFruitless && !mayLookBeyond(graph.cachedTopologicalOrder(), graph.nodes, graph.tests.entries) {
            mode = .decided
        }
        // What is known on the way into each node and where its edges go after threading, in
        // buffers on the machine stack for small graphs: arrays here cost an allocation and a
        // metadata lookup each per pass.
        return withUnsafeTemporaryAllocation(of: Knowledge?.self, capacity: graph.nodes.count) { knownIn in
            knownIn.initialize(repeating: nil)
            defer { knownIn.deinitialize() }
            // The targets, then room for the two ways a node's sides take (each passes a node
            // at most once, then ends in a verdict).
            let wayCapacity = graph.nodes.count + 1
            return withUnsafeTemporaryAllocation(of: GraphTarget.self, capacity: graph.nodes.count * 2 + 2 * wayCapacity) { buffer in
                let targets = UnsafeMutableBufferPointer(rebasing: buffer[..<(graph.nodes.count * 2)])
                var ways = (Way(UnsafeMutableBufferPointer(rebasing: buffer[(graph.nodes.count * 2)...].prefix(wayCapacity))),
                            Way(UnsafeMutableBufferPointer(rebasing: buffer.suffix(wayCapacity))))
                let order = graph.cachedTopologicalOrder()
                // The searches' room only for a pass that searches.
                let searched = mode == .beyond ? graph.nodes.count : 0
                let pass = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: searched * DestinationSearch.parts) { room in
                    room.initialize(repeating: 0)
                    var search = DestinationSearch(room, nodes: searched)
                    search.mode = mode
                    search.followsWays = searches.followingWays
                    defer { searches.followedWays = searches.followedWays || search.followedWays }
                    for (i, n) in order.enumerated() where searched > 0 {
                        search.position[n] = UInt32(truncatingIfNeeded: i)
                        for outcome in GraphNode.outcomes {
                            if case .node(let m) = graph.nodes[n].target(outcome) { search.predecessors[m] += 1 }
                        }
                    }
                    if searched > 0, searches.followingWays {
                        markTwins(order, graph.nodes, tests: graph.tests.entries.count, search.twins)
                        markRepeats(order, graph.nodes, graph.tests.entries, search.repeats)
                    }
                    let changed = thread(graph.nodes, graph.root, graph.tests.entries, graph.index, order, knownIn, targets, &ways, &search)
                    return (changed: changed, settles: search.settles)
                }
                // Edges change only now: a pass reads every node as it was, which is what it
                // would see anyway, as a node's successors come after it in the order.
                guard pass.changed else { return (false, false) }
                for n in order where knownIn[n] != nil {
                    graph.setTargets(of: n, whenTrue: targets[2 * n], whenFalse: targets[2 * n + 1])
                }
                return pass
            }
        }
    }

    /// Marks the nodes of `order` whose test a node after them tests too: a twin laid out
    /// after the node threaded is one after the node itself, but for those in between.
    private static func markTwins(_ order: [Int], _ nodes: [GraphNode], tests: Int, _ twins: UnsafeMutableBufferPointer<UInt32>) {
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: tests) { seen in
            seen.initialize(repeating: false)
            for n in order.reversed() {
                if seen[nodes[n].test] { twins[n] = 1 }
                seen[nodes[n].test] = true
            }
        }
    }

    /// Marks the nodes of `order` from which a way may test one value twice (values told
    /// apart as `Knowledge.named` does, which can only mark too many); the values tested
    /// after each node on the machine stack for small graphs.
    private static func markRepeats(_ order: [Int], _ nodes: [GraphNode], _ tests: [TestEntry],
                                    _ repeats: UnsafeMutableBufferPointer<UInt32>) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: nodes.count) { after in
            for n in order.reversed() {
                var mask: UInt64 = 0
                var repeated = false
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = nodes[n].target(outcome) else { continue }
                    mask |= after[m] | Knowledge.bit(tests[nodes[m].test].value)
                    repeated = repeated || repeats[m] != 0
                }
                after[n] = mask
                if repeated || mask & Knowledge.bit(tests[nodes[n].test].value) != 0 { repeats[n] = 1 }
            }
        }
    }

    /// Whether two edges lead into one node: a count per node on the machine stack.
    static func hasJoin(_ graph: inout DecisionGraph) -> Bool {
        let order = graph.cachedTopologicalOrder()
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: graph.nodes.count) { entered in
            entered.initialize(repeating: false)
            for n in order {
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = graph.nodes[n].target(outcome) else { continue }
                    if entered[m] { return true }
                    entered[m] = true
                }
            }
            return false
        }
    }

    /// Whether a `.beyond` search could find anything. One starts only at a node two edges
    /// lead into, whose test the edge's knowledge does not decide, and finds something only
    /// where that knowledge decides a test after it; the knowledge names only values tested
    /// above the node. So where no such node has a value tested both above and after it, a
    /// `.beyond` pass does what a `.decided` one does.
    /// `Knowledge.named` tells values apart here (which can only answer yes too often); the
    /// values tested above each node and after it are on the machine stack for small graphs.
    private static func mayLookBeyond(_ order: [Int], _ nodes: [GraphNode], _ tests: [TestEntry]) -> Bool {
        joinsTestingAgain(order, nodes, tests) { _ in true }
    }

    /// Calls `found` with each node two edges lead into that has a value (`Knowledge.bit`)
    /// tested both above and after it, the last in `order` first, until it returns true
    /// (then true). Only there may what a way in knows decide a test below the node that
    /// the node's knowledge does not.
    static func joinsTestingAgain(_ order: [Int], _ nodes: [GraphNode], _ tests: [TestEntry],
                                  _ found: (Int) -> Bool) -> Bool {
        let count = nodes.count
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * count) { room in
            room.initialize(repeating: 0)
            let (above, after, waysIn) = (UnsafeMutableBufferPointer(rebasing: room[..<count]),
                                          UnsafeMutableBufferPointer(rebasing: room[count..<(2 * count)]),
                                          UnsafeMutableBufferPointer(rebasing: room[(2 * count)...]))
            func bit(_ n: Int) -> UInt64 { Knowledge.bit(tests[nodes[n].test].value) }
            for n in order {
                for outcome in GraphNode.outcomes {
                    guard case .node(let m) = nodes[n].target(outcome) else { continue }
                    above[m] |= above[n] | bit(n)
                    waysIn[m] += 1
                }
            }
            for n in order.reversed() {
                var mask: UInt64 = 0
                for outcome in GraphNode.outcomes {
                    if case .node(let m) = nodes[n].target(outcome) { mask |= after[m] | bit(m) }
                }
                after[n] = mask
                if waysIn[n] > 1, above[n] & mask != 0, found(n) { return true }
            }
            return false
        }
    }

    /// One threading pass over a graph's nodes: the new targets of each node reached go to
    /// `targets` (true at 2n, false at 2n + 1). The parts, not the graph: passing the graph
    /// from inside the closure above copied it.
    private static func thread(_ nodes: [GraphNode], _ root: GraphTarget, _ tests: [TestEntry], _ index: NodeIndex, _ order: [Int],
                               _ knownIn: UnsafeMutableBufferPointer<Knowledge?>,
                               _ targets: UnsafeMutableBufferPointer<GraphTarget>, _ ways: inout (Way, Way),
                               _ search: inout DestinationSearch) -> Bool {
        var arena = FactArena(capacity: order.count * 8)
        if case .node(let start) = root { knownIn[start] = Knowledge() }
        var changed = false
        // Whether two ways lead into a node of the threaded graph.
        var joined = false
        for n in order {
            guard let before = knownIn[n] else { continue }
            let node = nodes[n]
            var trueKnown = before, falseKnown = before
            // Two verdicts need no knowledge. Otherwise both sides learn the outcome: one
            // side's knowledge may be asked about the other side's exit below.
            guard node.whenTrue.isNode || node.whenFalse.isNode else {
                targets[2 * n] = node.whenTrue
                targets[2 * n + 1] = node.whenFalse
                continue
            }
            trueKnown.learn(node.test, true, tests, &arena)
            falseKnown.learn(node.test, false, tests, &arena)
            search.current = n
            var whenTrue = walk(from: node.whenTrue, trueKnown, nodes, tests, index, &arena, into: &ways.0, &search)
            var whenFalse = walk(from: node.whenFalse, falseKnown, nodes, tests, index, &arena, into: &ways.1, &search)
            // The test cannot change where a packet ends up when both sides reach one place
            // through tests they decide, or when one side's packets would end where they do
            // now if they took the other side's exit: then both go there, the exits meet and
            // the rebuild drops the test.
            if let meeting = ways.1.first(in: ways.0) {
                (whenTrue, whenFalse) = (meeting, meeting)
            } else if mayDecideOtherSide(node, ways.0, nodes, tests),
                      reaches(from: node.whenTrue, falseKnown, nodes, tests, arena, anyOf: ways.1) {
                (whenTrue, whenFalse) = (node.whenTrue, node.whenTrue)
            } else if mayDecideOtherSide(node, ways.1, nodes, tests),
                      reaches(from: node.whenFalse, trueKnown, nodes, tests, arena, anyOf: ways.0) {
                (whenTrue, whenFalse) = (node.whenFalse, node.whenFalse)
            }
            if whenTrue != node.whenTrue || whenFalse != node.whenFalse { changed = true }
            func enter(_ target: GraphTarget, _ known: Knowledge) {
                guard case .node(let m) = target else { return }
                guard let earlier = knownIn[m] else {
                    knownIn[m] = known
                    return
                }
                joined = true
                knownIn[m] = earlier.meet(known, tests, &arena)
                if search.mode == .beyond, search.followsWays, knownIn[m]?.keepImplied(earlier, known, tests, &arena) == true {
                    search.followedWays = true
                }
            }
            enter(whenTrue, trueKnown)
            enter(whenFalse, falseKnown)
            targets[2 * n] = whenTrue
            targets[2 * n + 1] = whenFalse
        }
        // Without a join no `.beyond` pass follows, which is what the answer is for.
        if changed, joined, search.mode == .decided {
            search.settles = settles(nodes, tests, index, order, knownIn, targets, &arena, &ways, &search)
        }
        return changed
    }

    /// Whether another `.decided` pass over the threaded graph would keep every edge. At each
    /// node it would know what this pass knew (the same ways in, met in another order), so
    /// its walks would stop at the targets set here and the ways would not meet (else the
    /// graph is no longer shared and is rebuilt). Only the rules that take a side's exit for
    /// the other side could change an edge, and only where a side's first test is of the
    /// node's own value (`mayDecideOtherSide`): those nodes are looked at as that pass would.
    @inline(never)
    private static func settles(_ nodes: [GraphNode], _ tests: [TestEntry], _ index: NodeIndex, _ order: [Int],
                                _ knownIn: UnsafeMutableBufferPointer<Knowledge?>, _ targets: UnsafeMutableBufferPointer<GraphTarget>,
                                _ arena: inout FactArena, _ ways: inout (Way, Way), _ search: inout DestinationSearch) -> Bool {
        var threaded = nodes
        for n in order where knownIn[n] != nil {
            (threaded[n].whenTrue, threaded[n].whenFalse) = (targets[2 * n], targets[2 * n + 1])
        }
        func ofSameValue(_ target: GraphTarget, _ node: GraphNode) -> Bool {
            guard case .node(let m) = target else { return false }
            return tests[threaded[m].test].value == tests[node.test].value
        }
        for n in order {
            guard let before = knownIn[n] else { continue }
            let node = threaded[n]
            guard ofSameValue(node.whenTrue, node) || ofSameValue(node.whenFalse, node) else { continue }
            var trueKnown = before, falseKnown = before
            trueKnown.learn(node.test, true, tests, &arena)
            falseKnown.learn(node.test, false, tests, &arena)
            let whenTrue = walk(from: node.whenTrue, trueKnown, threaded, tests, index, &arena, into: &ways.0, &search)
            let whenFalse = walk(from: node.whenFalse, falseKnown, threaded, tests, index, &arena, into: &ways.1, &search)
            if whenTrue != node.whenTrue || whenFalse != node.whenFalse || ways.1.first(in: ways.0) != nil { return false }
            if mayDecideOtherSide(node, ways.0, threaded, tests),
               reaches(from: node.whenTrue, falseKnown, threaded, tests, arena, anyOf: ways.1) {
                return false
            }
            if mayDecideOtherSide(node, ways.1, threaded, tests),
               reaches(from: node.whenFalse, trueKnown, threaded, tests, arena, anyOf: ways.0) {
                return false
            }
        }
        return true
    }

    /// Where a packet that `known` describes goes from `start`, past the tests `known`
    /// decides and past those after which every way meets again; every place on the way,
    /// `start` first, into `way`. Inlined always (not `__always`, which Swift 6.3 took as a
    /// hint and did not follow here once the pass lost its libpcap mode: +1.5 % of `tcp port
    /// 80`'s compile instructions).
    @inline(always)
    private static func walk(from start: GraphTarget, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry],
                             _ index: NodeIndex, _ arena: inout FactArena, into way: inout Way,
                             _ search: inout DestinationSearch) -> GraphTarget {
        way.count = 0
        var target = start
        while true {
            way.append(target)
            guard case .node(let m) = target else { return target }
            if let decided = known.decide(nodes[m].test, tests, arena) {
                target = nodes[m].target(decided)
            } else if search.mode == .beyond,
                      // Only where other paths lead too: there what this path knows was lost
                      // where they meet. A node with one way in knows all this edge knows, and
                      // the search from its own edges finds the rest.
                      search.predecessors[m] > 1,
                      let next = destination(from: m, known, nodes, tests, arena, &search),
                      next != .accept || destination(from: m, known, nodes, tests, arena, &search, likeLibpcap: true) == .accept {
                // Skipping loads to the accept keeps a packet too short for them, which libpcap's
                // program drops unless its optimizer skipped them too: only then.
                target = next
            } else if search.mode == .beyond, search.followsWays, search.predecessors[m] > 1, search.repeats[m] != 0,
                      let next = learnedDestination(from: m, known, nodes, tests, &arena, &search) {
                search.followedWays = true
                target = next
            } else if search.mode == .beyond, search.followsWays, search.twins[m] != 0, search.repeats[m] != 0,
                      let twin = twin(of: m, known, nodes, tests, index, &arena, &search) {
                search.followedWays = true
                // The twin's sides are decided as this node's would be: no further.
                way.append(twin)
                return twin
            } else {
                return target
            }
        }
    }

    /// The last place every packet that `known` describes passes through from node `start`
    /// on, found by following each way on its own (`WaySearch`), where `destination` finds none.
    @inline(never)
    private static func learnedDestination(from start: Int, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry],
                                           _ arena: inout FactArena, _ search: inout DestinationSearch) -> GraphTarget? {
        let mark = arena.mark
        defer { arena.rewind(to: mark) }
        return WaySearch.commonPlaces(from: (.node(start), known), nodes, tests, &arena,
                                      position: search.position, pool: &search.waySteps) { found, _ in
            // Skipping loads to the accept keeps a packet too short for them.
            guard let (places, loadsAnew) = found, var last = places.indices.last else { return nil }
            if places[last] == .accept, loadsAnew { last -= 1 }
            return last > 0 ? places[last] : nil
        }
    }

    /// Another node with node `m`'s test whose sides lead to places that `m`'s sides pass
    /// through for a packet that `known` describes: `portrange 1000-2000 or udp` tests
    /// whether a UDP packet is a fragment once for the range's ports and once more before
    /// `udp`'s own ports, and a UDP packet's first fragment test can be the second one.
    /// Only a node laid out after the one being threaded: the pass has yet to look at it.
    @inline(never)
    private static func twin(of m: Int, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry], _ index: NodeIndex,
                             _ arena: inout FactArena, _ search: inout DestinationSearch) -> GraphTarget? {
        let mark = arena.mark
        defer { arena.rewind(to: mark) }
        let node = nodes[m]
        var whenTrue = known, whenFalse = known
        whenTrue.learn(node.test, true, tests, &arena)
        whenFalse.learn(node.test, false, tests, &arena)
        let (position, current) = (search.position, search.current)
        let predecessors = search.predecessors
        return WaySearch.commonPlaces(from: (node.whenTrue, whenTrue), and: (node.whenFalse, whenFalse),
                                      nodes, tests, &arena, position: position, pool: &search.waySteps) { trueSide, falseSide in
            guard let trueSide, let falseSide else { return nil }
            // Skipping loads to the accept keeps a packet too short for them.
            for a in trueSide.places where !(a == .accept && trueSide.loadsAnew) {
                for b in falseSide.places where !(b == .accept && falseSide.loadsAnew) && a != b {
                    guard a != node.whenTrue || b != node.whenFalse,
                          let twin = index.existing(GraphNode(test: node.test, whenTrue: a, whenFalse: b), in: nodes),
                          predecessors[twin] > 0, position[twin] > position[current] else { continue }
                    return .node(twin)
                }
            }
            return nil
        }
    }

    /// The place every packet that `known` describes passes through from node `start` on,
    /// the first after it, if there is one: each test `known` does not decide may go either
    /// way. libpcap keeps each primitive's tests apart, so what one path knows reaches tests
    /// that our shared nodes see only after paths meet (`port 53 and udp`: an SCTP packet is
    /// rejected before its port is looked at); this finds the same on our graph.
    private static func destination(from start: Int, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry],
                                    _ arena: FactArena, _ search: inout DestinationSearch,
                                    likeLibpcap: Bool = false) -> GraphTarget? {
        search.stamp &+= 1
        let stamp = search.stamp
        // The nodes reachable, each marked once.
        search.marks[start] = stamp
        search.stack[0] = UInt32(truncatingIfNeeded: start)
        var top = 1, count = 0
        var decidedAny = false
        while top > 0 {
            top -= 1
            let n = Int(search.stack[top])
            guard count < DestinationSearch.nodeLimit else { return nil }
            search.waysIn[n] = 0
            let decided = likeLibpcap ? known.decideLikeLibpcap(nodes[n].test, tests, arena) : known.decide(nodes[n].test, tests, arena)
            // The node and what `known` decides of it: << 2 | 0 (nothing), 2 (false), 3 (true).
            search.found[count] = UInt32(truncatingIfNeeded: n) << 2 | (decided.map { $0 ? 3 : 2 } ?? 0)
            count += 1
            decidedAny = decidedAny || decided != nil
            for outcome in GraphNode.outcomes where decided == nil || decided == outcome {
                guard case .node(let next) = nodes[n].target(outcome), search.marks[next] != stamp else { continue }
                search.marks[next] = stamp
                search.stack[top] = UInt32(truncatingIfNeeded: next)
                top += 1
            }
        }
        // Where `known` decides nothing, the ways meet (if they do) whatever the path: the
        // other rules see that at the node itself.
        guard decidedAny else { return nil }
        // In the pass's order (insertion sort: a few nodes).
        for i in 1..<max(1, count) {
            let n = search.found[i]
            var j = i
            while j > 0, search.position[Int(search.found[j - 1] >> 2)] > search.position[Int(n >> 2)] {
                search.found[j] = search.found[j - 1]
                j -= 1
            }
            search.found[j] = n
        }
        // Swept in order, counting the ways still open: a node that all of them lead into is
        // on every way. `start` comes first.
        var open = 0, intoAccept = 0, intoReject = 0
        for i in 0..<count {
            let n = Int(search.found[i] >> 2)
            if i > 0, Int(search.waysIn[n]) == open { return .node(n) }
            open -= Int(search.waysIn[n])
            let decided: Bool? = search.found[i] & 2 == 0 ? nil : search.found[i] & 1 == 1
            for outcome in GraphNode.outcomes where decided == nil || decided == outcome {
                open += 1
                switch nodes[n].target(outcome) {
                case .node(let next): search.waysIn[next] += 1
                case .accept: intoAccept += 1
                case .reject: intoReject += 1
                }
            }
        }
        if open == intoReject { return .reject }
        if open == intoAccept { return .accept }
        return nil
    }

    /// Whether the other side's knowledge could take a different first step along `way`
    /// than this side's did. The sides differ only in what they know of the value `node`
    /// tests, and deciding a test looks only at its own value's facts: a first test of
    /// another value is decided alike on both sides. Then, when this side did not pass it,
    /// neither would the other, and the walk would stop where the meeting check already looked.
    private static func mayDecideOtherSide(_ node: GraphNode, _ way: Way, _ nodes: [GraphNode], _ tests: [TestEntry]) -> Bool {
        guard way.count > 0, case .node(let first) = way.places[0] else { return false }
        return way.count > 1 || tests[nodes[first].test].value == tests[node.test].value
    }

    /// Whether a packet that `known` describes passes through one of `places` from `start`;
    /// false too when that takes more than `reachLimit` tests. Without the bound a chain of one
    /// value's tests, grouped (`not (port 1 or ... or port 901) and udp port 53`), costs each
    /// of its nodes a walk past every later test of the chain, decided by the `==` that held.
    private static func reaches(from start: GraphTarget, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry],
                                _ arena: FactArena, anyOf places: Way) -> Bool {
        var target = start
        for _ in 0..<reachLimit {
            if places.contains(target) { return true }
            guard case .node(let m) = target, let decided = known.decide(nodes[m].test, tests, arena) else { return false }
            target = nodes[m].target(decided)
        }
        return false
    }

    static let reachLimit = 64

    /// The outcome of `test` if `facts` settle it.
    static func decide(_ number: Int, _ facts: FactList, _ arena: FactArena, _ tests: [TestEntry]) -> Bool? {
        // The facts are read newest first, straight from the arena. A fact that settles the
        // question alone (`earliest`) counts only if no older one does, as if read oldest first.
        var earliest: Bool??
        var cell = facts.head
        guard let c = tests[number].constant else {
            for _ in 0..<facts.count {
                let (fact, older) = arena.fact(at: cell)
                if fact.test == number { earliest = fact.outcome }
                cell = older
            }
            return earliest ?? nil
        }
        let condition = tests[number].condition
        let value = tests[number].value
        // What the facts say about the value: an interval, and — told as they come, so that
        // nothing is collected — whether it is known not to be c and what its masks say of c.
        var low: UInt32 = 0
        var high: UInt32 = .max
        var excludesC = false
        var clearMaskMeetsC = false, clearMaskCoversC = false
        var setMaskMissesC = false, setMaskWithinC = false
        for _ in 0..<facts.count {
            let (fact, older) = arena.fact(at: cell)
            cell = older
            guard tests[fact.test].value == value else { continue }
            if fact.test == number {
                earliest = fact.outcome
                continue
            }
            guard let k = tests[fact.test].constant else { continue }
            switch (tests[fact.test].condition, fact.outcome) {
            case (.eq, true): earliest = FilterTest.evaluate(condition, k, c)
            case (.eq, false): if k == c { excludesC = true }
            case (.gt, true): if k == .max { earliest = .some(nil) } else { low = max(low, k + 1) }
            case (.gt, false): high = min(high, k)
            case (.ge, true): low = max(low, k)
            case (.ge, false): if k == 0 { earliest = .some(nil) } else { high = min(high, k - 1) }
            case (.set, true):
                if c & k == 0 { setMaskMissesC = true }
                if k & ~c == 0 { setMaskWithinC = true }
            case (.set, false):
                if c & k != 0 { clearMaskMeetsC = true }
                if c & ~k == 0 { clearMaskCoversC = true }
            }
        }
        if let earliest { return earliest }
        // Contradictory facts mean the path cannot run; leave it alone.
        guard low <= high else { return nil }
        if low == high { return FilterTest.evaluate(condition, low, c) }
        switch condition {
        case .eq:
            if c < low || c > high || excludesC { return false }
            if clearMaskMeetsC { return false }
            if setMaskMissesC { return false }
        case .gt:
            if low > c { return true }
            if high <= c { return false }
        case .ge:
            if low >= c { return true }
            if high < c { return false }
        case .set:
            if clearMaskCoversC { return false }
            if setMaskWithinC { return true }
            if high < c & (~c &+ 1) { return false }  // below the lowest bit tested
        }
        return nil
    }
}
