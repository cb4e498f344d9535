#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

extension SystemCall {
    /// Everything BPF_MAP_CREATE takes.
    public struct MapAttributes: Sendable, Hashable {
        public var type: MapType
        public var keySize: UInt32
        public var valueSize: UInt32
        public var maxEntries: UInt32
        /// `map_flags`: `Map.Flags` bits.
        public var flags: UInt32
        /// The kernel's name: at most 15 characters of letters, digits, '_' and '.'.
        public var name: String
        /// For array- and hash-of-maps: a map of the kind every inner map must match.
        public var innerMapFD: Int32?
        /// Used when `flags` has `BPF_F_NUMA_NODE`.
        public var numaNode: UInt32
        /// Offloaded maps: the device's interface index.
        public var interfaceIndex: UInt32
        /// BTF describing key and value (needed for spin locks, timers, kptrs).
        public var btfFD: Int32?
        public var btfKeyTypeID: UInt32
        public var btfValueTypeID: UInt32
        /// struct_ops maps: the kernel's type.
        public var btfVMLinuxValueTypeID: UInt32
        /// Bloom filter hash count, arena start address.
        public var mapExtra: UInt64

        public init(type: MapType, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32, flags: UInt32 = 0,
                    name: String = "", innerMapFD: Int32? = nil, numaNode: UInt32 = 0, interfaceIndex: UInt32 = 0,
                    btfFD: Int32? = nil, btfKeyTypeID: UInt32 = 0, btfValueTypeID: UInt32 = 0,
                    btfVMLinuxValueTypeID: UInt32 = 0, mapExtra: UInt64 = 0) {
            self.type = type
            self.keySize = keySize
            self.valueSize = valueSize
            self.maxEntries = maxEntries
            self.flags = flags
            self.name = name
            self.innerMapFD = innerMapFD
            self.numaNode = numaNode
            self.interfaceIndex = interfaceIndex
            self.btfFD = btfFD
            self.btfKeyTypeID = btfKeyTypeID
            self.btfValueTypeID = btfValueTypeID
            self.btfVMLinuxValueTypeID = btfVMLinuxValueTypeID
            self.mapExtra = mapExtra
        }
    }

    /// BPF_MAP_CREATE.
    public static func createMap(_ attributes: MapAttributes) throws(BPFError) -> FileDescriptor {
        var attr = zeroedAttributes()
        attr.map_type = attributes.type.rawValue
        attr.key_size = attributes.keySize
        attr.value_size = attributes.valueSize
        attr.max_entries = attributes.maxEntries
        attr.map_flags = attributes.flags
        attr.inner_map_fd = UInt32(bitPattern: attributes.innerMapFD ?? 0)
        attr.numa_node = attributes.numaNode
        attr.map_name = objectName(attributes.name)
        attr.map_ifindex = attributes.interfaceIndex
        attr.btf_fd = UInt32(bitPattern: attributes.btfFD ?? 0)
        attr.btf_key_type_id = attributes.btfKeyTypeID
        attr.btf_value_type_id = attributes.btfValueTypeID
        attr.btf_vmlinux_value_type_id = attributes.btfVMLinuxValueTypeID
        attr.map_extra = attributes.mapExtra
        let subject = attributes.name.isEmpty ? attributes.type.kernelName : "\(attributes.name), \(attributes.type.kernelName)"
        return FileDescriptor(owning: try bpf(BPF_MAP_CREATE, &attr, name: "BPF_MAP_CREATE", subject: subject))
    }

