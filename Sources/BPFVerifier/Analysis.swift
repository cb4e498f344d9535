import BPFInstructions
import BPFObject

/// One run of the verifier over one program: a depth-first walk over every path, with
/// states recorded at jump targets so that a path reaching a state already covered stops.
final class Analysis {
    let program: Program
    let kind: ProgramKind
    let maps: [Int32: MapInfo]
    let lineInfo: [BTFExt.LineInfo]
    let options: Verifier.Options
    /// Slot index -> instruction (nil for the second slot of lddw).
    let instructions: [Instruction?]
    let isPruningPoint: [Bool]
    /// Targets of backward jumps, where every visit is recorded (loops are found there).
    let isLoopHead: [Bool]
    var statistics = VerifierStatistics()
    var stateLog: [(index: Int, state: String)] = []
    var nextID = 1
    /// Per slot, what loads, stores and atomics there went through: bit 0 the context,
    /// bit 1 any other memory. A runtime rewrites the context accesses for its own layout,
    /// so one instruction may not do both (the kernel refuses that too).
    var accessedMemory: [UInt8]

    /// A state recorded at a pruning point. `live` counts the paths still being explored from it
    /// (directly or through later records); while it is non-zero the state is on the current
    /// path or a pending branch of it, and reaching it again may be a loop. `history` is the
    /// path from the parent record to it and `precise` what the checks after it relied on.
    /// A record without a state is only a link of the path for precision tracking (where an
    /// instruction already holds as many states as are worth comparing).
    struct Record {
        var state: VerifierState?
        var parent: Int?
        var live: Int
        var history: [PathStep]
        var precise = PreciseSet()
        /// The state's `registerDigest`.
        var digest: UInt64 = 0
    }
    var records: [Record] = []
    static let recordsPerInstruction = 32
    /// Steps a path takes at least between two links (records without a state).
    static let stepsPerLink = 64
    /// Steps a path takes at least between two recorded states, but at loop heads.
    static let stepsPerState = 4
    var recordsAt: [[Int]]
    var inProgress = 0
    /// The stack slot the instruction being analysed spilled a register to or filled one
    /// from, for its `PathStep`.
    var movedSlot: (frame: Int, index: Int)?
    /// For a branch on numbers with copies: its entry in `linkedCopies`.
    var stepLinks: Int?
    /// Where the copies of compared numbers were, per branch (see `PathStep.links`).
    var linkedCopies: [PreciseSet] = []

    init(program: Program, kind: ProgramKind, maps: [Int32: MapInfo], lineInfo: [BTFExt.LineInfo],
         options: Verifier.Options) {
        self.program = program
        self.kind = kind
        self.maps = maps
        self.lineInfo = lineInfo
        self.options = options
        var instructions = [Instruction?](repeating: nil, count: program.slots.count)
        var pruning = [Bool](repeating: false, count: program.slots.count)
        var loopHeads = pruning
        for (index, instruction) in program.instructions {
            instructions[index] = instruction
            if let offset = instruction.jumpOffset {
                let target = index + 1 + offset
                if target >= 0 && target < pruning.count { pruning[target] = true }
                if target >= 0 && target <= index { loopHeads[target] = true }
                // As the kernel: a two-way jump is itself a pruning point (before it forks).
                if case .branch = instruction { pruning[index] = true }
                if case .mayGoto = instruction { pruning[index] = true }
                if case .callLocal = instruction, index + 1 < pruning.count { pruning[index + 1] = true }
            }
            // A call that runs a callback is reached again after each run (see Callbacks.swift).
            if case .call(let helper) = instruction, Analysis.callbackHelpers[helper] != nil {
                pruning[index] = true
                loopHeads[index] = true
            }
        }
        self.instructions = instructions
        isPruningPoint = pruning
        isLoopHead = loopHeads
        recordsAt = [[Int]](repeating: [], count: program.slots.count)
        accessedMemory = [UInt8](repeating: 0, count: program.slots.count)
    }

    /// The slots whose loads and stores go through the context pointer.
    var contextAccesses: [Int] { accessedMemory.indices.filter { accessedMemory[$0] & 1 != 0 } }

    /// Notes whether the access at `pc` goes through the context, refusing a mix.
    func noteAccess(at pc: Int, context: Bool, _ state: VerifierState) throws(Rejection) {
        accessedMemory[pc] |= context ? 1 : 2
        if accessedMemory[pc] == 3 {
            throw reject(.invalidContextAccess, at: pc, state,
                         "this instruction accesses the context on one path and other memory on another, which the kernel refuses")
        }
    }

    func makeID() -> Int {
        nextID += 1
        return nextID
    }

