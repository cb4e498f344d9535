/// The x86-64 back end (System V). eBPF registers live in host registers for the whole run,
/// as the Linux JIT maps them; r9 counts the budget down, r12 points to the `JITContext`,
/// r10 and r11 are scratch (r11 holds the address of an access checked out of line).
struct X86BackEnd: JITBackEnd {
    /// r0...r10. r1–r5 sit in argument registers; r6–r9 and r10 (rbp) are callee-saved.
    private static let map: [X86Register] = [.rax, .rdi, .rsi, .rdx, .rcx, .r8, .rbx, .r13, .r14, .r15, .rbp]
    private static let budget = X86Register.r9, context = X86Register.r12
    private static let scratch = X86Register.r10, address = X86Register.r11
    /// Opcode extension (immediate form) and opcode (register form) of add, sub, -, -, -, or, and, -, -, -, -, xor.
    private static let aluImmediate: [UInt8] = [0, 5, 0xff, 0xff, 0xff, 1, 4, 0xff, 0xff, 0xff, 0xff, 6]
    private static let aluRegister: [UInt8] = [0x01, 0x29, 0, 0, 0, 0x09, 0x21, 0, 0, 0, 0, 0x31]
    /// eq, gt, ge, set, ne, sgt, sge, lt, le, slt, sle.
    private static let conditions: [X86Condition] = [.equal, .above, .aboveOrEqual, .notEqual, .notEqual, .greater,
                                                     .greaterOrEqual, .below, .belowOrEqual, .less, .lessOrEqual]

    /// Out-of-line code, emitted after the program so that the hot path falls through.
    private enum Stub {
        case fault(label: Int, pc: Int, status: JITStatus)
        case accessCheck(label: Int, resume: Int, pc: Int, base: X86Register, displacement: Int32, size: Int)
    }

    private var asm: X86Assembler
    private let stackTop: UInt64
    /// Label of slot `pc` is `pcLabels + pc`.
    private let pcLabels: Int
    private let exitLabel: Int, tailLabel: Int, returnZeroLabel: Int
    /// Shared routines that call into Swift, entered with `call` and the pc in r10d.
    private let helperRoutine: Int, regionCheckRoutine: Int
    /// Per access size 1, 2, 4, 8: the out-of-line check of the address in r11 against the
    /// live stack frames, then granted memory; entered with `call` and the pc in r10d.
    private let stackCheckRoutines: Int
    /// Ends the run for the budget: the block's pc in r10d, the budget as the block began in r9.
    private let budgetRoutine: Int
    /// Swift's way in to run a callback (`JITCallbackEntry`).
    private let callbackRoutine: Int
    private let slotCount: Int
    private var stubs: [Stub] = []
    private let checksMemory: Bool
    private var ledger: BudgetLedger
    /// Where a chain head's copy sends its taken branch (the refund).
    private var copyTakenLabel: Int?
    /// The map descriptors `call 1` looks values up through (verified mode only).
    private var mapLookups: MapLookupDescriptor.Table?

    init(slotCount: Int, stackTop: UInt64, checksMemory: Bool) {
        self.checksMemory = checksMemory
        asm = X86Assembler(capacity: slotCount * 64 + 1024, instructions: slotCount)
        stubs.reserveCapacity(2 * slotCount)
        ledger = BudgetLedger(blocks: slotCount)
        self.stackTop = stackTop
        pcLabels = asm.newLabels(slotCount)
        exitLabel = asm.newLabel()
        tailLabel = asm.newLabel()
        returnZeroLabel = asm.newLabel()
        helperRoutine = asm.newLabel()
        regionCheckRoutine = asm.newLabel()
        stackCheckRoutines = asm.newLabels(4)
        budgetRoutine = asm.newLabel()
        callbackRoutine = asm.newLabel()
        self.slotCount = slotCount
        prologue()
    }

    private func r(_ register: UInt8) -> X86Register { Self.map[Int(register)] }
    private func field(_ offset: Int32) -> X86Operand { .memory(Self.context, offset) }
    private func registerField(_ index: Int) -> X86Operand { field(JITContext.registers + 8 * Int32(index)) }

    // MARK: Entry and exit

    /// `keepsTarget`: the callback routine's second argument (rsi) goes to r10 first.
    private mutating func prologue(keepsTarget: Bool = false) {
        for register in [X86Register.rbx, .rbp, .r12, .r13, .r14, .r15] { asm.push(register) }
        asm.alu(extension: 5, .register(.rsp), immediate: 8, wide: true)  // keeps rsp 16-byte aligned
        if keepsTarget { asm.move(Self.scratch, .rsi, wide: true) }
        asm.move(Self.context, .rdi, wide: true)
        asm.store(.rsp, field(JITContext.savedStackPointer))
        asm.load(Self.budget, field(JITContext.budget))
        for (index, register) in Self.map.enumerated() { asm.load(register, registerField(index)) }
    }

