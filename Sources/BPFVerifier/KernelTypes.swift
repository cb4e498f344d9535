import BPFObject

/// The running kernel's types (vmlinux BTF, /sys/kernel/btf/vmlinux), which give BTF-typed
/// pointers (bpf_get_current_task_btf's task_struct) their fields: a load through one must
/// fall inside a field, as the kernel's btf_struct_walk decides, and a pointer field loaded
/// whole is a BTF pointer itself.
public struct KernelTypes: Sendable {
    public let btf: BTF
    let taskStruct: BTFTypeID?
    let ptRegs: BTFTypeID?

    public init(_ btf: BTF) {
        self.btf = btf
        taskStruct = btf.ids(named: "task_struct", kind: .struct).first
        ptRegs = btf.ids(named: "pt_regs", kind: .struct).first
    }

    /// What a load of `size` bytes at `offset` in a struct gives: a number, or a pointer to a
    /// struct. (The kernel lets a program read through such a pointer even where it lists the
    /// field as possibly NULL, as its reads through them cannot fault.)
    enum Field: Equatable {
        case scalar
        case pointer(BTFTypeID)
    }

    func name(of id: BTFTypeID) -> String { btf.name(of: id) ?? "(anonymous)" }

    func structID(named name: String) -> BTFTypeID? {
        switch name {
        case "task_struct": taskStruct
        case "pt_regs": ptRegs
        default: btf.ids(named: name, kind: .struct).first
        }
    }

    /// The field a load reaches, or why it reaches none (the kernel's btf_struct_access).
    func field(in start: BTFTypeID, offset: Int, size: Int) -> Result<Field, Denial> {
        var type = start, offset = offset
        // Each round goes one nested struct deeper; BTF's own depth bounds it.
        for _ in 0..<32 {
            guard let composite = composite(type) else {
                return .failure(Denial("type \(name(of: type)) is not a struct"))
            }
            guard offset + size <= Int(composite.size) else {
                return .failure(Denial("reads past the end of struct \(name(of: type)) (\(composite.size) bytes)"))
            }
            switch member(of: composite, in: type, offset: offset, size: size) {
            case .failure(let denial): return .failure(denial)
            case .success(.done(let field)): return .success(field)
            case .success(.nested(let inner, let innerOffset)):
                type = inner
                offset = innerOffset
            }
        }
        return .failure(Denial("nests structs too deeply"))
    }

    struct Denial: Error, Equatable {
        var text: String
        init(_ text: String) { self.text = text }
    }

    private enum Step {
        case done(Field)
        case nested(BTFTypeID, Int)
    }

    /// A struct's or union's members, nil when the id is neither.
    private func composite(_ id: BTFTypeID) -> BTFComposite? {
        guard let resolved = btf.resolved(id), let type = btf.type(resolved) else { return nil }
        switch type.body {
        case .struct(let composite), .union(let composite): return composite
        default: return nil
        }
    }

    private func member(of composite: BTFComposite, in type: BTFTypeID, offset: Int, size: Int) -> Result<Step, Denial> {
        let structName = name(of: type)
        for member in composite.members {
            let memberOffset = Int(member.bitOffset / 8)
            if offset + size <= memberOffset { break }
            if member.bitfieldSize > 0 {
                // A load must cover the bitfield's bytes, starting at or before them.
                let endBit = Int(member.bitOffset) + Int(member.bitfieldSize)
                if offset <= memberOffset && (endBit + 7) / 8 <= offset + size { return .success(.done(.scalar)) }
                continue
            }
            if offset < memberOffset { break }
            guard let memberSize = btf.size(of: member.type), var memberType = btf.resolved(member.type) else {
                return .failure(Denial("reaches a field of struct \(structName) without a size"))
            }
            let end = memberOffset + memberSize
            if offset >= end { continue }
            var elementOffset = memberOffset, elementSize = memberSize
            // Arrays (of arrays) count as their element at the index the offset falls on.
            while case .array(let array)? = btf.type(memberType)?.body {
                guard let element = btf.resolved(array.elementType), let size = btf.size(of: element), size > 0 else {
                    return .failure(Denial("reaches an array of struct \(structName) with elements of no size"))
                }
                elementOffset += (offset - elementOffset) / size * size
                elementSize = size
                memberType = element
            }
            switch btf.type(memberType)?.body {
            case .struct?, .union?:
                return .success(.nested(memberType, offset - elementOffset))
            case .pointer(let pointee)?:
                guard offset == elementOffset, size == elementSize else {
                    return .failure(Denial("reads part of the pointer field \(memberName(member)) of struct \(structName); load it whole, 8 bytes at \(elementOffset)"))
                }
                if let target = btf.resolved(pointee), btf.kind(of: target) == .struct || btf.kind(of: target) == .union {
                    return .success(.done(.pointer(target)))
                }
                return .success(.done(.scalar))
            default:
                guard offset + size <= end else {
                    return .failure(Denial("reads past the end of field \(memberName(member)) of struct \(structName)"))
                }
                return .success(.done(.scalar))
            }
        }
        return .failure(Denial("reads no field of struct \(structName) (a hole between fields)"))
    }

    private func memberName(_ member: BTFMember) -> String {
        member.nameOffset == 0 ? "(anonymous)" : btf.strings.string(at: member.nameOffset) ?? "(unnamed)"
    }
}
