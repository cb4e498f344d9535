/// Why a classic program is refused, with the index of the instruction at fault. The
/// reasons are the kernel's (`bpf_check_basics_ok`, `bpf_check_classic`,
/// `check_load_and_stores` in net/core/filter.c), which only ever says EINVAL.
public struct ClassicValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The byte count is not a multiple of 8.
        case truncated(byteCount: Int)
        case empty
        /// More than `limit` instructions: 4096 (BPF_MAXINSNS) for the kernel.
        case tooLong(count: Int, limit: Int)
        case unknownOpcode(UInt16)
        /// `div #0` or `mod #0`.
        case divisionByZero
        /// `lsh #k` or `rsh #k` with k of 32 or more.
        case shiftTooLarge(UInt32)
        /// M[k] with k of 16 or more.
        case scratchOutOfRange(UInt32)
        /// A jump lands at or past the end; `target` is the absolute index (may be backwards for `ja`).
        case jumpOutOfRange(target: Int64, count: Int)
        /// An absolute load in the ancillary range (k ≥ 0xfffff000) names no field Linux knows.
        case unknownAncillaryField(offset: UInt32)
        /// The last instruction is not `ret`.
        case lastIsNotReturn
        /// M[k] is read where some path to it has not written it.
        case scratchReadBeforeWrite(UInt32)
    }

    /// Index of the instruction at fault (for `truncated`, the count of whole instructions).
    public var index: Int
    public var reason: Reason

    public init(index: Int, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    public var description: String {
        let what: String = switch reason {
        case .truncated(let count): "code is \(count) bytes, not a multiple of 8"
        case .empty: "the program has no instructions"
        case .tooLong(let count, let limit):
            limit == ClassicOpcode.maxInstructions ? "the program has \(count) instructions; Linux takes at most \(limit)"
                : "the program has \(count) instructions; at most \(limit) are taken"
        case .unknownOpcode(let code): "unknown opcode 0x\(String(code, radix: 16))"
        case .divisionByZero: "division by the constant 0"
        case .shiftTooLarge(let k): "shift by \(k); constant shifts must be less than 32"
        case .scratchOutOfRange(let k): "scratch word M[\(k)] does not exist; there are M[0] to M[15]"
        case .jumpOutOfRange(let target, let count):
            target <= Int64(index)
                ? "jump to \(target) goes backwards; classic jumps only go forward"
                : "jump to \(target) is past the last instruction (\(count - 1))"
        case .unknownAncillaryField(let k):
            "load from \(Int32(bitPattern: k)) (SKF_AD_OFF + \(k &- 0xfffff000)) names no ancillary field"
        case .lastIsNotReturn: "the last instruction must be ret"
        case .scratchReadBeforeWrite(let k): "reads M[\(k)], which some path to here leaves unwritten"
        }
        return "instruction \(index): \(what)"
    }
}
