import BPFInstructions

/// Precision tracking, as the kernel's mark_chain_precision: a number only needs its exact
/// range in a recorded state when some check on a path from there depended on it (an offset
/// added to a pointer, a helper's size, a return range, a branch that could go one way only).
/// Each such check marks the registers it used and walks the path back, instruction by
/// instruction, to the numbers they came from, marking them in every recorded state on the
/// way. Pruning then compares marked numbers by range and lets any number cover the others.

/// Registers and spilled stack slots, per call frame depth (inline: one is made per check
/// and per recorded state).
struct PreciseSet: Sendable {
    static let maxFrames = 8
    /// Bit r: register r.
    private var registers = InlineArray<8, UInt16>(repeating: 0)
    /// Bit s: the 8-byte stack slot s (byte index / 8).
    private var slots = InlineArray<8, UInt64>(repeating: 0)

    var isEmpty: Bool {
        for f in 0..<Self.maxFrames where registers[f] != 0 || slots[f] != 0 { return false }
        return true
    }

    func intersects(_ other: PreciseSet) -> Bool {
        for f in 0..<Self.maxFrames where registers[f] & other.registers[f] != 0 || slots[f] & other.slots[f] != 0 { return true }
        return false
    }

    func contains(frame: Int, register: Int) -> Bool { registers[frame] & (1 << register) != 0 }
    func contains(frame: Int, slot: Int) -> Bool { slots[frame] & (1 << slot) != 0 }

    mutating func insert(frame: Int, register: Int) { registers[frame] |= 1 << register }
    mutating func insert(frame: Int, slot: Int) { slots[frame] |= 1 << slot }

    /// Removes the register; true when it was there.
    @discardableResult
    mutating func remove(frame: Int, register: Int) -> Bool {
        let had = contains(frame: frame, register: register)
        registers[frame] &= ~(1 << register)
        return had
    }

    @discardableResult
    mutating func remove(frame: Int, slot: Int) -> Bool {
        let had = contains(frame: frame, slot: slot)
        slots[frame] &= ~(1 << slot)
        return had
    }

    mutating func removeFrame(_ frame: Int) {
        registers[frame] = 0
        slots[frame] = 0
    }

    /// Adds `other`; returns what was new.
    mutating func formUnion(_ other: PreciseSet) -> PreciseSet {
        var added = PreciseSet()
        for f in 0..<Self.maxFrames {
            added.registers[f] = other.registers[f] & ~registers[f]
            added.slots[f] = other.slots[f] & ~slots[f]
            registers[f] |= other.registers[f]
            slots[f] |= other.slots[f]
        }
        return added
    }

    /// Turns "precise after `step`" into "precise before it".
    mutating func backtrack(over step: PathStep, _ instruction: Instruction) {
        let d = Int(step.depth)
        switch instruction {
        case .arithmetic(let operation, _, let dst, let source):
            guard contains(frame: d, register: Int(dst.rawValue)) else { return }
            if operation == .mov { remove(frame: d, register: Int(dst.rawValue)) }
            if case .register(let src) = source { insert(frame: d, register: Int(src.rawValue)) }
        case .moveSignExtend(_, let dst, let src, _):
            if remove(frame: d, register: Int(dst.rawValue)) { insert(frame: d, register: Int(src.rawValue)) }
        case .load(_, let dst, _, _), .loadSignExtend(_, let dst, _, _), .loadAcquire(_, let dst, _, _):
            if remove(frame: d, register: Int(dst.rawValue)), let slot = step.slot {
                insert(frame: slot.frame, slot: slot.index)
            }
        case .store(_, _, _, let source):
            if let slot = step.slot, remove(frame: slot.frame, slot: slot.index), case .register(let src) = source {
                insert(frame: d, register: Int(src.rawValue))
            }
        case .storeRelease(_, _, _, let src):
            if let slot = step.slot, remove(frame: slot.frame, slot: slot.index) { insert(frame: d, register: Int(src.rawValue)) }
        case .atomic(let operation, _, _, _, let src):
            if operation == .compareExchange { remove(frame: d, register: 0) }
            else if operation.fetches { remove(frame: d, register: Int(src.rawValue)) }
        case .loadImmediate64(let dst, _, _, _):
            remove(frame: d, register: Int(dst.rawValue))
        case .loadPacket, .call:
            for r in 0...5 { remove(frame: d, register: r) }
        case .branch(_, _, let dst, .register(let src), _):
            // The outcome of dst <cond> src narrows each by the other.
            if contains(frame: d, register: Int(dst.rawValue)) || contains(frame: d, register: Int(src.rawValue)) {
                insert(frame: d, register: Int(dst.rawValue))
                insert(frame: d, register: Int(src.rawValue))
            }
        case .callLocal:
            // The callee's r1-r5 were the caller's.
            for r in 1...5 where contains(frame: d + 1, register: r) { insert(frame: d, register: r) }
            removeFrame(d + 1)
        case .exit:
            // A callee returning: the caller's r0 is the callee's.
            guard d > 0 else { return }
            for r in 1...5 { remove(frame: d - 1, register: r) }
            if remove(frame: d - 1, register: 0) { insert(frame: d, register: 0) }
        case .negate, .byteSwap, .branch, .jump, .jumpLong, .mayGoto, .callKernelFunction, .callRegister:
            break
        }
    }
}

