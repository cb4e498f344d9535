import BPFObject

/// `BPF_F_*` creation flags (`map_flags`), as the kernel numbers them.
enum MapCreationFlag {
    static let noPreallocation: UInt32 = 1 << 0
    static let noCommonLRU: UInt32 = 1 << 1
    static let numaNode: UInt32 = 1 << 2
    static let readOnly: UInt32 = 1 << 3
    static let writeOnly: UInt32 = 1 << 4
    static let zeroSeed: UInt32 = 1 << 6
    static let readOnlyProgram: UInt32 = 1 << 7
    static let writeOnlyProgram: UInt32 = 1 << 8
    static let mmapable: UInt32 = 1 << 10
    static let preserveElements: UInt32 = 1 << 11
    static let innerMap: UInt32 = 1 << 12
    static let access: UInt32 = readOnly | writeOnly | readOnlyProgram | writeOnlyProgram
}

/// The kernel's size limits that creation checks against (x86-64: 4 KiB pages,
/// KMALLOC_MAX_SIZE of 4 MiB, PCPU_MIN_UNIT_SIZE of 32 KiB).
enum KernelLimits {
    static let pageSize = 4096
    static let kmallocMaxSize = 1 << 22
    static let perCPUUnitSize = 32768
    static let hashElementHeader = 48
    static let maxStack = 512
}

/// Makes the userspace map a spec declares, with the checks and errors of the kernel's
/// BPF_MAP_CREATE: EINVAL for sizes or flags the type does not take (an array key that is not
/// 4 bytes, a ring buffer size that is not a power-of-2 multiple of the page size, an LPM trie
/// without BPF_F_NO_PREALLOC, map_extra on anything but a bloom filter, ...), E2BIG for values
/// too large, ENOTSUPP for an LRU hash without preallocation; EOPNOTSUPP for the types that
/// need a kernel (perf event arrays, sockets, devices, cgroups, local storage, struct_ops, arena).
///
/// A spec's `initialValue` (global data) fills an array's first value; `initialSlots` (the
/// `.values` of program arrays and map-in-maps) name programs and maps that only the loader
/// knows, so the loader fills those slots.
///
/// `cpuCount` is how many CPUs per-CPU maps keep values for (the kernel's possible CPUs, when
/// the map must match a kernel map's layout). Array- and hash-of-maps check `spec.innerMap` as
/// the kernel checks the inner map fd; `resolveInnerMap` turns the 4-byte ids that host-side
/// updates of them carry into maps (see `MapOfMaps`).
public func makeUserspaceMap(spec: MapSpec, cpuCount: Int = 1,
                             resolveInnerMap: @escaping @Sendable (UInt32) -> (any UserspaceMap)? = { _ in nil })
    throws(MapError) -> any UserspaceMap {
    let check = CreationCheck(spec: spec, cpuCount: max(cpuCount, 1))
    try check.common()
    switch spec.type {
    case .array, .perCPUArray:
        try check.array()
        let map = ArrayMap(spec: spec, cpuCount: check.cpuCount)
        // Global data (.data, .rodata, .bss) starts with the section's bytes, as libbpf loads it.
        if let initial = spec.initialValue, spec.type == .array {
            map.value(at: 0, cpu: 0).copyMemory(from: initial, byteCount: min(initial.count, map.valueSize))
        }
        return map
    case .hash, .perCPUHash, .lruHash, .lruPerCPUHash:
        let entries = try check.hash()
        return HashMap(spec: spec, maxEntries: entries, cpuCount: check.cpuCount)
    case .longestPrefixMatchTrie:
        try check.trie()
        return LPMTrieMap(spec: spec)
    case .queue, .stack:
        try check.queue()
        return QueueStackMap(spec: spec)
    case .bloomFilter:
        try check.bloomFilter()
        return BloomFilterMap(spec: spec)
    case .ringBuffer:
        try check.ringBuffer()
        return RingBufferMap(spec: spec)
    case .programArray:
        try check.fileDescriptorArray()
        try check.array()
        return ProgramArrayMap(spec: spec)
    case .arrayOfMaps, .hashOfMaps:
        if spec.type == .arrayOfMaps {
            try check.fileDescriptorArray()
            try check.array()
        } else {
            if spec.valueSize != 4 { throw check.invalid("the value is \(spec.valueSize) bytes; a hash of maps holds 4-byte map ids") }
            _ = try check.hash()
        }
        let template = try check.innerMap()
        return MapOfMaps(spec: spec, template: template, resolve: resolveInnerMap)
    default:
        throw check.error(LinuxErrno.operationNotSupported,
                          "\(spec.type.kernelName) maps need the kernel; BPFVM has no userspace version of them")
    }
}

/// One spec's creation checks, in the kernel's order for its type.
struct CreationCheck {
    let spec: MapSpec
    let cpuCount: Int
    var flags: UInt32 { spec.flags }

    func error(_ errno: Int32, _ detail: String) -> MapError {
        MapError(errno: errno, message: "creating \(spec.type.kernelName) map '\(spec.name)': \(detail)")
    }

