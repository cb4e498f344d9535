import ClassicBPF

/// What A and X are known to hold: value numbers in the graph's `ValueTable`, -1 for unknown.
struct RegisterState: Equatable, Sendable {
    var a: Int32 = -1
    var x: Int32 = -1

    func meet(_ other: RegisterState) -> RegisterState {
        RegisterState(a: a == other.a ? a : -1, x: x == other.x ? x : -1)
    }
}

/// The code of one test: what computes its operands, then the jump.
private struct NodeCode: Hashable {
    var body: [ClassicInstruction] = []
    var condition: ClassicCondition = .eq
    var operand: ClassicOperand = .constant(0)
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
            code += [.loadA(.packet(.byte, offset: entry.k)), .arithmetic(.and, .constant(0xf)), .arithmetic(.lsh, .constant(2))]
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
        var position = [Int?](repeating: nil, count: graph.nodes.count)
        for (i, n) in order.enumerated() { position[n] = i }

        // Entry states: what every predecessor leaves in A and X.
        var entry = [RegisterState?](repeating: nil, count: order.count)
        entry[0] = RegisterState()
        var codes: [NodeCode] = []
        codes.reserveCapacity(order.count)
        for (i, n) in order.enumerated() {
            let node = graph[n]
            let tests = graph.tests
            var writer = ValueWriter(tests.valueTable, state: reuseRegisters ? (entry[i] ?? RegisterState()) : RegisterState())
            var code = NodeCode(condition: tests.conditions[node.test])
            let value = Int32(tests.values[node.test])
            if let k = tests.constants[node.test] {
                try writer.intoA(value)
                code.operand = .constant(k)
            } else {
                try writer.operands(value, tests.operands[node.test])
                code.operand = .x
            }
            code.body = writer.code
            codes.append(code)
            for outcome in [true, false] {
                guard case .node(let m) = node.target(outcome), let j = position[m] else { continue }
                entry[j] = entry[j].map { $0.meet(writer.state) } ?? writer.state
            }
        }

        // Tests whose code and targets are the same instructions are laid out once, as
        // libpcap's optimizer merges equal blocks: `jeq #17` on whichever protocol byte A
        // holds. Each path runs the instructions it ran before and leaves A and X as before,
        // so the entry states found above stay true. The later copy is kept: it comes after
        // every predecessor of both.
        let kept = sharedCode(order, graph, position, codes)

        // Which jumps need a trampoline; grows until every short jump fits.
        var farTrue = [Bool](repeating: false, count: order.count)
        var farFalse = [Bool](repeating: false, count: order.count)
        let acceptUsed = order.contains { graph[$0].whenTrue == .accept || graph[$0].whenFalse == .accept }
        let rejectUsed = order.contains { graph[$0].whenTrue == .reject || graph[$0].whenFalse == .reject }
        while true {
            var starts: [Int] = []
            var at = 0
            for (i, code) in codes.enumerated() {
                starts.append(at)
                guard kept[i] == i else { continue }
                at += code.body.count + 1 + (farTrue[i] ? 1 : 0) + (farFalse[i] ? 1 : 0)
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
                case .node(let m): starts[kept[position[m] ?? 0]]
                }
            }
            var grew = false
            var program: [ClassicInstruction] = []
            program.reserveCapacity(total)
            for (i, n) in order.enumerated() where kept[i] == i {
                let node = graph[n]
                let code = codes[i]
                program += code.body
                let branchAt = starts[i] + code.body.count
                let trueTarget = address(node.whenTrue)
                let falseTarget = address(node.whenFalse)
                let trueFar = farTrue[i], falseFar = farFalse[i]
                // Trampolines follow the branch: the true one first.
                let trueSlot = branchAt + 1
                let falseSlot = branchAt + 1 + (trueFar ? 1 : 0)
                let jt = trueFar ? 0 : trueTarget - branchAt - 1
                let jf = falseFar ? falseSlot - branchAt - 1 : falseTarget - branchAt - 1
                if jt > 255 || jf > 255 {
                    (farTrue[i], farFalse[i]) = (trueFar || jt > 255, falseFar || jf > 255)
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

    /// For each test (by layout index), the index of the test whose code stands in for it:
    /// itself, or a later one with the same instructions and the same targets.
    private static func sharedCode(_ order: [Int], _ graph: DecisionGraph, _ position: [Int?],
                                   _ codes: [NodeCode]) -> [Int] {
        var kept = Array(order.indices)
        var trueTargets = [Int](repeating: 0, count: order.count)
        var falseTargets = [Int](repeating: 0, count: order.count)
        var seen = FingerprintIndex()
        func index(_ target: GraphTarget) -> Int {
            switch target {
            case .accept: -1
            case .reject: -2
            case .node(let m): kept[position[m] ?? 0]
            }
        }
        // Back to front, so targets are already mapped when their predecessors are looked at.
        for i in order.indices.reversed() {
            let node = graph[order[i]]
            let (t, f) = (index(node.whenTrue), index(node.whenFalse))
            (trueTargets[i], falseTargets[i]) = (t, f)
            // The targets, the condition and the code's length: equal code is rare enough that
            // comparing the few that collide costs less than summarizing every instruction.
            let code = codes[i]
            let print = mix(UInt64(bitPattern: Int64(t)) << 32 ^ UInt64(bitPattern: Int64(f)),
                            UInt64(code.body.count) << 16 | UInt64(code.condition.rawValue))
            // The first test stays where it is: the program starts there.
            if i > 0, let later = seen.find(print, { trueTargets[$0] == t && falseTargets[$0] == f && codes[$0] == code }) {
                kept[i] = later
            } else {
                seen.insert(print, i)
            }
        }
        return kept
    }
}

private extension ClassicArithmetic {
    var isCommutative: Bool { [.add, .mul, .and, .or, .xor].contains(self) }
}
