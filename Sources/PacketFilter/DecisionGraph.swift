import ClassicBPF

/// Where a test leads: to another test or to a verdict.
enum GraphTarget: Hashable, Sendable {
    case accept, reject
    case node(Int)

    var isNode: Bool {
        if case .node = self { return true }
        return false
    }

    /// A distinct number for each target, for hashing.
    var code: UInt64 {
        switch self {
        case .accept: 0
        case .reject: 1
        case .node(let n): UInt64(truncatingIfNeeded: n) &+ 2
        }
    }
}

struct GraphNode: Hashable, Sendable {
    /// The test's number in the graph's `TestTable`.
    var test: Int
    var whenTrue: GraphTarget
    var whenFalse: GraphTarget

    func target(_ outcome: Bool) -> GraphTarget { outcome ? whenTrue : whenFalse }

    /// Both outcomes, true first: a constant, as an array literal in a loop allocates each time.
    static let outcomes = [true, false]

    /// One well-mixed word for the node's three fields.
    var key: UInt64 {
        let mixed = (UInt64(truncatingIfNeeded: test) &* 0x9e37_79b9_7f4a_7c15) ^ (whenTrue.code &* 0xc2b2_ae3d_27d4_eb4f) ^ whenFalse.code
        return (mixed ^ mixed >> 31) &* 0xff51_afd7_ed55_8ccd
    }
}

/// Hash-consing for graph nodes: open addressing over indices into the graph's `nodes`,
/// keyed by `GraphNode.key` — Swift's seeded hashing cost more than the graph building
/// around it.
struct NodeIndex: Sendable {
    /// Node indices, -1 where a slot is free; the count is a power of two.
    private var slots: [Int32] = []
    private var used = 0

    /// Room for `capacity` nodes, so that building rarely grows the table (each growth puts
    /// every node back).
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = [Int32](repeating: -1, count: size)
    }

    /// The index of a node equal to `node`, if `nodes` has one indexed.
    func existing(_ node: GraphNode, in nodes: [GraphNode]) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: node.key >> 32) & mask
        while true {
            let found = Int(slots[slot])
            if found < 0 { return nil }
            if nodes[found] == node { return found }
            slot = (slot + 1) & mask
        }
    }

    /// The index of the node equal to `node`, or a new one appended to `nodes`.
    mutating func intern(_ node: GraphNode, in nodes: inout [GraphNode]) -> Int {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: node.key >> 32) & mask
        while true {
            let found = Int(slots[slot])
            if found < 0 { break }
            if nodes[found] == node { return found }
            slot = (slot + 1) & mask
        }
        nodes.append(node)
        place(nodes.count - 1, at: slot, nodes)
        return nodes.count - 1
    }

    /// Indexes node `n` again after its fields changed, unless another node now equals it:
    /// then it returns false. The slot under its old fields stays, harmless: lookups
    /// compare the nodes as they are now.
    mutating func reindex(_ n: Int, in nodes: [GraphNode]) -> Bool {
        let node = nodes[n]
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: node.key >> 32) & mask
        // The whole run: `n` may sit in it under other fields, before a node equal to it.
        var present = false
        while true {
            let found = Int(slots[slot])
            if found < 0 { break }
            if found == n {
                present = true
            } else if nodes[found] == node {
                return false
            }
            slot = (slot + 1) & mask
        }
        if !present { place(n, at: slot, nodes) }
        return true
    }

    @inline(__always)
    private mutating func place(_ n: Int, at slot: Int, _ nodes: [GraphNode]) {
        slots[slot] = Int32(truncatingIfNeeded: n)
        used += 1
        if used * 2 > slots.count { grow(nodes) }
    }

    /// Twice the slots, with every node put back.
    private mutating func grow(_ nodes: [GraphNode]) {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        used = nodes.count
        let mask = slots.count - 1
        for (n, node) in nodes.enumerated() {
            var slot = Int(truncatingIfNeeded: node.key >> 32) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(truncatingIfNeeded: n)
        }
    }
}

