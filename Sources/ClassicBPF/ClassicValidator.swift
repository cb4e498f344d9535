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
            try check(slot, at: index, count: raw.count, readsScratch: &readsScratch)
            decoded.append(instruction)
        }
        try checkEnd(raw, readsScratch: readsScratch)
        return decoded
    }

    /// Checks the encoding of instructions that are already decoded, as `validate` checks
    /// raw ones: every `ClassicInstruction` encodes to a known opcode, so only that check is
    /// left out. `maximumLength` is the kernel's unless the program is for libpcap's
    /// filtering in user space, which has none.
    static func validate(encoded raw: [RawClassicInstruction], maximumLength: Int = ClassicOpcode.maxInstructions) throws(ClassicValidationError) {
        try checkCount(raw.count, maximumLength: maximumLength)
        var readsScratch = false
        for (index, slot) in raw.enumerated() {
            try check(slot, at: index, count: raw.count, readsScratch: &readsScratch)
        }
        try checkEnd(raw, readsScratch: readsScratch)
    }

    private static func checkCount(_ count: Int, maximumLength: Int = ClassicOpcode.maxInstructions) throws(ClassicValidationError) {
        guard count > 0 else { throw ClassicValidationError(index: 0, reason: .empty) }
        guard count <= maximumLength else {
            throw ClassicValidationError(index: maximumLength, reason: .tooLong(count: count, limit: maximumLength))
        }
    }

    /// The kernel's per-instruction checks of a known opcode, on its encoding (one switch on
    /// the opcode's bits, as the kernel's, costs less than matching the decoded form); notes
    /// whether a scratch word is read, since only then is there anything for
    /// `checkLoadsAndStores` to find.
    private static func check(_ slot: RawClassicInstruction, at index: Int, count: Int,
                              readsScratch: inout Bool) throws(ClassicValidationError) {
        typealias O = ClassicOpcode
        func fail(_ reason: ClassicValidationError.Reason) -> ClassicValidationError {
            ClassicValidationError(index: index, reason: reason)
        }
        let (code, k) = (slot.code, slot.k)
        switch O.instructionClass(code) {
        case O.classALU where O.source(code) == O.sourceK:
            let operation = O.operation(code)
            if k == 0, operation == ClassicArithmetic.div.rawValue || operation == ClassicArithmetic.mod.rawValue {
                throw fail(.divisionByZero)
            }
            if k >= 32, operation == ClassicArithmetic.lsh.rawValue || operation == ClassicArithmetic.rsh.rawValue {
                throw fail(.shiftTooLarge(k))
            }
        case O.classLD, O.classLDX:
            switch O.mode(code) {
            case O.modeMEM:
                if k >= UInt32(O.scratchWords) { throw fail(.scratchOutOfRange(k)) }
                readsScratch = true
            case O.modeABS where O.instructionClass(code) == O.classLD:
                if AncillaryField.isAncillary(k), AncillaryField(offset: k) == nil {
                    throw fail(.unknownAncillaryField(offset: k))
                }
            default:
                break
            }
        case O.classST, O.classSTX:
            if k >= UInt32(O.scratchWords) { throw fail(.scratchOutOfRange(k)) }
        case O.classJMP where O.operation(code) == O.jumpJA:
            // Unsigned, as the kernel compares: a "negative" k is a far forward jump.
            if UInt64(k) >= UInt64(count - index - 1) {
                throw fail(.jumpOutOfRange(target: Int64(index) + 1 + Int64(Int32(bitPattern: k)), count: count))
            }
        case O.classJMP:
            // The true target first, as the kernel checks.
            let (jt, jf) = (Int(slot.jt), Int(slot.jf))
            if index + jt + 1 >= count { throw fail(.jumpOutOfRange(target: Int64(index + jt + 1), count: count)) }
            if index + jf + 1 >= count { throw fail(.jumpOutOfRange(target: Int64(index + jf + 1), count: count)) }
        default:
            break
        }
    }

    /// The checks after the per-instruction ones: the last instruction returns, then scratch
    /// words are written before they are read.
    @inline(__always)
    private static func checkEnd(_ program: [RawClassicInstruction], readsScratch: Bool) throws(ClassicValidationError) {
        guard ClassicOpcode.instructionClass(program[program.count - 1].code) == ClassicOpcode.classRET else {
            throw ClassicValidationError(index: program.count - 1, reason: .lastIsNotReturn)
        }
        if readsScratch { try checkLoadsAndStores(program) }
    }

    /// The kernel's `check_load_and_stores`: one pass in program order, where each jump
    /// narrows the set of written words its targets may assume. Like the kernel, the state
    /// after a jump restarts from "all written" (the next instruction is reached only by
    /// jumps, which narrow it), while the state after `ret` flows on unchanged.
    private static func checkLoadsAndStores(_ program: [RawClassicInstruction]) throws(ClassicValidationError) {
        if let (pc, k) = firstReadBeforeWrite(program) {
            throw ClassicValidationError(index: pc, reason: .scratchReadBeforeWrite(k))
        }
    }

    /// Where `checkLoadsAndStores` fails: the first load of a scratch word not written on
    /// every way there, and the word. Apart and not throwing, since its closure could clobber
    /// a typed error in a release build (Swift 6.3); the masks live on the machine stack for
    /// small programs (no allocation).
    @inline(never)
    private static func firstReadBeforeWrite(_ program: [RawClassicInstruction]) -> (pc: Int, k: UInt32)? {
        typealias O = ClassicOpcode
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: program.count) { masks in
            masks.initialize(repeating: 0xffff)
            var valid: UInt16 = 0
            for (pc, slot) in program.enumerated() {
                valid &= masks[pc]
                let (code, k) = (slot.code, slot.k)
                switch O.instructionClass(code) {
                case O.classST, O.classSTX:
                    valid |= 1 << (k & 15)
                case O.classLD where O.mode(code) == O.modeMEM, O.classLDX where O.mode(code) == O.modeMEM:
                    if valid & (1 << (k & 15)) == 0 { return (pc, k) }
                case O.classJMP where O.operation(code) == O.jumpJA:
                    masks[pc + 1 + Int(k)] &= valid
                    valid = 0xffff
                case O.classJMP:
                    masks[pc + 1 + Int(slot.jt)] &= valid
                    masks[pc + 1 + Int(slot.jf)] &= valid
                    valid = 0xffff
                default:
                    break
                }
            }
            return nil
        }
    }
}
