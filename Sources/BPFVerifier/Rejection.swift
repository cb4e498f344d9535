import BPFInstructions

/// Why a program was not proven safe: the instruction, one sentence on what is wrong, the
/// facts that matter and the path that leads there.
public struct Rejection: Error, Sendable, CustomStringConvertible {
    /// The broad class of the problem, for programs and tests that act on it.
    public enum Kind: String, Sendable, Hashable {
        case uninitializedRegister, uninitializedStack, invalidMemoryAccess, possiblyNull, invalidContextAccess
        case invalidPointerArithmetic, invalidHelperCall, unreleasedReference, infiniteLoop, tooComplex
        case invalidReturn, invalidCall, invalidInstruction, unknownMap, unsupported, unreachableInstruction
    }

    public var kind: Kind
    /// Slot index of the instruction.
    public var index: Int
    /// The instruction in kernel syntax ("" when the problem is not at one instruction).
    public var instruction: String
    /// One sentence: what is wrong.
    public var message: String
    /// What the verifier knew that matters (where a value came from, its range).
    public var facts: [String]
    /// Instruction indices of the branch decisions and calls on the path to `index`.
    public var path: [Int]
    /// The C source line, when the program has line info.
    public var sourceLine: String?

    public init(kind: Kind, index: Int, instruction: String, message: String, facts: [String] = [], path: [Int] = [],
                sourceLine: String? = nil) {
        self.kind = kind
        self.index = index
        self.instruction = instruction
        self.message = message
        self.facts = facts
        self.path = path
        self.sourceLine = sourceLine
    }

    /// The path as people read it: "0 → 4 → 7 → 9".
    public var pathText: String { Self.pathText(path.last == index ? path : path + [index]) }

    /// Instruction indices as a path; a long one (a loop's rounds) keeps its start and its
    /// end, where the mistake is, and says how many steps it leaves out.
    public static func pathText(_ steps: [Int]) -> String {
        guard steps.count > 40 else { return steps.map(String.init).joined(separator: " → ") }
        let head = steps.prefix(8).map(String.init).joined(separator: " → ")
        let tail = steps.suffix(24).map(String.init).joined(separator: " → ")
        return "\(head) → … (\(steps.count - 32) steps) … → \(tail)"
    }

    public var description: String {
        var text = "instruction \(index)"
        if !instruction.isEmpty { text += " (\(instruction))" }
        text += ": \(message)"
        if let sourceLine { text += "\n  source: \(sourceLine)" }
        for fact in facts { text += "\n  \(fact)" }
        if !path.isEmpty { text += "\n  path: \(pathText)" }
        return text
    }
}
