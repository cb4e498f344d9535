import ClassicBPF

/// What A and X are known to hold: value numbers in the graph's `ValueTable`, -1 for unknown.
struct RegisterState: Equatable, Sendable {
    var a: Int32 = -1
    var x: Int32 = -1

    func meet(_ other: RegisterState) -> RegisterState {
        RegisterState(a: a == other.a ? a : -1, x: x == other.x ? x : -1)
    }
}

/// One test as laid out, by node number: where its instructions and branch are in the
/// emitter's buffer, its jump, and what the layout learns about it — all in one record, so
/// that a compile allocates one array for its tests rather than one per fact.
private struct NodeCode {
    // Word-sized fields first, so that none of the small ones after them straddles a word:
    // the record is copied whole, and misaligned fields made that slow.

    /// Its instructions (what computes its operands) are `code[start..<end]`, its branch `code[end]`.
    var start = 0, end = 0
    /// The test (by node number) whose code stands in for this one, and how far into that
    /// code this one's starts (past loads it does not need: its code is the other's tail).
    var kept = 0, skip = 0
    /// Its targets as node numbers of kept tests (-1 accept, -2 reject), for finding equal code.
    var trueTarget = 0, falseTarget = 0
    /// Its address in the program.
    var address = 0
    /// Equal code is looked up in a chained hash table whose buckets are these records, so
    /// that it needs no table of its own: the first kept test in this record's bucket, and
    /// the next one in this test's bucket (-1 for none); `print` summarizes the code.
    var bucketHead = -1, nextInBucket = -1
    var print: UInt64 = 0
    /// What every predecessor leaves in A and X, once one has been laid out.
    var entry: RegisterState?
    var operand: ClassicOperand = .constant(0)
    var condition: ClassicCondition = .eq
    /// Whether each jump needs a `ja` trampoline.
    var farTrue = false, farFalse = false
    /// Whether both exits lead to one place (a test kept for its stores): then no branch.
    var oneTarget = false
    /// Whether another test runs this one's code (`shareCode`): then it stays where it is.
    var lent = false
    /// The next test laid out (by node number), -1 for none.
    var following = -1
}

/// A test's branch offsets, and those of the `ja` trampolines that carry its far jumps
/// (right after the branch, the true one first).
private struct BranchOffsets {
    var jumpTrue: Int, jumpFalse: Int
    var trueTrampoline: Int?, falseTrampoline: Int?
}

/// Where the verdicts go: after the tests, accept first unless `rejectFirst`; each only if
/// some test leads to it.
private struct Verdicts {
    var acceptUsed = false, rejectUsed = false
    var acceptAt = 0, rejectAt = 0
    var rejectFirst = false

    /// Places the verdicts after `testsEnd`; returns the program's length.
    mutating func place(after testsEnd: Int) -> Int {
        if rejectFirst {
            rejectAt = testsEnd
            acceptAt = rejectAt + (rejectUsed ? 1 : 0)
            return acceptAt + (acceptUsed ? 1 : 0)
        }
        acceptAt = testsEnd
        rejectAt = acceptAt + (acceptUsed ? 1 : 0)
        return rejectAt + (rejectUsed ? 1 : 0)
    }
}

/// Writes straight-line code for values, tracking what A and X hold so that a value
/// already there is not loaded again.
private struct ValueWriter {
    let values: ValueTable
    var code: [ClassicInstruction] = []
    var state: RegisterState
    /// The `saved` value its scratch word is known to hold, -1 for none: kept apart from
    /// `state`, so that the records of programs without one stay as small as they were.
    var saved: Int32 = -1
    /// Whether any code reads the `saved` value back; if none does, its stores are dropped.
    var savedReloaded = false
    var nextScratch: UInt32 = 0
    /// The scratch words free for arithmetic: all but those `saved` and `store` values keep.
    let scratchWords: UInt32
    /// Whether the code written since this was last cleared keeps a value in a scratch word
    /// (`store`): what A and X held may then name what the word held before.
    var stored = false

