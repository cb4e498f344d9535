/// The memory that generated code and Swift share during a run: byte offsets of its
/// 8-byte fields. Generated code keeps a pointer to it in a register for the whole run.
enum JITContext {
    /// r0...r10 when Swift must see them (start, helper calls, region checks), then the
    /// address being checked at 88.
    static let registers: Int32 = 0
    static let checkedAddress: Int32 = 88
    static let inputStart: Int32 = 96
    static let inputCount: Int32 = 104
    /// Per access size 1, 2, 4, 8: how many offsets into the input an access may start at.
    static let inputLimits: Int32 = 112
    static let savedStackPointer: Int32 = 144
    static let mayGotoLeft: Int32 = 152
    static let faultPC: Int32 = 160
    /// Instructions left; on a budget fault, those left when the failing block began.
    static let budget: Int32 = 168
    static let helperEntry: Int32 = 176
    static let regionCheckEntry: Int32 = 184
    static let owner: Int32 = 192
    static let depth: Int32 = 200
    static let size = 208

    static func inputLimit(size: Int) -> Int32 { inputLimits + 8 * Int32(size.trailingZeroBitCount) }
}

/// How a run of generated code ended: the value its entry function returns.
enum JITStatus: UInt32 {
    case returned = 0
    /// Swift recorded the fault itself (a bad access, a helper that failed or was unknown).
    case faultRecorded, ranOffTheEnd, callDepth, budget, kernelFunction
}

/// A machine-code back end. The front end (`JITCompiler`) walks the decoded program, finds
/// its basic blocks and hands each block and instruction over; the back end emits code for
/// one target. The generated function takes a `JITContext` pointer and returns a `JITStatus`.
/// Contract: a block's first instruction charges the whole block to the budget; memory
/// accesses are checked against input, live stack frames and (through `regionCheckEntry`)
/// memory helpers granted; faults store the pc in the context and return their status, or
/// return `faultRecorded` when Swift recorded them.
protocol JITBackEnd {
    /// `slotCount` slots plus the end slot; `stackTop` is one past the run's stack memory.
    /// Without `checksMemory` (verified programs only) loads, stores and atomics go straight
    /// to their address.
    init(slotCount: Int, stackTop: UInt64, checksMemory: Bool)
    /// Starts a basic block of `instructionCount` instructions at `pc`.
    mutating func beginBlock(at pc: Int, instructionCount: Int)
    mutating func emit(_ slot: Slot, at pc: Int)
    /// The finished machine code, or nil if it could not be laid out.
    mutating func finish() -> [UInt8]?
}

/// The target-independent half of the JIT: block boundaries and the instruction walk.
enum JITCompiler {
    /// Compiles decoded slots (the last one is `.end`). A block ends at every instruction
    /// that can fault, stop or branch, so only a block's last instruction can end a run
    /// early: charging a whole block at its start then stops at exactly the instruction
    /// where the interpreter runs out, with the same memory.
    static func compile<BackEnd: JITBackEnd>(_ slots: [Slot], stackTop: UInt64, checksMemory: Bool = true,
                                             as _: BackEnd.Type) -> [UInt8]? {
        let count = slots.count
        var leaders = [Bool](repeating: false, count: count)
        leaders[0] = true
        leaders[count - 1] = true
        for (pc, slot) in slots.enumerated() where slot.op != .wideSecondHalf {
            if let target = target(of: slot) { leaders[Int(target)] = true }
            let next = pc + (slot.op == .lddw ? 2 : 1)
            // Unchecked accesses cannot fault, so they need not end a block.
            let faults = endsBlock(slot.op) && (checksMemory || access(slot.op) == nil)
            if faults && next < count { leaders[next] = true }
        }
        var backEnd = BackEnd(slotCount: count, stackTop: stackTop, checksMemory: checksMemory)
        var pc = 0
        while pc < count {
            if leaders[pc] {
                var instructions = 0, scan = pc
                repeat {
                    instructions += 1
                    scan += slots[scan].op == .lddw ? 2 : 1
                } while scan < count && !leaders[scan]
                backEnd.beginBlock(at: pc, instructionCount: instructions)
            }
            backEnd.emit(slots[pc], at: pc)
            pc += slots[pc].op == .lddw ? 2 : 1
        }
        return backEnd.finish()
    }

    static func target(of slot: Slot) -> Int32? {
        switch slot.op {
        case .ja, .callLocal, .mayGoto: return slot.target
        case _ where isBranch(slot.op): return slot.target
        default: return nil
        }
    }

    static func isBranch(_ op: Op) -> Bool {
        op.rawValue >= Op.jeq64i.rawValue && op.rawValue <= Op.jsle32r.rawValue
    }

    /// Whether `op` may branch, call, fault or stop the program.
    static func endsBlock(_ op: Op) -> Bool {
        switch op {
        case .ja, .call, .callLocal, .callRegister, .callKernelFunction, .exit, .mayGoto, .end, .wideSecondHalf,
             .ldabsb, .ldabsh, .ldabsw, .ldindb, .ldindh, .ldindw:
            return true
        default:
            return isBranch(op) || access(op) != nil
        }
    }

    /// Size and direction of a load, store or atomic; nil for other instructions.
    static func access(_ op: Op) -> (size: Int, isWrite: Bool)? {
        switch op {
        case .ldxb, .ldxsb: (1, false)
        case .ldxh, .ldxsh: (2, false)
        case .ldxw, .ldxsw: (4, false)
        case .ldxdw: (8, false)
        case .stb, .stxb: (1, true)
        case .sth, .stxh: (2, true)
        case .stw, .stxw: (4, true)
        case .stdw, .stxdw: (8, true)
        case _ where op.rawValue >= Op.atomicAdd32.rawValue && op.rawValue <= Op.atomicCmpxchg32.rawValue: (4, true)
        case _ where op.rawValue >= Op.atomicAdd64.rawValue && op.rawValue <= Op.atomicCmpxchg64.rawValue: (8, true)
        default: nil
        }
    }
}
