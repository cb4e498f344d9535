/// Matching a local access specification against one candidate target type
/// (`bpf_core_spec_match`): each named member is looked up by name in the target,
/// through anonymous structs and unions, each array index checked against the target
/// array, building the target's specification and bit offset on the way.
extension CORETypeRules {
    /// Whether `targetID` matches `spec`, and the target specification as far as matching
    /// got (libbpf logs partial specifications of non-matching candidates too).
    func match(_ spec: CORESpec, candidate targetID: BTFTypeID) throws(COREFailure) -> (matched: Bool, spec: CORESpec) {
        var result = CORESpec(rootTypeID: targetID, kind: spec.kind)
        switch spec.kind.category {
        case .type:
            let matched = spec.kind == .typeMatches
                ? try typesMatch(spec.rootTypeID, targetID)
                : try typesAreCompatible(spec.rootTypeID, targetID)
            return (matched, result)
        case .enumValue:
            guard let resolved = target.resolved(targetID), let (values, _) = target.enumeration(resolved),
                  let localName = spec.accessors.first?.name else { return (false, result) }
            for (index, value) in values.values.enumerated() {
                let name = target.strings.string(at: value.nameOffset) ?? ""
                if CORETypeRules.essentialNamesEqual(localName, name) {
                    result.accessors.append(CORESpec.Accessor(typeID: resolved, index: index, name: name))
                    result.rawAccess.append(index)
                    return (true, result)
                }
            }
            return (false, result)
        case .field:
            var targetID = targetID
            for (position, localAccessor) in spec.accessors.enumerated() {
                guard let resolved = target.resolved(targetID), let targetType = target.type(resolved) else {
                    throw COREFailure(.unresolvableType(targetID))
                }
                targetID = resolved
                if localAccessor.name != nil {
                    guard try matchMember(localAccessor, in: targetID, spec: &result, next: &targetID) else { return (false, result) }
                    continue
                }
                // An index: the first applies to the root itself (`&p[0]`), the others to arrays.
                if position > 0 {
                    guard case .array(let array) = targetType.body else { return (false, result) }
                    let flexible = CORESpec.isFlexibleArray(array, after: result.accessors.last, in: target)
                    guard flexible || localAccessor.index < array.count else { return (false, result) }
                    guard let element = target.resolved(array.elementType) else { throw COREFailure(.unresolvableType(array.elementType)) }
                    targetID = element
                }
                guard result.rawAccess.count < CORESpec.maximumLength else { throw COREFailure(.accessTooDeep) }
                result.accessors.append(CORESpec.Accessor(typeID: targetID, index: localAccessor.index, name: nil))
                result.rawAccess.append(localAccessor.index)
                guard let size = target.size(of: targetID) else { throw COREFailure(.unsizedType(targetID)) }
                result.bitOffset += try CORESpec.product(localAccessor.index, size * 8)
            }
            return (true, result)
        }
    }

    /// Finds the local accessor's member by name among the target composite's members,
    /// descending into anonymous ones (`bpf_core_match_member`). On a name match the
    /// result is whether the two fields are compatible; the first name match decides.
    private func matchMember(_ localAccessor: CORESpec.Accessor, in targetID: BTFTypeID, spec: inout CORESpec,
                             next: inout BTFTypeID) throws(COREFailure) -> Bool {
        guard let resolved = target.resolved(targetID) else { throw COREFailure(.unresolvableType(targetID)) }
        guard let targetComposite = target.composite(resolved) else { return false }
        guard let localComposite = local.composite(localAccessor.typeID),
              localAccessor.index < localComposite.members.count else {
            throw COREFailure(.unresolvableType(localAccessor.typeID))
        }
        let localMember = localComposite.members[localComposite.members.startIndex + localAccessor.index]
        let localName = localAccessor.name ?? ""

        for (index, member) in targetComposite.members.enumerated() {
            guard spec.rawAccess.count < CORESpec.maximumLength else { throw COREFailure(.accessTooDeep) }
            // Speculatively step into this member.
            spec.bitOffset += Int(member.bitOffset)
            spec.rawAccess.append(index)
            let targetName = target.strings.string(at: member.nameOffset) ?? ""
            if targetName.isEmpty {
                if try matchMember(localAccessor, in: member.type, spec: &spec, next: &next) { return true }
            } else if targetName == localName {
                next = member.type
                let compatible = try fieldsAreCompatible(localMember.type, member.type)
                if compatible { spec.accessors.append(CORESpec.Accessor(typeID: resolved, index: index, name: targetName)) }
                return compatible
            }
            spec.bitOffset -= Int(member.bitOffset)
            spec.rawAccess.removeLast()
        }
        return false
    }
}
