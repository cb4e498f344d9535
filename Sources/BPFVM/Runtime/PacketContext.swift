import BPFObject

/// How the VM lays out the context of a packet program. At offset 0 sits the kernel's own
/// structure (`xdp_md`, `__sk_buff`), so every field a program reads or writes is where the
/// kernel's headers put it; after it come real 64-bit pointers for the fields the program
/// reads as 32-bit packet pointers. At load time, loads of those fields become 64-bit loads
/// of the pointers (`ProgramRewriter`), as the kernel's convert_ctx_access rewrites them.
public enum PacketContextLayout: Sendable, Hashable {
    /// `struct xdp_md`: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex.
    case xdp
    /// `struct __sk_buff` of a TC classifier or action: the packet from its Ethernet header.
    case trafficControl
    /// `struct __sk_buff` of a socket filter: the packet from its network header, as the
    /// kernel's test run gives it (no direct packet access; loads through helpers and ld_abs).
    case socketFilter

    /// The layout for a program type, or nil for a type whose programs the VM cannot run.
    public init?(_ type: ProgramType) {
        switch type {
        case .xdp: self = .xdp
        case .schedulerClassifier, .schedulerAction: self = .trafficControl
        case .socketFilter: self = .socketFilter
        default: return nil
        }
    }

    /// Size of the kernel's structure.
    public var kernelSize: Int { self == .xdp ? 24 : 192 }
    /// Size of the VM's structure: the kernel's and the three pointers after it.
    var hostSize: Int { kernelSize + 24 }

    /// Kernel offsets of data, data_end and data_meta.
    private var pointerFields: (data: Int, end: Int, meta: Int) {
        self == .xdp ? (0, 4, 8) : (76, 80, 140)
    }
    var dataPointer: Int { kernelSize }
    var dataEndPointer: Int { kernelSize + 8 }
    var dataMetaPointer: Int { kernelSize + 16 }

    /// Where a 32-bit load of the kernel field at `offset` reads in the VM's structure, for
    /// the packet pointer fields; nil for the rest, which stay where they are.
    func pointerOffset(forField offset: Int) -> Int? {
        let fields = pointerFields
        switch offset {
        case fields.data: return dataPointer
        case fields.end: return dataEndPointer
        case fields.meta: return dataMetaPointer
        default: return nil
        }
    }

    /// What a program returns that drops the packet: XDP_ABORTED and XDP_DROP; TC_ACT_SHOT;
    /// a socket filter's 0 (bytes to keep).
    public func drops(verdict: UInt64) -> Bool {
        switch self {
        case .xdp: verdict <= 1
        case .trafficControl: verdict == 2
        case .socketFilter: UInt32(truncatingIfNeeded: verdict) == 0
        }
    }

    /// The verdict's name (XDP_PASS, TC_ACT_SHOT, ...), or the number when it has none.
    public func verdictName(_ verdict: UInt64) -> String {
        switch self {
        case .xdp:
            let names = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"]
            return verdict < UInt64(names.count) ? names[Int(verdict)] : "\(verdict)"
        case .trafficControl:
            let names: [Int32: String] = [-1: "TC_ACT_UNSPEC", 0: "TC_ACT_OK", 1: "TC_ACT_RECLASSIFY", 2: "TC_ACT_SHOT",
                                          3: "TC_ACT_PIPE", 4: "TC_ACT_STOLEN", 5: "TC_ACT_QUEUED", 6: "TC_ACT_REPEAT",
                                          7: "TC_ACT_REDIRECT", 8: "TC_ACT_TRAP"]
            return names[Int32(truncatingIfNeeded: verdict)] ?? "\(Int32(truncatingIfNeeded: verdict))"
        case .socketFilter:
            return UInt32(truncatingIfNeeded: verdict) == 0 ? "drop" : "keep \(UInt32(truncatingIfNeeded: verdict))"
        }
    }
}
