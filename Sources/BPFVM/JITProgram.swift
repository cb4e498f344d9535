import BPFInstructions
import BPFVerifier

/// A program compiled to machine code. In checked mode the generated code checks every
/// load, store and atomic against the input, the live stack frames and memory that helpers
/// granted, counts the instruction budget per basic block, and stops with the interpreter's
/// `VMError` (same kind, pc and address) — it is safe for any program. Helpers run through
/// the interpreter's own helper path. One instance runs one program at a time (it owns its
/// stack); use one per thread.
///
/// Verified mode drops the memory checks, and only a `VerifiedProgram` — which only
/// `BPFVerifier` makes — opens it: the proof covers every access for input of one size,
/// which each run then checks.
public final class JITProgram: Engine, CallbackRunner {
    public let program: Program
    public let options: Interpreter.Options
    public var executedInstructions: UInt64 { counters.pointee }
    /// Bytes of machine code generated for the program.
    public let codeSize: Int

    private let slots: [Slot]
    /// Per slot, the instructions its block charged beyond it (see `JITCompilation`).
    private let chargedAfter: [Int32]
    private let helpers: HelperTable
    /// Memory the program may use besides its input and stack, known at load time.
    private let regions: [MemoryRegion]?
    private let code: ExecutableMemory
    private let entry: @convention(c) (UnsafeMutableRawPointer) -> UInt32
    /// Runs a callback: (context, address of the function's code).
    private let callbackEntry: (@convention(c) (UnsafeMutableRawPointer, UInt) -> UInt32)?
    /// Code offset of each slot's instruction, -1 where none starts (`JITCallbackEntry`).
    private let slotOffsets: [Int32]
    private let stack: UnsafeMutableRawPointer
    private let stackTop: UInt64
    /// The `JITContext`, as 8-byte words.
    private let context: UnsafeMutablePointer<UInt64>
    private let counters: UnsafeMutablePointer<UInt64>
    /// What calls into Swift change during a run; behind a pointer, so that a run pays no
    /// exclusivity checks for it.
    private struct RunState {
        /// A fault recorded by a call into Swift (a bad access, a helper's failure).
        var recordedFault: RecordedFault?
    }

    /// A struct, not a tuple: resetting an optional tuple each run went through the
    /// runtime's generic tuple witnesses (a few ns a run).
    private struct RecordedFault {
        var pc: Int
        var fault: RunFault
    }
    private let state: UnsafeMutablePointer<RunState>
    /// Memory known at load time and what helpers granted in this run.
    private let granted: UnsafeMutablePointer<[MemoryRegion]?>

    /// Checked mode: every access is checked in the generated code, as the interpreter checks it.
    /// `regions` is memory the program may use besides its input and stack for as long as
    /// the program lives (map values, a context structure).
    public convenience init(program: Program, helpers: [Helper] = [], options: Interpreter.Options = .init(),
                            regions: [MemoryRegion] = []) throws(VMError) {
        try self.init(program: program, helpers: helpers, options: options, regions: regions, checksMemory: true, memorySize: nil)
    }

    /// Verified mode, for a program `BPFVerifier` accepted in plain-memory mode: loads,
    /// stores and atomics go straight to their address, with no check, as the proof covers
    /// them; runs refuse input of any other size than the proof's. The budget still counts.
    public convenience init(verified: VerifiedProgram, options: Interpreter.Options = .init()) throws(VMError) {
        guard case .plainMemory(let size) = verified.kind else {
            throw VMError(.unsupported("the program was verified as \(verified.kind); the JIT runs programs verified for plain memory"), pc: 0)
        }
        try self.init(program: verified.program, helpers: [ConformanceRunner.unwind], options: options, regions: [],
                      checksMemory: false, memorySize: size)
    }

    /// Verified mode for a program of a kernel type that `BPFVerifier` accepted and the
    /// object loader then rewrote for the VM (map references, context offsets): only the
    /// loader, which did both, calls this.
    /// With `mapLookups`, helper 1 must be the kernel's map_lookup_elem over that table's maps:
    /// lookups then run inline or call the map directly.
    convenience init(rewrittenFrom verified: VerifiedProgram, program: Program, helpers: [Helper],
                     options: Interpreter.Options, regions: [MemoryRegion],
                     mapLookups: MapLookupDescriptor.Table? = nil) throws(VMError) {
        try self.init(program: program, helpers: helpers, options: options, regions: regions, checksMemory: false,
                      memorySize: nil, mapLookups: mapLookups)
    }