    func invalid(_ detail: String) -> MapError { error(LinuxErrno.invalid, detail) }

    func unknownFlags(allowed: UInt32) throws(MapError) {
        if flags & ~allowed != 0 {
            throw invalid("flags 0x\(String(flags & ~allowed, radix: 16)) are not taken by this map type")
        }
        try accessFlags()
    }

    func accessFlags() throws(MapError) {
        let both = MapCreationFlag.readOnlyProgram | MapCreationFlag.writeOnlyProgram
        if flags & both == both { throw invalid("BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together") }
    }

    func memory(_ bytes: Int) throws(MapError) {
        if bytes > MapMemory.limit || bytes < 0 {
            throw error(LinuxErrno.noMemory, "it would take \(bytes) bytes, more than the \(MapMemory.limit >> 20) MiB a userspace map may have")
        }
    }

    /// What map_create checks before the type's own checks.
    func common() throws(MapError) {
        if spec.mapExtra != 0 && spec.type != .bloomFilter && spec.type != .arena {
            throw invalid("map_extra (\(spec.mapExtra)) is only for bloom filters and arenas")
        }
        let both = MapCreationFlag.readOnly | MapCreationFlag.writeOnly
        if flags & both == both { throw invalid("BPF_F_RDONLY and BPF_F_WRONLY together") }
    }

    /// array_map_alloc_check and array_map_alloc.
    func array() throws(MapError) {
        let perCPU = spec.type.isPerCPU
        try unknownFlags(allowed: MapCreationFlag.numaNode | MapCreationFlag.mmapable | MapCreationFlag.access
                         | MapCreationFlag.preserveElements | MapCreationFlag.innerMap)
        if spec.maxEntries == 0 { throw invalid("max entries is 0") }
        if spec.keySize != 4 { throw invalid("the key is \(spec.keySize) bytes; array keys are 4-byte indexes") }
        if spec.valueSize == 0 { throw invalid("the value size is 0") }
        if perCPU && flags & MapCreationFlag.numaNode != 0 { throw invalid("a per-CPU array cannot be bound to a NUMA node") }
        if spec.type != .array && flags & (MapCreationFlag.mmapable | MapCreationFlag.innerMap) != 0 {
            throw invalid("only plain arrays take BPF_F_MMAPABLE and BPF_F_INNER_MAP")
        }
        if flags & MapCreationFlag.preserveElements != 0 { throw invalid("only perf event arrays take BPF_F_PRESERVE_ELEMS") }
        if spec.valueSize > UInt32(Int32.max) { throw error(LinuxErrno.tooBig, "the value size \(spec.valueSize) is too large") }
        if perCPU && perCPUStride(valueSize: Int(spec.valueSize)) > KernelLimits.perCPUUnitSize {
            throw error(LinuxErrno.tooBig, "per-CPU values are at most \(KernelLimits.perCPUUnitSize) bytes")
        }
        // The kernel rounds the array up to a power of two, which 2^31 + 1 entries overflow.
        if spec.maxEntries > 1 << 31 { throw error(LinuxErrno.tooBig, "max entries \(spec.maxEntries) is more than 2^31") }
        try memory(ArrayMap.bytesNeeded(spec, cpuCount: cpuCount))
    }

    /// trie_alloc.
    func trie() throws(MapError) {
        if spec.maxEntries == 0 { throw invalid("max entries is 0") }
        if flags & MapCreationFlag.noPreallocation == 0 { throw invalid("an LPM trie must be created with BPF_F_NO_PREALLOC") }
        try unknownFlags(allowed: MapCreationFlag.noPreallocation | MapCreationFlag.numaNode | MapCreationFlag.access)
        if spec.keySize < 5 || spec.keySize > 260 {
            throw invalid("the key is \(spec.keySize) bytes; LPM keys are a 4-byte prefix length and 1 to 256 bytes of data")
        }
        if spec.valueSize == 0 || Int(spec.valueSize) > KernelLimits.kmallocMaxSize - 256 - 24 {
            throw invalid("the value size \(spec.valueSize) is out of range")
        }
        try memory(LPMTrieMap.bytesNeeded(spec))
    }

    /// queue_stack_map_alloc_check.
    func queue() throws(MapError) {
        if spec.maxEntries == 0 || spec.keySize != 0 || spec.valueSize == 0 {
            throw invalid("queues and stacks have no key (size 0), a value and at least one entry (key \(spec.keySize), value \(spec.valueSize), max entries \(spec.maxEntries))")
        }
        try unknownFlags(allowed: MapCreationFlag.numaNode | MapCreationFlag.access)
        if Int(spec.valueSize) > KernelLimits.kmallocMaxSize { throw error(LinuxErrno.tooBig, "the value size \(spec.valueSize) is too large") }
        try memory(QueueStackMap.bytesNeeded(spec))
    }

