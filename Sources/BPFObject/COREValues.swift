/// The numbers a relocation puts in its instruction, computed from a specification in
/// the local BTF (what clang wrote) and in the target BTF (what the kernel has) — libbpf's
/// `bpf_core_calc_relo` and its field, type and enum value parts.
struct COREValues {
    var original: UInt64 = 0
    var new: UInt64 = 0
    var isPoisoned = false
    var validatesOriginal = true
    var failsSizeAdjustment = false
    var originalSize = 0
    var newSize = 0
    var originalTypeID: BTFTypeID = 0
    var newTypeID: BTFTypeID = 0

    /// One side's result: nil asks for the instruction to be poisoned.
    private struct Side {
        var value: UInt64 = 0
        var size = 0
        var typeID: BTFTypeID = 0
        var validates = true
    }

    /// `target` nil: no candidate matched.
    init(kind: CORERelocationKind, local: CORESpec, localBTF: BTF, target: CORESpec?, targetBTF: BTF) throws(COREFailure) {
        // Bitfield shifts are for the machine that runs the program: the target's.
        let littleEndian = targetBTF.byteOrder == .little
        let localSide: Side?, targetSide: Side?
        switch kind.category {
        case .field:
            localSide = try Self.field(kind, spec: local, btf: localBTF, littleEndian: littleEndian)
            if let target {
                targetSide = try Self.field(kind, spec: target, btf: targetBTF, littleEndian: littleEndian)
            } else {
                // A missing field "exists" as 0; every other question about it has no answer.
                targetSide = kind == .fieldExists ? Side(value: 0) : nil
            }
        case .type:
            localSide = try Self.type(kind, spec: local, btf: localBTF)
            targetSide = try Self.type(kind, spec: target, btf: targetBTF)
        case .enumValue:
            localSide = try Self.enumValue(kind, spec: local, btf: localBTF)
            targetSide = try Self.enumValue(kind, spec: target, btf: targetBTF)
        }
        if let localSide {
            original = localSide.value
            originalSize = localSide.size
            originalTypeID = localSide.typeID
            validatesOriginal = localSide.validates
        }
        guard let localSide, let targetSide else {
            isPoisoned = true
            return
        }
        new = targetSide.value
        newSize = targetSide.size
        newTypeID = targetSide.typeID
        guard kind.category == .field, localSide.size != targetSide.size else { return }
        // Resizing a load is safe for pointers (a 32-bit kernel's) and unsigned integers,
        // which zero-extend; anything else would read a wrong value.
        let originalType = localBTF.type(originalTypeID), newType = targetBTF.type(newTypeID)
        switch (originalType?.body, newType?.body) {
        case (.pointer?, .pointer?):
            return
        case (.int(let originalInt)?, .int(let newInt)?) where originalInt.encoding != .signed && newInt.encoding != .signed:
            return
        default:
            failsSizeAdjustment = true
        }
    }

