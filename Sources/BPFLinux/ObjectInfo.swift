#if os(Linux)
import BPFInstructions
import BPFObject

/// The kinds of kernel object that have ids: BPF_*_GET_NEXT_ID and BPF_*_GET_FD_BY_ID.
public enum KernelObjectKind: String, Sendable, Hashable, CaseIterable {
    case program, map, link, btf
}

/// What BPF_OBJ_GET_INFO_BY_FD says about a program (`struct bpf_prog_info`).
public struct ProgramInfo: Sendable, Hashable {
    public var type: ProgramType?
    /// The raw type number, for types this build does not name.
    public var typeNumber: UInt32
    public var id: UInt32
    /// The kernel's name (at most 15 characters).
    public var name: String
    /// The 8-byte SHA-1 prefix of the translated instructions that bpftool shows.
    public var tag: [UInt8]
    /// Bytes of JIT'd machine code (0 when the JIT is off).
    public var jitedSize: UInt32
    /// Bytes of the instructions after the verifier's rewriting.
    public var translatedSize: UInt32
    /// Nanoseconds since boot.
    public var loadTime: UInt64
    public var createdByUID: UInt32
    public var mapIDs: [UInt32]
    public var interfaceIndex: UInt32
    public var isGPLCompatible: Bool
    public var btfID: UInt32
    /// Function and line info records the kernel kept.
    public var functionInfoCount: UInt32
    public var lineInfoCount: UInt32
    /// Run statistics, counted while BPF_ENABLE_STATS (or the sysctl) is on.
    public var runTime: UInt64
    public var runCount: UInt64
    public var recursionMisses: UInt64
    public var verifiedInstructions: UInt32
    public var attachBTFObjectID: UInt32
    public var attachBTFID: UInt32

    /// The tag as bpftool prints it: 16 lowercase hex digits.
    public var tagText: String { ProgramInfo.hex(tag) }
}

/// What BPF_OBJ_GET_INFO_BY_FD says about a map (`struct bpf_map_info`).
public struct MapInfo: Sendable, Hashable {
    public var type: MapType
    public var id: UInt32
    public var name: String
    public var keySize: UInt32
    public var valueSize: UInt32
    public var maxEntries: UInt32
    public var flags: UInt32
    public var interfaceIndex: UInt32
    public var btfID: UInt32
    public var btfKeyTypeID: UInt32
    public var btfValueTypeID: UInt32
    public var btfVMLinuxValueTypeID: UInt32
    public var mapExtra: UInt64
}

/// What BPF_OBJ_GET_INFO_BY_FD says about a link: the common part, and the kind-specific
/// rest as the kernel wrote it (`struct bpf_link_info` after `prog_id`).
public struct LinkInfo: Sendable, Hashable {
    /// `enum bpf_link_type`: 1 raw tracepoint, 2 tracing, 3 cgroup, 4 iter, 5 netns, 6 XDP,
    /// 7 perf event, 8 kprobe multi, 9 struct_ops, 10 netfilter, 11 tcx, ...
    public var type: UInt32
    public var id: UInt32
    public var programID: UInt32
    /// The union that follows, starting 8-byte aligned (offset 16 of the struct).
    public var details: [UInt8]
}

/// What BPF_OBJ_GET_INFO_BY_FD says about a BTF object.
public struct BTFInfo: Sendable, Hashable {
    public var id: UInt32
    /// "vmlinux" or a module's name for kernel BTF; empty for loaded BTF.
    public var name: String
    public var size: UInt32
    public var isKernel: Bool
}
#endif
