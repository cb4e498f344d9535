import BPFObject

/// What a helper takes and returns, as the kernel's bpf_func_proto says. A host that adds
/// helpers to its VM declares them with one (`Verifier.Options.helpers`).
public struct HelperPrototype: Sendable {
    public enum Argument: Sendable {
        /// Any initialised value.
        case anything
        case scalar
        /// A map pointer, of one of these types when given.
        case map([MapType]?)
        /// Initialised memory of the map's key (or value) size.
        case mapKey, mapValue
        case context
        /// Memory the helper reads (or writes, possibly uninitialised), its size in the next argument.
        case readableMemory, writableMemory
        /// The size of the memory before it; `orZero` allows 0.
        case size(orZero: Bool)
        /// A constant size (ring buffer reservations).
        case constantSize
        /// A ring buffer reservation, which the call releases.
        case reservation
        /// A NUL-terminated string the helper reads (a format, a constant to compare with).
        case string
        /// A socket the program holds a reference to, which the call releases.
        case socketReference
        /// A `struct bpf_spin_lock` in a map value, which the call takes (or, `unlock`, gives back).
        case spinLock(unlock: Bool)
        /// A pointer to this kernel struct, typed by vmlinux BTF, not NULL.
        case kernelStruct(String)
    }

    public enum Return: Sendable, Hashable {
        case scalar, nothing, mapValueOrNull, reservationOrNull
        /// A socket (`full`) or its common part (`common`) the program holds a reference to, or NULL.
        case socketOrNull(common: Bool)
        /// A pointer to this kernel struct, typed by vmlinux BTF; `trusted` when the kernel vouches for it.
        case kernelStruct(String, trusted: Bool)
    }

    public var name: String
    public var arguments: [Argument]
    public var returns: Return = .scalar
    /// Whether the call may move or resize the packet, so packet pointers die.
    public var changesPacket = false
    /// Which program kinds may call it.
    public var allowed: Availability = .all

    public enum Availability: Sendable { case all, tracing, socketBuffer, trafficControl, xdp, tracingOrNetworking, socketLookup }

    public init(name: String, arguments: [Argument], returns: Return = .scalar, changesPacket: Bool = false,
                allowed: Availability = .all) {
        self.name = name
        self.arguments = arguments
        self.returns = returns
        self.changesPacket = changesPacket
        self.allowed = allowed
    }

    func isAllowed(in kind: ProgramKind) -> Bool {
        switch allowed {
        case .trafficControl: kind == .kernel(.schedulerClassifier) || kind == .kernel(.schedulerAction)
        case .all: if case .kernel = kind { true } else { false }
        case .tracing: kind.isTracing
        case .socketBuffer: kind.usesSocketBuffer
        case .xdp: kind == .kernel(.xdp)
        case .tracingOrNetworking: kind.isTracing || kind.usesSocketBuffer || kind == .kernel(.xdp)
        // The kernel's tc, XDP and cgroup skb helper tables; socket filters have no lookups.
        case .socketLookup: kind.usesSocketBuffer && kind != .kernel(.socketFilter) || kind == .kernel(.xdp)
        }
    }
}