    private mutating func epilogue() {
        asm.bind(returnZeroLabel)
        asm.move(.rax, constant: 0)
        asm.bind(exitLabel)
        asm.store(.rax, registerField(0))
        asm.move(.rax, constant: 0)
        asm.bind(tailLabel)
        asm.store(Self.budget, field(JITContext.budget))
        asm.store(.rbp, registerField(10))
        asm.load(.rsp, field(JITContext.savedStackPointer))
        asm.alu(extension: 0, .register(.rsp), immediate: 8, wide: true)
        for register in [X86Register.r15, .r14, .r13, .r12, .rbp, .rbx] { asm.pop(register) }
        asm.ret()
    }

    /// Ends the run with `status`, recording the pc.
    private mutating func fault(at pc: Int, _ status: JITStatus) {
        asm.store(constant: Int32(pc), field(JITContext.faultPC), wide: true)
        asm.move32(.rax, constant: status.rawValue)
        asm.jump(to: tailLabel)
    }

    private mutating func stub(_ make: (Int) -> Stub) -> Int {
        let label = asm.newLabel()
        stubs.append(make(label))
        return label
    }

    // MARK: The front end's calls

    mutating func beginBlock(at pc: Int, instructionCount: Int, charge: BlockCharge) {
        asm.bind(pcLabels + pc)
        let labels = asm.newLabels(BudgetLedger.labelsNeeded(for: charge))
        if let (amount, short) = ledger.begin(at: pc, count: instructionCount, charge: charge, firstLabel: labels) {
            asm.alu(extension: 5, .register(Self.budget), immediate: Int32(amount), wide: true)
            asm.jump(if: .below, to: short)
        }
    }

    mutating func emit(_ s: Slot, at pc: Int) {
        if !asm.isBound(pcLabels + pc) { asm.bind(pcLabels + pc) }
        ledger.record(s, at: pc)
        emitCode(s, at: pc)
    }

    /// The code of one instruction, in the program or in a stub's copy.
    private mutating func emitCode(_ s: Slot, at pc: Int) {
        switch JITCompiler.kind(of: s) {
        case .arithmetic(let operation, let wide, let usesRegister):
            return arithmetic(s, operation: operation, wide: wide, usesRegister: usesRegister)
        case .branch: return branch(s)
        case .access(let size): return memoryAccess(s, at: pc, size: size)
        case .other: break
        }
        let dst = r(s.dst), src = r(s.src)
        switch s.op {
        case .neg64, .neg32: asm.emit(0xf7, wide: s.op == .neg64, reg: 3, .register(dst))
        case .movsx64b: asm.emit(0xbe, escaped: true, wide: true, reg: dst.code, .register(src), byteRegisters: true)
        case .movsx64h: asm.emit(0xbf, escaped: true, wide: true, reg: dst.code, .register(src))
        case .movsx64w: asm.emit(0x63, wide: true, reg: dst.code, .register(src))
        case .movsx32b: asm.emit(0xbe, escaped: true, wide: false, reg: dst.code, .register(src), byteRegisters: true)
        case .movsx32h: asm.emit(0xbf, escaped: true, wide: false, reg: dst.code, .register(src))
        case .zext16: asm.emit(0xb7, escaped: true, wide: false, reg: dst.code, .register(dst))
        case .zext32: asm.move(dst, dst, wide: false)
        case .bswap16:
            asm.emit(0xc1, wide: false, reg: 1, .register(dst), word: true)  // ror r16, 8
            asm.append8(8)
            asm.emit(0xb7, escaped: true, wide: false, reg: dst.code, .register(dst))
        case .bswap32, .bswap64: asm.byteSwap(dst, wide: s.op == .bswap64)
        case .lddw: asm.move(dst, constant: s.imm)
        case .ldabsb, .ldabsh, .ldabsw, .ldindb, .ldindh, .ldindw: packetLoad(s)
        case .ja: asm.jump(to: pcLabels + Int(s.target))
        case .call where s.imm == 1 && mapLookups != nil: mapLookup(at: pc)
        case .call, .callRegister: helperCall(at: pc)
        case .callLocal: localCall(at: pc, target: Int(s.target))
        case .exit:
            asm.alu(extension: 7, field(JITContext.depth), immediate: 0, wide: true)
            asm.jump(if: .equal, to: exitLabel)
            asm.ret()
        case .mayGoto:
            asm.alu(extension: 7, field(JITContext.mayGotoLeft), immediate: 0, wide: true)
            asm.jump(if: .equal, to: pcLabels + Int(s.target))
            asm.alu(extension: 5, field(JITContext.mayGotoLeft), immediate: 1, wide: true)
        case .callKernelFunction: fault(at: pc, .kernelFunction)
        case .end: fault(at: pc, .ranOffTheEnd)
        default: break  // .nop; .wideSecondHalf is never handed over
        }
    }

