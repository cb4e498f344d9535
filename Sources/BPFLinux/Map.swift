#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// A map in the kernel, owned through its file descriptor: closed by `close()` or when the
/// last reference goes away (the kernel frees the map once nothing else holds it — no
/// pin, program or map-in-map).
///
/// Keys and values are raw bytes here, exactly `keySize` and `valueBufferSize` long; `TypedMap`
/// and `PerCPUMap` give them Swift types. Per-CPU maps take and return one value per
/// possible CPU, each padded to 8 bytes, as the kernel lays them out.
public final class Map: Sendable, CustomStringConvertible {
    public let fileDescriptor: FileDescriptor
    /// The kernel's name (at most 15 characters; empty when it has none).
    public let name: String
    public let type: MapType
    public let keySize: Int
    public let valueSize: Int
    public let maxEntries: Int
    /// `map_flags`.
    public let flags: Flags
    /// The kernel's id for the map (what bpftool shows).
    public let id: UInt32
    /// 1, or the number of possible CPUs for per-CPU maps.
    public let valueCount: Int
    /// Bytes of one lookup or update: `valueSize`, or for per-CPU maps one 8-byte-aligned
    /// slot per possible CPU.
    public let valueBufferSize: Int

    /// `map_flags` bits (`BPF_F_*`).
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let noPreallocation = Flags(rawValue: 1 << 0)
        public static let noCommonLRU = Flags(rawValue: 1 << 1)
        public static let numaNode = Flags(rawValue: 1 << 2)
        /// Read-only from user space (BPF_F_RDONLY).
        public static let readOnly = Flags(rawValue: 1 << 3)
        public static let writeOnly = Flags(rawValue: 1 << 4)
        public static let stackBuildID = Flags(rawValue: 1 << 5)
        public static let zeroSeed = Flags(rawValue: 1 << 6)
        /// Read-only to programs (BPF_F_RDONLY_PROG), as `.rodata` is.
        public static let readOnlyProgram = Flags(rawValue: 1 << 7)
        public static let writeOnlyProgram = Flags(rawValue: 1 << 8)
        public static let clone = Flags(rawValue: 1 << 9)
        /// The map can be memory-mapped (arrays, ring buffers, arenas).
        public static let mmapable = Flags(rawValue: 1 << 10)
        public static let preserveElements = Flags(rawValue: 1 << 11)
        public static let innerMap = Flags(rawValue: 1 << 12)
    }

    /// Element command flags: BPF_ANY (empty), BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK.
    public struct ElementFlags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// Create or replace (BPF_ANY).
        public static let any: ElementFlags = []
        /// Only create (BPF_NOEXIST).
        public static let noExist = ElementFlags(rawValue: 1)
        /// Only replace (BPF_EXIST).
        public static let exist = ElementFlags(rawValue: 2)
        /// Take the value's `bpf_spin_lock` (BPF_F_LOCK).
        public static let lock = ElementFlags(rawValue: 4)
    }

    // MARK: Creating and opening

    /// Creates a map (BPF_MAP_CREATE).
    public convenience init(_ attributes: SystemCall.MapAttributes) throws(BPFError) {
        let fd = try SystemCall.createMap(attributes)
        try self.init(fileDescriptor: fd)
    }

    /// Creates a map. `innerMap` is the template for array- and hash-of-maps.
    public convenience init(type: MapType, keySize: Int, valueSize: Int, maxEntries: Int, flags: Flags = [],
                            name: String = "", innerMap: Map? = nil, mapExtra: UInt64 = 0) throws(BPFError) {
        guard let key = UInt32(exactly: keySize), let value = UInt32(exactly: valueSize),
              let entries = UInt32(exactly: maxEntries) else {
            throw BPFError(operation: "BPF_MAP_CREATE", errno: EINVAL, subject: name,
                           detail: "key size \(keySize), value size \(valueSize) and max entries \(maxEntries) must fit in 32 bits")
        }
        try self.init(SystemCall.MapAttributes(
            type: type, keySize: key, valueSize: value, maxEntries: entries, flags: flags.rawValue, name: name,
            innerMapFD: innerMap?.fileDescriptor.rawValue, mapExtra: mapExtra))
    }

    /// Takes ownership of a map descriptor and asks the kernel what it is.
    public init(fileDescriptor: FileDescriptor) throws(BPFError) {
        try SystemCall.expect(.map, fd: fileDescriptor.rawValue)
        let info = try SystemCall.mapInfo(fd: fileDescriptor.rawValue)
        self.fileDescriptor = fileDescriptor
        name = info.name
        type = info.type
        keySize = Int(info.keySize)
        valueSize = Int(info.valueSize)
        maxEntries = Int(info.maxEntries)
        flags = Flags(rawValue: info.flags)
        id = info.id
        if Map.isPerCPU(info.type) {
            valueCount = try PossibleCPUs.count()
            valueBufferSize = valueCount * Map.perCPUStride(valueSize: Int(info.valueSize))
        } else {
            valueCount = 1
            valueBufferSize = Int(info.valueSize)
        }
    }

    /// Opens the map with this id (BPF_MAP_GET_FD_BY_ID).
    public convenience init(id: UInt32, flags: Flags = []) throws(BPFError) {
        try self.init(fileDescriptor: SystemCall.fileDescriptor(of: .map, id: id, flags: flags.rawValue))
    }

    /// Opens the map pinned at `path` (BPF_OBJ_GET).
    public convenience init(pinnedAt path: String, flags: Flags = []) throws(BPFError) {
        let fd = try SystemCall.openPinned(at: path, flags: flags.rawValue)
        do { try self.init(fileDescriptor: fd) } catch {
            var error = error
            error.subject = path
            throw error
        }
    }

    /// Closes the descriptor now; the map itself lives on while something else holds it.
    public func close() { fileDescriptor.close() }

    public var description: String {
        "\(type.kernelName) map '\(name)' id \(id) (key \(keySize) B, value \(valueSize) B, max \(maxEntries))"
    }

    /// Whether each key holds one value per CPU.
    public var isPerCPU: Bool { Map.isPerCPU(type) }

    static func isPerCPU(_ type: MapType) -> Bool {
        type == .perCPUHash || type == .perCPUArray || type == .lruPerCPUHash || type == .perCPUCgroupStorage
    }

    /// The kernel rounds each CPU's value up to 8 bytes.
    static func perCPUStride(valueSize: Int) -> Int { (valueSize + 7) & ~7 }

    // MARK: Raw bytes, allocation-free

    /// Copies the value for `key` into `value` (exactly `valueBufferSize` bytes); false when
    /// the key is absent. Queues, stacks and bloom filters take an empty key.
    @inline(__always)
    public func lookup(key: UnsafeRawBufferPointer, into value: UnsafeMutableRawBufferPointer,
                       flags: ElementFlags = []) throws(BPFError) -> Bool {
        try check(key: key.count, value: value.count, "BPF_MAP_LOOKUP_ELEM")
        do {
            try SystemCall.lookupElement(map: fileDescriptor.rawValue, key: keyPointer(key),
                                         value: value.baseAddress, flags: flags.rawValue)
            return true
        } catch where error.errno == ENOENT {
            return false
        } catch {
            throw named(error)
        }
    }

    /// Writes `value` (exactly `valueBufferSize` bytes) for `key`.
    @inline(__always)
    public func update(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: ElementFlags = .any) throws(BPFError) {
        try check(key: key.count, value: value.count, "BPF_MAP_UPDATE_ELEM")
        do {
            try SystemCall.updateElement(map: fileDescriptor.rawValue, key: keyPointer(key),
                                         value: value.baseAddress, flags: flags.rawValue)
        } catch {
            throw named(error)
        }
    }

    /// Deletes `key`; false when it was not there.
    @discardableResult
    public func delete(key: UnsafeRawBufferPointer) throws(BPFError) -> Bool {
        try check(key: key.count, value: nil, "BPF_MAP_DELETE_ELEM")
        do {
            try SystemCall.deleteElement(map: fileDescriptor.rawValue, key: keyPointer(key))
            return true
        } catch where error.errno == ENOENT {
            return false
        } catch {
            throw named(error)
        }
    }

    /// Copies and removes the value for `key` (for queues and stacks, an empty key: pop).
    public func lookupAndDelete(key: UnsafeRawBufferPointer, into value: UnsafeMutableRawBufferPointer,
                                flags: ElementFlags = []) throws(BPFError) -> Bool {
        try check(key: key.count, value: value.count, "BPF_MAP_LOOKUP_AND_DELETE_ELEM")
        do {
            try SystemCall.lookupAndDeleteElement(map: fileDescriptor.rawValue, key: keyPointer(key),
                                                  value: value.baseAddress,
                                                  flags: flags.rawValue)
            return true
        } catch where error.errno == ENOENT {
            return false
        } catch {
            throw named(error)
        }
    }

    /// Writes the key after `key` (the first key for nil) into `next`; false at the end.
    public func nextKey(after key: UnsafeRawBufferPointer?, into next: UnsafeMutableRawBufferPointer) throws(BPFError) -> Bool {
        if let key { try check(key: key.count, value: nil, "BPF_MAP_GET_NEXT_KEY") }
        try check(key: next.count, value: nil, "BPF_MAP_GET_NEXT_KEY")
        do {
            return try SystemCall.nextKey(map: fileDescriptor.rawValue, key: key.flatMap(keyPointer),
                                          into: next.baseAddress)
        } catch {
            throw named(error)
        }
    }

    // MARK: Raw bytes, as arrays

    /// The value for `key`, or nil when absent.
    public func lookup(key: [UInt8], flags: ElementFlags = []) throws(BPFError) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: valueBufferSize)
        let found = try key.withBytes { key throws(BPFError) in
            try value.withMutableBytes { value throws(BPFError) in try lookup(key: key, into: value, flags: flags) }
        }
        return found ? value : nil
    }

    public func update(key: [UInt8], value: [UInt8], flags: ElementFlags = .any) throws(BPFError) {
        try key.withBytes { key throws(BPFError) in
            try value.withBytes { value throws(BPFError) in try update(key: key, value: value, flags: flags) }
        }
    }

    /// Deletes `key`; false when it was not there.
    @discardableResult
    public func delete(key: [UInt8]) throws(BPFError) -> Bool {
        try key.withBytes { key throws(BPFError) in try delete(key: key) }
    }

    /// The key after `key` (the first key for nil), or nil at the end. A key no longer in a
    /// hash map gives the first key again, as the kernel restarts.
    public func nextKey(after key: [UInt8]?) throws(BPFError) -> [UInt8]? {
        var next = [UInt8](repeating: 0, count: keySize)
        let found = try next.withMutableBytes { next throws(BPFError) in
            if let key {
                return try key.withBytes { key throws(BPFError) in try nextKey(after: key, into: next) }
            }
            return try nextKey(after: nil, into: next)
        }
        return found ? next : nil
    }

    /// Copies and removes the value for `key`.
    public func lookupAndDelete(key: [UInt8], flags: ElementFlags = []) throws(BPFError) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: valueBufferSize)
        let found = try key.withBytes { key throws(BPFError) in
            try value.withMutableBytes { value throws(BPFError) in try lookupAndDelete(key: key, into: value, flags: flags) }
        }
        return found ? value : nil
    }

    // MARK: Queues, stacks, bloom filters

    /// Queue and stack: adds `value`; bloom filter: adds `value` to the set. With `.exist`
    /// a full queue or stack drops its oldest value instead of failing.
    public func push(_ value: [UInt8], flags: ElementFlags = .any) throws(BPFError) {
        try update(key: [], value: value, flags: flags)
    }

    /// Queue and stack: removes and returns the next value; nil when empty.
    public func pop() throws(BPFError) -> [UInt8]? { try lookupAndDelete(key: []) }

    /// Queue and stack: the next value, left in place; nil when empty.
    public func peek() throws(BPFError) -> [UInt8]? { try lookup(key: []) }

    /// Bloom filter: false when `value` was certainly never added; true when it may have been.
    public func mayContain(_ value: [UInt8]) throws(BPFError) -> Bool {
        var probe = value
        return try probe.withMutableBytes { probe throws(BPFError) in try lookup(key: UnsafeRawBufferPointer(start: nil, count: 0), into: probe) }
    }

    // MARK: Freezing

    /// No more writes from user space (BPF_MAP_FREEZE); programs still write unless the map
    /// is `readOnlyProgram`. Fails while the map is memory-mapped writable.
    public func freeze() throws(BPFError) {
        do { try SystemCall.freezeMap(fileDescriptor.rawValue) } catch { throw named(error) }
    }

    /// Whether the map is frozen (BPF_MAP_FREEZE), as /proc/self/fdinfo tells; false when
    /// /proc cannot say.
    public var isFrozen: Bool {
        guard let text = try? readWholeFile("/proc/self/fdinfo/\(fileDescriptor.rawValue)") else { return false }
        return String(decoding: text, as: UTF8.self).split(separator: "\n").contains {
            $0.hasPrefix("frozen:") && $0.split(separator: "\t").last?.trimmingPrefix(" ") == "1"
        }
    }

    // MARK: Checks

    @inline(__always)
    func keyPointer(_ key: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        keySize == 0 ? nil : key.baseAddress
    }

    @inline(__always)
    func check(key: Int, value: Int?, _ operation: String) throws(BPFError) {
        if key != keySize || (value != nil && value != valueBufferSize) {
            throw sizeError(key: key, value: value, operation)
        }
    }

    func sizeError(key: Int, value: Int?, _ operation: String) -> BPFError {
        var detail: String
        if key != keySize {
            detail = "the key is \(key) bytes; map '\(name)' has \(keySize)-byte keys"
        } else {
            detail = "the value buffer is \(value ?? 0) bytes; map '\(name)' needs \(valueBufferSize)"
            if isPerCPU { detail += " (\(valueCount) CPUs × \(Map.perCPUStride(valueSize: valueSize)) bytes)" }
        }
        return BPFError(operation: operation, errno: EINVAL, subject: name, detail: detail)
    }

    /// The error with this map as its subject (added only when a call fails).
    func named(_ error: BPFError) -> BPFError {
        var error = error
        if error.subject == nil { error.subject = name.isEmpty ? "map id \(id)" : name }
        return error
    }
}
#endif
