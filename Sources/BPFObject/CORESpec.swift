/// A CO-RE access specification (libbpf's `bpf_core_spec`): where a relocation's access
/// string leads in one BTF — for field relocations the chain of named members and array
/// indexes and the resulting bit offset, for enum value relocations the enumerator, for
/// type relocations only the root type.
public struct CORESpec: Sendable, Hashable {
    /// One semantically meaningful step: a named member, or an array index.
    public struct Accessor: Sendable, Hashable {
        /// For a member, the struct or union holding it; for an index, the element type
        /// (for the first step, the root type itself); for an enumerator, the enum.
        public var typeID: BTFTypeID
        /// Member, element or enumerator index.
        public var index: Int
        /// Member or enumerator name; nil for an array index.
        public var name: String?
    }

    /// The relocation's type, as given (typedefs not skipped).
    public var rootTypeID: BTFTypeID
    public var kind: CORERelocationKind
    /// Named members and array indexes only: anonymous structs and unions on the way
    /// are in `rawAccess` but not here.
    public var accessors: [Accessor] = []
    /// Every step, as in an access string: member indexes include anonymous members.
    public var rawAccess: [Int] = []
    /// Bit offset of the field from the start of the root.
    public var bitOffset: Int = 0

    /// libbpf's `BPF_CORE_SPEC_MAX_LEN`.
    static let maximumLength = 64

    init(rootTypeID: BTFTypeID, kind: CORERelocationKind) {
        self.rootTypeID = rootTypeID
        self.kind = kind
    }

    /// As libbpf's debug log prints it: `<byte_off> [7] struct task_struct.comm[3] (0:5:3 @ offset 27)`.
    public func description(in btf: BTF) -> String {
        let name = btf.name(of: rootTypeID) ?? ""
        var text = "<\(kind.name)> [\(rootTypeID)] \(btf.kind(of: rootTypeID)?.libbpfName ?? "unknown") \(name.isEmpty ? "<anon>" : name)"
        switch kind.category {
        case .type:
            return text
        case .enumValue:
            // libbpf prints the raw index's enumerator (index 0 for a spec that did not match).
            guard let resolved = btf.resolved(rootTypeID), let (values, is64) = btf.enumeration(resolved) else { return text }
            let index = values.values.startIndex + (rawAccess.first ?? 0)
            guard values.values.indices.contains(index) else { return text }
            let value = values.values[index]
            text += "::\(btf.strings.string(at: value.nameOffset) ?? "") = "
            if is64 {
                text += values.isSigned ? String(value.signedValue) : String(value.unsignedValue)
            } else {
                text += values.isSigned ? String(Int32(truncatingIfNeeded: value.bitPattern)) : String(UInt32(truncatingIfNeeded: value.bitPattern))
            }
            return text
        case .field:
            for (position, accessor) in accessors.enumerated() {
                if let name = accessor.name {
                    text += ".\(name)"
                } else if position > 0 || accessor.index > 0 {
                    text += "[\(accessor.index)]"
                }
            }
            text += " (" + rawAccess.map(String.init).joined(separator: ":")
            text += bitOffset % 8 == 0 ? " @ offset \(bitOffset / 8))" : " @ offset \(bitOffset / 8).\(bitOffset % 8))"
            return text
        }
    }
}

/// The three families of relocation kinds, which libbpf handles apart.
enum CORERelocationCategory {
    case field, type, enumValue
}

extension CORERelocationKind {
    var category: CORERelocationCategory {
        switch self {
        case .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLeftShift, .fieldRightShift: .field
        case .typeIDLocal, .typeIDTarget, .typeExists, .typeSize, .typeMatches: .type
        case .enumValueExists, .enumValue: .enumValue
        }
    }
}

extension BTFKind {
    /// libbpf's `btf_kind_str`, used in its CO-RE log.
    var libbpfName: String {
        switch self {
        case .void: "void"
        case .int: "int"
        case .pointer: "ptr"
        case .array: "array"
        case .struct: "struct"
        case .union: "union"
        case .enum: "enum"
        case .forward: "fwd"
        case .typedef: "typedef"
        case .volatile: "volatile"
        case .const: "const"
        case .restrict: "restrict"
        case .function: "func"
        case .functionPrototype: "func_proto"
        case .variable: "var"
        case .dataSection: "datasec"
        case .float: "float"
        case .declTag: "decl_tag"
        case .typeTag: "type_tag"
        case .enum64: "enum64"
        }
    }
}

/// A failure inside the CO-RE engine, given its relocation's position by the caller.
struct COREFailure: Error {
    var reason: CORERelocationError.Reason
    init(_ reason: CORERelocationError.Reason) { self.reason = reason }
}