/// A predicate as a DAG of tests, built back to front so that `and`, `or` and `not` need no
/// backpatching: each part is compiled knowing where its true and false exits go. Equal
/// nodes are shared (hash-consing), which merges equal code such as the return blocks.
struct DecisionGraph: Sendable {
    private(set) var nodes: [GraphNode] = []
    var root: GraphTarget = .accept
    /// Finds equal nodes; it may miss some after edits (see `isShared`), never names a wrong one.
    private(set) var index: NodeIndex
    private var cachedOrder: [Int]?
    /// Whether no two nodes are equal and (when simplifying) no test's exits meet, as after
    /// building or rebuilding: then a rebuild would only drop unreachable nodes, and the
    /// optimizer's edits need none.
    private(set) var isShared = true
    /// The tests the nodes refer to by number, so that sharing and the optimizer compare
    /// small integers rather than expression trees.
    private(set) var tests: TestTable
    /// Whether a test whose exits meet is dropped; off without the optimizer, as libpcap
    /// keeps every load then (a load past the end of the packet rejects it).
    let simplify: Bool
    /// Whether equal nodes are one node; off to see each primitive's tests apart, as libpcap's
    /// optimizer does until its end.
    let shares: Bool

    init(_ predicate: PredicateTree, simplify: Bool = true, shares: Bool = true) {
        self.simplify = simplify
        self.shares = shares
        // Without sharing, equal nodes stay apart.
        isShared = shares
        // Each part makes at most one node: sized so, the index never grows.
        let parts = predicate.arena.parts.count
        index = NodeIndex(capacity: parts)
        tests = TestTable(numbering: predicate.arena)
        nodes.reserveCapacity(parts)
        var choices = BuiltChoices()
        root = build(predicate.root, in: predicate.arena, &choices, .accept, .reject)
    }

    /// The graph of a program libpcap does not optimize. With `geneve` (whose filters it
    /// never optimizes), a test whose exits meet is kept, as libpcap's load there drops a
    /// packet too short for it.
    init(unoptimized predicate: PredicateTree) {
        self.init(predicate, simplify: predicate.arena.genevesWritten == 0)
    }

    /// What each `choose` part was built into, for its targets, while building: found by
    /// fingerprint, cheaper than a dictionary's seeded hashing.
    private struct BuiltChoices {
        struct Choice {
            var part: Int32
            var whenTrue: GraphTarget, whenFalse: GraphTarget
            var target: GraphTarget
        }
        var list: [Choice] = []
        var index = FingerprintIndex()
    }

    /// An empty graph over `tests`, with room for `capacity` nodes. No defaults for the
    /// index and table: each would cost allocations only to be replaced.
    private init(simplify: Bool, tests: TestTable, capacity: Int) {
        self.simplify = simplify
        shares = true
        self.tests = tests
        index = NodeIndex(capacity: capacity)
        nodes.reserveCapacity(capacity)
    }

    subscript(_ index: Int) -> GraphNode { nodes[index] }

    /// A node for the test `value condition operand` of `arena`'s values.
    mutating func node(value: Int32, _ condition: ClassicCondition, operand: Int32, of arena: PredicateArena,
                       apart: Bool = false, _ whenTrue: GraphTarget, _ whenFalse: GraphTarget) -> GraphTarget {
        let (a, b) = (arena.values[Int(value)], arena.values[Int(operand)])
        // A test that stores is kept whatever its exits: what follows reads the words it writes.
        if a.kind == .store || a.kind == .after {
            let number = tests.number(value: value, condition, operand: operand)
            let node = GraphNode(test: number, whenTrue: whenTrue, whenFalse: whenFalse)
            return .node(shares ? index.intern(node, in: &nodes) : append(node))
        }
        if simplify, whenTrue == whenFalse { return whenTrue }
        // Constants involve no load, so folding never hides a drop. libpcap's view (not
        // shared) keeps the test, which its optimizer folds only once a pass has begun.
        if shares, a.kind == .constant, b.kind == .constant {
            return FilterTest.evaluate(condition, a.k, b.k) ? whenTrue : whenFalse
        }
        return node(number: tests.number(value: value, condition, operand: operand, apart: apart), whenTrue, whenFalse)
    }

    /// A node for a test already in the table.
    mutating func node(number test: Int, _ whenTrue: GraphTarget, _ whenFalse: GraphTarget) -> GraphTarget {
        if simplify, whenTrue == whenFalse, !tests[test].keepsRead { return whenTrue }
        let node = GraphNode(test: test, whenTrue: whenTrue, whenFalse: whenFalse)
        guard shares else { return .node(append(node)) }
        return .node(index.intern(node, in: &nodes))
    }

