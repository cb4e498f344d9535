/// The AArch64 back end, begun: arithmetic, jumps, `lddw`, byte swaps and sign extension,
/// the budget (chains included), and loads and stores of verified programs. Anything else —
/// checked memory, calls, atomics, packet loads — makes `finish` return nil, which
/// `JITProgram` reports as a program the JIT cannot lay out. It implements the same
/// `JITBackEnd` as `X86BackEnd`, on the same front end, with the Linux JIT's register map.
struct AArch64BackEnd: JITBackEnd {
    typealias A = AArch64Assembler
    /// r0...r10.
    private static let map: [AArch64Register] = [7, 0, 1, 2, 3, 4, 19, 20, 21, 22, 25].map { .x($0) }
    private static let context = AArch64Register.x(27), budget = AArch64Register.x(28)
    private static let scratch = AArch64Register.x(9), scratch2 = AArch64Register.x(10)
    /// Callee-saved pairs the prologue pushes (x29/x30 first).
    private static let saved: [(AArch64Register, AArch64Register)] = [(.x(29), .linkRegister), (.x(19), .x(20)),
                                                                      (.x(21), .x(22)), (.x(25), .x(26)), (.x(27), .x(28))]
    /// eq, gt, ge, set (tst, then ne), ne, sgt, sge, lt, le, slt, sle.
    private static let conditions: [AArch64Condition] = [.equal, .higher, .higherOrSame, .notEqual, .notEqual, .greater,
                                                         .greaterOrEqual, .lower, .lowerOrSame, .less, .lessOrEqual]

    private var words: [UInt32] = []
    /// Word index of each label, -1 while unbound; branches waiting for one.
    private var labels: [Int] = []
    private var fixups: [(at: Int, label: Int)] = []
    private let pcLabels: Int, tailLabel: Int, exitLabel: Int
    private var ledger: BudgetLedger
    /// Where a chain head's copy sends its taken branch (the refund).
    private var copyTakenLabel: Int?
    private let checksMemory: Bool
    /// Set by an instruction this back end cannot compile yet.
    private var unsupported = false

    init(slotCount: Int, stackTop: UInt64, checksMemory: Bool) {
        self.checksMemory = checksMemory
        ledger = BudgetLedger(blocks: slotCount)
        labels = [Int](repeating: -1, count: slotCount + 2)
        pcLabels = 0
        tailLabel = slotCount
        exitLabel = slotCount + 1
        for (a, b) in Self.saved { append(A.pushPair(a, b, .stackPointer, offset: -16)) }
        append(A.move(Self.context, .x(0), wide: true))
        append(A.load(size: 8, Self.budget, Self.context, offset: JITContext.budget))
        for (index, register) in Self.map.enumerated() { append(A.load(size: 8, register, Self.context, offset: 8 * Int32(index))) }
    }

    // MARK: Code and labels

    private mutating func append(_ word: UInt32?) {
        guard let word else {
            unsupported = true
            return
        }
        words.append(word)
    }

    private mutating func newLabels(_ count: Int) -> Int {
        labels.append(contentsOf: repeatElement(-1, count: count))
        return labels.count - count
    }

    private mutating func bind(_ label: Int) { labels[label] = words.count }

    /// A branch to a label, patched in `finish`: b when `condition` is nil, else b.cond.
    private mutating func branch(to label: Int, if condition: AArch64Condition? = nil) {
        fixups.append((words.count, label))
        words.append(condition.map { A.branch(if: $0, by: 0) ?? 0 } ?? (A.branch(by: 0) ?? 0))
    }

    private func r(_ register: UInt8) -> AArch64Register { Self.map[Int(register)] }

    private mutating func move(_ register: AArch64Register, constant: UInt64) {
        for word in A.moveConstant(register, constant) { words.append(word) }
    }

    /// Adds a signed constant to a register (the budget, an address).
    private mutating func add(_ d: AArch64Register, _ n: AArch64Register, _ value: Int) {
        if value >= 0, let word = A.operate(.add, d, n, immediate: UInt32(value), wide: true) {
            words.append(word)
        } else if value < 0, let word = A.operate(.sub, d, n, immediate: UInt32(-value), wide: true) {
            words.append(word)
        } else {
            move(Self.scratch2, constant: UInt64(bitPattern: Int64(value)))
            words.append(A.operate(.add, d, n, Self.scratch2, wide: true))
        }
    }

    /// budget -= count, with the carry clear (lo) when it did not cover it.
    private mutating func charge(_ count: Int) {
        if let word = A.operate(.subs, Self.budget, Self.budget, immediate: UInt32(count), wide: true) {
            words.append(word)
        } else {
            move(Self.scratch2, constant: UInt64(count))
            words.append(A.operate(.subs, Self.budget, Self.budget, Self.scratch2, wide: true))
        }
    }