/// One analysed instruction of a path, as precision tracking walks it back: where it ran
/// and, for a spill or fill, the stack slot it moved a register to or from.
struct PathStep: Sendable {
    var pc: Int32
    var depth: Int8
    private var slotFrame: Int8 = -1
    private var slotIndex: Int16 = -1
    private var linkIndex: Int32 = -1

    init(pc: Int, depth: Int, slot: (frame: Int, index: Int)?, links: Int? = nil) {
        self.pc = Int32(pc)
        self.depth = Int8(depth)
        if let slot {
            slotFrame = Int8(slot.frame)
            slotIndex = Int16(slot.index)
        }
        if let links { linkIndex = Int32(links) }
    }

    /// For a branch on numbers with copies: the index of where they were, in `Analysis.linkedCopies`.
    var links: Int? { linkIndex < 0 ? nil : Int(linkIndex) }

    var slot: (frame: Int, index: Int)? { slotFrame < 0 ? nil : (Int(slotFrame), Int(slotIndex)) }
}

extension Analysis {
    /// Marks registers of the current frame whose exact value a check at this point relied on.
    @inline(never)
    func markPrecise(_ registers: Register..., in state: VerifierState) {
        guard options.tracksPrecision else { return }
        var set = PreciseSet()
        let depth = state.frames.count - 1
        for register in registers where state[Int(register.rawValue)].scalar != nil {
            set.insert(frame: depth, register: Int(register.rawValue))
        }
        propagate(set, from: state)
    }

    /// Marks a spilled stack slot (a map key whose value mattered).
    @inline(never)
    func markPrecise(frame: Int, slot: Int, in state: VerifierState) {
        var set = PreciseSet()
        set.insert(frame: frame, slot: slot)
        propagate(set, from: state)
    }

    /// Walks `set` back along the path to `state` and adds it to every recorded state on the
    /// way, stopping where nothing new is learnt (earlier marks went further already).
    func propagate(_ set: PreciseSet, from state: VerifierState) {
        guard options.tracksPrecision, !set.isEmpty else { return }
        var set = set
        backtrack(&set, over: state.history)
        var current = state.lastRecord
        while let id = current, !set.isEmpty {
            set = records[id].precise.formUnion(set)
            backtrack(&set, over: records[id].history)
            current = records[id].parent
        }
    }

    private func backtrack(_ set: inout PreciseSet, over history: [PathStep]) {
        var i = history.count
        while i > 0, !set.isEmpty {
            i -= 1
            let step = history[i]
            // A branch narrowed every copy of what it compared: one precise makes all.
            if let links = step.links, set.intersects(linkedCopies[links]) { _ = set.formUnion(linkedCopies[links]) }
            if let instruction = instructions[Int(step.pc)] { set.backtrack(over: step, instruction) }
        }
    }
}
