import BPFInstructions

/// What CO-RE decided for one relocation: the local specification, each target
/// candidate tried, and the value the instruction gets — or that it is poisoned, so that
/// the program fails only if it reaches that instruction.
public struct CORERelocationDecision: Sendable, Hashable {
    /// A target type with the local type's essential name and a compatible kind.
    public struct Candidate: Sendable, Hashable {
        public var typeID: BTFTypeID
        public var matched: Bool
        /// The target specification, partial when the candidate did not match.
        public var spec: CORESpec
    }

    /// The relocation, with its instruction index in the program.
    public var relocation: BTFExt.CORERelocation
    /// Its position in the list it came from (libbpf's `relo #N`).
    public var index: Int
    public var localSpec: CORESpec
    /// Candidates in the order tried; empty for `local_type_id`, which needs none.
    public var candidates: [Candidate] = []
    /// The first matching candidate's specification; nil when none matched.
    public var targetSpec: CORESpec?
    /// The value the instruction must hold now, from the local BTF.
    public var originalValue: UInt64 = 0
    /// The value it gets.
    public var newValue: UInt64 = 0
    /// No candidate matched and the kind has no "absent" value: the instruction becomes
    /// `call 0xbad2310`, which the verifier rejects only if it is reachable.
    public var isPoisoned = false
    /// Whether the instruction's current value is checked against `originalValue`
    /// (not for bitfield positions, which clang may compute differently, nor type ids).
    public var validatesOriginal = true
    /// For byte offsets of loads and stores: the field's size locally and in the target,
    /// which becomes the access size when they differ.
    public var originalSize = 0
    public var newSize = 0
    /// The sizes differ but the field is not a pointer or unsigned integer in both, so
    /// resizing the access would read a wrong value: a load or store gets poisoned.
    public var failsSizeAdjustment = false
    var originalFieldTypeID: BTFTypeID = 0
    var newFieldTypeID: BTFTypeID = 0
    /// What `relocate` did to the instruction; nil from `resolve` alone.
    public var patch: CORERelocationPatch?

    /// libbpf's debug lines for this relocation, for `--verbose` explanations.
    public func explanation(localBTF: BTF, targetBTF: BTF) -> [String] {
        var lines = ["relo #\(index): \(localSpec.description(in: localBTF))"]
        for (position, candidate) in candidates.enumerated() {
            lines.append("relo #\(index): \(candidate.matched ? "matching" : "non-matching") candidate #\(position) \(candidate.spec.description(in: targetBTF))")
        }
        if relocation.kind != .typeIDLocal && targetSpec == nil { lines.append("relo #\(index): no matching targets found") }
        switch patch {
        case .poisoned?:
            lines.append("relo #\(index): substituting insn #\(relocation.instructionIndex) w/ invalid insn")
        case .immediate(let from, let to)?:
            lines.append("relo #\(index): patched insn #\(relocation.instructionIndex) (ALU/ALU64) imm \(from) -> \(to)")
        case .offset(let from, let to, let sizeChange)?:
            lines.append("relo #\(index): patched insn #\(relocation.instructionIndex) (LDX/ST/STX) off \(from) -> \(to)")
            if let sizeChange {
                lines.append("relo #\(index): patched insn #\(relocation.instructionIndex) (LDX/ST/STX) mem_sz \(sizeChange.from) -> \(sizeChange.to)")
            }
        case .wideImmediate(let from, let to)?:
            lines.append("relo #\(index): patched insn #\(relocation.instructionIndex) (LDIMM64) imm64 \(from) -> \(to)")
        case nil:
            break
        }
        return lines
    }
}

/// How an instruction was changed.
public enum CORERelocationPatch: Sendable, Hashable {
    /// A load or store whose access size changed with its field's, in bytes.
    public struct SizeChange: Sendable, Hashable {
        public var from: Int
        public var to: Int

        public init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }
    }

    /// An ALU instruction's immediate.
    case immediate(from: Int32, to: Int32)
    /// A load's or store's offset, and its access size when that changed.
    case offset(from: Int16, to: Int16, sizeChange: SizeChange?)
    /// A 64-bit immediate load's value.
    case wideImmediate(from: UInt64, to: UInt64)
    /// Replaced by `call 0xbad2310` (both slots of a 64-bit load).
    case poisoned
}

/// A program with its CO-RE relocations applied.
public struct CORERelocationResult: Sendable, Hashable {
    public var instructions: [RawInstruction]
    /// One per relocation, in the program's order.
    public var decisions: [CORERelocationDecision]

    public init(instructions: [RawInstruction], decisions: [CORERelocationDecision]) {
        self.instructions = instructions
        self.decisions = decisions
    }
}