    mutating func inlineMapLookups(_ table: MapLookupDescriptor.Table) { mapLookups = table }

    mutating func finish() -> [UInt8]? {
        for stub in ledger.finish() { emitBudget(stub) }
        var index = 0
        while index < stubs.count {  // a stub may add one (a copied access adds its check)
            emit(stubs[index])
            index += 1
        }
        stackCheckRoutinesAndBudget()
        swiftCallRoutines()
        callbackEntryRoutine()
        epilogue()
        guard asm.resolve() else { return nil }
        return asm.bytes
    }

    // MARK: Arithmetic

    /// `operation` as in `JITCompiler.Kind`.
    private mutating func arithmetic(_ s: Slot, operation: UInt8, wide: Bool, usesRegister: Bool) {
        let dst = r(s.dst), src = r(s.src)
        let imm = Int32(truncatingIfNeeded: s.imm)
        switch operation {
        case 0, 1, 5, 6, 11:
            if usesRegister {
                asm.alu(Self.aluRegister[Int(operation)], .register(dst), src, wide: wide)
            } else {
                asm.alu(extension: Self.aluImmediate[Int(operation)], .register(dst), immediate: imm, wide: wide)
            }
        case 2:
            if usesRegister {
                asm.emit(0xaf, escaped: true, wide: wide, reg: dst.code, .register(src))
            } else if let small = Int8(exactly: imm) {
                asm.emit(0x6b, wide: wide, reg: dst.code, .register(dst))
                asm.append8(UInt8(bitPattern: small))
            } else {
                asm.emit(0x69, wide: wide, reg: dst.code, .register(dst))
                asm.append32(UInt32(bitPattern: imm))
            }
        case 12:
            if usesRegister {
                asm.move(dst, src, wide: wide)
            } else if wide {
                asm.move(dst, constant: s.imm)
            } else {
                asm.move32(dst, constant: UInt32(bitPattern: imm))
            }
        case 7, 8, 13:
            let ext: UInt8 = operation == 7 ? 4 : operation == 8 ? 5 : 7
            if usesRegister {
                shiftByRegister(ext, dst, src, wide: wide)
            } else if imm & (wide ? 63 : 31) == 0 {
                if !wide { asm.move(dst, dst, wide: false) }
            } else {
                asm.emit(0xc1, wide: wide, reg: ext, .register(dst))
                asm.append8(UInt8(imm & (wide ? 63 : 31)))
            }
        default:
            divide(s, signed: operation == 4 || operation == 10, remainder: operation >= 9, wide: wide,
                   usesRegister: usesRegister)
        }
    }

    /// x86 shifts by cl only, and cl is r4.
    private mutating func shiftByRegister(_ ext: UInt8, _ dst: X86Register, _ src: X86Register, wide: Bool) {
        if src == .rcx {
            asm.emit(0xd3, wide: wide, reg: ext, .register(dst))
            return
        }
        asm.move(Self.address, .rcx, wide: true)
        asm.move(.rcx, src, wide: true)
        if dst == .rcx {
            asm.emit(0xd3, wide: wide, reg: ext, .register(Self.address))
            asm.move(.rcx, Self.address, wide: true)
        } else {
            asm.emit(0xd3, wide: wide, reg: ext, .register(dst))
            asm.move(.rcx, Self.address, wide: true)
        }
    }

