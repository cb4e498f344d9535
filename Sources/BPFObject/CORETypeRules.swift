/// libbpf's rules for when a type in the program's BTF corresponds to one in the target
/// kernel's: names compared without `___flavor` suffixes, field compatibility
/// (`bpf_core_fields_are_compat`), type compatibility for type relocations
/// (`bpf_core_types_are_compat`) and the stricter structural match of `type_matches`
/// (`__bpf_core_types_match`).
struct CORETypeRules {
    let local: BTF
    let target: BTF

    /// libbpf's recursion limit for type comparisons.
    static let maximumLevel = 32

    // MARK: Names

    /// The name without its flavor: `task_struct___v2` → `task_struct`. A flavor follows
    /// the last `___` that has a non-underscore on both sides.
    static func essentialName(_ name: String) -> Substring.UTF8View {
        var copy = name
        let length = copy.withUTF8 { essentialLength($0) }
        return Substring(name).utf8.prefix(length)
    }

    /// libbpf's `bpf_core_essential_name_len`.
    static func essentialLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let underscore = UInt8(ascii: "_")
        var index = bytes.count - 5
        while index >= 0 {
            if bytes[index] != underscore && bytes[index + 1] == underscore && bytes[index + 2] == underscore
                && bytes[index + 3] == underscore && bytes[index + 4] != underscore {
                return index + 1
            }
            index -= 1
        }
        return bytes.count
    }

    static func essentialNamesEqual(_ first: String, _ second: String) -> Bool {
        essentialName(first).elementsEqual(essentialName(second))
    }

    /// `bpf_core_names_match`: an anonymous target matches only an anonymous local.
    static func namesMatch(local: String, target: String) -> Bool {
        if target.isEmpty { return local.isEmpty }
        return essentialNamesEqual(local, target)
    }

    static func kindsCompatible(_ first: BTFKind, _ second: BTFKind) -> Bool {
        first == second || (first.isEnum && second.isEnum)
    }

    // MARK: Field compatibility

    /// Whether a local field's type can be read as the target field's: any two
    /// structs or unions, any two pointers or floats, enums and forward declarations of
    /// the same (or no) name, integers that are not old-style bitfields, and arrays of
    /// compatible elements, sizes and counts ignored.
    func fieldsAreCompatible(_ localID: BTFTypeID, _ targetID: BTFTypeID) throws(COREFailure) -> Bool {
        var localID = localID, targetID = targetID
        for _ in 0..<CORETypeRules.maximumLevel {
            let (localType, targetType) = try resolvedPair(&localID, &targetID)
            if localType.kind.isComposite && targetType.kind.isComposite { return true }
            guard CORETypeRules.kindsCompatible(localType.kind, targetType.kind) else { return false }
            switch (localType.body, targetType.body) {
            case (.pointer, _), (.float, _):
                return true
            case (.forward, _), (.enum, _), (.enum64, _):
                let localName = local.strings.string(at: localType.nameOffset) ?? ""
                let targetName = target.strings.string(at: targetType.nameOffset) ?? ""
                return CORETypeRules.essentialName(localName).isEmpty || CORETypeRules.essentialName(targetName).isEmpty
                    || CORETypeRules.essentialNamesEqual(localName, targetName)
            case (.int(let localInt), .int(let targetInt)):
                return localInt.bitOffset == 0 && targetInt.bitOffset == 0
            case (.array(let localArray), .array(let targetArray)):
                localID = localArray.elementType
                targetID = targetArray.elementType
            default:
                return false
            }
        }
        throw COREFailure(.typesTooDeep)
    }

    // MARK: Type compatibility

    /// Type relocations' test, names checked at the root only: same kind for structs,
    /// unions, enums, forward declarations and integers (sizes ignored), compatible
    /// pointees and elements, prototypes of compatible parameters and result.
    func typesAreCompatible(_ localID: BTFTypeID, _ targetID: BTFTypeID, level: Int = CORETypeRules.maximumLevel) throws(COREFailure) -> Bool {
        guard let localKind = local.kind(of: localID), let targetKind = target.kind(of: targetID) else {
            throw COREFailure(.unresolvableType(localID))
        }
        guard CORETypeRules.kindsCompatible(localKind, targetKind) else { return false }
        var localID = localID, targetID = targetID
        for _ in 0..<CORETypeRules.maximumLevel {
            let (localType, targetType) = try resolvedPair(&localID, &targetID)
            guard CORETypeRules.kindsCompatible(localType.kind, targetType.kind) else { return false }
            switch (localType.body, targetType.body) {
            case (.void, _), (.struct, _), (.union, _), (.enum, _), (.enum64, _), (.forward, _):
                return true
            case (.int(let localInt), .int(let targetInt)):
                return localInt.bitOffset == 0 && targetInt.bitOffset == 0
            case (.pointer(let localPointee), .pointer(let targetPointee)):
                localID = localPointee
                targetID = targetPointee
            case (.array(let localArray), .array(let targetArray)):
                localID = localArray.elementType
                targetID = targetArray.elementType
            case (.functionPrototype(let localPrototype), .functionPrototype(let targetPrototype)):
                let localParameters = localPrototype.allParameterTypes, targetParameters = targetPrototype.allParameterTypes
                guard localParameters.count == targetParameters.count else { return false }
                for (localParameter, targetParameter) in zip(localParameters, targetParameters) {
                    guard level > 0 else { throw COREFailure(.typesTooDeep) }
                    var localParameter = localParameter, targetParameter = targetParameter
                    _ = try resolvedPair(&localParameter, &targetParameter)
                    guard try typesAreCompatible(localParameter, targetParameter, level: level - 1) else { return false }
                }
                localID = localPrototype.returnType
                targetID = targetPrototype.returnType
            default:
                return false
            }
        }
        throw COREFailure(.typesTooDeep)
    }

    // MARK: Type match

    /// `type_matches`: a structural match, names compared after typedefs: integers of the
    /// same size and signedness; enums whose every local enumerator the target has (by
    /// name), of the same size; structs and unions whose every local member the target
    /// has with a matching type (behind a pointer, kind and name are enough, and a
    /// forward declaration will do); pointers and arrays (of equal count) of matching
    /// types; prototypes of matching parameters and result.
    func typesMatch(_ localID: BTFTypeID, _ targetID: BTFTypeID, behindPointer: Bool = false,
                    level: Int = CORETypeRules.maximumLevel) throws(COREFailure) -> Bool {
        guard level > 0 else { throw COREFailure(.typesTooDeep) }
        var localID = localID, targetID = targetID, behindPointer = behindPointer
        for _ in 0..<CORETypeRules.maximumLevel {
            let (localType, targetType) = try resolvedPair(&localID, &targetID)
            let localName = local.strings.string(at: localType.nameOffset) ?? ""
            let targetName = target.strings.string(at: targetType.nameOffset) ?? ""
            guard CORETypeRules.namesMatch(local: localName, target: targetName) else { return false }
            let localKind = localType.kind, targetKind = targetType.kind
            switch localType.body {
            case .void:
                return localKind == targetKind
            case .forward(let localForward):
                if behindPointer && localKind != targetKind {
                    return (targetKind == .struct && localForward == .struct) || (targetKind == .union && localForward == .union)
                }
                guard case .forward(let targetForward) = targetType.body else { return false }
                return localForward == targetForward
            case .enum(let localValues), .enum64(let localValues):
                guard let (targetValues, _) = target.enumeration(targetID) else { return false }
                return enumsMatch(localValues, targetValues)
            case .struct(let localComposite), .union(let localComposite):
                if behindPointer {
                    if localKind == targetKind { return true }
                    guard case .forward(let targetForward) = targetType.body else { return false }
                    return (localKind == .union) == (targetForward == .union)
                }
                guard localKind == targetKind, let targetComposite = target.composite(targetID) else { return false }
                return try compositesMatch(localComposite, targetComposite, behindPointer: behindPointer, level: level)
            case .int(let localInt):
                guard case .int(let targetInt) = targetType.body else { return false }
                return localInt.size == targetInt.size
                    && localInt.encoding.contains(.signed) == targetInt.encoding.contains(.signed)
            case .pointer(let localPointee):
                guard case .pointer(let targetPointee) = targetType.body else { return false }
                behindPointer = true
                localID = localPointee
                targetID = targetPointee
            case .array(let localArray):
                guard case .array(let targetArray) = targetType.body, localArray.count == targetArray.count else { return false }
                localID = localArray.elementType
                targetID = targetArray.elementType
            case .functionPrototype(let localPrototype):
                guard case .functionPrototype(let targetPrototype) = targetType.body else { return false }
                let localParameters = localPrototype.allParameterTypes, targetParameters = targetPrototype.allParameterTypes
                guard localParameters.count == targetParameters.count else { return false }
                for (localParameter, targetParameter) in zip(localParameters, targetParameters) {
                    guard try typesMatch(localParameter, targetParameter, behindPointer: behindPointer, level: level - 1) else {
                        return false
                    }
                }
                localID = localPrototype.returnType
                targetID = targetPrototype.returnType
            default:
                return false
            }
        }
        throw COREFailure(.typesTooDeep)
    }

    private func enumsMatch(_ localValues: BTFEnum, _ targetValues: BTFEnum) -> Bool {
        guard localValues.size == targetValues.size, localValues.values.count <= targetValues.values.count else { return false }
        let targetNames = targetValues.values.map { target.strings.string(at: $0.nameOffset) ?? "" }
        return localValues.values.allSatisfy { value in
            let name = local.strings.string(at: value.nameOffset) ?? ""
            return targetNames.contains { CORETypeRules.namesMatch(local: name, target: $0) }
        }
    }

    private func compositesMatch(_ localComposite: BTFComposite, _ targetComposite: BTFComposite, behindPointer: Bool,
                                 level: Int) throws(COREFailure) -> Bool {
        guard localComposite.members.count <= targetComposite.members.count else { return false }
        for localMember in localComposite.members {
            let localName = local.strings.string(at: localMember.nameOffset) ?? ""
            var matched = false
            for targetMember in targetComposite.members {
                guard CORETypeRules.namesMatch(local: localName, target: target.strings.string(at: targetMember.nameOffset) ?? "") else {
                    continue
                }
                if try typesMatch(localMember.type, targetMember.type, behindPointer: behindPointer, level: level - 1) {
                    matched = true
                    break
                }
            }
            if !matched { return false }
        }
        return true
    }

    /// Both ids with typedefs and qualifiers skipped, updated in place, and their types.
    func resolvedPair(_ localID: inout BTFTypeID, _ targetID: inout BTFTypeID) throws(COREFailure) -> (BTFType, BTFType) {
        guard let localResolved = local.resolved(localID), let localType = local.type(localResolved) else {
            throw COREFailure(.unresolvableType(localID))
        }
        guard let targetResolved = target.resolved(targetID), let targetType = target.type(targetResolved) else {
            throw COREFailure(.unresolvableType(targetID))
        }
        localID = localResolved
        targetID = targetResolved
        return (localType, targetType)
    }
}

extension BTFKind {
    var isEnum: Bool { self == .enum || self == .enum64 }
    var isComposite: Bool { self == .struct || self == .union }
}

extension BTFFunctionPrototype {
    /// Parameter types as the BTF lists them, a variadic prototype's trailing void included.
    var allParameterTypes: [BTFTypeID] { parameters.map(\.type) + (isVariadic ? [0] : []) }
}

extension BTF {
    /// The struct or union with this id.
    func composite(_ id: BTFTypeID) -> BTFComposite? {
        switch type(id)?.body {
        case .struct(let composite)?, .union(let composite)?: composite
        default: nil
        }
    }

    /// The enum or enum64 with this id, and whether it is an enum64.
    func enumeration(_ id: BTFTypeID) -> (BTFEnum, is64: Bool)? {
        switch type(id)?.body {
        case .enum(let values)?: (values, false)
        case .enum64(let values)?: (values, true)
        default: nil
        }
    }

    /// The raw `btf_type` fields of `id`; void's for 0, nil for an id that does not exist.
    func record(_ id: BTFTypeID) -> BTFRecord? {
        guard let (owner, index) = storage.locate(id) else { return id == 0 ? BTFTypeTable.void : nil }
        return owner.records[index]
    }
}