    func initialState() -> VerifierState {
        var frame = Frame()
        frame.registers[10] = .pointer(Pointer(kind: .stack(frame: 0), offset: .constant(0)))
        switch kind {
        case .plainMemory(let size):
            frame.registers[1] = .pointer(Pointer(kind: .input(size: size), offset: .constant(0)))
            frame.registers[2] = .scalar(.constant(UInt64(size)))
        case .kernel:
            frame.registers[1] = .pointer(Pointer(kind: .context, offset: .constant(0)))
        }
        return VerifierState(frames: [frame])
    }

    func run() throws(Rejection) {
        try checkStructure()
        var pending: [(Int, VerifierState)] = [(0, initialState())]
        while var (pc, state) = pending.popLast() {
            path: while true {
                statistics.instructionsAnalysed += 1
                if statistics.instructionsAnalysed > options.complexityLimit {
                    throw reject(.tooComplex, at: pc, state,
                                 "the program is too complex: \(options.complexityLimit) instructions analysed without reaching the end of every path")
                }
                if isPruningPoint[pc] {
                    if try isCovered(pc, &state) {
                        statistics.prunedPaths += 1
                        finishPath(state)
                        break
                    }
                }
                if options.recordsStates { stateLog.append((pc, describe(state))) }
                let depth = state.frames.count - 1
                movedSlot = nil
                stepLinks = nil
                let successors = try step(at: pc, &state)
                let done = PathStep(pc: pc, depth: depth, slot: movedSlot, links: stepLinks)
                switch successors {
                case .end:
                    finishPath(state)
                    break path
                case .next(let target):
                    state.history.append(done)
                    pc = target
                case .fork(let target, var other):
                    state.history.append(done)
                    other.1.history.append(done)
                    if let record = state.lastRecord { records[record].live += 1 }
                    pending.append(other)
                    pc = target
                }
            }
        }
    }

    /// Whether a recorded state at `pc` covers `state` (the path can stop); otherwise records it.
    private func isCovered(_ pc: Int, _ state: inout VerifierState) throws(Rejection) -> Bool {
        let precision = options.tracksPrecision
        var digest: UInt64? = nil
        for id in recordsAt[pc] {
            if records[id].live > 0 {
                if digest == nil { digest = state.registerDigest }
                if isCallbackCall(at: pc) {
                    // A callback run that brings nothing new ends the fixed point (kernel: RANGE_WITHIN).
                    guard let old = records[id].state, StateComparison.covers(old, state, precise: nil) else { continue }
                    propagate(records[id].precise, from: state)
                    return true
                }
                guard records[id].digest == digest, let old = records[id].state else { continue }
                if StateComparison.isSame(old, state) {
                    throw reject(.infiniteLoop, at: pc, state,
                                 "the program may loop forever: this instruction is reached again in exactly the same state")
                }
            } else if let old = records[id].state, StateComparison.covers(old, state, precise: precision ? records[id].precise : nil) {
                // This path's numbers now matter where the old one's did.
                propagate(records[id].precise, from: state)
                return true
            }
        }
        // Loops visit their head in ever new states; past a few dozen, more records cost
        // comparisons and rarely prune (the kernel stops adding them too). A link without a
        // state still keeps precision tracking's walks short.
        let keepsState = recordsAt[pc].count < Analysis.recordsPerInstruction
        // A link needs a path long enough to be worth cutting; so does a state, but at a
        // loop's head (the kernel too adds states only every few instructions).
        if !keepsState && state.history.count < Analysis.stepsPerLink { return false }
        if !isLoopHead[pc] && state.history.count < Analysis.stepsPerState { return false }
        if keepsState && digest == nil { digest = state.registerDigest }
        var recorded = state
        recorded.history = []
        records.append(Record(state: keepsState ? recorded : nil, parent: state.lastRecord, live: 1, history: state.history,
                              digest: digest ?? 0))
        let id = records.count - 1
        state.lastRecord = id
        state.history = []
        if keepsState {
            recordsAt[pc].append(id)
            statistics.states += 1
            inProgress += 1
            statistics.peakStates = max(statistics.peakStates, inProgress)
        }
        return false
    }

    private func finishPath(_ state: VerifierState) {
        var current = state.lastRecord
        while let id = current {
            records[id].live -= 1
            if records[id].live > 0 { break }
            if records[id].state != nil { inProgress -= 1 }
            current = records[id].parent
        }
    }

    /// Checks that need no path: every instruction reachable, no fall off the end, legacy packet
    /// loads not mixed with local calls.
    private func checkStructure() throws(Rejection) {
        var hasLocalCall = false, packetLoad: Int? = nil
        for (index, instruction) in program.instructions {
            if case .callLocal = instruction { hasLocalCall = true }
            if case .loadPacket = instruction, packetLoad == nil { packetLoad = index }
        }
        if hasLocalCall, let index = packetLoad, case .kernel = kind {
            throw Rejection(kind: .invalidInstruction, index: index, instruction: text(at: index),
                            message: "legacy packet loads (ld_abs, ld_ind) cannot be mixed with bpf-to-bpf calls")
        }
        try checkFunctions()
        try checkReachable()
    }

