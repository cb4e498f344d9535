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

/// How a basic block pays for its instructions out of the budget, as it begins.
enum BlockCharge: Equatable {
    /// Charges its own instructions.
    case own
    /// A short block ending in a forward conditional branch (a loop's exit test) also
    /// charges the blocks it falls through into — their instruction counts, in order — so
    /// that the loop pays once per iteration. Each of them but the last ends with a memory
    /// access that falls through. The taken branch refunds what they would have cost.
    case chainHead(following: [Int])
    /// Paid for by the `chainHead` before it.
    case paid
}

/// A machine-code back end. The front end (`JITCompiler`) walks the decoded program, finds
/// its basic blocks and hands each block and instruction over; the back end emits code for
/// one target. The generated function takes a `JITContext` pointer and returns a `JITStatus`.
/// Contract: a block charges the budget as it begins (`BlockCharge`); when the budget is
/// short, the run stops at the block's pc with the budget left as the block began (for a
/// chain, at the first block of it that the budget does not cover). Memory accesses are
/// checked against input, live stack frames and (through `regionCheckEntry`) memory helpers
/// granted; faults store the pc in the context and return their status, or return
/// `faultRecorded` when Swift recorded them.
protocol JITBackEnd {
    /// `slotCount` slots plus the end slot; `stackTop` is one past the run's stack memory.
    /// Without `checksMemory` (verified programs only) loads, stores and atomics go straight
    /// to their address.
    init(slotCount: Int, stackTop: UInt64, checksMemory: Bool)
    /// Starts a basic block of `instructionCount` instructions at `pc`.
    mutating func beginBlock(at pc: Int, instructionCount: Int, charge: BlockCharge)
    mutating func emit(_ slot: Slot, at pc: Int)
    /// The finished machine code, or nil if it could not be laid out.
    mutating func finish() -> [UInt8]?
    /// Verified mode: `call 1` (map_lookup_elem) with a map handle of `table` looks up inline
    /// or calls the map directly (`MapLookupDescriptor`); other arguments take the helper path.
    mutating func inlineMapLookups(_ table: MapLookupDescriptor.Table)
    /// After `finish`: where callbacks enter, for a back end that has the routine.
    func callbackEntry() -> JITCallbackEntry?
}

/// Defaults for back ends without inline map lookups or a callback entry (AArch64 today).
extension JITBackEnd {
    mutating func inlineMapLookups(_ table: MapLookupDescriptor.Table) {}
    func callbackEntry() -> JITCallbackEntry? { nil }
}

/// What the front end hands back: the code, and for each slot how many instructions were
/// charged with it beyond it — a run that faults there has not executed them.
struct JITCompilation {
    var code: [UInt8]
    var chargedAfter: [Int32]
    /// How Swift enters the code to run a callback; nil when the back end cannot.
    var callbacks: JITCallbackEntry? = nil
}

/// A second entry into generated code, for helpers that call the program back: the routine
/// (taking the `JITContext` and the address to call, returning a `JITStatus`) sets up as the
/// program's entry does, calls the function as a local call would, and ends as the program
/// ends — so the callback runs on the same registers, budget and checks.
struct JITCallbackEntry {
    /// Code offset of the routine.
    var routine: Int
    /// Code offset of each slot's instruction, -1 where none starts.
    var slotOffsets: [Int32]
}

/// The target-independent half of the JIT: block boundaries and the instruction walk.
enum JITCompiler {
    /// A chain's blocks but the last are copied out of line, for the run whose budget ends
    /// inside the chain, so chains stay short.
    static let longestChainCopy = 6

