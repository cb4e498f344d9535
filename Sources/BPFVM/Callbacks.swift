/// What an engine offers helpers that call the program back (bpf_loop, for_each_map_elem):
/// a run of one of the program's functions inside the run that called the helper, on the
/// same registers, stack and budget.
protocol CallbackRunner: AnyObject {
    /// Whether an instruction starts at slot `pc` (not the second half of an `lddw`, not past the end).
    func startsInstruction(_ pc: Int) -> Bool
    /// Runs from `pc` with r1–r5 and r10 already set, in frame `depth` (counted from the
    /// program's own frame, 0), until the function exits; returns r0 or the fault, with the
    /// budget and granted memory carried on to the calling run.
    func runCallback(at pc: Int, depth: Int, call: HelperCall) -> Result<UInt64, VMError>
}

/// The engine that called a helper, unretained (its run holds it alive) and by its concrete
/// class, so that a callback costs no reference counting and no existential call.
enum RunningEngine {
    case interpreter(Unmanaged<Interpreter>)
    case jit(Unmanaged<JITProgram>)

    // Not inlined: their closures must stay out of the helpers' typed-throws bodies, which
    // Swift 6.3's release mode miscompiles.
    @inline(never)
    func startsInstruction(_ pc: Int) -> Bool {
        switch self {
        case .interpreter(let engine): engine._withUnsafeGuaranteedRef { $0.startsInstruction(pc) }
        case .jit(let engine): engine._withUnsafeGuaranteedRef { $0.startsInstruction(pc) }
        }
    }

    @inline(never)
    func runCallback(at pc: Int, depth: Int, call: HelperCall) -> Result<UInt64, VMError> {
        switch self {
        case .interpreter(let engine): engine._withUnsafeGuaranteedRef { $0.runCallback(at: pc, depth: depth, call: call) }
        case .jit(let engine): engine._withUnsafeGuaranteedRef { $0.runCallback(at: pc, depth: depth, call: call) }
        }
    }
}

extension HelperCall {
    /// Calls the program's function `function` — the value an `ld_imm64` of a function gave
    /// the program — with r1–r5 = the arguments, in a stack frame of its own below the
    /// caller's, as the kernel calls a callback; returns its r0. Its instructions count
    /// against the run's budget, and a fault inside it ends the whole run with the fault's own
    /// pc. The caller's registers are as they were before, whatever the function did.
    public func callFunction(_ function: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
                             _ a5: UInt64 = 0) throws(VMError) -> UInt64 {
        // The live frames run from the top of the stack down to the caller's: the callee's
        // frame is the next one.
        let depth = stack.count / Interpreter.stackSize
        guard depth < Interpreter.maxCallDepth else { throw VMError(.callDepthExceeded(limit: Interpreter.maxCallDepth)) }
        guard function < UInt64(Int32.max), runner.startsInstruction(Int(function)) else {
            throw failure("the callback \(hex(function)) is not an instruction of the program")
        }
        let r = registers
        let saved = (r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
        (r[1], r[2], r[3], r[4], r[5]) = (a1, a2, a3, a4, a5)
        r[10] = stack.start
        let result = runner.runCallback(at: Int(function), depth: depth, call: self)
        (r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]) = saved
        return try result.get()
    }
}