    // MARK: The front end's calls

    mutating func beginBlock(at pc: Int, instructionCount: Int, charge kind: BlockCharge) {
        bind(pcLabels + pc)
        let labels = newLabels(BudgetLedger.labelsNeeded(for: kind))
        if let (amount, short) = ledger.begin(at: pc, count: instructionCount, charge: kind, firstLabel: labels) {
            charge(amount)
            branch(to: short, if: .lower)
        }
    }

    mutating func emit(_ s: Slot, at pc: Int) {
        if labels[pcLabels + pc] < 0 { bind(pcLabels + pc) }
        ledger.record(s, at: pc)
        emitCode(s, at: pc)
    }

    private mutating func emitCode(_ s: Slot, at pc: Int) {
        switch JITCompiler.kind(of: s) {
        case .arithmetic(let operation, let wide, let usesRegister):
            return arithmetic(s, operation: operation, wide: wide, usesRegister: usesRegister)
        case .branch: return conditionalBranch(s)
        case .access(let size): return memoryAccess(s, size: size)
        case .other: break
        }
        let dst = r(s.dst), src = r(s.src)
        switch s.op {
        case .neg64, .neg32: words.append(A.operate(.sub, dst, .zero, dst, wide: s.op == .neg64))
        case .movsx64b: words.append(A.bitfield(signed: true, dst, src, immr: 0, imms: 7, wide: true))
        case .movsx64h: words.append(A.bitfield(signed: true, dst, src, immr: 0, imms: 15, wide: true))
        case .movsx64w: words.append(A.bitfield(signed: true, dst, src, immr: 0, imms: 31, wide: true))
        case .movsx32b: words.append(A.bitfield(signed: true, dst, src, immr: 0, imms: 7, wide: false))
        case .movsx32h: words.append(A.bitfield(signed: true, dst, src, immr: 0, imms: 15, wide: false))
        case .zext16: words.append(A.bitfield(signed: false, dst, dst, immr: 0, imms: 15, wide: false))
        case .zext32: words.append(A.move(dst, dst, wide: false))
        case .bswap16:
            words.append(A.reverseBytes(dst, dst, bits: 16))
            words.append(A.bitfield(signed: false, dst, dst, immr: 0, imms: 15, wide: false))
        case .bswap32: words.append(A.reverseBytes(dst, dst, bits: 32))
        case .bswap64: words.append(A.reverseBytes(dst, dst, bits: 64))
        case .lddw: move(dst, constant: s.imm)
        case .ja: branch(to: pcLabels + Int(s.target))
        case .exit:
            // Local calls are not compiled yet, so an exit always ends the run.
            branch(to: exitLabel)
        case .end: fault(at: pc, .ranOffTheEnd)
        case .nop: break
        default: unsupported = true
        }
    }

