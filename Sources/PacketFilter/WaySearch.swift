/// A search that follows each way past an undecided test on its own, knowing its outcome
/// from then on. `destination` knows only what held on the edge it starts from, so it misses
/// places that every way reaches only because of what each way learns: after `port 53` a
/// TCP, UDP or SCTP packet whose port matched meets a second `port 53`, whose protocol tests
/// each take it to the same port test, decided true — but only for a way that remembers
/// which protocols it has already ruled out. libpcap, which keeps each primitive's tests
/// apart, finds such places by its edge facts alone.
struct WaySearch {
    /// Tests one search may look at: beyond that, it gives up (long expressions).
    static let stepLimit = 64
    private var steps = 0
    /// Whether a test on the way reads a value that the knowledge it started from does not
    /// name: skipping it to the accept would keep a packet too short for that load.
    private var loadsAnew = false
    private let start: Knowledge
    /// The way being followed, and the places on every way followed so far in the order
    /// each way passes them (the same on every way: the graph has no cycles), -1 places
    /// before the first way ends. Lent by `commonPlaces`: a way is at most one place per step.
    private let way: UnsafeMutableBufferPointer<GraphTarget>
    private var wayCount = 0
    private let common: UnsafeMutableBufferPointer<GraphTarget>
    private var commonCount = -1

    private init(_ known: Knowledge, _ room: UnsafeMutableBufferPointer<GraphTarget>) {
        start = known
        way = UnsafeMutableBufferPointer(rebasing: room[..<(Self.stepLimit + 1)])
        common = UnsafeMutableBufferPointer(rebasing: room[(Self.stepLimit + 1)...])
    }

    /// What a search found: the places every way passes through (its start first), and
    /// whether a test on those ways reads a value the starting knowledge does not name.
    typealias Found = (places: UnsafeMutableBufferPointer<GraphTarget>, loadsAnew: Bool)

    /// Calls `body` with what searches from `first` and from `second` found for a packet
    /// that each one's knowledge describes, nil for one that gave up (or was not asked). The
    /// places are on the machine stack: no allocation.
    static func commonPlaces<Result>(from first: (GraphTarget, Knowledge), and second: (GraphTarget, Knowledge)? = nil,
                                     _ nodes: [GraphNode], _ tests: [TestEntry], _ arena: inout FactArena,
                                     _ body: (Found?, Found?) -> Result) -> Result {
        let size = 2 * (stepLimit + 1)
        return withUnsafeTemporaryAllocation(of: GraphTarget.self, capacity: 2 * size) { room in
            func search(_ start: (GraphTarget, Knowledge)?, _ part: Int) -> Found? {
                guard let (target, known) = start else { return nil }
                var search = WaySearch(known, UnsafeMutableBufferPointer(rebasing: room[(part * size)..<((part + 1) * size)]))
                guard search.follow(target, known, nodes, tests, &arena), search.commonCount > 0 else { return nil }
                return (UnsafeMutableBufferPointer(rebasing: search.common[..<search.commonCount]), search.loadsAnew)
            }
            let found = search(first, 0)
            return body(found, search(second, 1))
        }
    }

    /// Follows every way of a packet that `known` describes from `target` to its verdict,
    /// keeping the places all of them pass through; false when it gives up.
    private mutating func follow(_ target: GraphTarget, _ known: Knowledge, _ nodes: [GraphNode], _ tests: [TestEntry],
                                 _ arena: inout FactArena) -> Bool {
        let depth = wayCount
        defer { wayCount = depth }
        var target = target
        while true {
            guard steps < Self.stepLimit else { return false }
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
            var whenTrue = known, whenFalse = known
            whenTrue.learn(test, true, tests, &arena)
            whenFalse.learn(test, false, tests, &arena)
            return follow(nodes[n].whenTrue, whenTrue, nodes, tests, &arena)
                && follow(nodes[n].whenFalse, whenFalse, nodes, tests, &arena)
        }
    }

    /// Keeps of the common places those the way that just ended passed through.
    private mutating func keepCommon() {
        let way = self.way[..<wayCount]
        guard commonCount >= 0 else {
            for (i, place) in way.enumerated() { common[i] = place }
            commonCount = way.count
            return
        }
        var kept = 0
        for i in 0..<commonCount where way.contains(common[i]) {
            common[kept] = common[i]
            kept += 1
        }
        commonCount = kept
    }
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