    /// RFC 9669 division: x / 0 = 0, x % 0 = x, INT_MIN / -1 wraps, x % -1 = 0 — never #DE.
    private mutating func divide(_ s: Slot, signed: Bool, remainder: Bool, wide: Bool, usesRegister: Bool) {
        let dst = r(s.dst)
        if !usesRegister {
            let isZero = wide ? s.imm == 0 : UInt32(truncatingIfNeeded: s.imm) == 0
            let isMinusOne = wide ? s.imm == UInt64.max : UInt32(truncatingIfNeeded: s.imm) == UInt32.max
            if isZero {
                byZero(dst, remainder: remainder, wide: wide)
            } else if signed && isMinusOne {
                byMinusOne(dst, remainder: remainder, wide: wide)
            } else {
                asm.move(Self.address, constant: wide ? s.imm : UInt64(UInt32(truncatingIfNeeded: s.imm)))
                divideCore(dst, signed: signed, remainder: remainder, wide: wide)
            }
            return
        }
        asm.move(Self.address, r(s.src), wide: true)
        let zero = asm.newLabel(), minusOne = asm.newLabel(), done = asm.newLabel()
        asm.emit(0x85, wide: wide, reg: Self.address.code, .register(Self.address))
        asm.jump(if: .equal, to: zero, short: true)
        if signed {
            asm.alu(extension: 7, .register(Self.address), immediate: -1, wide: wide)
            asm.jump(if: .equal, to: minusOne, short: true)
        }
        divideCore(dst, signed: signed, remainder: remainder, wide: wide)
        asm.jump(to: done, short: true)
        asm.bind(zero)
        byZero(dst, remainder: remainder, wide: wide)
        if signed {
            asm.jump(to: done, short: true)
            asm.bind(minusOne)
            byMinusOne(dst, remainder: remainder, wide: wide)
        }
        asm.bind(done)
    }

    private mutating func byZero(_ dst: X86Register, remainder: Bool, wide: Bool) {
        if !remainder {
            asm.move(dst, constant: 0)
        } else if !wide {
            asm.move(dst, dst, wide: false)
        }
    }

    private mutating func byMinusOne(_ dst: X86Register, remainder: Bool, wide: Bool) {
        if remainder {
            asm.move(dst, constant: 0)
        } else {
            asm.emit(0xf7, wide: wide, reg: 3, .register(dst))
        }
    }

    /// Divides dst by r11 with rdx:rax, keeping r0 (rax) and r3 (rdx) intact.
    private mutating func divideCore(_ dst: X86Register, signed: Bool, remainder: Bool, wide: Bool) {
        asm.push(.rdx)
        asm.move(Self.scratch, .rax, wide: true)
        if dst != .rax { asm.move(.rax, dst, wide: true) }
        if signed {
            if wide { asm.append8(0x48) }
            asm.append8(0x99)  // cqo / cdq
        } else {
            asm.move(.rdx, constant: 0)
        }
        asm.emit(0xf7, wide: wide, reg: signed ? 7 : 6, .register(Self.address))
        asm.move(Self.address, remainder ? .rdx : .rax, wide: true)
        asm.move(.rax, Self.scratch, wide: true)
        asm.pop(.rdx)
        asm.move(dst, Self.address, wide: true)
    }

    // MARK: Branches

    private mutating func branch(_ s: Slot) {
        let raw = s.op.rawValue
        let wide = raw < Op.jeq32i.rawValue
        let position = Int((raw - (wide ? Op.jeq64i.rawValue : Op.jeq32i.rawValue)) / 2)
        let usesRegister = (raw - Op.jeq64i.rawValue) & 1 == 1
        let dst = r(s.dst)
        let isTest = position == 3
        if usesRegister {
            asm.alu(isTest ? 0x85 : 0x39, .register(dst), r(s.src), wide: wide)
        } else if isTest {
            asm.emit(0xf7, wide: wide, reg: 0, .register(dst))
            asm.append32(UInt32(truncatingIfNeeded: s.imm))
        } else {
            asm.alu(extension: 7, .register(dst), immediate: Int32(truncatingIfNeeded: s.imm), wide: wide)
        }
        asm.jump(if: Self.conditions[position], to: copyTakenLabel ?? ledger.takenLabel ?? pcLabels + Int(s.target))
    }

    // MARK: Memory

