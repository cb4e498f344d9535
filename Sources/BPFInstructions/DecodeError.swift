/// Why a sequence of slots is not valid eBPF code, and at which instruction slot.
public struct DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The byte count is not a multiple of 8.
        case truncated(byteCount: Int)
        case emptyProgram
        case unknownOpcode(UInt8)
        /// A field this opcode does not use is not zero (RFC 9669: unused fields SHALL be zero).
        case reservedFieldSet(field: String, value: Int64)
        /// A field holds a value outside the ones this opcode defines.
        case invalidField(field: String, value: Int64)
        case invalidRegister(field: String, value: UInt8)
        /// `lddw` is the last slot: its second half is missing.
        case missingSecondHalf
        /// The slot after `lddw` is not a valid second half (opcode, registers and offset zero).
        case invalidSecondHalf
        /// A jump or call lands outside the program.
        case jumpOutOfRange(target: Int)
        /// A jump or call lands on the second half of a `lddw`.
        case jumpIntoWideInstruction(target: Int)
    }

    /// Index of the offending slot (8-byte units from the start of the program).
    public var index: Int
    public var reason: Reason

    public init(index: Int, reason: Reason) {
        self.index = index
        self.reason = reason
    }

    public var description: String {
        let what: String = switch reason {
        case .truncated(let count): "code is \(count) bytes, not a multiple of 8"
        case .emptyProgram: "the program has no instructions"
        case .unknownOpcode(let opcode): "unknown opcode 0x\(String(opcode, radix: 16))"
        case .reservedFieldSet(let field, let value): "reserved field \(field) is \(value), must be 0"
        case .invalidField(let field, let value): "invalid \(field) \(value)"
        case .invalidRegister(let field, let value): "invalid register r\(value) in \(field)"
        case .missingSecondHalf: "lddw has no second half"
        case .invalidSecondHalf: "reserved field set in the second half of lddw: its opcode, registers and offset must be 0"
        case .jumpOutOfRange(let target): "jump to \(target) is outside the program"
        case .jumpIntoWideInstruction(let target): "jump to \(target) lands inside a 16-byte lddw"
        }
        return "instruction \(index): \(what)"
    }
}