    mutating func finish() -> [UInt8]? {
        for stub in ledger.finish() { emit(stub) }
        // exit: r0 into the context, status 0; the tail saves the budget and returns.
        bind(exitLabel)
        append(A.store(size: 8, Self.map[0], Self.context, offset: 0))
        words.append(A.move(.zeroingOthers, .x(0), 0, slot: 0, wide: false))
        bind(tailLabel)
        append(A.store(size: 8, Self.budget, Self.context, offset: JITContext.budget))
        for (a, b) in Self.saved.reversed() { append(A.popPair(a, b, .stackPointer, offset: 16)) }
        words.append(A.ret())
        guard !unsupported else { return nil }
        for fixup in fixups {
            let target = labels[fixup.label]
            guard target >= 0 else { return nil }
            let distance = 4 * (target - fixup.at)
            let old = words[fixup.at]
            let patched = old >> 24 == 0x54 ? A.branch(if: AArch64Condition(rawValue: old & 0xf) ?? .equal, by: distance)
                                            : A.branch(by: distance)
            guard let patched else { return nil }
            words[fixup.at] = patched
        }
        return words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    // MARK: Instructions

    /// `operation` as in `JITCompiler.Kind`.
    private mutating func arithmetic(_ s: Slot, operation: UInt8, wide: Bool, usesRegister: Bool) {
        let dst = r(s.dst)
        var src = r(s.src)
        if !usesRegister {
            // Immediates are sign-extended to 64 bits; a 32-bit operation reads the low half.
            let value = wide ? s.imm : UInt64(UInt32(truncatingIfNeeded: s.imm))
            if operation == 12 {
                move(dst, constant: value)
                return
            }
            if [7, 8, 13].contains(operation) {
                let kind: A.Shift = operation == 7 ? .left : operation == 8 ? .right : .arithmeticRight
                words.append(A.shift(kind, dst, dst, by: UInt32(value & (wide ? 63 : 31)), wide: wide))
                return
            }
            move(Self.scratch, constant: value)
            src = Self.scratch
        }
        switch operation {
        case 0: words.append(A.operate(.add, dst, dst, src, wide: wide))
        case 1: words.append(A.operate(.sub, dst, dst, src, wide: wide))
        case 2: words.append(A.multiply(dst, dst, src, wide: wide))
        // RFC 9669 division needs no checks here: udiv/sdiv by zero give 0, sdiv of INT_MIN
        // by -1 wraps, and msub then gives x % 0 = x and INT_MIN % -1 = 0.
        case 3: words.append(A.process(.udiv, dst, dst, src, wide: wide))
        case 4: words.append(A.process(.sdiv, dst, dst, src, wide: wide))
        case 5: words.append(A.operate(.orr, dst, dst, src, wide: wide))
        case 6: words.append(A.operate(.and, dst, dst, src, wide: wide))
        case 7: words.append(A.process(.lslv, dst, dst, src, wide: wide))
        case 8: words.append(A.process(.lsrv, dst, dst, src, wide: wide))
        case 9, 10:
            words.append(A.process(operation == 9 ? .udiv : .sdiv, Self.scratch2, dst, src, wide: wide))
            words.append(A.multiplySubtract(dst, Self.scratch2, src, from: dst, wide: wide))
        case 11: words.append(A.operate(.eor, dst, dst, src, wide: wide))
        case 12: words.append(A.move(dst, src, wide: wide))
        default: words.append(A.process(.asrv, dst, dst, src, wide: wide))
        }
    }

    private mutating func conditionalBranch(_ s: Slot) {
        let raw = s.op.rawValue
        let wide = raw < Op.jeq32i.rawValue
        let position = Int((raw - (wide ? Op.jeq64i.rawValue : Op.jeq32i.rawValue)) / 2)
        var src = r(s.src)
        if (raw - Op.jeq64i.rawValue) & 1 == 0 {
            move(Self.scratch, constant: s.imm)
            src = Self.scratch
        }
        words.append(A.operate(position == 3 ? .ands : .subs, .zero, r(s.dst), src, wide: wide))
        branch(to: copyTakenLabel ?? ledger.takenLabel ?? pcLabels + Int(s.target), if: Self.conditions[position])
    }

    /// Verified programs only: checked accesses are not compiled yet.
    private mutating func memoryAccess(_ s: Slot, size: Int) {
        guard !checksMemory, s.op.rawValue <= Op.stxdw.rawValue else {
            unsupported = true
            return
        }
        var base = r(JITCompiler.base(of: s))
        var offset = JITCompiler.displacement(of: s)
        if A.load(size: size, .x(0), base, offset: offset) == nil {
            add(Self.scratch2, base, Int(offset))
            base = Self.scratch2
            offset = 0
        }
        let dst = r(s.dst), src = r(s.src)
        switch s.op {
        case .ldxb, .ldxh, .ldxw, .ldxdw: append(A.load(size: size, dst, base, offset: offset))
        case .ldxsb, .ldxsh, .ldxsw:
            append(A.load(size: size, dst, base, offset: offset))
            words.append(A.bitfield(signed: true, dst, dst, immr: 0, imms: UInt32(8 * size - 1), wide: true))
        case .stb, .sth, .stw, .stdw:
            move(Self.scratch, constant: s.imm)
            append(A.store(size: size, Self.scratch, base, offset: offset))
        default: append(A.store(size: size, src, base, offset: offset))
        }
    }

    // MARK: Out-of-line code

    private mutating func emit(_ stub: BudgetLedger.Stub) {
        switch stub {
        case .budget(let label, let blockStart, let count):
            bind(label)
            add(Self.budget, Self.budget, count)
            fault(at: blockStart, .budget)
        case .exactChain(let chain):
            bind(chain.exact)
            for step in chain.exactPath {
                switch step {
                case .adjust(let amount): add(Self.budget, Self.budget, amount)
                case .charge(let count, let budgetStub):
                    charge(count)
                    branch(to: budgetStub, if: .lower)
                case .copy(let slots, let taken):
                    copyTakenLabel = taken
                    for (slot, pc) in slots { emitCode(slot, at: pc) }
                    copyTakenLabel = nil
                case .jump(let pc): branch(to: pcLabels + pc)
                }
            }
        case .refund(let label, let count, let target):
            bind(label)
            add(Self.budget, Self.budget, count)
            branch(to: pcLabels + target)
        }
    }

    /// Ends the run with `status`, recording the pc.
    private mutating func fault(at pc: Int, _ status: JITStatus) {
        move(Self.scratch, constant: UInt64(pc))
        append(A.store(size: 8, Self.scratch, Self.context, offset: JITContext.faultPC))
        words.append(A.move(.zeroingOthers, .x(0), UInt16(status.rawValue), slot: 0, wide: false))
        branch(to: tailLabel)
    }
}
