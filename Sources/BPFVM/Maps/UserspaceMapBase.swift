import BPFObject

/// What every userspace map shares: its shape, the host-side byte-array API with its size and
/// permission checks, and the errors. Each map kind subclasses it, implements the `host…` hooks
/// on raw pointers (returning 0 or a positive Linux errno) and the `program…` members of
/// `UserspaceMap`. Not open: the map kinds are this module's.
public class UserspaceMapBase: @unchecked Sendable {
    public let name: String
    public let type: MapType
    public let keySize: Int
    public let valueSize: Int
    /// As the kernel keeps it: for an LRU hash with `BPF_F_NO_COMMON_LRU`, rounded up to a
    /// multiple of the CPU count, as the kernel rounds it.
    public let maxEntries: Int
    public let flags: UInt32
    /// CPUs a per-CPU map keeps a value for (1 for other maps). Programs pass `cpu` in
    /// `0..<cpuCount`; other numbers are taken modulo the count.
    public let cpuCount: Int
    /// Bytes of one host-side value: `valueSize`, or for per-CPU maps one 8-byte-aligned slot
    /// per CPU, as bpf(2) lays them out (`Map.valueBufferSize` in BPFLinux).
    public let valueBufferSize: Int
    /// Where each value holds a `struct bpf_spin_lock`, or -1: set once, by the loader that
    /// knows the value's BTF, before programs run.
    public private(set) var spinLockOffset = -1

    init(_ spec: MapSpec, maxEntries: Int? = nil, cpuCount: Int = 1) {
        name = spec.name
        type = spec.type
        keySize = Int(spec.keySize)
        valueSize = Int(spec.valueSize)
        self.maxEntries = maxEntries ?? Int(spec.maxEntries)
        flags = spec.flags
        self.cpuCount = spec.type.isPerCPU ? max(cpuCount, 1) : 1
        valueBufferSize = spec.type.isPerCPU ? self.cpuCount * perCPUStride(valueSize: Int(spec.valueSize)) : Int(spec.valueSize)
    }

    /// Values hold a spin lock at `offset`: writes leave its word alone and the host reads
    /// it as zero, as the kernel's copy_map_value and check_and_init_map_value do.
    func holdSpinLock(at offset: Int) {
        guard type == .hash || type == .array, offset >= 0, offset + 4 <= valueSize else { return }
        spinLockOffset = offset
    }

    // MARK: Hooks for the map kinds (0 or a positive errno)

    func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 { LinuxErrno.notSupported }
    func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 { LinuxErrno.notSupported }
    func hostDelete(key: UnsafeRawPointer) -> Int32 { LinuxErrno.notSupported }
    func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 { LinuxErrno.notSupported }
    /// BPF_MAP_LOOKUP_AND_DELETE_ELEM: only hashes, queues and stacks have it, as in the kernel.
    func hostLookupAndDelete(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 { LinuxErrno.notSupported }

    // MARK: The host API (byte arrays, `MapError`)

    /// The value for `key` (per-CPU maps: every CPU's value, each rounded up to 8 bytes), or
    /// nil when there is none. Queues and stacks: the next value (peek), with an empty key.
    public func lookup(key: [UInt8]) throws(MapError) -> [UInt8]? {
        try check(key: key, "lookup")
        try checkReadable("lookup")
        return try copyValue(of: key, removing: false, "lookup")
    }

    /// `BPF_MAP_UPDATE_ELEM`; queues and stacks: push (an empty key).
    public func update(key: [UInt8], value: [UInt8], flags: MapUpdateFlags = .any) throws(MapError) {
        try check(key: key, "update")
        try check(value: value, "update")
        try checkWritable("update")
        // The kernel refuses BPF_F_LOCK before anything else when the value has no spin lock.
        if flags.contains(.lock) && spinLockOffset < 0 {
            throw error(LinuxErrno.invalid, "update", "BPF_F_LOCK needs a bpf_spin_lock in the value, and this map has none")
        }
        let status = callWithInputs(key, value) { key, value in hostUpdate(key: key, value: value, flags: flags.rawValue) }
        try check(status, "update")
    }

    /// Whether the key was there.
    public func delete(key: [UInt8]) throws(MapError) -> Bool {
        try check(key: key, "delete")
        try checkWritable("delete")
        let status = callWithInput(key) { key in hostDelete(key: key) }
        if status == LinuxErrno.noEntry { return false }
        try check(status, "delete")
        return true
    }

    /// The key after `key` (the first with nil), or nil at the end — `BPF_MAP_GET_NEXT_KEY`.
    /// Arrays go in index order, LPM tries in the kernel's postorder; a hash visits every key
    /// once while the map does not change, and a key no longer there gives the first key.
    public func nextKey(after key: [UInt8]?) throws(MapError) -> [UInt8]? {
        if let key { try check(key: key, "next key") }
        try checkReadable("next key")
        var next = [UInt8](repeating: 0, count: keySize)
        let status = callNextKey(key, &next) { key, next in hostNextKey(after: key, into: next) }
        if status == LinuxErrno.noEntry { return nil }
        try check(status, "next key")
        return next
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: the value, removed; nil when there is none. Hashes
    /// (by key) and queues and stacks (pop, an empty key); other maps refuse it as the kernel does.
    public func lookupAndDelete(key: [UInt8]) throws(MapError) -> [UInt8]? {
        try check(key: key, "lookup and delete")
        try checkReadable("lookup and delete")
        try checkWritable("lookup and delete")
        return try copyValue(of: key, removing: true, "lookup and delete")
    }

    /// The value of `key` copied out (and with `removing`, taken out), or nil when none.
    func copyValue(of key: [UInt8], removing: Bool, _ operation: String) throws(MapError) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: valueBufferSize)
        let status = callWithOutput(key, &value) { key, value in
            removing ? hostLookupAndDelete(key: key, into: value) : hostLookup(key: key, into: value)
        }
        if status == LinuxErrno.noEntry { return nil }
        try check(status, operation)
        if spinLockOffset >= 0 { value.replaceSubrange(spinLockOffset..<spinLockOffset + 4, with: [0, 0, 0, 0]) }
        return value
    }