    private mutating func append(_ node: GraphNode) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    private mutating func build(_ p: Predicate, in arena: PredicateArena, _ choices: inout BuiltChoices,
                                _ whenTrue: GraphTarget, _ whenFalse: GraphTarget) -> GraphTarget {
        switch arena.parts[Int(p.index)] {
        case .always(let value): value ? whenTrue : whenFalse
        case .test(let value, let condition, let operand):
            // Apart only where equal tests stay apart too: libpcap's view (`GraphOptimizer.provesFalseLikeLibpcap`).
            node(value: value, condition, operand: operand, of: arena, apart: !shares && arena.isRelation(p.index), whenTrue, whenFalse)
        case .not(let q): build(q, in: arena, &choices, whenFalse, whenTrue)
        case .and(let a, let b): build(a, in: arena, &choices, build(b, in: arena, &choices, whenTrue, whenFalse), whenFalse)
        case .or(let a, let b): build(a, in: arena, &choices, whenTrue, build(b, in: arena, &choices, whenTrue, whenFalse))
        case .choose(let c, let a, let b): choice(p, c, a, b, in: arena, &choices, whenTrue, whenFalse)
        }
    }

    /// A `choose` part, built once for each pair of targets: its branches share their
    /// continuations (see `SocketFilter`), which building each time would take exponential time.
    private mutating func choice(_ p: Predicate, _ c: Predicate, _ a: Predicate, _ b: Predicate, in arena: PredicateArena,
                                 _ choices: inout BuiltChoices, _ whenTrue: GraphTarget, _ whenFalse: GraphTarget) -> GraphTarget {
        let print = mix(UInt64(UInt32(bitPattern: p.index)), whenTrue.code << 32 ^ whenFalse.code)
        // Room for a graph's choices once one is met (most expressions have none).
        if choices.list.isEmpty { choices.list.reserveCapacity(32) }
        let list = choices.list
        if let built = choices.index.find(print, { list[$0].part == p.index && list[$0].whenTrue == whenTrue && list[$0].whenFalse == whenFalse }) {
            return list[built].target
        }
        let target = build(c, in: arena, &choices, build(a, in: arena, &choices, whenTrue, whenFalse),
                           build(b, in: arena, &choices, whenTrue, whenFalse))
        choices.list.append(BuiltChoices.Choice(part: p.index, whenTrue: whenTrue, whenFalse: whenFalse, target: target))
        choices.index.insert(print, choices.list.count - 1)
        return target
    }

    /// Nodes reachable from the root, each before every node it leads to; at each node the
    /// true side comes first, as libpcap lays code out. Iterative: graphs can be deep.
    func topologicalOrder() -> [Int] {
        if let cachedOrder { return cachedOrder }
        guard case .node(let start) = root else { return [] }
        // The marks, the stack and the order (filled from its end, as a node is finished) live
        // on the machine stack for small graphs: no allocation but the result's.
        let count = nodes.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: count * 3) { work in
            work.initialize(repeating: 0)
            // Each stack entry is node * 4 + step; a node is on the stack at most once.
            var top = count
            work[top] = start * 4
            top += 1
            work[start] = 1
            var first = count * 3
            next: while top > count {
                let entry = work[top - 1]
                let n = entry >> 2
                var step = entry & 3
                // The next child not met yet, false first so that the true side follows its
                // test; children met already are passed over at once.
                while step < 2 {
                    let child = step == 0 ? nodes[n].whenFalse : nodes[n].whenTrue
                    step += 1
                    if case .node(let c) = child, work[c] == 0 {
                        work[top - 1] = n * 4 + step
                        work[c] = 1
                        work[top] = c * 4
                        top += 1
                        continue next
                    }
                }
                top -= 1
                first -= 1
                work[first] = n
            }
            return Array(work[first...])
        }
    }

    /// The same graph with only reachable nodes, rewritten with `rewrite` (children first) and shared again.
    /// With `keepingReads`, a test whose exits come to meet here (not the length's, which is no
    /// load) is kept for its load (`keepRead`), as libpcap keeps such a jump.
    func rebuilt(keepingReads: Bool = false, _ rewrite: (GraphNode) -> GraphNode = { $0 }) -> DecisionGraph {
        var result = DecisionGraph(simplify: simplify, tests: tests, capacity: nodes.count)
        // Where each old node went, on the machine stack for small graphs (no allocation).
        withUnsafeTemporaryAllocation(of: GraphTarget?.self, capacity: nodes.count) { mapping in
            mapping.initialize(repeating: nil)
            func mapped(_ target: GraphTarget) -> GraphTarget {
                if case .node(let n) = target { return mapping[n] ?? target }
                return target
            }
            for n in topologicalOrder().reversed() {
                var node = rewrite(nodes[n])
                node.whenTrue = mapped(node.whenTrue)
                node.whenFalse = mapped(node.whenFalse)
                if keepingReads, node.whenTrue == node.whenFalse, nodes[n].whenTrue != nodes[n].whenFalse {
                    let test = result.tests[node.test]
                    if !test.keepsRead, result.tests.valueTable[Int32(test.value)].kind != .length {
                        node.test = result.tests.number(value: Int32(test.value), test.condition, operand: test.operand, keepsRead: true)
                    }
                }
                mapping[n] = result.node(number: node.test, node.whenTrue, node.whenFalse)
            }
            result.root = mapped(root)
        }
        return result
    }

    /// The same graph with the tests kept where their exits meet (`keepRead`) dropped there.
    func droppingKeptReads() -> DecisionGraph {
        rebuilt { node in
            var node = node
            node.test = tests.plain(node.test)
            return node
        }
    }

    /// Whether some test is kept where its exits meet.
    var keepsReads: Bool { tests.entries.contains { $0.keepsRead } }

    /// The topological order, kept until an edge changes: the optimizer's passes and the
    /// emitter often see the same graph.
    mutating func cachedTopologicalOrder() -> [Int] {
        if let cachedOrder { return cachedOrder }
        let order = topologicalOrder()
        cachedOrder = order
        return order
    }

    /// Whether some packet can reach the accept.
    var canAccept: Bool {
        root == .accept || topologicalOrder().contains { nodes[$0].whenTrue == .accept || nodes[$0].whenFalse == .accept }
    }

    /// Keeps node `n`'s test where its exits meet (`TestEntry.keepsRead`).
    mutating func keepRead(of n: Int) {
        let test = tests[nodes[n].test]
        guard !test.keepsRead else { return }
        setTest(of: n, tests.number(value: Int32(test.value), test.condition, operand: test.operand, keepsRead: true))
    }

    mutating func setTest(of n: Int, _ test: Int) {
        // The edges, and so the order, stay.
        guard nodes[n].test != test else { return }
        nodes[n].test = test
        noteChange(of: n)
    }

    mutating func setTargets(of n: Int, whenTrue: GraphTarget, whenFalse: GraphTarget) {
        guard nodes[n].whenTrue != whenTrue || nodes[n].whenFalse != whenFalse else { return }
        nodes[n].whenTrue = whenTrue
        nodes[n].whenFalse = whenFalse
        cachedOrder = nil
        noteChange(of: n)
    }

    /// Keeps `isShared` true while an edited node equals no other one and (when simplifying)
    /// its exits do not meet.
    private mutating func noteChange(of n: Int) {
        guard isShared else { return }
        if simplify, nodes[n].whenTrue == nodes[n].whenFalse, !tests[nodes[n].test].keepsRead {
            isShared = false
        } else {
            isShared = index.reindex(n, in: nodes)
        }
    }
}

