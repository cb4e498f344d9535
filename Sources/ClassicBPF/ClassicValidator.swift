/// The kernel's checks of a classic filter, in the kernel's order, so that a program passes
/// here exactly when `SO_ATTACH_FILTER` would take it (net/core/filter.c).
enum ClassicValidator {
    /// Decodes and checks `raw`, returning the decoded instructions.
    static func validate(_ raw: [RawClassicInstruction]) throws(ClassicValidationError) -> [ClassicInstruction] {
        try checkCount(raw.count)
        var decoded: [ClassicInstruction] = []
        decoded.reserveCapacity(raw.count)
        var readsScratch = false
        for (index, slot) in raw.enumerated() {
            guard let instruction = ClassicInstruction(slot) else {
                throw ClassicValidationError(index: index, reason: .unknownOpcode(slot.code))
            }
            try check(instruction, at: index, count: raw.count, readsScratch: &readsScratch)
            decoded.append(instruction)
        }
        try checkEnd(decoded, readsScratch: readsScratch)
        return decoded
    }

    /// Checks instructions that are already decoded, as `validate` checks their encoding:
    /// every `ClassicInstruction` encodes to a known opcode, so only that check is left out.
    /// `maximumLength` is the kernel's unless the program is for libpcap's filtering in user
    /// space, which has none.
    static func validate(_ instructions: [ClassicInstruction], maximumLength: Int = ClassicOpcode.maxInstructions) throws(ClassicValidationError) {
        try checkCount(instructions.count, maximumLength: maximumLength)
        var readsScratch = false
        for (index, instruction) in instructions.enumerated() {
            try check(instruction, at: index, count: instructions.count, readsScratch: &readsScratch)
        }
        try checkEnd(instructions, readsScratch: readsScratch)
    }

    private static func checkCount(_ count: Int, maximumLength: Int = ClassicOpcode.maxInstructions) throws(ClassicValidationError) {
        guard count > 0 else { throw ClassicValidationError(index: 0, reason: .empty) }
        guard count <= maximumLength else {
            throw ClassicValidationError(index: maximumLength, reason: .tooLong(count: count, limit: maximumLength))
        }
    }

    /// The kernel's per-instruction checks; notes whether a scratch word is read, since only
    /// then is there anything for `checkLoadsAndStores` to find.
    private static func check(_ instruction: ClassicInstruction, at index: Int, count: Int,
                              readsScratch: inout Bool) throws(ClassicValidationError) {
        func fail(_ reason: ClassicValidationError.Reason) -> ClassicValidationError {
            ClassicValidationError(index: index, reason: reason)
        }
        switch instruction {
        case .arithmetic(.div, .constant(0)), .arithmetic(.mod, .constant(0)):
            throw fail(.divisionByZero)
        case .arithmetic(.lsh, .constant(let k)) where k >= 32, .arithmetic(.rsh, .constant(let k)) where k >= 32:
            throw fail(.shiftTooLarge(k))
        case .loadA(.scratch(let k)), .loadX(.scratch(let k)):
            if k >= UInt32(ClassicOpcode.scratchWords) { throw fail(.scratchOutOfRange(k)) }
            readsScratch = true
        case .storeA(let k), .storeX(let k):
            if k >= UInt32(ClassicOpcode.scratchWords) { throw fail(.scratchOutOfRange(k)) }
        case .jump(let k):
            // Unsigned, as the kernel compares: a "negative" k is a far forward jump.
            if UInt64(k) >= UInt64(count - index - 1) {
                throw fail(.jumpOutOfRange(target: Int64(index) + 1 + Int64(Int32(bitPattern: k)), count: count))
            }
        case .branch(_, _, let jt, let jf):
            // The true target first, as the kernel checks.
            if index + Int(jt) + 1 >= count { throw fail(.jumpOutOfRange(target: Int64(index + Int(jt) + 1), count: count)) }
            if index + Int(jf) + 1 >= count { throw fail(.jumpOutOfRange(target: Int64(index + Int(jf) + 1), count: count)) }
        case .loadA(.packet(_, let k)):
            if AncillaryField.isAncillary(k), AncillaryField(offset: k) == nil {
                throw fail(.unknownAncillaryField(offset: k))
            }
        default:
            break
        }
    }

    /// The checks after the per-instruction ones: the last instruction returns, then scratch
    /// words are written before they are read.
    private static func checkEnd(_ program: [ClassicInstruction], readsScratch: Bool) throws(ClassicValidationError) {
        guard case .ret = program[program.count - 1] else {
            throw ClassicValidationError(index: program.count - 1, reason: .lastIsNotReturn)
        }
        if readsScratch { try checkLoadsAndStores(program) }
    }

    /// The kernel's `check_load_and_stores`: one pass in program order, where each jump
    /// narrows the set of written words its targets may assume. Like the kernel, the state
    /// after a jump restarts from "all written" (the next instruction is reached only by
    /// jumps, which narrow it), while the state after `ret` flows on unchanged.
    private static func checkLoadsAndStores(_ program: [ClassicInstruction]) throws(ClassicValidationError) {
        var masks = [UInt16](repeating: 0xffff, count: program.count)
        var valid: UInt16 = 0
        for (pc, instruction) in program.enumerated() {
            valid &= masks[pc]
            switch instruction {
            case .storeA(let k), .storeX(let k):
                valid |= 1 << (k & 15)
            case .loadA(.scratch(let k)), .loadX(.scratch(let k)):
                guard valid & (1 << (k & 15)) != 0 else {
                    throw ClassicValidationError(index: pc, reason: .scratchReadBeforeWrite(k))
                }
            case .jump(let k):
                masks[pc + 1 + Int(k)] &= valid
                valid = 0xffff
            case .branch(_, _, let jt, let jf):
                masks[pc + 1 + Int(jt)] &= valid
                masks[pc + 1 + Int(jf)] &= valid
                valid = 0xffff
            default:
                break
            }
        }
    }
}
