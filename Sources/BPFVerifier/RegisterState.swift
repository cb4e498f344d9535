/// The kinds of memory a pointer may point into.
enum PointerKind: Hashable, Sendable {
    /// The program's context (`__sk_buff`, `xdp_md`, pt_regs, ...).
    case context
    /// The stack of the call frame at this depth.
    case stack(frame: Int)
    case map(MapInfo)
    case mapValue(MapInfo)
    case mapValueOrNull(MapInfo)
    /// An inner map from a lookup in a map of maps, or NULL.
    case mapOrNull(MapInfo)
    case packet, packetEnd, packetMeta
    /// Memory of a known size a helper handed out (a ring buffer reservation).
    case memory(size: Int)
    case memoryOrNull(size: Int)
    /// The plain-memory mode's input (r1), of a known size.
    case input(size: Int)
    /// The key a for_each_map_elem callback is given: read-only, the map's key size.
    case mapKey(MapInfo)
    /// A subprogram's address (ld_imm64 of BPF_PSEUDO_FUNC): only a callback argument.
    case function(start: Int)
    /// A socket a lookup found (bpf_sk_lookup_*), read as `struct bpf_sock`; the program
    /// holds a reference to it until bpf_sk_release.
    case socket(SocketKind)
    case socketOrNull(SocketKind)
    /// A kernel struct typed by vmlinux BTF (bpf_get_current_task_btf's task_struct, or a
    /// pointer field loaded from one): read-only, field by field.
    case kernelObject(KernelObject)

    var name: String {
        switch self {
        case .context: "ctx"
        case .stack: "fp"
        case .map: "map_ptr"
        case .mapValue: "map_value"
        case .mapValueOrNull: "map_value_or_null"
        case .mapOrNull: "map_ptr_or_null"
        case .packet: "pkt"
        case .packetEnd: "pkt_end"
        case .packetMeta: "pkt_meta"
        case .memory: "mem"
        case .memoryOrNull: "mem_or_null"
        case .input: "mem"
        case .mapKey: "map_key"
        case .function: "func"
        case .socket(let socket): socket.name
        case .socketOrNull(let socket): socket.name + "_or_null"
        case .kernelObject(let object): (object.trusted ? "trusted_ptr_" : "ptr_") + object.name
        }
    }

    var mayBeNull: Bool {
        switch self {
        case .mapValueOrNull, .memoryOrNull, .mapOrNull, .socketOrNull: true
        default: false
        }
    }

    /// The kind once a null check has passed.
    var nonNull: PointerKind {
        switch self {
        case .mapValueOrNull(let map): .mapValue(map)
        case .mapOrNull(let map): .map(map)
        case .memoryOrNull(let size): .memory(size: size)
        case .socketOrNull(let socket): .socket(socket)
        default: self
        }
    }
}

/// What a socket pointer may read: a full socket (`struct sock`) or only the part every
/// socket shares (`struct sock_common`, from bpf_skc_lookup_tcp), as the kernel tells them apart.
enum SocketKind: Hashable, Sendable {
    case full, common

    var name: String { self == .full ? "sock" : "sock_common" }
}

/// A struct of the kernel's: its type in vmlinux BTF and its name; `trusted` when a helper
/// vouches for it (then it is never NULL), not when it was loaded from a field (which may be).
struct KernelObject: Hashable, Sendable {
    var type: UInt32
    var name: String
    var trusted: Bool
}

/// A pointer: its kind, its offset from the start of the memory (possibly a range), and an
/// id shared by copies, so that a null check on one settles all (and a reference is released
/// by any). `origin` is the instruction that made it, for messages.
struct Pointer: Hashable, Sendable {
    var kind: PointerKind
    var offset: Scalar
    var id: Int = 0
    var origin: Int = 0
    /// For a packet pointer with an id (one with a variable part): the constant part of its
    /// offset. The rest, offset - fixed, is the same for every pointer with that id, so a
    /// check against data_end of one proves bytes for all (the kernel's find_good_pkt_pointers).
    var fixed: Int64 = 0
}

/// What a register (or a spilled stack slot) holds.
enum Value: Hashable, Sendable {
    case uninitialized
    case scalar(Scalar)
    case pointer(Pointer)

    static let unknownScalar = Value.scalar(.unknown)

    var isInitialized: Bool {
        if case .uninitialized = self { return false }
        return true
    }

    var scalar: Scalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }

    var pointer: Pointer? {
        if case .pointer(let p) = self { return p }
        return nil
    }

    var description: String {
        switch self {
        case .uninitialized: "uninitialized"
        case .scalar(let s): "scalar(\(s.description))"
        case .pointer(let p):
            if let off = p.offset.constantValue { "\(p.kind.name)(off=\(Int64(bitPattern: off)))" }
            else { "\(p.kind.name)(off=\(p.offset.description))" }
        }
    }
}