    private mutating func memoryAccess(_ s: Slot, at pc: Int, size: Int) {
        let base = JITCompiler.base(of: s), displacement = JITCompiler.displacement(of: s)
        let operand: X86Operand
        if !JITCompiler.mayFault(s, checksMemory: checksMemory) {
            // Proven by the verifier, or inside the current frame: always valid.
            operand = .memory(r(base), displacement)
        } else {
            // Inline, only the input; the stack and granted memory out of line.
            asm.lea(Self.scratch, r(base), displacement)
            asm.emit(0x2b, wide: true, reg: Self.scratch.code, field(JITContext.inputStart))
            asm.emit(0x3b, wide: true, reg: Self.scratch.code, field(JITContext.inputLimit(size: size)))
            let resume = asm.newLabel()
            let baseRegister = r(base)
            let check = stub { .accessCheck(label: $0, resume: resume, pc: pc, base: baseRegister, displacement: displacement, size: size) }
            asm.jump(if: .aboveOrEqual, to: check)
            asm.bind(resume)
            operand = .memory(r(base), displacement)
        }
        let dst = r(s.dst), src = r(s.src)
        let imm = Int32(truncatingIfNeeded: s.imm)
        switch s.op {
        case .ldxb: asm.emit(0xb6, escaped: true, wide: false, reg: dst.code, operand)
        case .ldxh: asm.emit(0xb7, escaped: true, wide: false, reg: dst.code, operand)
        case .ldxw: asm.emit(0x8b, wide: false, reg: dst.code, operand)
        case .ldxdw: asm.emit(0x8b, wide: true, reg: dst.code, operand)
        case .ldxsb: asm.emit(0xbe, escaped: true, wide: true, reg: dst.code, operand)
        case .ldxsh: asm.emit(0xbf, escaped: true, wide: true, reg: dst.code, operand)
        case .ldxsw: asm.emit(0x63, wide: true, reg: dst.code, operand)
        case .stb:
            asm.emit(0xc6, wide: false, reg: 0, operand)
            asm.append8(UInt8(truncatingIfNeeded: imm))
        case .sth:
            asm.emit(0xc7, wide: false, reg: 0, operand, word: true)
            asm.append8(UInt8(truncatingIfNeeded: imm))
            asm.append8(UInt8(truncatingIfNeeded: imm >> 8))
        case .stw: asm.store(constant: imm, operand, wide: false)
        case .stdw: asm.store(constant: imm, operand, wide: true)
        case .stxb: asm.emit(0x88, wide: false, reg: src.code, operand, byteRegisters: true)
        case .stxh: asm.emit(0x89, wide: false, reg: src.code, operand, word: true)
        case .stxw: asm.emit(0x89, wide: false, reg: src.code, operand)
        case .stxdw: asm.emit(0x89, wide: true, reg: src.code, operand)
        default: atomic(s, operand, wide: size == 8)
        }
    }

    /// Locked read-modify-write: sequentially consistent on x86, as the fetch forms require.
    private mutating func atomic(_ s: Slot, _ operand: X86Operand, wide: Bool) {
        let position = Int(s.op.rawValue - (wide ? Op.atomicAdd64.rawValue : Op.atomicAdd32.rawValue))
        let src = r(s.src)
        switch position {
        case 0...3:  // add, or, and, xor
            asm.emit([0x01, 0x09, 0x21, 0x31][position], wide: wide, reg: src.code, operand, lock: true)
        case 4:  // fetch add
            asm.move(Self.scratch, src, wide: true)
            asm.emit(0xc1, escaped: true, wide: wide, reg: Self.scratch.code, operand, lock: true)
            asm.move(src, Self.scratch, wide: true)
        case 8:  // exchange
            asm.move(Self.scratch, src, wide: true)
            asm.emit(0x87, wide: wide, reg: Self.scratch.code, operand)
            asm.move(src, Self.scratch, wide: true)
        case 9:  // compare-exchange with r0 = rax, which cmpxchg itself uses
            asm.emit(0xb1, escaped: true, wide: wide, reg: src.code, operand, lock: true)
            if !wide { asm.move(.rax, .rax, wide: false) }  // a successful 32-bit cmpxchg leaves rax's upper half
        default:  // fetch or/and/xor: a cmpxchg loop; the operand sits at [rsp], r0 at [rsp+8]
            var operand = operand
            if case .memory(.rax, let displacement) = operand {  // the loop reuses rax
                asm.lea(Self.address, .rax, displacement)
                operand = .memory(Self.address, 0)
            }
            asm.push(.rax)
            asm.push(src)
            asm.emit(0x8b, wide: wide, reg: X86Register.rax.code, operand)
            let loop = asm.newLabel()
            asm.bind(loop)
            asm.move(Self.scratch, .rax, wide: true)
            asm.emit([0x0b, 0x23, 0x33][position - 5], wide: wide, reg: Self.scratch.code, .memory(.rsp, 0))
            asm.emit(0xb1, escaped: true, wide: wide, reg: Self.scratch.code, operand, lock: true)
            asm.jump(if: .notEqual, to: loop)
            asm.move(Self.scratch, .rax, wide: wide)
            asm.alu(extension: 0, .register(.rsp), immediate: 8, wide: true)
            asm.pop(.rax)
            asm.move(src, Self.scratch, wide: true)
        }
    }

