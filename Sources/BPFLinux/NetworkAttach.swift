#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// Where an XDP program runs on an interface.
public enum XDPMode: Sendable, Hashable {
    /// The driver's native hook where it has one, else the generic one.
    case automatic
    /// The generic hook after the socket buffer is built (`XDP_FLAGS_SKB_MODE`): works on
    /// every interface, slower.
    case generic
    /// The driver's own hook (`XDP_FLAGS_DRV_MODE`).
    case driver
    /// Offloaded to the NIC (`XDP_FLAGS_HW_MODE`).
    case offload

    var flags: UInt32 {
        switch self {
        case .automatic: 0
        case .generic: 1 << 1
        case .driver: 1 << 2
        case .offload: 1 << 3
        }
    }
}

/// Which way a tcx program sees packets.
public enum TCXDirection: Sendable, Hashable {
    case ingress, egress

    var attachType: AttachType { self == .ingress ? .tcxIngress : .tcxEgress }
}

extension Link {
    /// Attaches an `xdp` program to network interface `interface` (by name) with a bpf_link;
    /// the program stays until the link is closed.
    public static func xdp(interface: String, mode: XDPMode = .automatic, program: some AttachableProgram) throws(BPFError) -> Link {
        try xdp(interfaceIndex: try interfaceIndex(interface, hook: "XDP on \(interface)"), mode: mode, program: program,
                interfaceName: interface)
    }

    public static func xdp(interfaceIndex: UInt32, mode: XDPMode = .automatic, program: some AttachableProgram) throws(BPFError) -> Link {
        try xdp(interfaceIndex: interfaceIndex, mode: mode, program: program, interfaceName: interfaceName(interfaceIndex))
    }

    private static func xdp(interfaceIndex: UInt32, mode: XDPMode, program: some AttachableProgram,
                            interfaceName: String) throws(BPFError) -> Link {
        let hook = "XDP (\(mode)) on \(interfaceName)"
        let fd = try createLink(program: program.programDescriptor, target: interfaceIndex, attachType: .xdp,
                                flags: mode.flags, hook: hook, expected: [.xdp]) { code in
            switch code {
            case EBUSY, EEXIST:
                "another XDP program is already attached to \(interfaceName) (see `ip link show \(interfaceName)`; a netlink-attached one is removed with `ip link set dev \(interfaceName) xdp off`)"
            case EOPNOTSUPP where mode == .driver, ENOTSUPP where mode == .driver:
                "the driver of \(interfaceName) has no native XDP; use XDPMode.generic"
            case EOPNOTSUPP where mode == .offload, ENOTSUPP where mode == .offload:
                "\(interfaceName) cannot offload XDP programs (the program must also be loaded for that device)"
            case ENODEV:
                "no interface with index \(interfaceIndex)"
            case EINVAL:
                "the kernel refused the attachment: a program loaded for another device, frags support that the driver lacks, or an MTU too large for native XDP"
            default:
                nil
            }
        }
        return Link(hook: hook, attachments: [.link(fd)])
    }

    /// Attaches a `sched_cls` program to interface `interface` at tcx `direction` (Linux
    /// 6.6 and later): the program runs after the programs already there, no qdisc needed.
    public static func tcx(interface: String, direction: TCXDirection, program: some AttachableProgram) throws(BPFError) -> Link {
        try tcx(interfaceIndex: try interfaceIndex(interface, hook: "tcx \(direction) on \(interface)"), direction: direction,
                program: program, interfaceName: interface)
    }

    public static func tcx(interfaceIndex: UInt32, direction: TCXDirection, program: some AttachableProgram) throws(BPFError) -> Link {
        try tcx(interfaceIndex: interfaceIndex, direction: direction, program: program, interfaceName: interfaceName(interfaceIndex))
    }

    private static func tcx(interfaceIndex: UInt32, direction: TCXDirection, program: some AttachableProgram,
                            interfaceName: String) throws(BPFError) -> Link {
        let hook = "tcx \(direction) on \(interfaceName)"
        let fd = try createLink(program: program.programDescriptor, target: interfaceIndex, attachType: direction.attachType,
                                flags: 0, hook: hook, expected: [.schedulerClassifier]) { code in
            switch code {
            case ENODEV: "no interface with index \(interfaceIndex)"
            case EINVAL: "the kernel refused the attachment: tcx needs Linux 6.6, and a program loaded as sched_cls"
            default: nil
            }
        }
        return Link(hook: hook, attachments: [.link(fd)])
    }

    /// BPF_LINK_CREATE with `target` (an ifindex or a descriptor) and `attachType`.
    static func createLink(program: FileDescriptor, target: UInt32, attachType: AttachType, flags: UInt32, hook: String,
                           expected: [ProgramType], cause: (Int32) -> String?) throws(BPFError) -> FileDescriptor {
        do {
            return try SystemCall.createLink(program: program.rawValue, target: target, attachType: attachType.rawValue, flags: flags)
        } catch {
            throw AttachFailure.explain(error, hook: hook, program: program, expected: expected, cause: cause)
        }
    }

    static func interfaceIndex(_ name: String, hook: String) throws(BPFError) -> UInt32 {
        let index = if_nametoindex(name)
        guard index != 0 else {
            throw BPFError(operation: "if_nametoindex", errno: errno == 0 ? ENODEV : errno, subject: hook,
                           detail: "no network interface named '\(name)' in this network namespace")
        }
        return index
    }

    @inline(never)
    static func interfaceName(_ index: UInt32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buffer) != nil else { return "interface \(index)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
#endif
