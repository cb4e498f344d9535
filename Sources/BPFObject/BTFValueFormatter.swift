/// A map key or value read through its BTF type, as `bpftool map dump` shows it when the
/// map has BTF: numbers in decimal, enums by name, structs as objects, char arrays that
/// hold a NUL-terminated printable string as that string, bitfields in hex.
public indirect enum BTFFormattedValue: Sendable, Hashable {
    /// A number, boolean, string or hex text. Its JSON and plain-text spellings differ for
    /// bitfields and 128-bit integers (hex, quoted only in JSON) and pointers (hex in plain
    /// text, decimal in JSON), as in bpftool.
    case scalar(json: String, plain: String)
    case array([BTFFormattedValue])
    /// Struct and union members in order (an anonymous member's name is empty), or a data
    /// section's single `[section name: [{variable: value}]]`.
    case object([BTFFormattedMember])

    static func same(_ text: String) -> BTFFormattedValue { .scalar(json: text, plain: text) }

    /// Compact JSON, as `bpftool -j` prints the `formatted` part.
    public var jsonText: String {
        switch self {
        case .scalar(let json, _): json
        case .array(let elements): "[" + elements.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            "{" + members.map { JSONObjectWriter.quoted($0.name) + ":" + $0.value.jsonText }.joined(separator: ",") + "}"
        }
    }

    /// Indented text for people: JSON-like, with bitfields and pointers in bare hex as
    /// bpftool's plain output has them. Arrays of scalars stay on one line.
    public func plainText(indent: Int = 0) -> String {
        let inner = String(repeating: " ", count: indent + 4)
        let closing = String(repeating: " ", count: indent)
        switch self {
        case .scalar(_, let plain):
            return plain
        case .array(let elements):
            if elements.allSatisfy({ if case .scalar = $0 { true } else { false } }) {
                return "[" + elements.map { $0.plainText() }.joined(separator: ",") + "]"
            }
            return "[\n" + elements.map { inner + $0.plainText(indent: indent + 4) }.joined(separator: ",\n") + "\n\(closing)]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            return "{\n" + members.map { inner + JSONObjectWriter.quoted($0.name) + ": " + $0.value.plainText(indent: indent + 4) }
                .joined(separator: ",\n") + "\n\(closing)}"
        }
    }
}

public struct BTFFormattedMember: Sendable, Hashable {
    public var name: String
    public var value: BTFFormattedValue

    public init(name: String, value: BTFFormattedValue) {
        self.name = name
        self.value = value
    }
}

extension BTF {
    /// `bytes` read as a value of type `id` (little-endian BTF). Fails when the type does
    /// not exist, has no size (void, functions), nests too deeply, or needs more bytes than
    /// given; the error's offset is the byte offset in `bytes`.
    public func formatted(_ bytes: [UInt8], as id: BTFTypeID) throws(BTFError) -> BTFFormattedValue {
        let reader = BTFValueReader(btf: self, bytes: bytes)
        // The whole type, padding included, must be there, not only the bytes its fields read.
        if let size = size(of: id) { try reader.need(0, size, id: id) }
        return try reader.value(id, at: 0, bitOffset: 0, depth: 0)
    }
}

private struct BTFValueReader {
    let btf: BTF
    let bytes: [UInt8]

    static let maximumDepth = 32

    func value(_ id: BTFTypeID, at offset: Int, bitOffset: Int, depth: Int) throws(BTFError) -> BTFFormattedValue {
        guard depth < Self.maximumDepth else { throw BTFError(.nestedTooDeeply(Self.maximumDepth), offset: offset, typeID: id) }
        guard let type = btf.type(id) else { throw BTFError(.unknownTypeID(id), offset: offset) }
        switch type.body {
        case .typedef(let target), .volatile(let target), .const(let target), .restrict(let target), .typeTag(let target):
            return try value(target, at: offset, bitOffset: bitOffset, depth: depth + 1)
        case .variable(let variable):
            return try value(variable.type, at: offset, bitOffset: bitOffset, depth: depth + 1)
        case .int(let int):
            return try integer(int, id: id, at: offset, bitOffset: bitOffset)
        case .pointer:
            let address = try unsigned(at: offset, size: BTF.pointerSize, id: id)
            return .scalar(json: String(address), plain: "0x" + String(address, radix: 16))
        case .enum(let values), .enum64(let values):
            return try enumeration(values, id: id, at: offset)
        case .float(let size):
            return try float(size: Int(size), id: id, at: offset)
        case .array(let array):
            return try self.array(array, id: id, at: offset, depth: depth)
        case .struct(let composite), .union(let composite):
            var members: [BTFFormattedMember] = []
            for member in composite.members {
                let bits = Int(member.bitOffset)
                let start = offset + bits / 8
                let name = btf.strings.string(at: member.nameOffset) ?? ""
                if member.bitfieldSize != 0 {
                    members.append(BTFFormattedMember(name: name, value: try bitfield(at: start, bitOffset: bits % 8, bits: Int(member.bitfieldSize), id: id)))
                } else {
                    members.append(BTFFormattedMember(name: name, value: try value(member.type, at: start, bitOffset: bits % 8, depth: depth + 1)))
                }
            }
            return .object(members)
        case .dataSection(let section):
            var variables: [BTFFormattedValue] = []
            for variable in section.variables {
                let name = btf.name(of: variable.type) ?? ""
                let content = try value(variable.type, at: offset + Int(variable.offset), bitOffset: 0, depth: depth + 1)
                variables.append(.object([BTFFormattedMember(name: name, value: content)]))
            }
            let name = btf.strings.string(at: type.nameOffset) ?? ""
            return .object([BTFFormattedMember(name: name, value: .array(variables))])
        case .void, .forward, .function, .functionPrototype, .declTag:
            throw BTFError(.unformattable(type.kind), offset: offset, typeID: id)
        }
    }

    func integer(_ int: BTFInt, id: BTFTypeID, at offset: Int, bitOffset: Int) throws(BTFError) -> BTFFormattedValue {
        let bits = Int(int.bits)
        if bits == 128 {
            let low = try unsigned(at: offset, size: 8, id: id)
            let high = try unsigned(at: offset + 8, size: 8, id: id)
            let digits = String(low, radix: 16)
            let text = high == 0 ? "0x" + digits : "0x" + String(high, radix: 16) + String(repeating: "0", count: 16 - digits.count) + digits
            return .scalar(json: "\"\(text)\"", plain: text)
        }
        let totalOffset = bitOffset + Int(int.bitOffset)
        if totalOffset != 0 || bits % 8 != 0 || bits > 64 {
            return try bitfield(at: offset, bitOffset: totalOffset, bits: bits, id: id)
        }
        let raw = try unsigned(at: offset, size: bits / 8, id: id)
        if int.encoding.contains(.bool) { return .same(raw == 0 ? "false" : "true") }
        if int.encoding.contains(.char) {
            let byte = UInt8(truncatingIfNeeded: raw)
            if byte >= 0x20 && byte < 0x7f {
                return .same(JSONObjectWriter.quoted(String(UnicodeScalar(byte))))
            }
            let hex = String(byte, radix: 16)
            return .scalar(json: "\"\\u00" + (hex.count == 1 ? "0" : "") + hex + "\"", plain: "0x" + hex)
        }
        if int.encoding.contains(.signed) { return .same(String(Self.signExtended(raw, bits: bits))) }
        return .same(String(raw))
    }

    /// A bitfield: `bits` bits starting `bitOffset` bits into the byte at `offset`, in hex
    /// and not sign-extended, as bpftool prints them.
    func bitfield(at offset: Int, bitOffset: Int, bits: Int, id: BTFTypeID) throws(BTFError) -> BTFFormattedValue {
        let byteCount = (bitOffset + bits + 7) / 8
        guard bits > 0, bits <= 64, byteCount <= 9 else { throw BTFError(.badSize(kind: .int, size: UInt32(bits)), offset: offset, typeID: id) }
        try need(offset, byteCount, id: id)
        var value: UInt64 = 0
        for index in 0..<byteCount {
            let byte = UInt64(bytes[offset + index])
            let shift = index * 8 - bitOffset
            value |= shift >= 0 ? (shift < 64 ? byte << UInt64(shift) : 0) : byte >> UInt64(-shift)
        }
        if bits < 64 { value &= (1 << UInt64(bits)) - 1 }
        let text = "0x" + String(value, radix: 16)
        return .scalar(json: "\"\(text)\"", plain: text)
    }

    func enumeration(_ values: BTFEnum, id: BTFTypeID, at offset: Int) throws(BTFError) -> BTFFormattedValue {
        let size = Int(values.size)
        guard [1, 2, 4, 8].contains(size) else { throw BTFError(.badSize(kind: .enum, size: values.size), offset: offset, typeID: id) }
        let raw = try unsigned(at: offset, size: size, id: id)
        let mask: UInt64 = size == 8 ? .max : (1 << UInt64(size * 8)) - 1
        if let match = values.values.first(where: { $0.bitPattern & mask == raw }) {
            return .same(JSONObjectWriter.quoted(btf.strings.string(at: match.nameOffset) ?? ""))
        }
        // bpftool prints a value no enumerator names as a signed number of the enum's size.
        return .same(String(Self.signExtended(raw, bits: size * 8)))
    }

    func float(size: Int, id: BTFTypeID, at offset: Int) throws(BTFError) -> BTFFormattedValue {
        switch size {
        case 4: return .same(String(Float(bitPattern: UInt32(truncatingIfNeeded: try unsigned(at: offset, size: 4, id: id)))))
        case 8: return .same(String(Double(bitPattern: try unsigned(at: offset, size: 8, id: id))))
        default: throw BTFError(.badSize(kind: .float, size: UInt32(size)), offset: offset, typeID: id)
        }
    }

    func array(_ array: BTFArray, id: BTFTypeID, at offset: Int, depth: Int) throws(BTFError) -> BTFFormattedValue {
        guard let elementSize = btf.size(of: array.elementType) else {
            throw BTFError(.unknownTypeID(array.elementType), offset: offset, typeID: id)
        }
        let count = Int(array.count)
        try need(offset, elementSize * count, id: id)
        if elementSize == 1, isCharacter(array.elementType), let text = string(at: offset, count: count) {
            return .same(JSONObjectWriter.quoted(text))
        }
        var elements: [BTFFormattedValue] = []
        for index in 0..<(elementSize == 0 ? 0 : count) {
            elements.append(try value(array.elementType, at: offset + index * elementSize, bitOffset: 0, depth: depth + 1))
        }
        return .array(elements)
    }

    /// Whether an array of this type is printed as text when it holds a string: an int
    /// (through qualifiers, not typedefs) with the char encoding or named `char`.
    func isCharacter(_ id: BTFTypeID) -> Bool {
        var id = id
        for _ in 0..<Self.maximumDepth {
            guard let type = btf.type(id) else { return false }
            switch type.body {
            case .volatile(let target), .const(let target), .restrict(let target): id = target
            case .int(let int): return int.encoding.contains(.char) || btf.strings.string(at: type.nameOffset) == "char"
            default: return false
            }
        }
        return false
    }

    /// The text before the first NUL when every byte before it is printable ASCII; nil when
    /// there is no NUL or a byte is not printable.
    func string(at offset: Int, count: Int) -> String? {
        var text: [UInt8] = []
        for byte in bytes[offset..<offset + count] {
            if byte == 0 { return String(decoding: text, as: UTF8.self) }
            guard byte >= 0x20 && byte < 0x7f else { return nil }
            text.append(byte)
        }
        return nil
    }

    func need(_ offset: Int, _ count: Int, id: BTFTypeID) throws(BTFError) {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw BTFError(.truncated(needed: count, available: max(0, bytes.count - offset)), offset: offset, typeID: id)
        }
    }

    /// A little-endian unsigned integer of 1 to 8 bytes.
    func unsigned(at offset: Int, size: Int, id: BTFTypeID) throws(BTFError) -> UInt64 {
        try need(offset, size, id: id)
        var value: UInt64 = 0
        for index in 0..<min(size, 8) { value |= UInt64(bytes[offset + index]) << UInt64(index * 8) }
        return value
    }

    static func signExtended(_ raw: UInt64, bits: Int) -> Int64 {
        guard bits < 64 else { return Int64(bitPattern: raw) }
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}