    /// Classic packet loads: big-endian, and out of range the program ends with r0 = 0.
    private mutating func packetLoad(_ s: Slot) {
        let size: Int32 = switch s.op { case .ldabsb, .ldindb: 1; case .ldabsh, .ldindh: 2; default: 4 }
        asm.move(Self.address, constant: s.imm)
        if s.op == .ldindb || s.op == .ldindh || s.op == .ldindw {
            asm.emit(0x63, wide: true, reg: Self.scratch.code, .register(r(s.src)))
            asm.alu(0x01, .register(Self.address), Self.scratch, wide: true)
        }
        asm.emit(0x85, wide: true, reg: Self.address.code, .register(Self.address))
        asm.jump(if: .less, to: returnZeroLabel)
        asm.load(Self.scratch, field(JITContext.inputCount))
        asm.alu(extension: 5, .register(Self.scratch), immediate: size, wide: true)
        asm.alu(0x39, .register(Self.address), Self.scratch, wide: true)
        asm.jump(if: .greater, to: returnZeroLabel)
        asm.emit(0x03, wide: true, reg: Self.address.code, field(JITContext.inputStart))
        let at = X86Operand.memory(Self.address, 0)
        switch size {
        case 1: asm.emit(0xb6, escaped: true, wide: false, reg: X86Register.rax.code, at)
        case 2:
            asm.emit(0xb7, escaped: true, wide: false, reg: X86Register.rax.code, at)
            asm.emit(0xc1, wide: false, reg: 0, .register(.rax), word: true)  // rol ax, 8
            asm.append8(8)
        default:
            asm.emit(0x8b, wide: false, reg: X86Register.rax.code, at)
            asm.byteSwap(.rax, wide: false)
        }
    }

    // MARK: Calls

    /// Stores r0–r10 and the budget where Swift reads them.
    private mutating func saveRegisters() {
        for (index, register) in Self.map.enumerated() { asm.store(register, registerField(index)) }
        asm.store(Self.budget, field(JITContext.budget))
    }

    /// Reloads what a call into Swift may clobber: the caller-saved registers.
    private mutating func restoreRegisters() {
        for index in 0...5 { asm.load(Self.map[index], registerField(index)) }
        asm.load(Self.budget, field(JITContext.budget))
        asm.load(Self.address, field(JITContext.checkedAddress))
    }

    /// Through the one helper path the interpreter uses too (`Helper.call`).
    private mutating func helperCall(at pc: Int) {
        asm.move32(Self.scratch, constant: UInt32(pc))
        asm.call(helperRoutine)
    }

    /// map_lookup_elem(r1 = map handle, r2 = key) without the helper path, as the kernel's
    /// JIT runs it: an array's value address computed here (array_map_gen_lookup), a hash's or
    /// trie's lookup function called directly. r1–r5 are dead after a call (the verifier
    /// proved it), so only the budget register is kept across the call into Swift. Anything
    /// but a handle of the table (an inner map's slot) takes the helper path, which says why.
    private mutating func mapLookup(at pc: Int) {
        guard let table = mapLookups else { return helperCall(at: pc) }
        let handle = r(1), key = r(2), result = r(0)
        let generic = asm.newLabel(), notArray = asm.newLabel(), missing = asm.newLabel(), done = asm.newLabel()
        func field(_ offset: Int32) -> X86Operand { .memory(handle, offset) }
        // handle - start < count * stride, and a multiple of stride.
        asm.move(Self.scratch, handle, wide: true)
        asm.move(Self.address, constant: table.start)
        asm.alu(0x29, .register(Self.scratch), Self.address, wide: true)
        asm.alu(extension: 7, .register(Self.scratch), immediate: Int32(table.count * MapLookupDescriptor.stride), wide: true)
        asm.jump(if: .aboveOrEqual, to: generic)
        asm.emit(0xf7, wide: false, reg: 0, .register(Self.scratch))   // test r10d, stride - 1
        asm.append32(UInt32(MapLookupDescriptor.stride - 1))
        asm.jump(if: .notEqual, to: generic)
        asm.load(Self.scratch, field(MapLookupDescriptor.kind))
        asm.alu(extension: 7, .register(Self.scratch), immediate: Int32(MapLookupDescriptor.Kind.array.rawValue), wide: false)
        asm.jump(if: .notEqual, to: notArray, short: true)
        // Array: index < max_entries ? base + index * stride : NULL.
        asm.emit(0x8b, wide: false, reg: Self.scratch.code, .memory(key, 0))
        asm.emit(0x3b, wide: true, reg: Self.scratch.code, field(MapLookupDescriptor.maxEntries))
        asm.jump(if: .aboveOrEqual, to: missing, short: true)
        asm.emit(0xaf, escaped: true, wide: true, reg: Self.scratch.code, field(MapLookupDescriptor.elementStride))
        asm.emit(0x03, wide: true, reg: Self.scratch.code, field(MapLookupDescriptor.base))
        asm.move(result, Self.scratch, wide: true)
        asm.jump(to: done)
        asm.bind(missing)
        asm.move(result, constant: 0)
        asm.jump(to: done)
        asm.bind(notArray)
        asm.alu(extension: 7, .register(Self.scratch), immediate: Int32(MapLookupDescriptor.Kind.direct.rawValue), wide: false)
        asm.jump(if: .notEqual, to: generic, short: true)
        // function(map, key, cpu); rsp is 16-byte aligned here, as the System V call wants.
        asm.store(Self.budget, self.field(JITContext.budget))
        asm.load(Self.scratch, field(MapLookupDescriptor.function))
        asm.load(.rdx, field(MapLookupDescriptor.cpu))
        asm.load(.rdi, field(MapLookupDescriptor.map))
        if key != .rsi { asm.move(.rsi, key, wide: true) }
        asm.emit(0xff, wide: false, reg: 2, .register(Self.scratch))      // call r10
        if result != .rax { asm.move(result, .rax, wide: true) }
        asm.load(Self.budget, self.field(JITContext.budget))
        asm.jump(to: done)
        asm.bind(generic)
        helperCall(at: pc)
        asm.bind(done)
    }

