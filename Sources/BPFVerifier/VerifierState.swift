/// One call frame: its registers, its stack, and where to return.
struct Frame: Hashable, Sendable {
    var registers = [Value](repeating: .uninitialized, count: 11)
    var stack = StackState()
    /// The instruction after the call, for the caller's frame to resume at; -1 for the main frame.
    var returnIndex = -1
    /// The index of the call instruction, for messages.
    var callSite = -1
    /// For a callback's frame (bpf_loop, for_each_map_elem): what held when it was entered.
    var callback: CallbackEntry? = nil
    /// Runs of a callback this frame's pending bpf_loop call has analysed (bounded by a constant count).
    var callbackRuns = 0
}

/// Everything known at one point of one path.
struct VerifierState: Sendable {
    var frames: [Frame]
    /// Open references (ring buffer reservations, sockets): id -> the helper call that took it.
    var references: [Int: Int] = [:]
    /// The spin lock held, if any.
    var lock: HeldLock? = nil
    /// Bytes from the packet's start known to be inside it (proven by a check against data_end).
    var packetBytes = 0
    /// Bytes from data_meta known to lie before data.
    var metaBytes = 0
    /// For packet and metadata pointers with an id: the constant offset up to which a check
    /// against the end proved bytes, counted from the variable part that id stands for.
    var packetRanges: [Int: Int] = [:]
    /// The branch decisions that led here, as instruction indices (for messages), the last 64 or more.
    var trail: [Int] = []
    /// The last state recorded on this path (for loop detection and pruning).
    var lastRecord: Int? = nil
    /// The instructions analysed since `lastRecord`, for precision tracking to walk back.
    var history: [PathStep] = []

    var current: Frame {
        get { frames[frames.count - 1] }
        set { frames[frames.count - 1] = newValue }
    }

    subscript(register: Int) -> Value {
        get { frames[frames.count - 1].registers[register] }
        set { frames[frames.count - 1].registers[register] = newValue }
    }

    /// Keeps at least the last 64 steps (trimmed now and then, not at every step).
    mutating func note(_ index: Int) {
        trail.append(index)
        if trail.count > 128 { trail.removeFirst(trail.count - 64) }
    }

    /// A digest of the registers that states the same but for ids share: most states that
    /// are not the same differ in it, so loop detection rarely compares whole states.
    var registerDigest: UInt64 {
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ x: UInt64) { digest = (digest ^ x) &* 0x100_0000_01b3 }
        for frame in frames {
            for value in frame.registers {
                switch value {
                case .uninitialized: mix(1)
                case .scalar(let s): mix(s.bits.value); mix(s.bits.mask); mix(s.umin); mix(s.umax); mix(UInt64(bitPattern: s.smin))
                case .pointer(let p): mix(2); mix(p.offset.bits.value); mix(p.offset.bits.mask); mix(p.offset.umax)
                }
            }
        }
        return digest
    }

    /// Applies `change` to every register and spilled register of every frame.
    mutating func updateAllValues(_ change: (Value) -> Value) {
        for f in frames.indices {
            for r in 0..<11 { frames[f].registers[r] = change(frames[f].registers[r]) }
            for (slot, value) in frames[f].stack.spills { frames[f].stack.spills[slot] = change(value) }
        }
    }
}

/// A spin lock a path holds: the map whose value has it, the id of the map value pointer
/// it was taken through (0 for a global's), and the bpf_spin_lock call.
struct HeldLock: Hashable, Sendable {
    var map: String
    var id: Int
    var origin: Int
}

/// Whether an explored state covers a new one: every behaviour possible from the new state
/// was possible from the old, so exploring the new one again can find nothing new. Pointer
/// ids must correspond one to one. Numbers no check relied on (not in `precise`) cover any
/// number; `exact` asks for the very same state (a loop that made no progress).
struct StateComparison {
    private var oldToNew: [Int: Int] = [:]
    private var newToOld: [Int: Int] = [:]
    private let precise: PreciseSet?
    private var lastFreshID = 0
    private var oldRanges: [Int: Int] = [:]
    private var newRanges: [Int: Int] = [:]

    private init(precise: PreciseSet?) { self.precise = precise }