    init(_ values: ValueTable) {
        self.values = values
        state = RegisterState()
        scratchWords = min(values.lowestKeptWord, values.usesSavedWord ? FilterValue.savedScratch : UInt32(ClassicOpcode.scratchWords))
    }

    mutating func scratch() throws(FilterError) -> UInt32 {
        guard nextScratch < scratchWords else {
            // `geneve` and a live socket's first `vlan` keep words of their own: say how many were left.
            let kept = UInt32(ClassicOpcode.scratchWords) - scratchWords
            let reason = kept == 0 ? "more than 16 scratch words" : "more than the \(scratchWords) scratch words that geneve and vlan leave free"
            throw FilterError(offset: 0, message: "the arithmetic nests too deeply: it needs \(reason)")
        }
        defer { nextScratch += 1 }
        return nextScratch
    }

    mutating func intoA(_ value: Int32) throws(FilterError) {
        if state.a == value { return }
        let entry = values[value]
        switch entry.kind {
        case .constant, .indexConstant: code.append(.loadA(.constant(entry.k)))
        case .load: code.append(.loadA(.packet(entry.size, offset: entry.k)))
        case .length: code.append(.loadA(.length))
        case .loadIndexed:
            if let c = values.constant(entry.left), case (let sum, false) = c.addingReportingOverflow(entry.k) {
                code.append(.loadA(.packet(entry.size, offset: sum)))
            } else {
                try intoX(entry.left)
                code.append(.loadA(.packetIndexed(entry.size, offset: entry.k)))
            }
        case .ipHeaderLength:
            // Appended one by one: an array literal here would allocate per load.
            code.append(.loadA(.packet(.byte, offset: entry.k)))
            code.append(.arithmetic(.and, .constant(0xf)))
            code.append(.arithmetic(.lsh, .constant(2)))
        case .negate:
            try intoA(entry.left)
            code.append(.negate)
        case .protocolChain:
            code += try values.chains[Int(entry.k)].code(scratch: try scratch())
            state.x = -1
        case .saved:
            if saved == value {
                code.append(.loadA(.scratch(FilterValue.savedScratch)))
                savedReloaded = true
            } else {
                try intoA(entry.left)
                code.append(.storeA(scratch: FilterValue.savedScratch))
                saved = value
            }
        case .after:
            try intoA(entry.left)
            // A holds the second value itself, which tests of it that follow reuse.
            try intoA(entry.right)
            return
        case .scratch: code.append(.loadA(.scratch(entry.k)))
        case .store:
            try intoA(entry.left)
            code.append(.storeA(scratch: entry.k))
            stored = true
            // A holds the value stored; the store itself is written again wherever asked for.
            state.a = entry.left
            return
        case .binary:
            if let k = values.constant(entry.right) {
                try intoA(entry.left)
                code.append(.arithmetic(entry.operation, .constant(k)))
            } else {
                try operands(entry.left, entry.right, commutative: entry.operation.isCommutative)
                code.append(.arithmetic(entry.operation, .x))
            }
        }
        state.a = value
    }

    /// Puts `left` in A and `right` in X, or the other way round when the operation does
    /// not care and only that order avoids a scratch word (libpcap's `ldxb` then `add x`).
    mutating func operands(_ left: Int32, _ right: Int32, commutative: Bool = false) throws(FilterError) {
        if try placeWithoutScratch(left, right) { return }
        if commutative, try placeWithoutScratch(right, left) { return }
        try intoA(right)
        let slot = try scratch()
        code.append(.storeA(scratch: slot))
        try intoA(left)
        code.append(.loadX(.scratch(slot)))
        state.x = right
    }

    /// Puts `left` in A and `right` in X if no scratch word is needed, decided before any
    /// code is written: X first when computing A leaves X alone, or A first when X then
    /// loads with `ldxb`, which leaves A alone.
    mutating func placeWithoutScratch(_ left: Int32, _ right: Int32) throws(FilterError) -> Bool {
        if !values[left].usesX || (state.a == left && state.x == right) {
            try intoX(right)
            try intoA(left)
            return true
        }
        if values[right].kind == .saved || state.x == right, try leavesX(right, computing: left) { return true }
        // These load X without touching A.
        guard values[right].kind == .ipHeaderLength || values[right].kind == .indexConstant || values[right].kind == .scratch else { return false }
        try intoA(left)
        try intoX(right)
        return true
    }

