/// Reads a BTF-defined map, as libbpf's `parse_btf_map_def`: a struct whose members encode
/// the attributes in their types — `int (*type)[BPF_MAP_TYPE_HASH]` (`__uint`) gives a
/// number as an array length, `typeof(int) *key` (`__type`) a type, and a trailing
/// zero-length array of pointers (`__array(values, ...)`) the inner map or program type.
struct MapDefinitionParser {
    let btf: BTF
    let mapName: String
    let section: String

    func parse(_ definition: BTFComposite, isInner: Bool) throws(ObjectError) -> MapSpec {
        var spec = MapSpec(name: mapName, sectionName: section, origin: isInner ? .inner : .btf, type: .unspecified)
        let members = Array(definition.members)
        for (position, member) in members.enumerated() {
            guard let field = btf.strings.string(at: member.nameOffset) else {
                throw fail("invalid field #\(position)")
            }
            switch field {
            case "type":
                spec.type = MapType(rawValue: try integer(member, field))
            case "max_entries":
                spec.maxEntries = try integer(member, field)
            case "map_flags":
                spec.flags = try integer(member, field)
            case "numa_node":
                spec.numaNode = try integer(member, field)
            case "key_size":
                spec.keySize = try agreeing(spec.keySize, try integer(member, field), "key size")
            case "key":
                let (size, type) = try pointee(member, field)
                spec.keySize = try agreeing(spec.keySize, size, "key size")
                spec.keyTypeID = type
            case "value_size":
                spec.valueSize = try agreeing(spec.valueSize, try integer(member, field), "value size")
            case "value":
                let (size, type) = try pointee(member, field)
                spec.valueSize = try agreeing(spec.valueSize, size, "value size")
                spec.valueTypeID = type
            case "values":
                try parseValues(member, position: position, count: members.count, isInner: isInner, into: &spec)
            case "pinning":
                guard !isInner else { throw fail("inner map definitions cannot be pinned") }
                let value = try integer(member, field)
                guard let pinning = MapSpec.Pinning(rawValue: value) else { throw fail("invalid pinning value \(value)") }
                spec.pinning = pinning
            case "map_extra":
                spec.mapExtra = try long(member, field)
            default:
                throw ObjectError(.unsupported, "map '\(mapName)': unknown field '\(field)'", section: section, symbol: mapName)
            }
        }
        guard spec.type != .unspecified else { throw fail("map type is not specified") }
        return spec
    }

    private func fail(_ message: String) -> ObjectError {
        ObjectError(.badMap, "map '\(mapName)': \(message)", section: section, symbol: mapName)
    }

    private func agreeing(_ current: UInt32, _ new: UInt32, _ what: String) throws(ObjectError) -> UInt32 {
        guard current == 0 || current == new else { throw fail("conflicting \(what) \(current) != \(new)") }
        return new
    }

    /// `__uint(name, N)`: a pointer to an array of N elements.
    private func integer(_ member: BTFMember, _ field: String) throws(ObjectError) -> UInt32 {
        guard let pointerID = btf.resolved(member.type), case .pointer(let target)? = btf.type(pointerID)?.body else {
            throw fail("attribute '\(field)' is not a pointer")
        }
        guard case .array(let array)? = btf.type(target)?.body else {
            throw fail("attribute '\(field)' does not point to an array")
        }
        return array.count
    }

    /// `__ulong(name, N)`: a pointer as for `__uint`, or a one-value enum for 64 bits.
    private func long(_ member: BTFMember, _ field: String) throws(ObjectError) -> UInt64 {
        guard let id = btf.resolved(member.type), let type = btf.type(id) else { throw fail("attribute '\(field)' has no type") }
        switch type.body {
        case .pointer:
            return UInt64(try integer(member, field))
        case .enum(let values), .enum64(let values):
            guard values.values.count == 1, let value = values.values.first else {
                throw fail("attribute '\(field)' must be an enum with one value")
            }
            return type.kind == .enum ? UInt64(UInt32(truncatingIfNeeded: value.bitPattern)) : value.bitPattern
        default:
            throw fail("attribute '\(field)' must be a pointer or an enum")
        }
    }

    /// `__type(name, T)`: a pointer to T; gives T's size and id.
    private func pointee(_ member: BTFMember, _ field: String) throws(ObjectError) -> (UInt32, BTFTypeID) {
        guard case .pointer(let target)? = btf.type(member.type)?.body else {
            throw fail("\(field) type [\(member.type)] is not a pointer")
        }
        guard let size = btf.size(of: target) else { throw fail("cannot determine the size of \(field) type [\(target)]") }
        return (UInt32(clamping: size), target)
    }

    /// `__array(values, T)`: inner-map template or program-array prototype.
    private func parseValues(_ member: BTFMember, position: Int, count: Int, isInner: Bool,
                             into spec: inout MapSpec) throws(ObjectError) {
        guard !isInner else { throw ObjectError(.unsupported, "map '\(mapName)': multi-level inner maps are not supported", section: section, symbol: mapName) }
        guard position == count - 1 else { throw fail("'values' must be the last member") }
        let isProgramArray = spec.type == .programArray
        guard spec.type.holdsMaps || isProgramArray else {
            throw ObjectError(.unsupported, "map '\(mapName)': 'values' needs a map-in-map or program array", section: section, symbol: mapName)
        }
        spec.valueSize = try agreeing(spec.valueSize, 4, "value size")
        guard case .array(let array)? = btf.type(member.type)?.body, array.count == 0 else {
            throw fail("'values' is not a zero-length array")
        }
        guard let elementID = btf.resolved(array.elementType), case .pointer(let target)? = btf.type(elementID)?.body else {
            throw fail("'values' elements are not pointers")
        }
        guard let pointeeID = btf.resolved(target), let pointee = btf.type(pointeeID) else { throw fail("'values' points to no type") }
        if isProgramArray {
            guard pointee.kind == .functionPrototype else { throw fail("program array values must point to functions") }
            return
        }
        guard case .struct(let inner) = pointee.body else { throw fail("inner map definition is not a struct") }
        let innerParser = MapDefinitionParser(btf: btf, mapName: mapName + ".inner", section: section)
        spec.innerMap = try innerParser.parse(inner, isInner: true)
    }
}
