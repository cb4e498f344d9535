import ClassicBPF

/// What A and X are known to hold: value numbers in the graph's `ValueTable`, -1 for unknown.
struct RegisterState: Equatable, Sendable {
    var a: Int32 = -1
    var x: Int32 = -1

    func meet(_ other: RegisterState) -> RegisterState {
        RegisterState(a: a == other.a ? a : -1, x: x == other.x ? x : -1)
    }
}

/// One test as laid out: where its instructions are in the emitter's shared buffer, its
/// jump, and what the layout learns about it — all in one record, so that a compile
/// allocates one array for its tests rather than one per fact.
private struct NodeCode {
    /// Its instructions (what computes its operands): `body[start..<end]`.
    var start = 0, end = 0
    var condition: ClassicCondition = .eq
    var operand: ClassicOperand = .constant(0)
    /// What every predecessor leaves in A and X, once one has been laid out.
    var entry: RegisterState?
    /// The test (by layout index) whose code stands in for this one.
    var kept = 0
    /// Its targets as layout indices (-1 accept, -2 reject), for finding equal code.
    var trueTarget = 0, falseTarget = 0
    /// Whether each jump needs a `ja` trampoline.
    var farTrue = false, farFalse = false
    /// Its address in the program.
    var address = 0
}

/// Writes straight-line code for values, tracking what A and X hold so that a value
/// already there is not loaded again.
private struct ValueWriter {
    let values: ValueTable
    var code: [ClassicInstruction] = []
    var state: RegisterState
    var nextScratch: UInt32 = 0

    init(_ values: ValueTable, state: RegisterState) {
        self.values = values
        self.state = state
    }

    mutating func scratch() throws(FilterError) -> UInt32 {
        guard nextScratch < UInt32(ClassicOpcode.scratchWords) else {
            throw FilterError(offset: 0, message: "the arithmetic nests too deeply: it needs more than 16 scratch words")
        }
        defer { nextScratch += 1 }
        return nextScratch
    }