/// One distinct test: the numbers of its value and operand in the graph's `ValueTable` (the
/// expression's `PredicateArena`).
struct TestEntry: Sendable {
    /// Tests of one value share it.
    var value: Int
    var operand: Int32
    var condition: ClassicCondition
    /// The operand when it is a constant.
    var constant: UInt32?
    /// Kept even where its exits meet, as libpcap keeps a jump whose targets a merge made
    /// one (`jeq #443 jt 21 jf 21`): its load still drops a packet too short for it. A
    /// test of its own number, after the table's others.
    var keepsRead = false
}

/// The distinct tests of a graph, numbered.
struct TestTable: Sendable {
    private(set) var valueTable: ValueTable
    private(set) var entries: [TestEntry] = []
    private var index: FingerprintIndex

    /// The tests of a graph built from `arena`'s values.
    init(numbering arena: PredicateArena) {
        valueTable = ValueTable(arena)
        // Room for the tests of a typical expression, or of a larger one's (about a third of
        // its parts), so that they are not copied or indexed again as they come.
        let room = max(32, arena.parts.count / 3)
        index = FingerprintIndex(capacity: room)
        entries.reserveCapacity(room)
    }

    subscript(_ number: Int) -> TestEntry { entries[number] }

    private static func fingerprint(_ value: Int, _ condition: ClassicCondition, _ operand: Int32, keepsRead: Bool) -> UInt64 {
        mix(UInt64(value) << 16 | UInt64(condition.rawValue) | (keepsRead ? 1 << 15 : 0), UInt64(UInt32(bitPattern: operand)))
    }

    /// The number of the same test as test `number` but not kept where its exits meet (a
    /// kept test is numbered after its plain one).
    func plain(_ number: Int) -> Int {
        let test = entries[number]
        guard test.keepsRead else { return number }
        return index.find(Self.fingerprint(test.value, test.condition, test.operand, keepsRead: false)) {
            entries[$0].value == test.value && entries[$0].condition == test.condition && entries[$0].operand == test.operand
                && !entries[$0].keepsRead
        } ?? number
    }