    /// bloom_map_alloc.
    func bloomFilter() throws(MapError) {
        if spec.keySize != 0 || spec.valueSize == 0 || spec.maxEntries == 0 {
            throw invalid("a bloom filter has no key (size 0), a value and at least one entry (key \(spec.keySize), value \(spec.valueSize), max entries \(spec.maxEntries))")
        }
        try unknownFlags(allowed: MapCreationFlag.numaNode | MapCreationFlag.zeroSeed | MapCreationFlag.access)
        if spec.mapExtra & ~0xF != 0 { throw invalid("map_extra \(spec.mapExtra) has bits beyond the hash count (0-15)") }
        try memory(BloomFilterMap.bytesNeeded(spec))
    }

    /// ringbuf_map_alloc.
    func ringBuffer() throws(MapError) {
        if flags & ~MapCreationFlag.numaNode != 0 { throw invalid("ring buffers take no flags but BPF_F_NUMA_NODE") }
        let size = Int(spec.maxEntries)
        if spec.keySize != 0 || spec.valueSize != 0 || size == 0 || size & (size - 1) != 0 || size % KernelLimits.pageSize != 0 {
            throw invalid("a ring buffer has no key or value and a size (max entries, \(size)) that is a power of 2 and a multiple of the \(KernelLimits.pageSize)-byte page")
        }
        try memory(2 * size)
    }

    /// fd_array_map_alloc_check: the slots of program arrays and arrays of maps hold 4-byte ids.
    func fileDescriptorArray() throws(MapError) {
        if spec.valueSize != 4 { throw invalid("the value is \(spec.valueSize) bytes; \(spec.type.kernelName) slots are 4 bytes") }
        if flags & (MapCreationFlag.readOnlyProgram | MapCreationFlag.writeOnlyProgram) != 0 {
            throw invalid("\(spec.type.kernelName) maps take neither BPF_F_RDONLY_PROG nor BPF_F_WRONLY_PROG")
        }
    }

    /// bpf_map_meta_alloc: the template must itself be a valid map, and not hold maps.
    func innerMap() throws(MapError) -> MapSpec {
        guard let inner = spec.innerMap else {
            throw error(LinuxErrno.invalid, "\(spec.type.kernelName) needs an inner map template (__array(values, ...))")
        }
        if inner.type.holdsMaps { throw invalid("an inner map cannot hold maps itself") }
        do {
            _ = try makeUserspaceMap(spec: inner, cpuCount: cpuCount)
        } catch {
            throw MapError(errno: error.errno, message: "creating \(spec.type.kernelName) map '\(spec.name)': its inner map template: \(error.message)")
        }
        return inner
    }

    /// htab_map_alloc_check and htab_map_alloc; the number of elements the table gets.
    func hash() throws(MapError) -> Int {
        let perCPU = spec.type.isPerCPU
        let lru = spec.type == .lruHash || spec.type == .lruPerCPUHash
        let perCPULRU = flags & MapCreationFlag.noCommonLRU != 0
        try unknownFlags(allowed: MapCreationFlag.noPreallocation | MapCreationFlag.noCommonLRU | MapCreationFlag.numaNode
                         | MapCreationFlag.access | MapCreationFlag.zeroSeed)
        if !lru && perCPULRU { throw invalid("BPF_F_NO_COMMON_LRU is only for LRU hashes") }
        if lru && flags & MapCreationFlag.noPreallocation != 0 {
            throw error(LinuxErrno.notSupported, "an LRU hash cannot be created with BPF_F_NO_PREALLOC")
        }
        if flags & MapCreationFlag.numaNode != 0 && (perCPU || perCPULRU) {
            throw invalid("a per-CPU map or per-CPU LRU cannot be bound to a NUMA node")
        }
        if spec.maxEntries == 0 || spec.keySize == 0 || spec.valueSize == 0 {
            throw invalid("max entries, key size and value size must not be 0 (they are \(spec.maxEntries), \(spec.keySize), \(spec.valueSize))")
        }
        if Int(spec.keySize) + Int(spec.valueSize) >= KernelLimits.kmallocMaxSize - KernelLimits.hashElementHeader {
            throw error(LinuxErrno.tooBig, "key and value together are \(Int(spec.keySize) + Int(spec.valueSize)) bytes, too large for an element")
        }
        if perCPU && perCPUStride(valueSize: Int(spec.valueSize)) > KernelLimits.perCPUUnitSize {
            throw error(LinuxErrno.tooBig, "per-CPU values are at most \(KernelLimits.perCPUUnitSize) bytes")
        }
        var entries = Int(spec.maxEntries)
        // Each CPU's LRU list gets the same number of elements, as the kernel rounds them.
        if lru && perCPULRU {
            let rounded = (entries + cpuCount - 1) / cpuCount * cpuCount
            entries = rounded <= Int(UInt32.max) ? rounded : entries / cpuCount * cpuCount
        }
        if entries > 1 << 31 { throw error(LinuxErrno.tooBig, "max entries \(entries) is more than 2^31") }
        try memory(HashTable.bytesNeeded(keySize: Int(spec.keySize), valueSize: Int(spec.valueSize), perCPU: perCPU,
                                         cpuCount: cpuCount, capacity: entries))
        return entries
    }
}
