/// Why a CO-RE relocation could not be applied. A relocation that finds no matching
/// type in the target is not an error — its instruction is poisoned, as libbpf does —
/// these are the cases where libbpf refuses to load the program.
public struct CORERelocationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The access string is not `n[:n...]`, or for a type relocation not "0".
        case badAccessString(String)
        /// The access string names a member, element or enumerator the local type lacks,
        /// or steps into a type that has none.
        case badAccess(String)
        /// More than 64 steps (libbpf's `BPF_CORE_SPEC_MAX_LEN`).
        case accessTooDeep
        /// The relocation's type id is not in the local BTF.
        case unknownLocalType(BTFTypeID)
        /// Candidates are searched by name; an anonymous type has none.
        case anonymousType
        /// A type in the chain has no size (void, a function, a forward declaration).
        case unsizedType(BTFTypeID)
        /// A type id that does not exist, or typedefs and qualifiers that loop.
        case unresolvableType(BTFTypeID)
        /// Type comparison went deeper than libbpf's limit of 32 levels.
        case typesTooDeep
        /// Two matching candidates put the field at different offsets.
        case fieldOffsetAmbiguity(first: Int, other: Int)
        /// Two matching candidates give different values, or one fails and one does not.
        case decisionAmbiguity(first: String, other: String)
        /// Only byte offset and byte size apply to an array element.
        case notAFieldOfArrayElement(CORERelocationKind)
        /// A bitfield no 8-byte load covers.
        case bitfieldTooWide
        /// The instruction index lies outside the program, or the offset is not a
        /// multiple of 8.
        case instructionOutOfRange(offset: UInt32)
        /// The instruction is not one CO-RE patches (ALU with immediate, LDX/ST/STX,
        /// 64-bit immediate load), or a 64-bit load in an unexpected form.
        case unsupportedInstruction(opcode: UInt8)
        /// The instruction does not hold the value the local BTF says it should.
        case unexpectedValue(found: Int64, expected: UInt64)
        /// A memory offset past `Int16.max`.
        case offsetTooLarge(UInt64)
        /// The load or store size differs from the field's local size, or the new size
        /// is not 1, 2, 4 or 8.
        case unexpectedMemorySize(found: Int, expected: Int)
        case invalidMemorySize(Int)
    }

    public var reason: Reason
    /// The relocation's index in the program's (or section's) list.
    public var relocationIndex: Int
    /// The instruction slot it patches.
    public var instructionIndex: Int
    /// The program, when relocating a whole program.
    public var program: String?

    public init(_ reason: Reason, relocationIndex: Int, instructionIndex: Int, program: String? = nil) {
        self.reason = reason
        self.relocationIndex = relocationIndex
        self.instructionIndex = instructionIndex
        self.program = program
    }

    public var description: String {
        let prefix = program.map { "program '\($0)', " } ?? ""
        return "\(prefix)CO-RE relocation #\(relocationIndex) at instruction \(instructionIndex): \(reasonText)"
    }

    private var reasonText: String {
        switch reason {
        case .badAccessString(let text): "malformed access string '\(text)'"
        case .badAccess(let text): text
        case .accessTooDeep: "access string is longer than 64 steps"
        case .unknownLocalType(let id): "type [\(id)] is not in the program's BTF"
        case .anonymousType: "relocations against anonymous types are not supported (candidates are found by name)"
        case .unsizedType(let id): "type [\(id)] has no size"
        case .unresolvableType(let id): "type [\(id)] does not exist or its typedefs and qualifiers loop"
        case .typesTooDeep: "types nest deeper than 32 levels"
        case .fieldOffsetAmbiguity(let first, let other):
            "field offset ambiguity: candidates give bit offsets \(first) and \(other)"
        case .decisionAmbiguity(let first, let other): "relocation decision ambiguity: \(first) != \(other)"
        case .notAFieldOfArrayElement(let kind): "\(kind.name) cannot be applied to an array element access"
        case .bitfieldTooWide: "bitfield cannot be read with one 64-bit load"
        case .instructionOutOfRange(let offset): "instruction offset \(offset) is outside the program"
        case .unsupportedInstruction(let opcode): "cannot patch instruction with opcode 0x\(String(opcode, radix: 16))"
        case .unexpectedValue(let found, let expected): "instruction holds \(found), expected \(expected)"
        case .offsetTooLarge(let value): "offset \(value) does not fit an instruction's 16-bit offset"
        case .unexpectedMemorySize(let found, let expected): "instruction accesses \(found) bytes, expected \(expected)"
        case .invalidMemorySize(let size): "no load or store has size \(size)"
        }
    }
}