    /// Set in the value numbers of tests told apart: above any value table's numbers (a
    /// program holds at most 4,096 instructions).
    static let apartValues = 1 << 30

    /// The number of the test `value condition operand` of the arena's values.
    /// With `apart`, the test's value is told apart from the same value elsewhere (a value
    /// number no other has), for deciding tests as libpcap does; such a table is not for code.
    mutating func number(value arenaValue: Int32, _ condition: ClassicCondition, operand: Int32, apart: Bool = false,
                         keepsRead: Bool = false) -> Int {
        let value = Int(arenaValue) | (apart ? Self.apartValues : 0)
        let print = Self.fingerprint(value, condition, operand, keepsRead: keepsRead)
        let number = index.intern(print, count: entries.count) {
            entries[$0].value == value && entries[$0].condition == condition && entries[$0].operand == operand
                && entries[$0].keepsRead == keepsRead
        }
        if number == entries.count {
            entries.append(TestEntry(value: value, operand: operand, condition: condition, constant: valueTable.constant(operand),
                                     keepsRead: keepsRead))
            valueTable.noteRead(arenaValue)
            valueTable.noteRead(operand)
        }
        return number
    }
}

/// Numbers of things by a 64-bit fingerprint: open addressing, with the caller telling
/// equal things apart when fingerprints collide.
struct FingerprintIndex: Sendable {
    /// Eight bytes, so that a table of 128 is filled as fast as a short one.
    private struct Slot {
        /// The fingerprint's top half, which also picks the slot: the caller tells apart
        /// things whose halves are equal.
        var print: UInt32
        /// -1 where the slot is free.
        var number: Int32
    }

    /// The count is a power of two.
    private var slots: [Slot] = []
    private var used = 0

    /// The number whose fingerprint is `print` and for which `matches` holds.
    func find(_ print: UInt64, _ matches: (Int) -> Bool) -> Int? {
        guard !slots.isEmpty else { return nil }
        let half = UInt32(truncatingIfNeeded: print >> 32)
        let mask = slots.count - 1
        var at = Int(half) & mask
        while slots[at].number >= 0 {
            if slots[at].print == half, matches(Int(slots[at].number)) { return Int(slots[at].number) }
            at = (at + 1) & mask
        }
        return nil
    }

    /// Of the things numbered `0..<count`, the one whose fingerprint is `print` and for which
    /// `matches` holds; if none, `count`, indexed under `print` for the thing the caller
    /// appends next. One probe, where `find` and `insert` take two. By number rather than
    /// over an array: an array passed in is retained and released each time.
    @inline(__always)
    mutating func intern(_ print: UInt64, count: Int, _ matches: (Int) -> Bool) -> Int {
        if (used + 1) * 2 > slots.count { grow() }
        let half = UInt32(truncatingIfNeeded: print >> 32)
        let mask = slots.count - 1
        var at = Int(half) & mask
        while slots[at].number >= 0 {
            if slots[at].print == half, matches(Int(slots[at].number)) { return Int(slots[at].number) }
            at = (at + 1) & mask
        }
        slots[at] = Slot(print: half, number: Int32(truncatingIfNeeded: count))
        used += 1
        return count
    }

    init(capacity: Int = 0) {
        if capacity > 0 { reserve(capacity: capacity) }
    }

    /// `count` free slots: every byte 0xff (number -1), filled as bytes (a `memset`), where
    /// repeating a `Slot` took some ten instructions a slot.
    private static func freeSlots(_ count: Int) -> [Slot] {
        [Slot](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0xff)
            initialized = count
        }
    }

    mutating func insert(_ print: UInt64, _ number: Int) {
        if (used + 1) * 2 > slots.count { grow() }
        place(UInt32(truncatingIfNeeded: print >> 32), Int32(truncatingIfNeeded: number))
    }

    /// Room for `capacity` things without growing.
    mutating func reserve(capacity: Int) {
        var size = max(16, slots.count)
        while size < capacity * 2 { size *= 2 }
        if size > slots.count { grow(to: size) }
    }

    // From empty, 64 slots: a table of tests, values or choices then seldom grows.
    private mutating func grow() { grow(to: max(64, slots.count * 2)) }

    private mutating func grow(to size: Int) {
        let old = slots
        slots = Self.freeSlots(size)
        used = 0
        for slot in old where slot.number >= 0 { place(slot.print, slot.number) }
    }

    private mutating func place(_ half: UInt32, _ number: Int32) {
        let mask = slots.count - 1
        var at = Int(half) & mask
        while slots[at].number >= 0 { at = (at + 1) & mask }
        slots[at] = Slot(print: half, number: number)
        used += 1
    }
}