enum HelperPrototypes {
    static let byID: [Int32: HelperPrototype] = [
        1: HelperPrototype(name: "map_lookup_elem", arguments: [.map(nil), .mapKey], returns: .mapValueOrNull),
        2: HelperPrototype(name: "map_update_elem", arguments: [.map(nil), .mapKey, .mapValue, .scalar]),
        3: HelperPrototype(name: "map_delete_elem", arguments: [.map(nil), .mapKey]),
        4: HelperPrototype(name: "probe_read", arguments: [.writableMemory, .size(orZero: true), .anything], allowed: .tracing),
        5: HelperPrototype(name: "ktime_get_ns", arguments: []),
        6: HelperPrototype(name: "trace_printk", arguments: [.readableMemory, .size(orZero: false)]),
        7: HelperPrototype(name: "get_prandom_u32", arguments: []),
        8: HelperPrototype(name: "get_smp_processor_id", arguments: []),
        9: HelperPrototype(name: "skb_store_bytes", arguments: [.context, .scalar, .readableMemory, .size(orZero: false), .scalar],
                           changesPacket: true, allowed: .trafficControl),
        12: HelperPrototype(name: "tail_call", arguments: [.context, .map([.programArray]), .scalar]),
        14: HelperPrototype(name: "get_current_pid_tgid", arguments: []),
        15: HelperPrototype(name: "get_current_uid_gid", arguments: [], allowed: .tracing),
        16: HelperPrototype(name: "get_current_comm", arguments: [.writableMemory, .size(orZero: false)], allowed: .tracing),
        25: HelperPrototype(name: "perf_event_output",
                            arguments: [.context, .map([.perfEventArray]), .scalar, .readableMemory, .size(orZero: true)],
                            allowed: .tracingOrNetworking),
        26: HelperPrototype(name: "skb_load_bytes", arguments: [.context, .scalar, .writableMemory, .size(orZero: false)],
                            allowed: .socketBuffer),
        28: HelperPrototype(name: "csum_diff",
                            arguments: [.readableMemory, .size(orZero: true), .readableMemory, .size(orZero: true), .scalar]),
        35: HelperPrototype(name: "get_current_task", arguments: [], allowed: .tracing),
        44: HelperPrototype(name: "xdp_adjust_head", arguments: [.context, .scalar], changesPacket: true, allowed: .xdp),
        54: HelperPrototype(name: "xdp_adjust_meta", arguments: [.context, .scalar], changesPacket: true, allowed: .xdp),
        65: HelperPrototype(name: "xdp_adjust_tail", arguments: [.context, .scalar], changesPacket: true, allowed: .xdp),
        84: HelperPrototype(name: "sk_lookup_tcp", arguments: socketLookup, returns: .socketOrNull(common: false),
                            allowed: .socketLookup),
        85: HelperPrototype(name: "sk_lookup_udp", arguments: socketLookup, returns: .socketOrNull(common: false),
                            allowed: .socketLookup),
        86: HelperPrototype(name: "sk_release", arguments: [.socketReference], allowed: .socketLookup),
        87: HelperPrototype(name: "map_push_elem", arguments: [.map([.queue, .stack, .bloomFilter]), .mapValue, .scalar]),
        88: HelperPrototype(name: "map_pop_elem", arguments: [.map([.queue, .stack]), .mapValue]),
        89: HelperPrototype(name: "map_peek_elem", arguments: [.map([.queue, .stack, .bloomFilter]), .mapValue]),
        93: HelperPrototype(name: "spin_lock", arguments: [.spinLock(unlock: false)], returns: .nothing),
        94: HelperPrototype(name: "spin_unlock", arguments: [.spinLock(unlock: true)], returns: .nothing),
        99: HelperPrototype(name: "skc_lookup_tcp", arguments: socketLookup, returns: .socketOrNull(common: true),
                            allowed: .socketLookup),
        112: HelperPrototype(name: "probe_read_user", arguments: [.writableMemory, .size(orZero: true), .anything]),
        113: HelperPrototype(name: "probe_read_kernel", arguments: [.writableMemory, .size(orZero: true), .anything]),
        114: HelperPrototype(name: "probe_read_user_str", arguments: [.writableMemory, .size(orZero: true), .anything]),
        115: HelperPrototype(name: "probe_read_kernel_str", arguments: [.writableMemory, .size(orZero: true), .anything]),
        125: HelperPrototype(name: "ktime_get_boot_ns", arguments: []),
        130: HelperPrototype(name: "ringbuf_output",
                             arguments: [.map([.ringBuffer]), .readableMemory, .size(orZero: true), .scalar]),
        131: HelperPrototype(name: "ringbuf_reserve", arguments: [.map([.ringBuffer]), .constantSize, .scalar],
                             returns: .reservationOrNull),
        132: HelperPrototype(name: "ringbuf_submit", arguments: [.reservation, .scalar], returns: .nothing),
        133: HelperPrototype(name: "ringbuf_discard", arguments: [.reservation, .scalar], returns: .nothing),
        134: HelperPrototype(name: "ringbuf_query", arguments: [.map([.ringBuffer]), .scalar]),
        158: HelperPrototype(name: "get_current_task_btf", arguments: [], returns: .kernelStruct("task_struct", trusted: true)),
        165: HelperPrototype(name: "snprintf",
                             arguments: [.writableMemory, .size(orZero: true), .string, .readableMemory, .size(orZero: true)]),
        175: HelperPrototype(name: "task_pt_regs", arguments: [.kernelStruct("task_struct")],
                             returns: .kernelStruct("pt_regs", trusted: false), allowed: .tracing),
        182: HelperPrototype(name: "strncmp", arguments: [.readableMemory, .size(orZero: false), .string]),
    ]

    /// ctx, the tuple and its size, the network namespace, flags.
    private static let socketLookup: [HelperPrototype.Argument] = [.context, .readableMemory, .size(orZero: false), .anything, .anything]

    /// The helper's name for messages, also for helpers the verifier does not know.
    static func name(_ id: Int32) -> String { byID[id].map { "bpf_\($0.name)" } ?? "helper \(id)" }
}
