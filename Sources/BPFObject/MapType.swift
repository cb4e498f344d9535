/// The kernel's map types (`enum bpf_map_type`). An object may name a type this list does
/// not know yet; it is kept as `.other(number)` and passed to the kernel unchanged.
public enum MapType: Sendable, Hashable {
    case unspecified, hash, array, programArray, perfEventArray, perCPUHash, perCPUArray, stackTrace
    case cgroupArray, lruHash, lruPerCPUHash, longestPrefixMatchTrie, arrayOfMaps, hashOfMaps
    case deviceMap, socketMap, cpuMap, xdpSocketMap, socketHash, cgroupStorage, reuseportSocketArray
    case perCPUCgroupStorage, queue, stack, socketStorage, deviceMapHash, structOperations, ringBuffer
    case inodeStorage, taskStorage, bloomFilter, userRingBuffer, cgroupStorageByID, arena
    case other(UInt32)

    private static let known: [MapType] = [
        .unspecified, .hash, .array, .programArray, .perfEventArray, .perCPUHash, .perCPUArray, .stackTrace,
        .cgroupArray, .lruHash, .lruPerCPUHash, .longestPrefixMatchTrie, .arrayOfMaps, .hashOfMaps,
        .deviceMap, .socketMap, .cpuMap, .xdpSocketMap, .socketHash, .cgroupStorage, .reuseportSocketArray,
        .perCPUCgroupStorage, .queue, .stack, .socketStorage, .deviceMapHash, .structOperations, .ringBuffer,
        .inodeStorage, .taskStorage, .bloomFilter, .userRingBuffer, .cgroupStorageByID, .arena,
    ]

    private static let kernelNames = [
        "unspec", "hash", "array", "prog_array", "perf_event_array", "percpu_hash", "percpu_array", "stack_trace",
        "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps", "hash_of_maps",
        "devmap", "sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray",
        "percpu_cgroup_storage", "queue", "stack", "sk_storage", "devmap_hash", "struct_ops", "ringbuf",
        "inode_storage", "task_storage", "bloom_filter", "user_ringbuf", "cgrp_storage", "arena",
    ]

    public init(rawValue: UInt32) {
        self = rawValue < UInt32(Self.known.count) ? Self.known[Int(rawValue)] : .other(rawValue)
    }

    /// The number bpf(2) takes.
    public var rawValue: UInt32 {
        if case .other(let raw) = self { return raw }
        return UInt32(Self.known.firstIndex(of: self) ?? 0)
    }

    /// The kernel's name without `BPF_MAP_TYPE_`, lowercased, as bpftool prints it.
    public var kernelName: String {
        if case .other(let raw) = self { return "type_\(raw)" }
        return Self.kernelNames[Int(rawValue)]
    }

    /// Array-of-maps and hash-of-maps hold other maps; their values are map fds.
    public var holdsMaps: Bool { self == .arrayOfMaps || self == .hashOfMaps }
}
