/// Writes eBPF programs in Swift, with named labels for jumps and local calls that are
/// resolved, forwards and backwards, when the program is built.
///
///     var builder = ProgramBuilder()
///     builder.append(.arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)))
///     builder.bind("loop")
///     builder.append(.arithmetic(.add, .bits64, dst: .r0, source: .immediate(1)))
///     builder.branch(.lt, dst: .r0, source: .immediate(10), to: "loop")
///     builder.append(.exit)
///     let program = try builder.build()
public struct ProgramBuilder: Sendable {
    public struct BuildError: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Reason: Sendable, Hashable {
            case undefinedLabel(String)
            case duplicateLabel(String)
            case offsetOutOfRange(label: String, offset: Int)
            case invalidProgram(DecodeError)
        }
        /// Index of the instruction (in `append` order) the error concerns.
        public var instruction: Int
        public var reason: Reason

        public init(instruction: Int, reason: Reason) {
            self.instruction = instruction
            self.reason = reason
        }

        public var description: String {
            switch reason {
            case .undefinedLabel(let label): "instruction \(instruction): label '\(label)' is never bound"
            case .duplicateLabel(let label): "instruction \(instruction): label '\(label)' is bound twice"
            case .offsetOutOfRange(let label, let offset):
                "instruction \(instruction): label '\(label)' is \(offset) slots away, too far for a 16-bit offset"
            case .invalidProgram(let error): error.description
            }
        }
    }

    private enum Target: Sendable {
        case branch(JumpCondition, Width, Register, Operand)
        case jump
        case jumpLong
        case callLocal
        case functionAddress(Register)
        case mayGoto
    }

    private var instructions: [Instruction] = []
    private var fixups: [(instruction: Int, label: String, target: Target)] = []
    private var labels: [String: Int] = [:]
    private var firstError: BuildError?

    public init() {}

    /// Number of instructions appended so far.
    public var count: Int { instructions.count }

    public mutating func append(_ instruction: Instruction) { instructions.append(instruction) }

    public mutating func append(contentsOf instructions: [Instruction]) { self.instructions += instructions }

    /// Makes `label` name the next instruction appended.
    public mutating func bind(_ label: String) {
        if labels[label] != nil, firstError == nil {
            firstError = BuildError(instruction: instructions.count, reason: .duplicateLabel(label))
        }
        labels[label] = instructions.count
    }

    public mutating func branch(_ condition: JumpCondition, _ width: Width = .bits64, dst: Register,
                                source: Operand, to label: String) {
        placeholder(label, .branch(condition, width, dst, source))
    }

    /// `goto label`; `long` uses the 32-bit offset form (`gotol`).
    public mutating func jump(to label: String, long: Bool = false) { placeholder(label, long ? .jumpLong : .jump) }

    public mutating func callLocal(_ label: String) { placeholder(label, .callLocal) }

    /// `dst = &label` (a `lddw` with the function pseudo source), for callbacks.
    public mutating func loadFunctionAddress(_ dst: Register, of label: String) { placeholder(label, .functionAddress(dst)) }

    public mutating func mayGoto(_ label: String) { placeholder(label, .mayGoto) }

    private mutating func placeholder(_ label: String, _ target: Target) {
        fixups.append((instructions.count, label, target))
        instructions.append(.exit)  // replaced in build()
    }

    /// Resolves every label and validates the result.
    public func build() throws(BuildError) -> Program {
        if let firstError { throw firstError }
        var slotIndex: [Int] = []
        slotIndex.reserveCapacity(instructions.count + 1)
        var slot = 0
        var resolved = instructions
        for (position, fixup) in fixups.enumerated() {
            // A function address is a 2-slot lddw; give the placeholder that size before counting.
            if case .functionAddress(let dst) = fixup.target {
                resolved[fixups[position].instruction] = .loadImmediate64(dst: dst, source: .function, imm: 0, nextImm: 0)
            }
        }
        for instruction in resolved {
            slotIndex.append(slot)
            slot += instruction.slotCount
        }
        slotIndex.append(slot)
        for fixup in fixups {
            guard let labelIndex = labels[fixup.label] else {
                throw BuildError(instruction: fixup.instruction, reason: .undefinedLabel(fixup.label))
            }
            let offset = slotIndex[labelIndex] - slotIndex[fixup.instruction] - 1
            func short() throws(BuildError) -> Int16 {
                guard let value = Int16(exactly: offset) else {
                    throw BuildError(instruction: fixup.instruction, reason: .offsetOutOfRange(label: fixup.label, offset: offset))
                }
                return value
            }
            let long = Int32(truncatingIfNeeded: offset)
            resolved[fixup.instruction] = switch fixup.target {
            case .branch(let condition, let width, let dst, let source):
                .branch(condition, width, dst: dst, source: source, offset: try short())
            case .jump: .jump(offset: try short())
            case .jumpLong: .jumpLong(offset: long)
            case .callLocal: .callLocal(offset: long)
            case .functionAddress(let dst): .loadImmediate64(dst: dst, source: .function, imm: long, nextImm: 0)
            case .mayGoto: .mayGoto(offset: try short())
            }
        }
        do {
            return try Program(resolved)
        } catch {
            let instruction = slotIndex.lastIndex { $0 <= error.index } ?? 0
            throw BuildError(instruction: instruction, reason: .invalidProgram(error))
        }
    }
}