    /// Puts `right` in X and `left` in A if computing `left` leaves X holding `right`, as
    /// a header length read past the frame's tag does (`ldx M[15]; ldb [x+k]; ...`), or one
    /// read past a value X already holds (a second geneve's options past the UDP header);
    /// otherwise writes nothing.
    mutating func leavesX(_ right: Int32, computing left: Int32) throws(FilterError) -> Bool {
        let (mark, before, savedBefore) = (code.count, state, saved)
        try intoX(right)
        try intoA(left)
        if state.x == right { return true }
        code.removeSubrange(mark...)
        (state, saved) = (before, savedBefore)
        return false
    }

    mutating func intoX(_ value: Int32) throws(FilterError) {
        if state.x == value { return }
        let entry = values[value]
        switch entry.kind {
        case .ipHeaderLength: code.append(.loadX(.headerLength(offset: entry.k)))
        case .constant, .indexConstant: code.append(.loadX(.constant(entry.k)))
        case .scratch: code.append(.loadX(.scratch(entry.k)))
        case .saved where saved == value:
            code.append(.loadX(.scratch(FilterValue.savedScratch)))
            savedReloaded = true
        default:
            try intoA(value)
            code.append(.tax)
        }
        state.x = value
    }
}

/// Lays the decision graph out as classic instructions: tests in topological order (so all
/// jumps go forward), the verdicts last, `ja` trampolines for jumps past 255 instructions.
enum CodeEmitter {
    /// Notes that a path enters `target` with `saved` in the saved value's scratch word:
    /// -1 (unknown) where paths enter with different ones.
    private static func leave(_ target: GraphTarget, saved: Int32, _ savedEntry: inout [Int32]) {
        guard case .node(let m) = target else { return }
        savedEntry[m] = savedEntry[m] == -2 || savedEntry[m] == saved ? saved : -1
    }