    /// The routines behind helper calls and granted-memory checks, once per program:
    /// save the registers Swift may clobber, call the Swift entry with (context, pc), restore.
    /// A check that fails and a helper that fails or stops end the run from here (the tail
    /// resets rsp); otherwise they return to the caller.
    private mutating func swiftCallRoutines() {
        for (routine, entry) in [(helperRoutine, JITContext.helperEntry), (regionCheckRoutine, JITContext.regionCheckEntry)] {
            asm.bind(routine)
            saveRegisters()
            asm.store(Self.address, field(JITContext.checkedAddress))
            asm.move(.rdi, Self.context, wide: true)
            asm.move(.rsi, Self.scratch, wide: false)
            asm.alu(extension: 5, .register(.rsp), immediate: 8, wide: true)  // 16-byte aligned at the call
            asm.emit(0xff, wide: false, reg: 2, field(entry))
            asm.alu(extension: 0, .register(.rsp), immediate: 8, wide: true)
            asm.move(Self.scratch, .rax, wide: false)
            restoreRegisters()
            let ended = asm.newLabel()
            if routine == helperRoutine {
                // 0: go on; 1: the helper stopped the program with r0; 2: a fault Swift recorded.
                asm.emit(0x85, wide: false, reg: Self.scratch.code, .register(Self.scratch))
                asm.jump(if: .notEqual, to: ended, short: true)
                asm.ret()
                asm.bind(ended)
                asm.alu(extension: 7, .register(Self.scratch), immediate: 1, wide: false)
                asm.jump(if: .equal, to: exitLabel)
            } else {
                // 1: inside granted memory; 0: out of bounds, recorded by Swift.
                asm.emit(0x85, wide: false, reg: Self.scratch.code, .register(Self.scratch))
                asm.jump(if: .equal, to: ended, short: true)
                asm.ret()
                asm.bind(ended)
            }
            asm.move32(.rax, constant: JITStatus.faultRecorded.rawValue)
            asm.jump(to: tailLabel)
        }
    }

    /// Each frame saves r6–r9 and the caller's r10 on the host stack; 48 bytes with the
    /// return address, so rsp stays 16-byte aligned for calls into Swift.
    private mutating func localCall(at pc: Int, target: Int) {
        asm.alu(extension: 7, field(JITContext.depth), immediate: Int32(Interpreter.maxCallDepth - 1), wide: true)
        asm.jump(if: .aboveOrEqual, to: stub { .fault(label: $0, pc: pc, status: .callDepth) })
        asm.alu(extension: 0, field(JITContext.depth), immediate: 1, wide: true)
        let saved: [X86Register] = [.rbx, .r13, .r14, .r15, .rbp]
        for register in saved { asm.push(register) }
        asm.alu(extension: 5, .register(.rbp), immediate: Int32(Interpreter.stackSize), wide: true)
        asm.call(pcLabels + target)
        for register in saved.reversed() { asm.pop(register) }
        asm.alu(extension: 5, field(JITContext.depth), immediate: 1, wide: true)
    }