    /// `precise` nil compares every number by its range.
    static func covers(_ old: VerifierState, _ new: VerifierState, precise: PreciseSet?) -> Bool {
        var comparison = StateComparison(precise: precise)
        return comparison.covers(old, new, exact: false)
    }

    static func isSame(_ old: VerifierState, _ new: VerifierState) -> Bool {
        var comparison = StateComparison(precise: nil)
        return comparison.covers(old, new, exact: true)
    }

    private func isPrecise(frame: Int, register: Int) -> Bool {
        precise?.contains(frame: frame, register: register) ?? true
    }

    private func isPrecise(frame: Int, slot: Int) -> Bool {
        precise?.contains(frame: frame, slot: slot) ?? true
    }

    private mutating func covers(_ old: VerifierState, _ new: VerifierState, exact: Bool) -> Bool {
        guard old.frames.count == new.frames.count, old.references.count == new.references.count else { return false }
        if exact ? old.packetBytes != new.packetBytes : old.packetBytes > new.packetBytes { return false }
        if exact ? old.metaBytes != new.metaBytes : old.metaBytes > new.metaBytes { return false }
        oldRanges = old.packetRanges
        newRanges = new.packetRanges
        for (f, (o, n)) in zip(old.frames, new.frames).enumerated() {
            guard o.returnIndex == n.returnIndex, exact ? o.callbackRuns == n.callbackRuns : o.callbackRuns <= n.callbackRuns
            else { return false }
            for r in 0..<11 where !covers(o.registers[r], n.registers[r], exact: exact, precise: isPrecise(frame: f, register: r)) {
                return false
            }
            for i in 0..<StackState.size {
                let ob = o.stack.bytes[i], nb = n.stack.bytes[i]
                if ob == nb || (!exact && ob == .invalid) { continue }
                if exact || ob != .misc || nb == .invalid { return false }
                if nb == .spill, case .pointer? = n.stack.spills[i / 8] { return false }
            }
            for (slot, value) in o.stack.spills {
                guard let other = n.stack.spills[slot], covers(value, other, exact: exact, precise: isPrecise(frame: f, slot: slot))
                else { return false }
            }
        }
        for id in old.references.keys {
            guard let mapped = oldToNew[id], new.references[mapped] != nil else { return false }
        }
        switch (old.lock, new.lock) {
        case (nil, nil): return true
        case (let a?, let b?): return a.map == b.map && matches(a.id, b.id)
        default: return false
        }
    }

    /// An id of its own for a number without copies (ids made by the analysis are positive).
    private mutating func freshID() -> Int {
        lastFreshID -= 1
        return lastFreshID
    }

    private mutating func matches(_ old: Int, _ new: Int) -> Bool {
        if old == 0 || new == 0 { return old == new }
        if let seen = oldToNew[old] { return seen == new }
        if let seen = newToOld[new] { return seen == old }
        oldToNew[old] = new
        newToOld[new] = old
        return true
    }

    private mutating func covers(_ old: Value, _ new: Value, exact: Bool, precise: Bool) -> Bool {
        switch (old, new) {
        case (.uninitialized, _): return !exact || new == .uninitialized
        case (.scalar(let a), .scalar(let b)):
            if !exact && !precise { return true }
            // Copies linked in the old state must be linked alike in the new one.
            guard exact ? a.hasSameFacts(as: b) : a.contains(b) else { return false }
            if a.id == 0 && b.id == 0 { return true }
            if a.id != 0 && b.id != 0 && a.linkDelta != b.linkDelta { return false }
            return matches(a.id == 0 ? freshID() : a.id, b.id == 0 ? freshID() : b.id)
        case (.pointer(let a), .pointer(let b)):
            guard a.kind == b.kind, matches(a.id, b.id) else { return false }
            if a.id != 0, a.kind == .packet || a.kind == .packetMeta {
                // The same constant part, and at least the bytes the old one had proven.
                let old = oldRanges[a.id] ?? 0, new = newRanges[b.id] ?? 0
                guard a.fixed == b.fixed, exact ? old == new : old <= new else { return false }
            }
            return exact ? a.offset == b.offset : a.offset.contains(b.offset)
        default: return false
        }
    }
}