    static func emit(_ graph: DecisionGraph, snapshotLength: UInt32, reuseRegisters: Bool,
                     maximumLength: Int = ClassicOpcode.maxInstructions) throws(FilterError) -> [ClassicInstruction] {
        let order = graph.topologicalOrder()
        guard let first = order.first else { return [.ret(.constant(graph.root == .accept ? snapshotLength : 0))] }
        // By node number: a graph the optimizer rebuilt holds only the tests laid out.
        // Appended rather than `Array(repeating:count:)`, which finds the array's type at run
        // time on every call (a generic entry point in the standard library).
        var codes: [NodeCode] = []
        codes.reserveCapacity(graph.nodes.count)
        for _ in graph.nodes.indices { codes.append(NodeCode()) }
        codes[first].entry = RegisterState()
        var verdicts = Verdicts()
        // Each test's code and then its branch, in layout order: unless code is shared or a
        // jump needs a trampoline, this is the program once the branches' offsets are known.
        var writer = ValueWriter(graph.tests.valueTable)
        writer.code.reserveCapacity(order.count * 4 + 2)
        // By node number, what every predecessor leaves in the `saved` value's scratch word
        // (-2 before one is laid out); empty when no value is saved.
        var savedEntry: [Int32] = []
        if graph.tests.valueTable.usesSavedWord {
            savedEntry.reserveCapacity(graph.nodes.count)
            for _ in graph.nodes.indices { savedEntry.append(-2) }
            savedEntry[first] = -1
        }
        // Whether some test's exits meet (see `branchLength`).
        var exitsMeet = false
        for n in order {
            let node = graph[n]
            let test = graph.tests[node.test]
            if node.whenTrue == node.whenFalse { (codes[n].oneTarget, exitsMeet) = (true, true) }
            writer.state = reuseRegisters ? (codes[n].entry ?? RegisterState()) : RegisterState()
            if !savedEntry.isEmpty { writer.saved = reuseRegisters ? max(savedEntry[n], -1) : -1 }
            writer.nextScratch = 0
            codes[n].start = writer.code.count
            codes[n].condition = test.condition
            if let k = test.constant {
                try writer.intoA(Int32(test.value))
                codes[n].operand = .constant(k)
            } else {
                try writer.operands(Int32(test.value), test.operand)
                codes[n].operand = .x
            }
            codes[n].end = writer.code.count
            writer.code.append(.branch(test.condition, codes[n].operand, jumpTrue: 0, jumpFalse: 0))
            // Past a store, what A and X hold may name a word's old value: forgotten.
            if writer.stored { (writer.state, writer.stored) = (RegisterState(), false) }
            enter(node.whenTrue, leaving: writer.state, &codes, &verdicts)
            enter(node.whenFalse, leaving: writer.state, &codes, &verdicts)
            if !savedEntry.isEmpty {
                // Each side named, not in an array literal: that would allocate per node.
                leave(node.whenTrue, saved: writer.saved, &savedEntry)
                leave(node.whenFalse, saved: writer.saved, &savedEntry)
            }
        }
        if !savedEntry.isEmpty, !writer.savedReloaded { dropSavedStores(order, &writer.code, &codes) }

        // Tests whose code and targets are the same instructions are laid out once, as
        // libpcap's optimizer merges equal blocks: `jeq #17` on whichever protocol byte A
        // holds. Each path runs the instructions it ran before and leaves A and X as before,
        // so the entry states found above stay true. The later copy is kept: it comes after
        // every predecessor of both.
        var reshaped = shareCode(order, graph, writer.code, &codes)
        // A test whose exits meet (kept for the words it stores) ends in a `ja`, or in nothing
        // where its target comes next, rather than in a branch that goes there either way.
        if exitsMeet {
            reshaped = true
            var following = -1
            for n in order.reversed() where codes[n].kept == n {
                codes[n].following = following
                following = n
            }
        }

        // Words some path reads before any store: 0 first, as libpcap's programs read them
        // in user space (and the kernel refuses a read of a word never written).
        var zeroed: [ClassicInstruction] = []
        if graph.tests.valueTable.lowestKeptWord < ClassicOpcode.scratchWords {
            let unwritten = wordsReadUnwritten(order, graph, writer.code, codes)
            if unwritten != 0 { zeroed.append(.loadA(.constant(0))) }
            for word in 0..<UInt32(ClassicOpcode.scratchWords) where unwritten & 1 << word != 0 { zeroed.append(.storeA(scratch: word)) }
        }
        var (total, trampolines) = layOut(order, graph, &codes, &verdicts, maximumLength: maximumLength - zeroed.count)
        if trampolines {
            reshaped = true
            // Which verdict comes last decides how many jumps reach past 255: the shorter way.
            var (otherCodes, otherVerdicts) = (codes, verdicts)
            for n in order { (otherCodes[n].farTrue, otherCodes[n].farFalse) = (false, false) }
            otherVerdicts.rejectFirst = true
            let (otherTotal, _) = layOut(order, graph, &otherCodes, &otherVerdicts, maximumLength: maximumLength - zeroed.count)
            if otherTotal < total { (codes, verdicts, total) = (otherCodes, otherVerdicts, otherTotal) }
        }
        total += zeroed.count
        guard total <= maximumLength else {
            throw FilterError(offset: 0, message: "the compiled filter needs \(total) instructions; "
                              + (maximumLength == ClassicOpcode.maxInstructions ? "classic BPF in the kernel allows \(maximumLength)" : "at most \(maximumLength) are taken"))
        }

        var program = zeroed
        if reshaped {
            program.reserveCapacity(total)
            for n in order where codes[n].kept == n {
                for at in codes[n].start..<codes[n].end { program.append(writer.code[at]) }
                let offsets = branchOffsets(n, graph[n], codes, verdicts)
                if codes[n].oneTarget {
                    if branchLength(n, graph[n], codes, verdicts) == 1 { program.append(.jump(offset: UInt32(offsets.jumpTrue))) }
                    continue
                }
                program.append(branch(codes[n], offsets))
                if let jump = offsets.trueTrampoline { program.append(.jump(offset: UInt32(jump))) }
                if let jump = offsets.falseTrampoline { program.append(.jump(offset: UInt32(jump))) }
            }
        } else {
            // Every test is where it was written: only the branches change.
            for n in order { writer.code[codes[n].end] = branch(codes[n], branchOffsets(n, graph[n], codes, verdicts)) }
            // Taken, not copied: the verdicts are appended without copying the buffer.
            if zeroed.isEmpty { swap(&program, &writer.code) } else { program += writer.code }
        }
        if verdicts.rejectFirst, verdicts.rejectUsed { program.append(.ret(.constant(0))) }
        if verdicts.acceptUsed { program.append(.ret(.constant(snapshotLength))) }
        if !verdicts.rejectFirst, verdicts.rejectUsed { program.append(.ret(.constant(0))) }
        return program
    }