    mutating func intoA(_ value: Int32) throws(FilterError) {
        if state.a == value { return }
        let entry = values[value]
        switch entry.kind {
        case .constant: code.append(.loadA(.constant(entry.k)))
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
        guard values[right].kind == .ipHeaderLength else { return false }
        try intoA(left)
        try intoX(right)
        return true
    }

    mutating func intoX(_ value: Int32) throws(FilterError) {
        if state.x == value { return }
        let entry = values[value]
        switch entry.kind {
        case .ipHeaderLength: code.append(.loadX(.headerLength(offset: entry.k)))
        case .constant: code.append(.loadX(.constant(entry.k)))
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
    static func emit(_ graph: DecisionGraph, snapshotLength: UInt32, reuseRegisters: Bool) throws(FilterError) -> [ClassicInstruction] {
        let order = graph.topologicalOrder()
        if order.isEmpty { return [.ret(.constant(graph.root == .accept ? snapshotLength : 0))] }
        // Layout index by node number, -1 for nodes not laid out.
        var position = [Int](repeating: -1, count: graph.nodes.count)
        for (i, n) in order.enumerated() { position[n] = i }

        var codes = [NodeCode](repeating: NodeCode(), count: order.count)
        codes[0].entry = RegisterState()
        let tests = graph.tests
        var writer = ValueWriter(tests.valueTable, state: RegisterState())
        writer.code.reserveCapacity(order.count * 4)
        for (i, n) in order.enumerated() {
            let node = graph[n]
            let test = tests[node.test]
            writer.state = reuseRegisters ? (codes[i].entry ?? RegisterState()) : RegisterState()
            writer.nextScratch = 0
            codes[i].start = writer.code.count
            codes[i].condition = test.condition
            if let k = test.constant {
                try writer.intoA(Int32(test.value))
                codes[i].operand = .constant(k)
            } else {
                try writer.operands(Int32(test.value), test.operand)
                codes[i].operand = .x
            }
            codes[i].end = writer.code.count
            for outcome in GraphNode.outcomes {
                guard case .node(let m) = node.target(outcome) else { continue }
                let j = position[m]
                codes[j].entry = codes[j].entry.map { $0.meet(writer.state) } ?? writer.state
            }
        }
        let body = writer.code

        // Tests whose code and targets are the same instructions are laid out once, as
        // libpcap's optimizer merges equal blocks: `jeq #17` on whichever protocol byte A
        // holds. Each path runs the instructions it ran before and leaves A and X as before,
        // so the entry states found above stay true. The later copy is kept: it comes after
        // every predecessor of both.
        shareCode(order, graph, position, body, &codes)

        // Which jumps need a trampoline; grows until every short jump fits.
        let acceptUsed = order.contains { graph[$0].whenTrue == .accept || graph[$0].whenFalse == .accept }
        let rejectUsed = order.contains { graph[$0].whenTrue == .reject || graph[$0].whenFalse == .reject }
        while true {
            var at = 0
            for i in codes.indices {
                codes[i].address = at
                guard codes[i].kept == i else { continue }
                at += codes[i].end - codes[i].start + 1 + (codes[i].farTrue ? 1 : 0) + (codes[i].farFalse ? 1 : 0)
            }
            let acceptAt = at
            let rejectAt = at + (acceptUsed ? 1 : 0)
            let total = rejectAt + (rejectUsed ? 1 : 0)
            guard total <= ClassicOpcode.maxInstructions else {
                throw FilterError(offset: 0, message: "the compiled filter needs \(total) instructions; classic BPF allows \(ClassicOpcode.maxInstructions)")
            }
            func address(_ target: GraphTarget) -> Int {
                switch target {
                case .accept: acceptAt
                case .reject: rejectAt
                case .node(let m): codes[codes[position[m]].kept].address
                }
            }
            var grew = false
            var program: [ClassicInstruction] = []
            program.reserveCapacity(total)
            for (i, n) in order.enumerated() where codes[i].kept == i {
                let node = graph[n]
                let code = codes[i]
                program += body[code.start..<code.end]
                let branchAt = code.address + code.end - code.start
                let trueTarget = address(node.whenTrue)
                let falseTarget = address(node.whenFalse)
                let trueFar = code.farTrue, falseFar = code.farFalse
                // Trampolines follow the branch: the true one first.
                let trueSlot = branchAt + 1
                let falseSlot = branchAt + 1 + (trueFar ? 1 : 0)
                let jt = trueFar ? 0 : trueTarget - branchAt - 1
                let jf = falseFar ? falseSlot - branchAt - 1 : falseTarget - branchAt - 1
                if jt > 255 || jf > 255 {
                    (codes[i].farTrue, codes[i].farFalse) = (trueFar || jt > 255, falseFar || jf > 255)
                    grew = true
                    continue
                }
                program.append(.branch(code.condition, code.operand, jumpTrue: UInt8(jt), jumpFalse: UInt8(jf)))
                if trueFar { program.append(.jump(offset: UInt32(trueTarget - trueSlot - 1))) }
                if falseFar { program.append(.jump(offset: UInt32(falseTarget - falseSlot - 1))) }
            }
            if grew { continue }
            if acceptUsed { program.append(.ret(.constant(snapshotLength))) }
            if rejectUsed { program.append(.ret(.constant(0))) }
            return program
        }
    }

    /// Sets each test's `kept` (by layout index): itself, or a later test with the same
    /// instructions and the same targets.
    private static func shareCode(_ order: [Int], _ graph: DecisionGraph, _ position: [Int],
                                  _ body: [ClassicInstruction], _ codes: inout [NodeCode]) {
        var seen = FingerprintIndex(capacity: order.count)
        // Back to front, so targets are already mapped when their predecessors are looked at.
        for i in order.indices.reversed() {
            let node = graph[order[i]]
            func index(_ target: GraphTarget) -> Int {
                switch target {
                case .accept: -1
                case .reject: -2
                case .node(let m): codes[position[m]].kept
                }
            }
            let (t, f) = (index(node.whenTrue), index(node.whenFalse))
            codes[i].kept = i
            (codes[i].trueTarget, codes[i].falseTarget) = (t, f)
            // The targets, the condition and the code's length: equal code is rare enough that
            // comparing the few that collide costs less than summarizing every instruction.
            let code = codes[i]
            let print = mix(UInt64(bitPattern: Int64(t)) << 32 ^ UInt64(bitPattern: Int64(f)),
                            UInt64(code.end - code.start) << 16 | UInt64(code.condition.rawValue))
            func sameCode(_ j: Int) -> Bool {
                let other = codes[j]
                return other.trueTarget == t && other.falseTarget == f && other.condition == code.condition
                    && other.operand == code.operand && body[other.start..<other.end].elementsEqual(body[code.start..<code.end])
            }
            // The first test stays where it is: the program starts there.
            if i > 0, let later = seen.find(print, sameCode) {
                codes[i].kept = later
            } else {
                seen.insert(print, i)
            }
        }
    }
}

private extension ClassicArithmetic {
    var isCommutative: Bool {
        switch self {
        case .add, .mul, .and, .or, .xor: true
        default: false
        }
    }
}