    /// `bpf_core_calc_field_relo`.
    private static func field(_ kind: CORERelocationKind, spec: CORESpec, btf: BTF, littleEndian: Bool) throws(COREFailure) -> Side {
        if kind == .fieldExists { return Side(value: 1) }
        guard let accessor = spec.accessors.last else { throw COREFailure(.badAccess("empty field access")) }

        // An array element `a[n]`: only its offset and size make sense.
        if accessor.name == nil {
            var side = Side()
            switch kind {
            case .fieldByteOffset:
                side.value = UInt64(spec.bitOffset / 8)
                side.size = try elementSize(of: accessor.typeID, in: btf)
                side.typeID = accessor.typeID
            case .fieldByteSize:
                guard let size = btf.size(of: accessor.typeID) else { throw COREFailure(.unsizedType(accessor.typeID)) }
                side.value = UInt64(size)
            default:
                throw COREFailure(.notAFieldOfArrayElement(kind))
            }
            return side
        }

        guard let composite = btf.composite(accessor.typeID), accessor.index < composite.members.count else {
            throw COREFailure(.unresolvableType(accessor.typeID))
        }
        let member = composite.members[composite.members.startIndex + accessor.index]
        guard let fieldTypeID = btf.resolved(member.type), let fieldType = btf.type(fieldTypeID),
              let fieldRecord = btf.record(fieldTypeID) else {
            throw COREFailure(.unresolvableType(member.type))
        }
        let bitOffset = spec.bitOffset
        var bitSize = composite.hasBitfieldSizes ? Int(member.bitfieldSize) : 0
        let isBitfield = bitSize > 0
        var byteSize: Int, byteOffset: Int
        if isBitfield {
            // The smallest aligned load, from the field's own size up, that covers the bits.
            byteSize = Int(fieldRecord.sizeOrType)
            guard byteSize > 0 else { throw COREFailure(.unsizedType(fieldTypeID)) }
            byteOffset = bitOffset / 8 / byteSize * byteSize
            while bitOffset + bitSize - byteOffset * 8 > byteSize * 8 {
                guard byteSize < 8 else { throw COREFailure(.bitfieldTooWide) }
                byteSize *= 2
                byteOffset = bitOffset / 8 / byteSize * byteSize
            }
        } else {
            guard let size = btf.size(of: fieldTypeID) else { throw COREFailure(.unsizedType(fieldTypeID)) }
            byteSize = size
            byteOffset = bitOffset / 8
            bitSize = byteSize * 8
        }
        // Where bitfields sit is compiler-dependent: only signedness and the right shift
        // can be checked against the instruction.
        var side = Side(validates: !isBitfield)
        switch kind {
        case .fieldByteOffset:
            side.value = UInt64(byteOffset)
            if !isBitfield {
                side.size = try elementSize(of: fieldTypeID, in: btf)
                side.typeID = fieldTypeID
            }
        case .fieldByteSize:
            side.value = UInt64(byteSize)
        case .fieldSigned:
            switch fieldType.body {
            case .enum(let values), .enum64(let values): side.value = values.isSigned ? 1 : 0
            case .int(let int): side.value = int.encoding.contains(.signed) ? 1 : 0
            default: side.value = 0
            }
            side.validates = true
        case .fieldLeftShift:
            // 32-bit arithmetic, as libbpf's.
            let shift = littleEndian ? 64 - (bitOffset + bitSize - byteOffset * 8) : (8 - byteSize) * 8 + (bitOffset - byteOffset * 8)
            side.value = UInt64(UInt32(truncatingIfNeeded: shift))
        case .fieldRightShift:
            side.value = UInt64(UInt32(truncatingIfNeeded: 64 - bitSize))
            side.validates = true
        default:
            throw COREFailure(.badAccess("\(kind.name) is not a field relocation"))
        }
        return side
    }

    /// Size of one element: arrays are loaded one element at a time.
    private static func elementSize(of id: BTFTypeID, in btf: BTF) throws(COREFailure) -> Int {
        var id = id
        for _ in 0..<BTF.maximumResolveDepth {
            guard let resolved = btf.resolved(id) else { throw COREFailure(.unresolvableType(id)) }
            guard case .array(let array)? = btf.type(resolved)?.body else {
                guard let size = btf.size(of: resolved) else { throw COREFailure(.unsizedType(resolved)) }
                return size
            }
            id = array.elementType
        }
        throw COREFailure(.typesTooDeep)
    }

    /// `bpf_core_calc_type_relo`: a type that is not there is 0, never a failure.
    private static func type(_ kind: CORERelocationKind, spec: CORESpec?, btf: BTF) throws(COREFailure) -> Side {
        guard let spec else { return Side(value: 0) }
        switch kind {
        case .typeIDTarget:
            // Linking may renumber types; the id in the instruction proves nothing.
            return Side(value: UInt64(spec.rootTypeID), validates: false)
        case .typeExists, .typeMatches:
            return Side(value: 1)
        case .typeSize:
            guard let size = btf.size(of: spec.rootTypeID) else { throw COREFailure(.unsizedType(spec.rootTypeID)) }
            return Side(value: UInt64(size))
        default:
            throw COREFailure(.badAccess("\(kind.name) is not a type relocation"))
        }
    }

    /// `bpf_core_calc_enumval_relo`.
    private static func enumValue(_ kind: CORERelocationKind, spec: CORESpec?, btf: BTF) throws(COREFailure) -> Side? {
        switch kind {
        case .enumValueExists:
            return Side(value: spec == nil ? 0 : 1)
        case .enumValue:
            guard let spec else { return nil }
            guard let accessor = spec.accessors.first, let (values, is64) = btf.enumeration(accessor.typeID),
                  accessor.index < values.values.count else {
                throw COREFailure(.badAccess("enum value #\(spec.accessors.first?.index ?? 0) is missing"))
            }
            let value = values.values[values.values.startIndex + accessor.index]
            // libbpf reads a 32-bit value as signed whatever the enum's signedness.
            return Side(value: is64 ? value.bitPattern : UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: value.bitPattern))))
        default:
            throw COREFailure(.badAccess("\(kind.name) is not an enum value relocation"))
        }
    }
}