    /// Gives each test its address, with a `ja` trampoline after its branch for each jump past
    /// 255 instructions, adding them until every short jump fits (or the program is past
    /// `maximumLength`); the program's length, and whether any trampoline was needed.
    private static func layOut(_ order: [Int], _ graph: DecisionGraph, _ codes: inout [NodeCode], _ verdicts: inout Verdicts,
                               maximumLength: Int) -> (total: Int, trampolines: Bool) {
        var trampolines = false
        while true {
            var at = 0
            for n in order {
                codes[n].address = at
                guard codes[n].kept == n else { continue }
                at += codes[n].end - codes[n].start + (codes[n].oneTarget ? branchLength(n, graph[n], codes, verdicts) : 1)
                    + (codes[n].farTrue ? 1 : 0) + (codes[n].farFalse ? 1 : 0)
            }
            let total = verdicts.place(after: at)
            // No jump in a program of 256 instructions or fewer reaches past 255.
            guard total <= maximumLength, total > 256 else { return (total, trampolines) }
            var grew = false
            // A `ja` reaches any distance.
            for n in order where codes[n].kept == n && !codes[n].oneTarget {
                let offsets = branchOffsets(n, graph[n], codes, verdicts)
                guard offsets.jumpTrue > 255 || offsets.jumpFalse > 255 else { continue }
                codes[n].farTrue = codes[n].farTrue || offsets.jumpTrue > 255
                codes[n].farFalse = codes[n].farFalse || offsets.jumpFalse > 255
                grew = true
            }
            if !grew { return (total, trampolines) }
            trampolines = true
        }
    }

