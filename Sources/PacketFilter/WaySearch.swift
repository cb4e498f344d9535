/// A search that follows each way past an undecided test on its own, knowing its outcome
/// from then on. `destination` knows only what held on the edge it starts from, so it misses
/// places that every way reaches only because of what each way learns: after `port 53` a
/// TCP, UDP or SCTP packet whose port matched meets a second `port 53`, whose protocol tests
/// each take it to the same port test, decided true — but only for a way that remembers
/// which protocols it has already ruled out. libpcap, which keeps each primitive's tests
/// apart, finds such places by its edge facts alone.
struct WaySearch {
    /// Tests one search may look at, and more from a pass's pool (`WaySteps`): beyond that,
    /// it gives up (long expressions).
    static let stepLimit = 64
    private let limit: Int
    private var steps = 0
    /// Whether a test on the way reads a value that the knowledge it started from does not
    /// name: skipping it to the accept would keep a packet too short for that load.
    private var loadsAnew = false
    private let start: Knowledge
    /// Each node's place in the pass's order: ways pass nodes in that order, so keeping the
    /// places common to two ways is one merge.
    private let position: UnsafeMutableBufferPointer<UInt32>
    /// The way being followed, and the places on every way followed so far in the order
    /// each way passes them, -1 places before the first way ends. Lent by `commonPlaces`: a
    /// way is at most one place per step.
    private let way: UnsafeMutableBufferPointer<GraphTarget>
    private var wayCount = 0
    private let common: UnsafeMutableBufferPointer<GraphTarget>
    private var commonCount = -1

    private init(_ known: Knowledge, limit: Int, _ position: UnsafeMutableBufferPointer<UInt32>,
                 _ room: UnsafeMutableBufferPointer<GraphTarget>) {
        (start, self.limit, self.position) = (known, limit, position)
        way = UnsafeMutableBufferPointer(rebasing: room[..<(limit + 1)])
        common = UnsafeMutableBufferPointer(rebasing: room[(limit + 1)...])
    }

    /// What a search found: the places every way passes through (its start first), and
    /// whether a test on those ways reads a value the starting knowledge does not name.
    typealias Found = (places: UnsafeMutableBufferPointer<GraphTarget>, loadsAnew: Bool)

    /// Calls `body` with what searches from `first` and from `second` found for a packet
    /// that each one's knowledge describes, nil for one that gave up (or was not asked).
    /// `position` is each node's place in the pass's order; the steps past `stepLimit` come
    /// from `pool`. The places are on the machine stack for short searches.
    static func commonPlaces<Result>(from first: (GraphTarget, Knowledge), and second: (GraphTarget, Knowledge)? = nil,
                                     _ nodes: [GraphNode], _ tests: [TestEntry], _ arena: inout FactArena,
                                     position: UnsafeMutableBufferPointer<UInt32>, pool: inout WaySteps,
                                     _ body: (Found?, Found?) -> Result) -> Result {
        // A search may draw up to a graph's worth of steps from the pool.
        func allowance() -> Int { stepLimit + min(pool.left, nodes.count) }
        let limit = allowance()
        let size = 2 * (limit + 1)
        return withUnsafeTemporaryAllocation(of: GraphTarget.self, capacity: 2 * size) { room in
            func search(_ start: (GraphTarget, Knowledge)?, _ part: Int) -> Found? {
                guard let (target, known) = start else { return nil }
                // The first search may have drawn on the pool: never more than the room holds.
                var search = WaySearch(known, limit: min(limit, allowance()), position,
                                       UnsafeMutableBufferPointer(rebasing: room[(part * size)..<(part * size + size)]))
                let finished = search.follow(target, known, nodes, tests, &arena)
                pool.left -= max(0, search.steps - stepLimit)
                guard finished, search.commonCount > 0 else { return nil }
                return (UnsafeMutableBufferPointer(rebasing: search.common[..<search.commonCount]), search.loadsAnew)
            }
            let found = search(first, 0)
            return body(found, search(second, 1))
        }
    }

    /// Follows every way of a packet that `known` describes from `target` to its verdict,
    /// keeping the places all of them pass through; false when it gives up. One side of
    /// each test is followed in a call, the other in this loop: a side that ends at once
    /// (`port 1 or port 2 or ...` rejects, the next port test) then costs no depth.
    private mutating func follow(_ target: GraphTarget, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry],
                                 _ arena: inout FactArena) -> Bool {
        let depth = wayCount
        defer { wayCount = depth }
        var target = target, known = known
        while true {
            guard steps < limit else { return false }
            way[wayCount] = target
            wayCount += 1
            guard case .node(let n) = target else {
                keepCommon()
                return true
            }
            steps += 1
            let test = nodes[n].test
            if let decided = known.decide(test, tests, arena) {
                target = nodes[n].target(decided)
                continue
            }
            if !start.names(tests[test].value, tests, arena) { loadsAnew = true }
            // The side that is a verdict, else the true side, in a call.
            let called = !nodes[n].whenTrue.isNode || nodes[n].whenFalse.isNode
            var other = known
            other.learn(test, called, tests, &arena)
            known.learn(test, !called, tests, &arena)
            guard follow(nodes[n].target(called), other, nodes, tests, &arena) else { return false }
            target = nodes[n].target(!called)
        }
    }

    /// Keeps of the common places those the way that just ended passed through: both lists
    /// are in the pass's order, a verdict last, so each common place is looked up by halves.
    private mutating func keepCommon() {
        guard commonCount >= 0 else {
            for i in 0..<wayCount { common[i] = way[i] }
            commonCount = wayCount
            return
        }
        func order(_ place: GraphTarget) -> UInt32 {
            if case .node(let n) = place { return position[n] }
            return .max
        }
        var kept = 0, low = 0
        for i in 0..<commonCount {
            let place = common[i], at = order(place)
            // The first place of the way from `low` on not before `place`.
            var high = wayCount
            while low < high {
                let middle = (low + high) / 2
                if order(way[middle]) < at { low = middle + 1 } else { high = middle }
            }
            guard low < wayCount else { break }
            if way[low] == place {
                common[kept] = place
                kept += 1
            }
        }
        commonCount = kept
    }
}

/// The steps past `WaySearch.stepLimit` that a threading pass's searches may take together:
/// a few per node, so that a long chain's search (`not (port 1 or ... or port 300) and udp`
/// follows each port test) can finish while the pass's work stays in proportion to the graph.
struct WaySteps {
    var left: Int
    static let perNode = 8

    init(nodes: Int) { left = Self.perNode * nodes }
}

extension Knowledge {
    /// Whether a fact or a set of possible constants names `value`: then it was computed
    /// (its loads succeeded) on every way here.
    func names(_ value: Int, _ tests: [TestEntry], _ arena: FactArena) -> Bool {
        guard named & Self.bit(value) != 0 else { return false }
        if arena.mentions(possible, value) { return true }
        var cell = facts.head
        for _ in 0..<facts.count {
            let (fact, older) = arena.fact(at: cell)
            if tests[fact.test].value == value { return true }
            cell = older
        }
        return false
    }
}