    /// The input size a verified program was proven for; nil in checked mode.
    public let verifiedMemorySize: Int?

    private init(program: Program, helpers: [Helper], options: Interpreter.Options, regions: [MemoryRegion],
                 checksMemory: Bool, memorySize: Int?, mapLookups: MapLookupDescriptor.Table? = nil) throws(VMError) {
        let table = HelperTable(helpers)
        let slots = try compile(program, helperIndex: { table.index[$0] })
        let stackBytes = Interpreter.stackSize * Interpreter.maxCallDepth
        let stack = UnsafeMutableRawPointer.allocate(byteCount: stackBytes, alignment: 16)
        stack.initializeMemory(as: UInt8.self, repeating: 0, count: stackBytes)
        let stackTop = UInt64(UInt(bitPattern: stack)) &+ UInt64(stackBytes)
        let compilation: JITCompilation?
        #if arch(x86_64)
        compilation = JITCompiler.compile(slots, stackTop: stackTop, checksMemory: checksMemory, mapLookups: mapLookups,
                                          as: X86BackEnd.self)
        let failure = "the JIT could not lay out the program's machine code"
        #else
        compilation = nil
        let failure = "the JIT has no back end for this processor; use the interpreter"
        #endif
        guard let compilation else {
            stack.deallocate()
            throw VMError(.unsupported(failure))
        }
        let code: ExecutableMemory
        do { code = try ExecutableMemory(code: compilation.code) } catch {
            stack.deallocate()
            throw error
        }
        guard let base = code.base else {
            stack.deallocate()
            throw VMError(.unsupported("the JIT's code memory is gone"))
        }
        self.program = program
        self.options = options
        verifiedMemorySize = memorySize
        self.slots = slots
        self.helpers = table
        self.regions = regions.isEmpty ? nil : regions
        self.code = code
        self.codeSize = compilation.code.count
        chargedAfter = compilation.chargedAfter
        self.entry = unsafeBitCast(base, to: (@convention(c) (UnsafeMutableRawPointer) -> UInt32).self)
        if let callbacks = compilation.callbacks {
            callbackEntry = unsafeBitCast(base + callbacks.routine, to: (@convention(c) (UnsafeMutableRawPointer, UInt) -> UInt32).self)
            slotOffsets = callbacks.slotOffsets
        } else {
            callbackEntry = nil
            slotOffsets = []
        }
        self.stack = stack
        self.stackTop = stackTop
        context = .allocate(capacity: JITContext.size / 8)
        context.initialize(repeating: 0, count: JITContext.size / 8)
        counters = .allocate(capacity: 1)
        counters.initialize(to: 0)
        state = .allocate(capacity: 1)
        state.initialize(to: RunState())
        granted = .allocate(capacity: 1)
        granted.initialize(to: regions.isEmpty ? nil : regions)
        set(JITContext.helperEntry, UInt64(UInt(bitPattern: unsafeBitCast(helperEntry, to: UnsafeRawPointer.self))))
        set(JITContext.regionCheckEntry, UInt64(UInt(bitPattern: unsafeBitCast(regionCheckEntry, to: UnsafeRawPointer.self))))
        set(JITContext.owner, UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())))
    }

    deinit {
        code.close()
        stack.deallocate()
        context.deallocate()
        counters.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        granted.deinitialize(count: 1)
        granted.deallocate()
    }

    /// Where the machine code starts, for tests and debuggers.
    var codeAddress: UInt? { code.base.map { UInt(bitPattern: $0) } }

    @inline(__always) private func set(_ offset: Int32, _ value: UInt64) { context[Int(offset) / 8] = value }
    @inline(__always) private func get(_ offset: Int32) -> UInt64 { context[Int(offset) / 8] }

    public func run(memory: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        if let verifiedMemorySize, memory.count != verifiedMemorySize {
            throw VMError(.unsupported("the program was verified for \(verifiedMemorySize) bytes of memory, not \(memory.count)"), pc: 0)
        }
        return try execute(programContext: nil, memory: memory)
    }

    /// Runs with r1 = `context`, r2 = 0 and `input` as the memory legacy packet loads read.
    public func run(context: UnsafeMutableRawPointer, input: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        if verifiedMemorySize != nil {
            throw VMError(.unsupported("the program was verified for plain memory, not for a context"), pc: 0)
        }
        return try execute(programContext: context, memory: input)
    }

    private func execute(programContext: UnsafeMutableRawPointer?, memory: UnsafeMutableRawBufferPointer) throws(VMError) -> UInt64 {
        let inputCount = memory.count
        let inputStart = inputCount == 0 ? 0 : UInt64(UInt(bitPattern: memory.baseAddress))
        for i in 0..<12 { context[i] = 0 }
        if let programContext {
            context[1] = UInt64(UInt(bitPattern: programContext))
        } else {
            context[1] = inputStart
            context[2] = UInt64(inputCount)
        }
        context[10] = stackTop
        set(JITContext.inputStart, inputStart)
        set(JITContext.inputCount, UInt64(inputCount))
        let limits = context + Int(JITContext.inputLimits) / 8
        let count = UInt64(inputCount)
        limits[0] = count
        limits[1] = count >= 2 ? count - 1 : 0
        limits[2] = count >= 4 ? count - 3 : 0
        limits[3] = count >= 8 ? count - 7 : 0
        set(JITContext.mayGotoLeft, Interpreter.mayGotoLimit)
        set(JITContext.depth, 0)
        set(JITContext.budget, options.instructionBudget)
        if granted.pointee?.count != regions?.count { granted.pointee = regions }
        if state.pointee.recordedFault != nil { state.pointee.recordedFault = nil }

        let status = entry(UnsafeMutableRawPointer(context))

        let left = get(JITContext.budget)
        // Wraps: a fault inside a block leaves `left` below what it charged (see `error`).
        counters.pointee = options.instructionBudget &- (status == JITStatus.budget.rawValue ? 0 : left)
        if status == JITStatus.returned.rawValue { return context[0] }
        let (error, unexecuted) = self.error(status: status, left: left, input: (inputStart, inputCount))
        counters.pointee &-= unexecuted
        throw error
    }

    func startsInstruction(_ pc: Int) -> Bool {
        pc >= 0 && pc < slots.count - 1 && slots[pc].op != .wideSecondHalf
    }

    func runCallback(at pc: Int, depth: Int, call: HelperCall) -> Result<UInt64, VMError> {
        guard let callbackEntry, let base = code.base, slotOffsets.indices.contains(pc), slotOffsets[pc] >= 0 else {
            return .failure(call.failure("this JIT back end cannot run callbacks; use the interpreter"))
        }
        // The callback's run saves the host stack pointer where the calling run keeps its own.
        let savedStackPointer = get(JITContext.savedStackPointer), savedDepth = get(JITContext.depth)
        set(JITContext.depth, UInt64(depth))
        let status = callbackEntry(UnsafeMutableRawPointer(context), UInt(bitPattern: base) + UInt(slotOffsets[pc]))
        set(JITContext.savedStackPointer, savedStackPointer)
        set(JITContext.depth, savedDepth)
        if status == JITStatus.returned.rawValue { return .success(context[0]) }
        // The calling run counts from the budget it finds: leave what was really executed.
        let left = get(JITContext.budget)
        let (error, unexecuted) = self.error(status: status, left: left, input: call.input)
        set(JITContext.budget, status == JITStatus.budget.rawValue ? 0 : left &+ unexecuted)
        return .failure(error)
    }

    /// The error a run stopped with, and how many of the instructions charged from the
    /// budget it did not execute.
    @inline(never)
    private func error(status: UInt32, left: UInt64, input: (start: UInt64, count: Int)) -> (VMError, unexecuted: UInt64) {
        var unexecuted: UInt64 = 0
        var pc = Int(get(JITContext.faultPC))
        let fault: RunFault
        switch JITStatus(rawValue: status) {
        case .ranOffTheEnd: fault = .ranOffTheEnd
        case .callDepth: fault = .callDepth
        case .kernelFunction: fault = .kernelFunction(Int64(bitPattern: slots[pc].imm))
        case .budget:
            // The block began at `pc` with `left` instructions to go: the run stops at the next one.
            for _ in 0..<left { pc += slots[pc].op == .lddw ? 2 : 1 }
            fault = .budget
        case .faultRecorded:
            guard let recorded = state.pointee.recordedFault else { fallthrough }
            pc = recorded.pc
            fault = recorded.fault
            // A fault inside a block leaves the rest of what the block charged unexecuted.
            if chargedAfter.indices.contains(pc) { unexecuted = UInt64(chargedAfter[pc]) }
        case .returned, nil:
            return (VMError(.unsupported("the JIT's code ended with unknown status \(status)"), pc: pc), 0)
        }
        let stackLow = context[10] &- UInt64(Interpreter.stackSize)
        return (fault.error(pc: pc, program: program,
                            stack: MemoryRegion(name: "stack", start: stackLow, count: Int(stackTop &- stackLow)),
                            input: input, granted: granted.pointee, budget: options.instructionBudget), unexecuted)
    }

    // MARK: Calls from generated code

    /// The owner for the length of `body`, without retaining it: the run holds it alive.
    fileprivate static func withOwner<T>(of context: UnsafeMutableRawPointer, _ body: (JITProgram) -> T) -> T {
        let pointer = UnsafeRawPointer(bitPattern: UInt(context.load(fromByteOffset: Int(JITContext.owner), as: UInt64.self)))
        return Unmanaged<JITProgram>.fromOpaque(pointer.unsafelyUnwrapped)._withUnsafeGuaranteedRef(body)
    }

    /// 0: go on, r0 = the helper's value; 1: the helper stops the program; 2: a recorded fault.
    fileprivate func callHelper(at pc: Int) -> UInt32 {
        let s = slots[pc]
        let index: Int32
        if s.op == .call {
            index = s.target
        } else if let id = Int32(exactly: context[Int(s.dst)]), let found = helpers.index[id] {
            index = found
        } else {
            index = -1
        }
        guard index >= 0 else {
            let id = s.op == .call ? Int64(bitPattern: s.imm) : Int64(bitPattern: context[Int(s.dst)])
            state.pointee.recordedFault = RecordedFault(pc: pc, fault: .unknownHelper(id))
            return 2
        }
        let stackLow = context[10] &- UInt64(Interpreter.stackSize)
        let input = (get(JITContext.inputStart), Int(get(JITContext.inputCount)))
        switch helpers.call(Int(index), registers: context, stack: (stackLow, Int(stackTop &- stackLow)), input: input,
                            regions: granted, runner: .jit(Unmanaged.passUnretained(self))) {
        case .success(let (value, stops)):
            context[0] = value
            return stops ? 1 : 0
        case .failure(let error):
            state.pointee.recordedFault = RecordedFault(pc: pc, fault: .helper(error))
            return 2
        }
    }

    /// 1 when the access at `pc` to the checked address lies in memory a helper granted;
    /// otherwise 0, with the fault recorded.
    fileprivate func grantedAccess(at pc: Int) -> UInt32 {
        let access = JITCompiler.access(slots[pc].op) ?? (size: 0, isWrite: false)
        let address = get(JITContext.checkedAddress)
        if grantedContains(granted.pointee, address, access.size, access.isWrite) { return 1 }
        state.pointee.recordedFault = RecordedFault(pc: pc, fault: .outOfBounds(address: address, size: access.size, isWrite: access.isWrite))
        return 0
    }
}

private let helperEntry: @convention(c) (UnsafeMutableRawPointer, Int) -> UInt32 = { context, pc in
    JITProgram.withOwner(of: context) { $0.callHelper(at: pc) }
}

private let regionCheckEntry: @convention(c) (UnsafeMutableRawPointer, Int) -> UInt32 = { context, pc in
    JITProgram.withOwner(of: context) { $0.grantedAccess(at: pc) }
}