    /// The scratch words (a bit each) that code reads on some path before any code writes
    /// them. The tests' code lies in layout order, each followed by its branch.
    private static func wordsReadUnwritten(_ order: [Int], _ graph: DecisionGraph, _ code: [ClassicInstruction],
                                           _ codes: [NodeCode]) -> UInt32 {
        // By node number, the words written on every path into it. A temporary buffer (on
        // the stack when small), not an array: allocating one cost more than the walk.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: graph.nodes.count) { written in
            written.initialize(repeating: .max)
            written[order[0]] = 0
            var unwritten: UInt32 = 0
            for n in order {
                var words = written[n]
                for at in codes[n].start..<codes[n].end {
                    switch code[at] {
                    case .storeA(let word), .storeX(let word): words |= 1 << word
                    case .loadA(.scratch(let word)), .loadX(.scratch(let word)): if words & 1 << word == 0 { unwritten |= 1 << word }
                    default: break
                    }
                }
                if case .node(let m) = graph[n].whenTrue { written[m] &= words }
                if case .node(let m) = graph[n].whenFalse { written[m] &= words }
            }
            return unwritten
        }
    }

    /// Drops the stores of a `saved` value no code reads back. The tests' code lies in
    /// layout order, each followed by its branch.
    private static func dropSavedStores(_ order: [Int], _ code: inout [ClassicInstruction], _ codes: inout [NodeCode]) {
        var kept: [ClassicInstruction] = []
        kept.reserveCapacity(code.count)
        for n in order {
            let (start, end) = (codes[n].start, codes[n].end)
            codes[n].start = kept.count
            for at in start..<end where code[at] != .storeA(scratch: FilterValue.savedScratch) { kept.append(code[at]) }
            codes[n].end = kept.count
            kept.append(code[end])
        }
        code = kept
    }

    /// Notes that a test leaving A and X as `state` leads to `target`: a test's entry state
    /// is what all its predecessors agree on.
    private static func enter(_ target: GraphTarget, leaving state: RegisterState,
                              _ codes: inout [NodeCode], _ verdicts: inout Verdicts) {
        switch target {
        case .accept: verdicts.acceptUsed = true
        case .reject: verdicts.rejectUsed = true
        case .node(let m): codes[m].entry = codes[m].entry.map { $0.meet(state) } ?? state
        }
    }

    /// How many instructions end test `n`: its branch; where its exits meet, a `ja`, or none
    /// where what they lead to comes next.
    private static func branchLength(_ n: Int, _ node: GraphNode, _ codes: [NodeCode], _ verdicts: Verdicts) -> Int {
        guard codes[n].oneTarget else { return 1 }
        let next = codes[n].following
        switch node.whenTrue {
        case .node(let m): return codes[m].kept == next && codes[m].skip == 0 ? 0 : 1
        // Past the last test, the verdict placed first.
        case .accept: return next < 0 && !(verdicts.rejectFirst && verdicts.rejectUsed) ? 0 : 1
        case .reject: return next < 0 && (verdicts.rejectFirst || !verdicts.acceptUsed) ? 0 : 1
        }
    }

    /// The offsets of test `n`'s jumps at the addresses laid out so far.
    private static func branchOffsets(_ n: Int, _ node: GraphNode, _ codes: [NodeCode], _ verdicts: Verdicts) -> BranchOffsets {
        func address(_ target: GraphTarget) -> Int {
            switch target {
            case .accept: verdicts.acceptAt
            case .reject: verdicts.rejectAt
            case .node(let m): codes[codes[m].kept].address + codes[m].skip
            }
        }
        let code = codes[n]
        let branchAt = code.address + code.end - code.start
        let trueTarget = address(node.whenTrue), falseTarget = address(node.whenFalse)
        let trueSlot = branchAt + 1
        let falseSlot = trueSlot + (code.farTrue ? 1 : 0)
        return BranchOffsets(
            jumpTrue: code.farTrue ? 0 : trueTarget - branchAt - 1,
            jumpFalse: (code.farFalse ? falseSlot : falseTarget) - branchAt - 1,
            trueTrampoline: code.farTrue ? trueTarget - trueSlot - 1 : nil,
            falseTrampoline: code.farFalse ? falseTarget - falseSlot - 1 : nil)
    }

    private static func branch(_ code: NodeCode, _ offsets: BranchOffsets) -> ClassicInstruction {
        .branch(code.condition, code.operand, jumpTrue: UInt8(offsets.jumpTrue), jumpFalse: UInt8(offsets.jumpFalse))
    }

    /// Sets each test's `kept` (by node number): itself, or a later test with the same
    /// instructions and the same targets, or one whose instructions end with this one's and
    /// whose branch and targets are the same (`skip` then says where this one's start: an
    /// IPv4 test of `jeq #17` on the protocol byte A holds runs as the tail of the IPv6
    /// test that loads its next header first, as libpcap's optimizer shares the block), or
    /// such an earlier test, where every way into this one comes before it. A test whose
    /// code another runs (`lent`) keeps its own. Returns whether any test was given
    /// another's code.
    private static func shareCode(_ order: [Int], _ graph: DecisionGraph, _ code: [ClassicInstruction],
                                  _ codes: inout [NodeCode]) -> Bool {
        // A target by where it starts: the kept test and how far into its code.
        func index(_ target: GraphTarget) -> Int {
            switch target {
            case .accept: -1
            case .reject: -2
            case .node(let m): codes[m].kept << 16 | codes[m].skip
            }
        }
        var shared = false
        // Back to front, so targets are already mapped when their predecessors are looked at.
        // Field by field: copying the whole record in and out costs more.
        for n in order.reversed() {
            let node = graph[n]
            let (trueTarget, falseTarget) = (index(node.whenTrue), index(node.whenFalse))
            let (start, end, condition) = (codes[n].start, codes[n].end, codes[n].condition)
            // Tests are bucketed by their targets and condition, so that those whose code ends
            // as this one's are found too; `print` adds the code's length, for equal code:
            // that is rare enough that comparing the few that collide costs less than
            // summarizing every instruction.
            let print = mix(UInt64(bitPattern: Int64(trueTarget)) << 32 ^ UInt64(bitPattern: Int64(falseTarget)),
                            UInt64(end - start) << 16 | UInt64(condition.rawValue))
            let bucket = Int(UInt(bitPattern: trueTarget &* 0x9e37 &+ falseTarget &* 31 &+ Int(condition.rawValue)) % UInt(codes.count))
            var (equal, longer, shorter) = (-1, -1, -1)
            var other = codes[bucket].bucketHead
            while other >= 0 {
                if codes[other].trueTarget == trueTarget, codes[other].falseTarget == falseTarget,
                   codes[other].condition == condition, codes[other].operand == codes[n].operand, codes[other].kept == other {
                    let (otherStart, otherEnd) = (codes[other].start, codes[other].end)
                    if codes[other].print == print, otherEnd - otherStart == end - start, sameCode(code, otherStart, start, count: end - start) {
                        equal = other
                        break
                    }
                    // A skip past 16 bits would not fit `index`'s number: no such tail is shared.
                    if longer < 0, !codes[n].oneTarget, !codes[other].oneTarget, otherEnd - otherStart > end - start,
                       otherEnd - otherStart - (end - start) < 1 << 16,
                       sameCode(code, otherEnd - (end - start), start, count: end - start) {
                        longer = other
                    }
                    if shorter < 0, !codes[n].oneTarget, !codes[other].oneTarget, !codes[other].lent, otherEnd - otherStart < end - start,
                       end - start - (otherEnd - otherStart) < 1 << 16,
                       sameCode(code, end - (otherEnd - otherStart), otherStart, count: otherEnd - otherStart) {
                        shorter = other
                    }
                }
                other = codes[other].nextInBucket
            }
            (codes[n].trueTarget, codes[n].falseTarget, codes[n].print) = (trueTarget, falseTarget, print)
            // The first test stays where it is: the program starts there.
            if equal >= 0, n != order[0] {
                codes[n].kept = equal
                codes[equal].lent = true
                shared = true
            } else if longer >= 0, n != order[0] {
                (codes[n].kept, codes[n].skip) = (longer, codes[longer].end - codes[longer].start - (end - start))
                codes[longer].lent = true
                shared = true
            } else {
                codes[n].kept = n
                codes[n].nextInBucket = codes[bucket].bucketHead
                codes[bucket].bucketHead = n
                // A later test whose code ends this one's runs as its tail instead, where every
                // way into it comes before this one (`ip6 proto` tested for 44, else for 58,
                // then a fragment's next header for 58: one `jeq #58` for both).
                if shorter >= 0, predecessorsComeFirst(shorter, before: n, order, graph) {
                    (codes[shorter].kept, codes[shorter].skip) = (n, end - start - (codes[shorter].end - codes[shorter].start))
                    codes[n].lent = true
                    shared = true
                }
            }
        }
        return shared
    }
}

/// Whether every test that leads to `m` comes before `n` in `order` (`m` after `n`).
private func predecessorsComeFirst(_ m: Int, before n: Int, _ order: [Int], _ graph: DecisionGraph) -> Bool {
    guard let start = order.firstIndex(of: n) else { return false }
    for k in order[start...] {
        if k == m { return true }
        if graph[k].whenTrue == .node(m) || graph[k].whenFalse == .node(m) { return false }
    }
    return false
}

/// Whether `code[a..<a+count]` and `code[b..<b+count]` are the same instructions: by index,
/// since comparing two slices retains and releases the array for each.
private func sameCode(_ code: [ClassicInstruction], _ a: Int, _ b: Int, count: Int) -> Bool {
    for i in 0..<count where code[a + i] != code[b + i] { return false }
    return true
}

private extension ClassicArithmetic {
    var isCommutative: Bool {
        switch self {
        case .add, .mul, .and, .or, .xor: true
        default: false
        }
    }
}
