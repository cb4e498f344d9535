/// Where a program reads the packet, so that reshaping keeps the verdict on truncated
/// packets. A load past a packet's end rejects it (as a division by zero does). Up to that
/// load a cut packet has its whole packet's bytes, so it goes the whole packet's way and is
/// kept exactly when the whole packet is kept and every read on that way succeeds. Two
/// graphs that keep the same whole packets therefore keep the same cut ones when, on every
/// way a packet may take to the accept in both, a read that fails in one fails in the
/// other: each read of one ends no later than a read of the other from the same place
/// (`covers`).
struct PacketRead: Equatable {
    /// -1 for the packet's start, the index's value number for an indexed load; below -1,
    /// -2 - the number of a value that may fail in ways not told here (a protocol chain, a
    /// division by a packet's value, a Linux ancillary field), which only itself covers.
    var base: Int
    var end: UInt64
}

extension GraphOptimizer {
    /// Steps a check takes at most, and tests on one way through both graphs (the check
    /// recurses: kept well within a thread's stack); beyond, it gives up (then not alike).
    static let readCheckLimit = 20_000
    static let readCheckDepth = 200

    /// The graph without the reshaping rules (`threaded`: the expression's graph after the
    /// threading passes that begin `optimized`) where the reshaped one is not shown to keep
    /// every packet, cut ones too, as that one does; whether the reshaped one stays. Tests
    /// kept where their exits meet (`keepingReads`) are dropped where that still reads alike.
    static func keepTruncatedVerdicts(_ graph: inout DecisionGraph, _ searches: inout BeyondSearches,
                                      _ threaded: (graph: DecisionGraph, searches: BeyondSearches)) -> Bool {
        var (reference, referenceSearches) = threaded
        applyRules(&reference, &referenceSearches, reshaping: false)
        if graph.keepsReads {
            let dropped = graph.droppingKeptReads()
            if readsAlike(dropped, reference) {
                graph = dropped
                return true
            }
        }
        if readsAlike(graph, reference) { return true }
        (graph, searches) = (reference, referenceSearches)
        return false
    }

    /// Whether `new` keeps each packet, cut ones too, as `old` does, given that both keep the
    /// same whole packets. False when not shown (tests not decided alike, too many ways).
    static func readsAlike(_ new: DecisionGraph, _ old: DecisionGraph) -> Bool {
        // Test numbers must name the same tests in both (copies of one table; tests kept
        // where their exits meet come after the others).
        let newTests = new.tests.entries, oldTests = old.tests.entries
        guard newTests.count >= oldTests.count, new.tests.valueTable.entries == old.tests.valueTable.entries,
              zip(newTests, oldTests).allSatisfy({ $0.value == $1.value && $0.operand == $1.operand && $0.condition == $1.condition })
        else { return false }
        var check = ReadCheck(old: old, new: new)
        return check.walkOld(old.root, Knowledge())
    }
}

/// Follows every way through the old graph; at its accept, every way through the new one
/// that the outcomes learned allow, which must accept too, with reads alike.
private struct ReadCheck {
    let old: DecisionGraph, new: DecisionGraph
    let tests: [TestEntry]
    /// Each test's reads, computed once; nil inside when they cannot be told.
    var reads: [[PacketRead]??]
    var arena = FactArena(capacity: 256)
    var budget = GraphOptimizer.readCheckLimit
    var oldReads: [PacketRead] = [], newReads: [PacketRead] = []
    var depth = 0

    init(old: DecisionGraph, new: DecisionGraph) {
        (self.old, self.new) = (old, new)
        tests = new.tests.entries
        reads = Array(repeating: nil, count: tests.count)
    }

    mutating func walkOld(_ target: GraphTarget, _ known: Knowledge) -> Bool {
        budget -= 1
        guard budget > 0 else { return false }
        switch target {
        // Rejected whole, so rejected cut, by both.
        case .reject: return true
        case .accept: return walkNew(new.root, known)
        case .node(let n): return step(old[n], known, isOld: true)
        }
    }

    mutating func walkNew(_ target: GraphTarget, _ known: Knowledge) -> Bool {
        budget -= 1
        guard budget > 0 else { return false }
        switch target {
        case .reject: return false
        case .accept: return Self.covers(oldReads, newReads) && Self.covers(newReads, oldReads)
        case .node(let n): return step(new[n], known, isOld: false)
        }
    }