    /// Every key in `nextKey` order.
    public func keys() throws(MapError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        var key: [UInt8]? = nil
        while let next = try nextKey(after: key) {
            keys.append(next)
            key = next
        }
        return keys
    }

    /// Every key with its value, in `nextKey` order.
    public func entries() throws(MapError) -> [(key: [UInt8], value: [UInt8])] {
        var entries: [(key: [UInt8], value: [UInt8])] = []
        for key in try keys() {
            if let value = try lookup(key: key) { entries.append((key, value)) }
        }
        return entries
    }

    // MARK: Checks and errors

    func check(key: [UInt8], _ operation: String) throws(MapError) {
        guard key.count == keySize else {
            throw error(LinuxErrno.invalid, operation, "the key is \(key.count) bytes; this map's keys are \(keySize) bytes")
        }
    }

    func check(value: [UInt8], _ operation: String) throws(MapError) {
        guard value.count == valueBufferSize else {
            var detail = "the value is \(value.count) bytes; this map needs \(valueBufferSize)"
            if type.isPerCPU { detail += " (\(cpuCount) CPUs × \(perCPUStride(valueSize: valueSize)) bytes)" }
            throw error(LinuxErrno.invalid, operation, detail)
        }
    }

    func checkReadable(_ operation: String) throws(MapError) {
        if flags & MapCreationFlag.writeOnly != 0 {
            throw error(LinuxErrno.permission, operation, "the map was created write-only (BPF_F_WRONLY)")
        }
    }

    func checkWritable(_ operation: String) throws(MapError) {
        if flags & MapCreationFlag.readOnly != 0 {
            throw error(LinuxErrno.permission, operation, "the map was created read-only (BPF_F_RDONLY)")
        }
    }

    func check(_ status: Int32, _ operation: String) throws(MapError) {
        guard status != 0 else { return }
        throw error(status, operation, LinuxErrno.explanation(status, for: type))
    }

    func error(_ errno: Int32, _ operation: String, _ detail: String) -> MapError {
        MapError(errno: errno, message: "\(operation) on \(type.kernelName) map '\(name)': \(detail)")
    }

    /// `cpu` as an index of this map's per-CPU values.
    @inline(__always)
    func cpuIndex(_ cpu: Int) -> Int {
        cpu >= 0 && cpu < cpuCount ? cpu : Int(UInt(bitPattern: cpu) % UInt(cpuCount))
    }
}

// The closure-taking calls live in small non-throwing functions: Swift 6.3 in release mode can
// clobber a typed error thrown by a function that passes closures to withUnsafeBytes.

@inline(never)
func callWithInput(_ key: [UInt8], _ body: (UnsafeRawPointer) -> Int32) -> Int32 {
    key.withUnsafeBytes { key in body(key.baseAddress ?? emptyBytes) }
}

@inline(never)
func callWithInputs(_ key: [UInt8], _ value: [UInt8], _ body: (UnsafeRawPointer, UnsafeRawPointer) -> Int32) -> Int32 {
    key.withUnsafeBytes { key in
        value.withUnsafeBytes { value in body(key.baseAddress ?? emptyBytes, value.baseAddress ?? emptyBytes) }
    }
}

@inline(never)
func callWithOutput(_ key: [UInt8], _ value: inout [UInt8], _ body: (UnsafeRawPointer, UnsafeMutableRawPointer) -> Int32) -> Int32 {
    key.withUnsafeBytes { key in
        value.withUnsafeMutableBytes { value in body(key.baseAddress ?? emptyBytes, value.baseAddress ?? emptyMutableBytes) }
    }
}

@inline(never)
func callNextKey(_ key: [UInt8]?, _ next: inout [UInt8], _ body: (UnsafeRawPointer?, UnsafeMutableRawPointer) -> Int32) -> Int32 {
    next.withUnsafeMutableBytes { next in
        let output = next.baseAddress ?? emptyMutableBytes
        guard let key else { return body(nil, output) }
        return key.withUnsafeBytes { key in body(key.baseAddress ?? emptyBytes, output) }
    }
}

/// Stands in for the address of zero bytes (an empty array has none); never read or written.
nonisolated(unsafe) let emptyMutableBytes = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
var emptyBytes: UnsafeRawPointer { UnsafeRawPointer(emptyMutableBytes) }

/// The kernel rounds each CPU's value up to 8 bytes.
@inline(__always)
func perCPUStride(valueSize: Int) -> Int { (valueSize + 7) & ~7 }

extension MapType {
    /// Whether each key holds one value per CPU.
    public var isPerCPU: Bool { self == .perCPUArray || self == .perCPUHash || self == .lruPerCPUHash }
}
