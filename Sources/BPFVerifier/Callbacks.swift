import BPFInstructions
import BPFObject

/// Callbacks: bpf_loop (181) and bpf_for_each_map_elem (164) call a subprogram of the program,
/// named by an `ld_imm64` of BPF_PSEUDO_FUNC, any number of times. As the kernel does, the call
/// forks: one path goes on after the call (the callback ran as often as it will), the other
/// enters the callback in a frame of its own with the arguments the helper gives it. The
/// callback's exit returns to the call instruction itself, which runs again with what the
/// callback left in the caller's stack, until a state recorded there covers the new one (the
/// fixed point). When bpf_loop's count is a constant, as in the kernel, the callback runs at
/// most that often and no more; otherwise, so that this ends, a number the callback changed
/// in a caller's stack becomes unknown on the way back (the kernel's widening does this for
/// numbers no check relied on; widening all is coarser but sound).

/// What held when a callback's frame was entered.
struct CallbackEntry: Hashable, Sendable {
    /// The callers' stacks, for the widening at the callback's exit.
    var stacks: [StackState]
    /// The references open before it: the callback must release whatever it takes.
    var references: Set<Int>
    /// bpf_loop's count when it is a constant: the callback runs at most that often.
    var runLimit: UInt64?
}

extension Analysis {
    /// The helpers that take a callback, by id: their names, for messages.
    static let callbackHelpers: [Int32: String] = [181: "bpf_loop", 164: "bpf_for_each_map_elem"]

    /// Maps whose elements for_each_map_elem can visit (those with a map_for_each_callback in the kernel).
    static let iterableMaps: [MapType] = [.array, .perCPUArray, .hash, .perCPUHash, .lruHash, .lruPerCPUHash]

    func isCallbackCall(at pc: Int) -> Bool {
        if case .call(let helper)? = instructions[pc] { return Analysis.callbackHelpers[helper] != nil }
        return false
    }

    /// The subprogram an `ld_imm64` of BPF_PSEUDO_FUNC names.
    func functionAddress(imm: Int32, at pc: Int, _ state: VerifierState) throws(Rejection) -> Value {
        guard case .kernel = kind else {
            // No helper of the plain-memory mode takes a callback.
            throw reject(.unsupported, at: pc, state, "function addresses (callbacks) are only for the helpers of kernel program types")
        }
        if lineInfo.isEmpty {
            // The kernel needs the callback's BTF function info (it must be static): objects built with -g have it.
            throw reject(.invalidCall, at: pc, state, "a callback's address needs the program's BTF function info, which the kernel requires (missing btf func_info)")
        }
        let start = pc + 1 + Int(imm)
        guard start > 0 else {
            throw reject(.invalidCall, at: pc, state, "the main program cannot be a callback")
        }
        return .pointer(Pointer(kind: .function(start: start), offset: .constant(0), origin: pc))
    }

    /// The first instructions of the subprograms that `ld_imm64` of BPF_PSEUDO_FUNC names.
    func callbackStarts() throws(Rejection) -> [Int] {
        var starts: [Int] = []
        for (index, instruction) in program.instructions {
            guard case .loadImmediate64(_, .function, let imm, _) = instruction else { continue }
            let target = index + 1 + Int(imm)
            guard target >= 0, target < instructions.count, instructions[target] != nil else {
                throw Rejection(kind: .invalidInstruction, index: index, instruction: text(at: index),
                                message: "the callback address \(target) is not the start of an instruction of the program")
            }
            starts.append(target)
        }
        return starts
    }