extension CORESpec {
    /// Parses a relocation's access string against the local BTF, checking each step
    /// (libbpf's `bpf_core_parse_spec`).
    init(parsing relocation: BTFExt.CORERelocation, in btf: BTF) throws(COREFailure) {
        self.init(rootTypeID: relocation.typeID, kind: relocation.kind)
        let text = relocation.accessString
        // Type relocations carry no access, only "0".
        if kind.category == .type {
            guard text == "0" else { throw COREFailure(.badAccessString(text)) }
            return
        }
        rawAccess = try Self.parseAccessString(text)

        guard let rootID = btf.resolved(rootTypeID) else {
            throw COREFailure(.unresolvableType(rootTypeID))
        }
        let first = rawAccess[0]
        if kind.category == .enumValue {
            guard let (values, _) = btf.enumeration(rootID) else {
                throw COREFailure(.badAccess("enum value relocation on type [\(rootTypeID)], which is not an enum"))
            }
            guard rawAccess.count == 1, first < values.values.count else {
                throw COREFailure(.badAccess("enum [\(rootTypeID)] has no value #\(first)"))
            }
            let value = values.values[values.values.startIndex + first]
            accessors = [Accessor(typeID: rootID, index: first, name: btf.strings.string(at: value.nameOffset) ?? "")]
            return
        }

        accessors = [Accessor(typeID: rootID, index: first, name: nil)]
        guard let rootSize = btf.size(of: rootID) else { throw COREFailure(.unsizedType(rootID)) }
        bitOffset = try Self.product(first, rootSize * 8)
        var id = rootID
        for step in rawAccess.dropFirst() {
            guard let resolved = btf.resolved(id), let type = btf.type(resolved) else { throw COREFailure(.unresolvableType(id)) }
            id = resolved
            switch type.body {
            case .struct(let composite), .union(let composite):
                guard step < composite.members.count else {
                    throw COREFailure(.badAccess("type [\(id)] has no member #\(step)"))
                }
                let member = composite.members[composite.members.startIndex + step]
                bitOffset += Int(member.bitOffset)
                if member.nameOffset != 0 {
                    let name = btf.strings.string(at: member.nameOffset) ?? ""
                    guard !name.isEmpty else { throw COREFailure(.badAccess("member #\(step) of type [\(id)] has an empty name")) }
                    accessors.append(Accessor(typeID: id, index: step, name: name))
                }
                id = member.type
            case .array(let array):
                guard let element = btf.resolved(array.elementType) else { throw COREFailure(.unresolvableType(array.elementType)) }
                let flexible = Self.isFlexibleArray(array, after: accessors.last, in: btf)
                guard flexible || step < array.count else {
                    throw COREFailure(.badAccess("index \(step) is past the end of array [\(id)] of \(array.count)"))
                }
                accessors.append(Accessor(typeID: element, index: step, name: nil))
                guard let size = btf.size(of: element) else { throw COREFailure(.unsizedType(element)) }
                bitOffset += try Self.product(step, size * 8)
                id = element
            default:
                throw COREFailure(.badAccess("access step #\(accessors.count) reaches type [\(id)] (\(type.kind.libbpfName)), which has no members or elements"))
            }
        }
    }

    /// `0:1:2` as indexes: decimal numbers separated by single colons.
    static func parseAccessString(_ text: String) throws(COREFailure) -> [Int] {
        var indexes: [Int] = []
        var current: Int?
        for byte in text.utf8 {
            if byte == UInt8(ascii: ":") {
                guard let value = current else { throw COREFailure(.badAccessString(text)) }
                indexes.append(value)
                current = nil
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let next = (current ?? 0).multipliedReportingOverflow(by: 10)
                let value = next.partialValue.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !next.overflow, !value.overflow, value.partialValue <= Int(Int32.max) else {
                    throw COREFailure(.badAccessString(text))
                }
                current = value.partialValue
            } else {
                throw COREFailure(.badAccessString(text))
            }
            if indexes.count > maximumLength { throw COREFailure(.accessTooDeep) }
        }
        guard let last = current else { throw COREFailure(.badAccessString(text)) }
        indexes.append(last)
        if indexes.count > maximumLength { throw COREFailure(.accessTooDeep) }
        return indexes
    }

    /// A zero-length array as the last member of a struct may be indexed past its end.
    static func isFlexibleArray(_ array: BTFArray, after accessor: Accessor?, in btf: BTF) -> Bool {
        guard let accessor, accessor.name != nil, array.count == 0, let composite = btf.composite(accessor.typeID) else { return false }
        return accessor.index == composite.members.count - 1
    }

    /// `index * bits`, refusing offsets past what a 32-bit bit offset holds.
    static func product(_ index: Int, _ bits: Int) throws(COREFailure) -> Int {
        let result = index.multipliedReportingOverflow(by: bits)
        guard !result.overflow, result.partialValue <= Int(UInt32.max) else { throw COREFailure(.badAccess("offset overflows")) }
        return result.partialValue
    }
}