    /// Entered from Swift with (context, address to call), r1–r5, r10, the depth and the
    /// budget in the context: the callee runs as under a local call (its `exit` returns here,
    /// the depth above 0), and its r0 leaves through the program's own exit; a fault inside
    /// ends this entry as it would end a run.
    private mutating func callbackEntryRoutine() {
        asm.bind(callbackRoutine)
        prologue(keepsTarget: true)
        asm.alu(extension: 5, .register(.rsp), immediate: 40, wide: true)  // as a local call's saved registers
        asm.emit(0xff, wide: false, reg: 2, .register(Self.scratch))  // call r10
        asm.jump(to: exitLabel)
    }

    func callbackEntry() -> JITCallbackEntry? {
        let offsets = (0..<slotCount).map { Int32(asm.position(of: pcLabels + $0)) }
        return JITCallbackEntry(routine: asm.position(of: callbackRoutine), slotOffsets: offsets)
    }

    // MARK: Out-of-line code

    private mutating func emit(_ stub: Stub) {
        switch stub {
        case .fault(let label, let pc, let status):
            asm.bind(label)
            fault(at: pc, status)
        case .accessCheck(let label, let resume, let pc, let base, let displacement, let size):
            asm.bind(label)
            asm.lea(Self.address, base, displacement)
            asm.move32(Self.scratch, constant: UInt32(pc))
            asm.call(stackCheckRoutines + size.trailingZeroBitCount)
            asm.jump(to: resume)
        }
    }

    private mutating func emitBudget(_ stub: BudgetLedger.Stub) {
        switch stub {
        case .budget(let label, let blockStart, let count):
            asm.bind(label)
            asm.alu(extension: 0, .register(Self.budget), immediate: Int32(count), wide: true)
            asm.move32(Self.scratch, constant: UInt32(blockStart))
            asm.jump(to: budgetRoutine)
        case .exactChain(let chain):
            asm.bind(chain.exact)
            for step in chain.exactPath {
                switch step {
                case .adjust(let amount):
                    asm.alu(extension: amount < 0 ? 5 : 0, .register(Self.budget), immediate: Int32(abs(amount)), wide: true)
                case .charge(let count, let budgetStub):
                    asm.alu(extension: 5, .register(Self.budget), immediate: Int32(count), wide: true)
                    asm.jump(if: .below, to: budgetStub)
                case .copy(let slots, let taken):
                    copyTakenLabel = taken
                    for (slot, pc) in slots { emitCode(slot, at: pc) }
                    copyTakenLabel = nil
                case .jump(let pc):
                    asm.jump(to: pcLabels + pc)
                }
            }
        case .refund(let label, let count, let target):
            asm.bind(label)
            asm.alu(extension: 0, .register(Self.budget), immediate: Int32(count), wide: true)
            asm.jump(to: pcLabels + target)
        }
    }

    /// The live stack frames run from the current frame's bottom (r10 - 512) to the top of
    /// the stack; outside them the access goes on to the granted-memory check in Swift.
    private mutating func stackCheckRoutinesAndBudget() {
        for (index, size) in [1, 2, 4, 8].enumerated() {
            asm.bind(stackCheckRoutines + index)
            let outside = asm.newLabel()
            asm.push(.rax)
            asm.lea(.rax, .rbp, -Int32(Interpreter.stackSize))
            asm.alu(0x39, .register(Self.address), .rax, wide: true)
            asm.jump(if: .below, to: outside, short: true)
            asm.move(.rax, constant: stackTop &- UInt64(size))
            asm.alu(0x39, .register(Self.address), .rax, wide: true)
            asm.jump(if: .above, to: outside, short: true)
            asm.pop(.rax)
            asm.ret()
            asm.bind(outside)
            asm.pop(.rax)
            asm.jump(to: regionCheckRoutine)  // returns to our caller, or ends the run
        }
        asm.bind(budgetRoutine)
        asm.store(Self.scratch, field(JITContext.faultPC))
        asm.move32(.rax, constant: JITStatus.budget.rawValue)
        asm.jump(to: tailLabel)
    }
}

extension X86Assembler {
    /// `bswap r32/r64`: opcode 0F C8+r, no ModRM.
    mutating func byteSwap(_ register: X86Register, wide: Bool) {
        let rex: UInt8 = 0x40 | (wide ? 8 : 0) | (register.code >= 8 ? 1 : 0)
        if rex != 0x40 { append8(rex) }
        append8(0x0f)
        append8(0xc8 | (register.code & 7))
    }
}