    /// Each function (the main one and every call target) ends in exit or a jump, and its jumps
    /// stay inside it.
    private func checkFunctions() throws(Rejection) {
        var starts: Set<Int> = [0]
        for (index, instruction) in program.instructions {
            if case .callLocal(let offset) = instruction { starts.insert(index + 1 + Int(offset)) }
        }
        starts.formUnion(try callbackStarts())
        let sorted = starts.sorted()
        var function = 0
        var previous: (index: Int, instruction: Instruction)?
        for entry in program.instructions {
            if function + 1 < sorted.count, entry.index >= sorted[function + 1] {
                try checkEnd(of: previous)
                function += 1
            }
            let end = function + 1 < sorted.count ? sorted[function + 1] : program.slots.count
            if let offset = entry.instruction.jumpOffset {
                let target = entry.index + 1 + offset
                switch entry.instruction {
                case .callLocal, .loadImmediate64: break
                default:
                    if target < sorted[function] || target >= end {
                        throw Rejection(kind: .invalidInstruction, index: entry.index, instruction: text(at: entry.index),
                                        message: "the jump to \(target) leaves the function that starts at \(sorted[function])")
                    }
                }
            }
            previous = entry
        }
        try checkEnd(of: previous)
    }

    private func checkEnd(of last: (index: Int, instruction: Instruction)?) throws(Rejection) {
        guard let last else { return }
        switch last.instruction {
        case .exit, .jump, .jumpLong: break
        default:
            throw Rejection(kind: .invalidInstruction, index: last.index, instruction: text(at: last.index),
                            message: "the last instruction of a function is not an exit or a jump, so execution could run off its end")
        }
    }

    /// Every instruction can be reached from the start (the kernel refuses dead code).
    private func checkReachable() throws(Rejection) {
        var seen = [Bool](repeating: false, count: instructions.count)
        var work = [0]
        while let index = work.popLast() {
            guard index < instructions.count, !seen[index], let instruction = instructions[index] else { continue }
            seen[index] = true
            let next = index + instruction.slotCount
            switch instruction {
            case .exit: break
            case .jump, .jumpLong: work.append(next + (instruction.jumpOffset ?? 0))
            case .branch, .mayGoto, .callLocal, .loadImmediate64(_, .function, _, _):
                work.append(index + 1 + (instruction.jumpOffset ?? 0)); work.append(next)
            default: work.append(next)
            }
        }
        for (index, _) in program.instructions where !seen[index] {
            throw Rejection(kind: .unreachableInstruction, index: index, instruction: text(at: index),
                            message: "no path from the start reaches this instruction")
        }
    }

    // MARK: Messages

    func text(at index: Int) -> String {
        guard index >= 0, index < instructions.count, let instruction = instructions[index] else { return "" }
        return Disassembler.text(of: instruction, syntax: .kernel)
    }

    func sourceLine(at index: Int) -> String? {
        var best: BTFExt.LineInfo?
        for info in lineInfo where Int(info.instructionOffset) / 8 <= index {
            if best.map({ $0.instructionOffset <= info.instructionOffset }) ?? true { best = info }
        }
        guard let best, !best.line.isEmpty else { return nil }
        let line = best.lineAndColumn >> 10
        let file = best.fileName.split(separator: "/").last.map(String.init) ?? best.fileName
        return "\(file):\(line): \(best.line.trimmingLeadingSpaces)"
    }

    func reject(_ kind: Rejection.Kind, at index: Int, _ state: VerifierState, _ message: String,
                facts: [String] = []) -> Rejection {
        Rejection(kind: kind, index: index, instruction: text(at: index), message: message, facts: facts,
                  path: state.trail, sourceLine: sourceLine(at: index))
    }

    func describe(_ state: VerifierState) -> String {
        var parts: [String] = []
        for (depth, frame) in state.frames.enumerated() {
            let prefix = state.frames.count > 1 ? "frame\(depth): " : ""
            var items: [String] = []
            for r in 0..<11 where frame.registers[r].isInitialized { items.append("r\(r)=\(frame.registers[r].description)") }
            for slot in frame.stack.spills.keys.sorted() {
                if let value = frame.stack.spills[slot] { items.append("fp\(slot * 8 - StackState.size)=\(value.description)") }
            }
            parts.append(prefix + items.joined(separator: " "))
        }
        if state.packetBytes > 0 { parts.append("pkt_range=\(state.packetBytes)") }
        if let lock = state.lock { parts.append("spin_lock=\(lock.map) taken at \(lock.origin)") }
        if !state.references.isEmpty { parts.append("refs=" + state.references.values.sorted().map(String.init).joined(separator: ",")) }
        return parts.joined(separator: " | ")
    }
}

extension String {
    var trimmingLeadingSpaces: String { String(drop { $0 == " " || $0 == "\t" }) }
}