    /// Compiles decoded slots (the last one is `.end`). A block ends at every instruction
    /// that can branch, call, stop or fault, and at a store the caller sees: only a block's
    /// last instruction can end a run early or leave a trace in its memory, so charging a
    /// whole block at its start stops at exactly the instruction where the interpreter runs
    /// out, with the same memory.
    static func compile<BackEnd: JITBackEnd>(_ slots: [Slot], stackTop: UInt64, checksMemory: Bool = true,
                                             mapLookups: MapLookupDescriptor.Table? = nil,
                                             as _: BackEnd.Type) -> JITCompilation? {
        let count = slots.count
        var leaders = [Bool](repeating: false, count: count)
        var isTarget = [Bool](repeating: false, count: count)
        leaders[0] = true
        leaders[count - 1] = true
        for (pc, slot) in slots.enumerated() where slot.op != .wideSecondHalf {
            if let target = target(of: slot) {
                leaders[Int(target)] = true
                isTarget[Int(target)] = true
            }
            let next = pc + (slot.op == .lddw ? 2 : 1)
            if (endsBlock(slot.op) || accessEndsBlock(slot, checksMemory: checksMemory)) && next < count {
                leaders[next] = true
            }
        }
        // Blocks as (first pc, instructions, pc of the last instruction).
        var blocks: [(start: Int, count: Int, last: Int)] = []
        blocks.reserveCapacity(count)
        var pc = 0
        while pc < count {
            var instructions = 0, last = pc, scan = pc
            repeat {
                instructions += 1
                last = scan
                scan += slots[scan].op == .lddw ? 2 : 1
            } while scan < count && !leaders[scan]
            blocks.append((pc, instructions, last))
            pc = scan
        }
        var charges = [BlockCharge](repeating: .own, count: blocks.count)
        for index in blocks.indices {
            guard case .own = charges[index] else { continue }
            let head = blocks[index], branch = slots[head.last]
            guard isBranch(branch.op), Int(branch.target) > head.last, head.count <= longestChainCopy else { continue }
            var following: [Int] = [], copied = head.count, next = index + 1
            while next < blocks.count, !isTarget[blocks[next].start], slots[blocks[next].start].op != .end {
                let block = blocks[next]
                following.append(block.count)
                charges[next] = .paid
                next += 1
                // Only a block that ends with an access falls through into the next one.
                guard access(slots[block.last].op) != nil, copied + block.count <= longestChainCopy else { break }
                copied += block.count
            }
            if !following.isEmpty { charges[index] = .chainHead(following: following) }
        }
        var chargedAfter = [Int32](repeating: 0, count: count)
        var backEnd = BackEnd(slotCount: count, stackTop: stackTop, checksMemory: checksMemory)
        if let mapLookups, !checksMemory { backEnd.inlineMapLookups(mapLookups) }
        var uncharged = 0  // what the current charge covers from here on
        for (index, block) in blocks.enumerated() {
            let charge = charges[index]
            switch charge {
            case .own: uncharged = block.count
            case .chainHead(let following): uncharged = block.count + following.reduce(0, +)
            case .paid: break
            }
            backEnd.beginBlock(at: block.start, instructionCount: block.count, charge: charge)
            pc = block.start
            while pc <= block.last {
                uncharged -= 1
                chargedAfter[pc] = Int32(uncharged)
                backEnd.emit(slots[pc], at: pc)
                pc += slots[pc].op == .lddw ? 2 : 1
            }
        }
        guard let code = backEnd.finish() else { return nil }
        return JITCompilation(code: code, chargedAfter: chargedAfter, callbacks: backEnd.callbackEntry())
    }

    /// What a back end does with a slot, decoded once here for every target.
    enum Kind {
        /// `operation` indexes add, sub, mul, div, sdiv, or, and, lsh, rsh, mod, smod, xor, mov, arsh.
        case arithmetic(operation: UInt8, wide: Bool, usesRegister: Bool)
        case branch
        case access(size: Int)
        case other
    }

    static func kind(of slot: Slot) -> Kind {
        let raw = slot.op.rawValue
        if raw < Op.neg64.rawValue { return .arithmetic(operation: (raw % 28) / 2, wide: raw < 28, usesRegister: raw & 1 == 1) }
        if isBranch(slot.op) { return .branch }
        if let access = access(slot.op) { return .access(size: access.size) }
        return .other
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

    /// Whether `op` may branch, call or stop the program.
    static func endsBlock(_ op: Op) -> Bool {
        switch op {
        case .ja, .call, .callLocal, .callRegister, .callKernelFunction, .exit, .mayGoto, .end, .wideSecondHalf,
             .ldabsb, .ldabsh, .ldabsw, .ldindb, .ldindh, .ldindw:
            return true
        default:
            return isBranch(op)
        }
    }

    /// Whether a load, store or atomic ends its block: one that may fault, or that writes
    /// memory the caller sees (a write inside the current frame is gone when the run stops).
    static func accessEndsBlock(_ slot: Slot, checksMemory: Bool) -> Bool {
        guard let access = access(slot.op), !isInFrame(slot, size: access.size) else { return false }
        return checksMemory || access.isWrite
    }

    /// Whether a load, store or atomic is checked at run time: in checked mode all are but
    /// those through r10 inside the current frame, which are always valid.
    static func mayFault(_ slot: Slot, checksMemory: Bool) -> Bool {
        guard checksMemory, let access = access(slot.op) else { return false }
        return !isInFrame(slot, size: access.size)
    }

    private static func isInFrame(_ slot: Slot, size: Int) -> Bool {
        let displacement = Int(displacement(of: slot))
        return base(of: slot) == 10 && displacement >= -Interpreter.stackSize && displacement <= -size
    }

    /// The register a load, store or atomic addresses memory through.
    static func base(of slot: Slot) -> UInt8 { slot.op.rawValue <= Op.ldxsw.rawValue ? slot.src : slot.dst }

    /// The offset from `base(of:)` of a load, store or atomic.
    static func displacement(of slot: Slot) -> Int32 {
        let storesImmediate = slot.op.rawValue >= Op.stb.rawValue && slot.op.rawValue <= Op.stdw.rawValue
        return storesImmediate ? slot.target : Int32(truncatingIfNeeded: slot.imm)
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