    /// One BPF_MAP_*_ELEM command. `value` doubles as `next_key` for GET_NEXT_KEY.
    @inline(__always)
    static func element(_ command: bpf_cmd, _ name: String, map: Int32, key: UnsafeRawPointer?,
                        value: UnsafeRawPointer?, flags: UInt64) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.map_fd = UInt32(bitPattern: map)
        attr.key = address(key)
        attr.value = address(value)
        attr.flags = flags
        // The system call is made here, not in `bpf`: after the kernel has run, each return
        // between the call and the caller mispredicts, so one frame less is measurable.
        if swiftbpf_bpf(Int32(command.rawValue), &attr, UInt32(MemoryLayout<bpf_attr>.size)) >= 0 { return }
        try retryOrThrow(command, &attr, name: name)
    }

    /// BPF_MAP_LOOKUP_ELEM: copies the value for `key` into `value` (value size bytes, or
    /// one 8-byte-aligned slot per possible CPU for per-CPU maps). `flags` may be BPF_F_LOCK.
    public static func lookupElement(map: Int32, key: UnsafeRawPointer?, value: UnsafeMutableRawPointer?,
                                     flags: UInt64 = 0) throws(BPFError) {
        try element(BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", map: map, key: key, value: value, flags: flags)
    }

    /// BPF_MAP_UPDATE_ELEM with BPF_ANY, BPF_NOEXIST or BPF_EXIST (and BPF_F_LOCK). Queues
    /// and stacks take a nil key.
    public static func updateElement(map: Int32, key: UnsafeRawPointer?, value: UnsafeRawPointer?,
                                     flags: UInt64 = 0) throws(BPFError) {
        try element(BPF_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", map: map, key: key, value: value, flags: flags)
    }

    /// BPF_MAP_DELETE_ELEM.
    public static func deleteElement(map: Int32, key: UnsafeRawPointer?) throws(BPFError) {
        try element(BPF_MAP_DELETE_ELEM, "BPF_MAP_DELETE_ELEM", map: map, key: key, value: nil, flags: 0)
    }

    /// BPF_MAP_LOOKUP_AND_DELETE_ELEM: for queues and stacks (nil key) this is pop; hashes
    /// take a key.
    public static func lookupAndDeleteElement(map: Int32, key: UnsafeRawPointer?, value: UnsafeMutableRawPointer?,
                                              flags: UInt64 = 0) throws(BPFError) {
        try element(BPF_MAP_LOOKUP_AND_DELETE_ELEM, "BPF_MAP_LOOKUP_AND_DELETE_ELEM", map: map, key: key,
                    value: value, flags: flags)
    }

    /// BPF_MAP_GET_NEXT_KEY: writes the key after `key` (the first key for nil, or for a key
    /// no longer in the map) into `nextKey`; false at the end of the map.
    public static func nextKey(map: Int32, key: UnsafeRawPointer?, into nextKey: UnsafeMutableRawPointer?) throws(BPFError) -> Bool {
        do {
            try element(BPF_MAP_GET_NEXT_KEY, "BPF_MAP_GET_NEXT_KEY", map: map, key: key, value: nextKey, flags: 0)
            return true
        } catch where error.errno == ENOENT {
            return false
        }
    }

    /// BPF_MAP_FREEZE: no more writes from user space; programs may still write unless the
    /// map has BPF_F_RDONLY_PROG.
    public static func freezeMap(_ map: Int32) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.map_fd = UInt32(bitPattern: map)
        try bpf(BPF_MAP_FREEZE, &attr, name: "BPF_MAP_FREEZE")
    }

    /// BPF_MAP_LOOKUP_BATCH or BPF_MAP_LOOKUP_AND_DELETE_BATCH. `inBatch` is nil to start;
    /// `outBatch` receives the position to pass next time (key size bytes for hashes, 4 for
    /// arrays; `Map.batchTokenSize`). `count` is the capacity in, the number copied out.
    /// Returns false when the map is exhausted (the kernel's ENOENT, with `count` still valid).
    public static func lookupBatch(map: Int32, inBatch: UnsafeRawPointer?, outBatch: UnsafeMutableRawPointer?,
                                   keys: UnsafeMutableRawPointer?, values: UnsafeMutableRawPointer?, count: inout UInt32,
                                   elementFlags: UInt64 = 0, delete: Bool = false) throws(BPFError) -> Bool {
        var attr = zeroedAttributes()
        attr.batch.map_fd = UInt32(bitPattern: map)
        attr.batch.in_batch = address(inBatch)
        attr.batch.out_batch = address(outBatch)
        attr.batch.keys = address(keys)
        attr.batch.values = address(values)
        attr.batch.count = count
        attr.batch.elem_flags = elementFlags
        let command = delete ? BPF_MAP_LOOKUP_AND_DELETE_BATCH : BPF_MAP_LOOKUP_BATCH
        let name = delete ? "BPF_MAP_LOOKUP_AND_DELETE_BATCH" : "BPF_MAP_LOOKUP_BATCH"
        do {
            try bpf(command, &attr, name: name)
            count = attr.batch.count
            return true
        } catch where error.errno == ENOENT {
            count = attr.batch.count
            return false
        }
    }

    /// BPF_MAP_UPDATE_BATCH: `count` pairs in; out, how many were written (also on error).
    public static func updateBatch(map: Int32, keys: UnsafeRawPointer?, values: UnsafeRawPointer?, count: inout UInt32,
                                   elementFlags: UInt64 = 0) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.batch.map_fd = UInt32(bitPattern: map)
        attr.batch.keys = address(keys)
        attr.batch.values = address(values)
        attr.batch.count = count
        attr.batch.elem_flags = elementFlags
        defer { count = attr.batch.count }
        try bpf(BPF_MAP_UPDATE_BATCH, &attr, name: "BPF_MAP_UPDATE_BATCH")
    }

    /// BPF_MAP_DELETE_BATCH: `count` keys in; out, how many were deleted (also on error).
    public static func deleteBatch(map: Int32, keys: UnsafeRawPointer?, count: inout UInt32,
                                   elementFlags: UInt64 = 0) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.batch.map_fd = UInt32(bitPattern: map)
        attr.batch.keys = address(keys)
        attr.batch.count = count
        attr.batch.elem_flags = elementFlags
        defer { count = attr.batch.count }
        try bpf(BPF_MAP_DELETE_BATCH, &attr, name: "BPF_MAP_DELETE_BATCH")
    }
}
#endif
