import BPFInstructions

/// Why a program could not be prepared or why a run stopped. Run-time errors carry the
/// slot index (pc) and the text of the instruction that failed.
public struct VMError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A load, store or atomic touched memory outside every region the program may use.
        case outOfBounds(address: UInt64, size: Int, isWrite: Bool)
        /// Execution went past the last instruction.
        case ranOffTheEnd
        /// A local call would make the call stack deeper than `limit` frames.
        case callDepthExceeded(limit: Int)
        case unknownHelper(id: Int64)
        /// The run executed `budget` instructions without exiting.
        case instructionBudgetExhausted(budget: UInt64)
        /// A helper refused its arguments.
        case helperFailed(id: Int32, message: String)
        /// The program writes r10, which the ABI makes read-only.
        case writesFramePointer
        /// The program uses something this VM cannot run (a kernel function call, a map reference).
        case unsupported(String)
        case invalidProgram(DecodeError)
    }

    public var kind: Kind
    /// Slot index of the failing instruction, when the error is tied to one.
    public var pc: Int?
    /// Disassembly of the failing instruction.
    public var instruction: String?
    /// The regions that were valid when an access failed, for the message.
    public var regions: [MemoryRegion]

    public init(_ kind: Kind, pc: Int? = nil, instruction: String? = nil, regions: [MemoryRegion] = []) {
        self.kind = kind
        self.pc = pc
        self.instruction = instruction
        self.regions = regions
    }

    public var description: String {
        var text = ""
        if let pc {
            text = "pc \(pc)"
            if let instruction { text += " (\(instruction))" }
            text += ": "
        }
        switch kind {
        case .outOfBounds(let address, let size, let isWrite):
            text += "out-of-bounds \(isWrite ? "write" : "read") of \(size) byte\(size == 1 ? "" : "s") at \(hex(address))"
            if !regions.isEmpty {
                text += "; valid: " + regions.map { "\($0.name) \(hex($0.start))..<\(hex($0.start &+ UInt64($0.count)))" }
                    .joined(separator: ", ")
            }
        case .ranOffTheEnd: text += "ran off the end of the program without exit"
        case .callDepthExceeded(let limit): text += "call depth exceeds \(limit) frames"
        case .unknownHelper(let id): text += "unknown helper \(id)"
        case .instructionBudgetExhausted(let budget): text += "instruction budget of \(budget) exhausted (endless loop?)"
        case .helperFailed(let id, let message): text += "helper \(id) failed: \(message)"
        case .writesFramePointer: text += "writes the read-only frame pointer r10"
        case .unsupported(let what): text += what
        case .invalidProgram(let error): text += error.description
        }
        return text
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