    /// For bpf_loop and for_each_map_elem: checks the arguments and forks into the path after
    /// the call and the callback's entry; nil for other helpers.
    func callWithCallback(_ helper: Int32, at pc: Int, next: Int, _ state: inout VerifierState) throws(Rejection) -> Successors? {
        guard let name = Analysis.callbackHelpers[helper], case .kernel = kind, options.helpers[helper] == nil else { return nil }
        func wrong(_ register: Register, _ position: Int, _ expected: String, _ value: Value) -> Rejection {
            reject(.invalidHelperCall, at: pc, state, "argument \(position) (\(register)) of \(name) must be \(expected)",
                   facts: ["\(register) is \(value.description)"])
        }
        let first = try read(.r1, at: pc, state)
        var map: MapInfo?
        if helper == 164 {
            guard case .pointer(let p) = first, case .map(let info) = p.kind else { throw wrong(.r1, 1, "a map", first) }
            guard Analysis.iterableMaps.contains(info.type) else {
                throw reject(.invalidHelperCall, at: pc, state, "\(name) cannot visit the elements of a \(info.type) map (callback function not allowed for map)")
            }
            map = info
        } else {
            guard first.scalar != nil else { throw wrong(.r1, 1, "a number (the count of runs)", first) }
        }
        let runLimit = helper == 181 ? first.scalar?.constantValue : nil
        if runLimit != nil { markPrecise(.r1, in: state) }
        let function = try read(.r2, at: pc, state)
        guard case .pointer(let f) = function, case .function(let start) = f.kind, f.offset.constantValue == 0 else {
            throw wrong(.r2, 2, "a callback: the address of a subprogram (ld_imm64 of a function)", function)
        }
        let context = try read(.r3, at: pc, state)
        switch context {
        case .pointer(let p):
            guard case .stack = p.kind else { throw wrong(.r3, 3, "a pointer to the stack or NULL", context) }
        case .scalar(let s):
            guard s.constantValue == 0 else { throw wrong(.r3, 3, "a pointer to the stack or NULL", context) }
            markPrecise(.r3, in: state)
        case .uninitialized: break
        }
        let flags = try read(.r4, at: pc, state)
        guard flags.scalar != nil else { throw wrong(.r4, 4, "a number (the flags)", flags) }

        guard state.frames.count < 8 else {
            throw reject(.invalidCall, at: pc, state, "the callback would be the ninth frame; calls may nest 8 deep")
        }
        var frame = Frame()
        if let map {
            frame.registers[1] = first
            frame.registers[2] = .pointer(Pointer(kind: .mapKey(map), offset: .constant(0), origin: pc))
            frame.registers[3] = .pointer(Pointer(kind: .mapValue(map), offset: .constant(0), origin: pc))
            frame.registers[4] = context
        } else {
            // The kernel gives the index as a number it knows nothing of.
            frame.registers[1] = .unknownScalar
            frame.registers[2] = context
        }
        frame.registers[10] = .pointer(Pointer(kind: .stack(frame: state.frames.count), offset: .constant(0)))
        frame.returnIndex = pc
        frame.callSite = pc
        frame.callback = entry(of: state, runLimit: runLimit)
        var callee = state
        callee.frames.append(frame)
        callee.note(pc)
        callee.note(start)
        guard stackUsed(by: callee.frames) <= StackState.size else {
            throw reject(.invalidCall, at: pc, state, "the stacks of the nested calls would use more than 512 bytes together")
        }
        // After the call: the helper's result, r1-r5 gone.
        var after = state
        for r in 1...5 { after[r] = .uninitialized }
        after[0] = .unknownScalar
        after.current.callbackRuns = 0
        after.note(pc)
        if let runLimit, UInt64(state.current.callbackRuns) >= runLimit {
            // The count is reached: the kernel too stops here ("bpf_loop iteration limit reached").
            state = after
            return .next(next)
        }
        state = callee
        return .fork(start, other: (next, after))
    }

    /// A callback's exit: r0 must be 0 or 1; its references released; back to the call
    /// instruction with numbers it changed in its callers' stacks widened.
    func exitCallback(at pc: Int, _ state: inout VerifierState) throws(Rejection) -> Int {
        let frame = state.current
        guard let entry = frame.callback else { return frame.returnIndex }
        markPrecise(.r0, in: state)
        guard case .scalar(let r0) = state[0], r0.umin <= 1, r0.umax <= 1 else {
            throw reject(.invalidReturn, at: pc, state, "a callback must return 0 or 1",
                         facts: ["r0 is \(state[0].description)", "the callback was called by \(text(at: frame.callSite)) at \(frame.callSite)"])
        }
        if hasNewReferences(state, since: entry) {
            throw reject(.unreleasedReference, at: pc, state, "the callback ends without releasing a reference it took",
                         facts: referenceFacts(state, at: pc))
        }
        if let held = state.lock {
            throw reject(.unreleasedReference, at: pc, state, "the callback ends while holding the spin lock taken at \(held.origin)")
        }
        state.frames.removeLast()
        state.current.callbackRuns += 1
        if entry.runLimit == nil { widen(&state, since: entry) }
        state.note(pc)
        return frame.returnIndex
    }

    // Outlined from the typed-throws callers because of the closures (Swift 6.3's release-mode miscompile).
    @inline(never)
    private func entry(of state: VerifierState, runLimit: UInt64?) -> CallbackEntry {
        CallbackEntry(stacks: state.frames.map(\.stack), references: Set(state.references.keys), runLimit: runLimit)
    }

    @inline(never)
    private func hasNewReferences(_ state: VerifierState, since entry: CallbackEntry) -> Bool {
        state.references.keys.contains { !entry.references.contains($0) }
    }

    /// Numbers spilled in a caller's stack that differ from the callback's entry become unknown.
    @inline(never)
    private func widen(_ state: inout VerifierState, since entry: CallbackEntry) {
        for f in state.frames.indices where f < entry.stacks.count {
            for (slot, value) in state.frames[f].stack.spills {
                guard case .scalar = value, entry.stacks[f].spills[slot] != value else { continue }
                state.frames[f].stack.spills[slot] = .unknownScalar
            }
        }
    }
}
