extension BTF {
    /// The type as one JSON object, with the fields `bpftool -j btf dump file F` gives it
    /// (`id`, `kind`, `name`, then the kind's own: `size`, `type_id`, `members`, `values`,
    /// `params`, `vars`...). The whole dump is `{"types":[...]}` of these. Nil for an id
    /// that does not exist.
    public func jsonDump(of id: BTFTypeID) -> String? {
        guard id != 0, let type = type(id) else { return nil }
        var json = JSONObjectWriter()
        json.field("id", id)
        json.field("kind", type.kind.name)
        json.field("name", displayName(type.nameOffset))
        switch type.body {
        case .void:
            break
        case .int(let int):
            json.field("size", int.size)
            json.field("bits_offset", int.bitOffset)
            json.field("nr_bits", int.bits)
            json.field("encoding", encodingName(int.encoding))
        case .pointer(let target), .typedef(let target), .volatile(let target), .const(let target),
             .restrict(let target), .typeTag(let target):
            json.field("type_id", target)
        case .array(let array):
            json.field("type_id", array.elementType)
            json.field("index_type_id", array.indexType)
            json.field("nr_elems", array.count)
        case .struct(let composite), .union(let composite):
            json.field("size", composite.size)
            json.field("vlen", composite.members.count)
            json.array("members", composite.members) { member, object in
                object.field("name", displayName(member.nameOffset))
                object.field("type_id", member.type)
                object.field("bits_offset", member.bitOffset)
                if member.bitfieldSize != 0 { object.field("bitfield_size", member.bitfieldSize) }
            }
        case .enum(let values), .enum64(let values):
            json.field("encoding", values.isSigned ? "SIGNED" : "UNSIGNED")
            json.field("size", values.size)
            json.field("vlen", values.values.count)
            json.array("values", values.values) { value, object in
                object.field("name", displayName(value.nameOffset))
                if values.isSigned { object.field("val", value.signedValue) } else { object.field("val", value.unsignedValue) }
            }
        case .forward(let kind):
            json.field("fwd_kind", kind == .union ? "union" : "struct")
        case .function(let function):
            json.field("type_id", function.type)
            json.field("linkage", linkageName(function.linkage))
        case .functionPrototype(let prototype):
            json.field("ret_type_id", prototype.returnType)
            json.field("vlen", prototype.parameters.count + (prototype.isVariadic ? 1 : 0))
            var parameters = Array(prototype.parameters)
            if prototype.isVariadic { parameters.append(BTFParameter(nameOffset: 0, type: 0)) }
            json.array("params", parameters) { parameter, object in
                object.field("name", displayName(parameter.nameOffset))
                object.field("type_id", parameter.type)
            }
        case .variable(let variable):
            json.field("type_id", variable.type)
            json.field("linkage", linkageName(variable.linkage))
        case .dataSection(let section):
            json.field("size", section.size)
            json.field("vlen", section.variables.count)
            json.array("vars", section.variables) { variable, object in
                object.field("type_id", variable.type)
                object.field("offset", variable.offset)
                object.field("size", variable.size)
            }
        case .float(let size):
            json.field("size", size)
        case .declTag(let tag):
            json.field("type_id", tag.type)
            json.field("component_idx", tag.componentIndex ?? -1)
        }
        return json.finished()
    }
}

/// Compact JSON, fields in the order written, as bpftool's writer lays it out.
struct JSONObjectWriter {
    private var text = "{"
    private var first = true

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += "\"\(name)\":"
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        text += JSONObjectWriter.quoted(value)
    }

    mutating func field<Number: BinaryInteger>(_ name: String, _ value: Number) {
        key(name)
        text += String(value)
    }

    mutating func array<Elements: Sequence>(_ name: String, _ elements: Elements, _ write: (Elements.Element, inout JSONObjectWriter) -> Void) {
        key(name)
        text += "["
        var separator = ""
        for element in elements {
            var object = JSONObjectWriter()
            write(element, &object)
            text += separator + object.finished()
            separator = ","
        }
        text += "]"
    }

    func finished() -> String { text + "}" }

    static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
