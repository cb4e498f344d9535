extension BTF {
    /// The type as `bpftool btf dump file F` prints it (its "raw" format): the
    /// `[id] KIND 'name' ...` line and one tab-indented line per member, parameter, value or
    /// section variable, without a final newline. Nil for an id that does not exist.
    public func rawDump(of id: BTFTypeID) -> String? {
        guard id != 0, let type = type(id) else { return nil }
        var text = "[\(id)] \(type.kind.name) '\(displayName(type.nameOffset))'"
        switch type.body {
        case .void:
            break
        case .int(let int):
            text += " size=\(int.size) bits_offset=\(int.bitOffset) nr_bits=\(int.bits) encoding=\(encodingName(int.encoding))"
        case .pointer(let target), .typedef(let target), .volatile(let target), .const(let target),
             .restrict(let target), .typeTag(let target):
            text += " type_id=\(target)"
        case .array(let array):
            text += " type_id=\(array.elementType) index_type_id=\(array.indexType) nr_elems=\(array.count)"
        case .struct(let composite), .union(let composite):
            text += " size=\(composite.size) vlen=\(composite.members.count)"
            for member in composite.members {
                text += "\n\t'\(displayName(member.nameOffset))' type_id=\(member.type) bits_offset=\(member.bitOffset)"
                if member.bitfieldSize != 0 { text += " bitfield_size=\(member.bitfieldSize)" }
            }
        case .enum(let values), .enum64(let values):
            text += " encoding=\(values.isSigned ? "SIGNED" : "UNSIGNED") size=\(values.size) vlen=\(values.values.count)"
            let is64 = type.kind == .enum64
            for value in values.values {
                let number = values.isSigned ? String(value.signedValue) : String(value.unsignedValue)
                let suffix = is64 ? (values.isSigned ? "LL" : "ULL") : ""
                text += "\n\t'\(displayName(value.nameOffset))' val=\(number)\(suffix)"
            }
        case .forward(let kind):
            text += " fwd_kind=\(kind == .union ? "union" : "struct")"
        case .function(let function):
            text += " type_id=\(function.type) linkage=\(linkageName(function.linkage))"
        case .functionPrototype(let prototype):
            text += " ret_type_id=\(prototype.returnType) vlen=\(prototype.parameters.count + (prototype.isVariadic ? 1 : 0))"
            for parameter in prototype.parameters {
                text += "\n\t'\(displayName(parameter.nameOffset))' type_id=\(parameter.type)"
            }
            if prototype.isVariadic { text += "\n\t'(anon)' type_id=0" }
        case .variable(let variable):
            text += " type_id=\(variable.type), linkage=\(linkageName(variable.linkage))"
        case .dataSection(let section):
            text += " size=\(section.size) vlen=\(section.variables.count)"
            for variable in section.variables {
                text += "\n\ttype_id=\(variable.type) offset=\(variable.offset) size=\(variable.size)"
                if let inner = self.type(variable.type) {
                    text += " (\(inner.kind.name) '\(displayName(inner.nameOffset))')"
                }
            }
        case .float(let size):
            text += " size=\(size)"
        case .declTag(let tag):
            text += " type_id=\(tag.type) component_idx=\(tag.componentIndex ?? -1)"
        }
        return text
    }

    /// bpftool's spelling of a name: `(anon)` for none.
    func displayName(_ offset: UInt32) -> String {
        offset == 0 ? "(anon)" : strings.string(at: offset) ?? "(invalid)"
    }

    func encodingName(_ encoding: BTFInt.Encoding) -> String {
        switch encoding.rawValue {
        case 0: "(none)"
        case 1: "SIGNED"
        case 2: "CHAR"
        case 4: "BOOL"
        default: "UNKN"
        }
    }

    func linkageName(_ linkage: BTFLinkage) -> String {
        switch linkage {
        case .static: "static"
        case .global: "global"
        case .extern: "extern"
        }
    }
}