    /// Reads `node`'s values and follows its outcomes that `known` allows.
    private mutating func step(_ node: GraphNode, _ known: Knowledge, isOld: Bool) -> Bool {
        guard depth < GraphOptimizer.readCheckDepth, let added = reads(of: node.test) else { return false }
        depth += 1
        defer { depth -= 1 }
        // Appended and taken off one by one: `+=` and `removeSubrange` went through generic
        // paths: 2.8 % of the compile instructions of the mix whose check costs most.
        for read in added { if isOld { oldReads.append(read) } else { newReads.append(read) } }
        defer { for _ in added { if isOld { oldReads.removeLast() } else { newReads.removeLast() } } }
        if let decided = known.decide(node.test, tests, arena) {
            return isOld ? walkOld(node.target(decided), known) : walkNew(node.target(decided), known)
        }
        for outcome in GraphNode.outcomes {
            let mark = arena.mark
            var learned = known
            learned.learn(node.test, outcome, tests, &arena)
            let alike = isOld ? walkOld(node.target(outcome), learned) : walkNew(node.target(outcome), learned)
            arena.rewind(to: mark)
            guard alike else { return false }
        }
        return true
    }

    /// Whether each read of `reads` fails only where one of `others` fails too.
    static func covers(_ reads: [PacketRead], _ others: [PacketRead]) -> Bool {
        reads.allSatisfy { read in others.contains { $0.base == read.base && $0.end >= read.end } }
    }

    private mutating func reads(of test: Int) -> [PacketRead]? {
        if let known = reads[test] { return known }
        let entry = tests[test]
        var found: [PacketRead]? = []
        if entry.value >= TestTable.apartValues {
            found = nil
        } else {
            let values = new.tests.valueTable
            values.forEachRead(of: Int32(entry.value)) { found?.append($0) }
            values.forEachRead(of: entry.operand) { found?.append($0) }
        }
        reads[test] = .some(found)
        return found
    }
}

extension ValueTable {
    /// Calls `read` with each read of the packet that computing `value` makes.
    func forEachRead(of value: Int32, _ read: (PacketRead) -> Void) {
        guard value >= 0 else { return }
        let entry = self[value]
        switch entry.kind {
        case .constant, .length, .indexConstant, .scratch: break
        // A Linux ancillary field (k past 2^31, SKF_AD_OFF and below) is no packet byte: read
        // in the kernel whatever the packet's length, so it covers no packet read, only itself.
        case .load where Int32(bitPattern: entry.k) < 0: read(PacketRead(base: -2 - Int(value), end: 0))
        case .load: read(PacketRead(base: -1, end: UInt64(entry.k) + UInt64(entry.size.byteCount)))
        case .ipHeaderLength: read(PacketRead(base: -1, end: UInt64(entry.k) + 1))
        case .loadIndexed:
            forEachRead(of: entry.left, read)
            read(PacketRead(base: Int(entry.left), end: UInt64(entry.k) + UInt64(entry.size.byteCount)))
        case .binary:
            forEachRead(of: entry.left, read)
            forEachRead(of: entry.right, read)
            if entry.operation == .div || entry.operation == .mod, constant(entry.right) ?? 0 == 0 {
                read(PacketRead(base: -2 - Int(value), end: 0))
            }
        case .negate: forEachRead(of: entry.left, read)
        case .protocolChain, .saved, .after, .store:
            forEachRead(of: entry.left, read)
            forEachRead(of: entry.right, read)
            read(PacketRead(base: -2 - Int(value), end: 0))
        }
    }

    /// How far from the packet's start computing `value` reads (the end of its furthest
    /// byte, 0 for no read), where it reads only there (`forEachRead`) and so can fail only
    /// by reading past the end: a packet read that far before reads it whole. Nil elsewhere.
    func fixedReadEnd(_ value: Int32) -> Int? {
        var end = 0, fixed = true
        forEachRead(of: value) { read in
            if read.base == -1 { end = max(end, Int(read.end)) } else { fixed = false }
        }
        return fixed ? end : nil
    }
}
