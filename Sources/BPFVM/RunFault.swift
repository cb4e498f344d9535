import BPFInstructions

/// Why a run stopped before its `exit`, as both engines record it on their hot path;
/// turned into the `VMError` users see only once the run has ended.
enum RunFault {
    case outOfBounds(address: UInt64, size: Int, isWrite: Bool)
    case ranOffTheEnd, callDepth, unknownHelper(Int64), budget, kernelFunction(Int64)
    case helper(VMError)

    /// The error naming the pc, the instruction and, for a bad access, the regions that were valid.
    func error(pc: Int, program: Program, stack: MemoryRegion, input: (start: UInt64, count: Int),
               granted: [MemoryRegion]?, budget: UInt64) -> VMError {
        // A helper's error that names a pc comes from a callback's run: it says where the
        // run really stopped.
        if case .helper(let error) = self, error.pc != nil { return error }
        let instruction = pc < program.slots.count
            ? (try? Instruction(decoding: program.slots, at: pc)).map(describe) : nil
        let kind: VMError.Kind
        var regions: [MemoryRegion] = []
        switch self {
        case .outOfBounds(let address, let size, let isWrite):
            kind = .outOfBounds(address: address, size: size, isWrite: isWrite)
            regions = [stack]
            if input.count > 0 { regions.append(MemoryRegion(name: "input", start: input.start, count: input.count)) }
            regions += granted ?? []
        case .ranOffTheEnd: kind = .ranOffTheEnd
        case .callDepth: kind = .callDepthExceeded(limit: Interpreter.maxCallDepth)
        case .unknownHelper(let id): kind = .unknownHelper(id: id)
        case .budget: kind = .instructionBudgetExhausted(budget: budget)
        case .kernelFunction(let id): kind = .unsupported("call to kernel function (BTF id \(id)) needs the Linux kernel")
        case .helper(let error): kind = error.kind; regions = error.regions
        }
        return VMError(kind, pc: pc, instruction: instruction, regions: regions)
    }
}
