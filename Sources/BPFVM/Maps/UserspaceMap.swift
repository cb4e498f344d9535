import BPFObject

/// A map that lives in the VM's own memory, with the kernel's semantics: the same types,
/// flags and errors as the maps of BPFLinux, so that a program and its host code behave the
/// same in user space and in the kernel.
///
/// Two faces. Programs reach a map through helpers (`map_lookup_elem` and friends), which
/// call the `program…` members: raw pointers in, a negative errno out, no allocation and no
/// throwing, because they run per packet. Host code uses the byte-array members, which throw
/// `MapError` as `Map` in BPFLinux throws `BPFError`.
///
/// Values a lookup hands to a program stay at a fixed address for the map's lifetime (storage
/// is allocated up front, as the kernel preallocates), so a program may keep the pointer for
/// the rest of its run. `storage` lists that memory so that checked runs can allow it.
/// Every member is safe to call from several threads at once.
///
/// `makeUserspaceMap(spec:cpuCount:resolveInnerMap:)` makes the map a `MapSpec` declares, with
/// the kernel's creation checks. Every map it returns is a `UserspaceMapBase` subclass, which
/// adds `lookupAndDelete(key:)`, `keys()`, `entries()`, `cpuCount` and `valueBufferSize`.
/// The kinds, and what they add for the helpers beyond this protocol:
///
/// | type | class | for the helpers |
/// |---|---|---|
/// | array, percpu_array | `ArrayMap` | — (lookups take no lock) |
/// | hash, percpu_hash, lru_hash, lru_percpu_hash | `HashMap` | — |
/// | lpm_trie | `LPMTrieMap` | — (lookup is longest-prefix match) |
/// | queue, stack | `QueueStackMap` | `PushPopMap`: map_push_elem / map_pop_elem / map_peek_elem |
/// | bloom_filter | `BloomFilterMap` | `PushPopMap`: push adds, peek tests (0 or -ENOENT) |
/// | ringbuf | `RingBufferMap` | `reserve`, `submit`, `discard`, `output`, `query`; host `consume` |
/// | prog_array | `ProgramArrayMap` | `program(at:)` for tail_call: the runtime's program id |
/// | array_of_maps, hash_of_maps | `MapOfMaps` | `innerMap(at:)` turns a lookup result into the inner map |
///
/// Per-CPU maps: programs pass their `cpu` and see that CPU's value; the host sees every CPU's.
public protocol UserspaceMap: AnyObject, Sendable {
    var name: String { get }
    var type: MapType { get }
    var keySize: Int { get }
    var valueSize: Int { get }
    var maxEntries: Int { get }
    /// `BPF_F_*` creation flags.
    var flags: UInt32 { get }

    /// The memory whose addresses `programLookup` may return.
    var storage: [MemoryRegion] { get }

    /// `bpf_map_lookup_elem` for a program on `cpu`: the value's address, or nil.
    func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer?
    /// `bpf_map_update_elem`: 0 or a negative errno (`-EEXIST`, `-ENOENT`, `-E2BIG`, `-EINVAL`).
    func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64
    /// `bpf_map_delete_elem`: 0 or a negative errno.
    func programDelete(key: UnsafeRawPointer) -> Int64

    /// The value for `key` (for per-CPU maps, every CPU's value one after another, each
    /// rounded up to 8 bytes, as bpf(2) returns them), or nil when there is none.
    func lookup(key: [UInt8]) throws(MapError) -> [UInt8]?
    func update(key: [UInt8], value: [UInt8], flags: MapUpdateFlags) throws(MapError)
    /// Whether the key was there.
    func delete(key: [UInt8]) throws(MapError) -> Bool
    /// The key after `key` (the first with nil), or nil at the end — `BPF_MAP_GET_NEXT_KEY`.
    func nextKey(after key: [UInt8]?) throws(MapError) -> [UInt8]?
}

/// `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST` (and `BPF_F_LOCK`) for an update.
public struct MapUpdateFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let any: MapUpdateFlags = []
    public static let noExist = MapUpdateFlags(rawValue: 1)
    public static let exist = MapUpdateFlags(rawValue: 2)
    public static let lock = MapUpdateFlags(rawValue: 4)
}

/// Why a map operation failed, with the errno the kernel gives for it.
public struct MapError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The positive errno (`ENOENT` 2, `EEXIST` 17, `E2BIG` 7, `EINVAL` 22, `ENOMEM` 12, ...).
    public var errno: Int32
    /// The map and the operation, in one sentence.
    public var message: String

    public init(errno: Int32, message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { message }
}

/// Maps that programs use through `bpf_map_push_elem`, `bpf_map_pop_elem` and
/// `bpf_map_peek_elem`: queues, stacks and bloom filters. Results are 0 or a negative errno,
/// as the helpers return them: push -E2BIG when full (without BPF_EXIST), -EINVAL for bad
/// flags; pop and peek -ENOENT when empty; a bloom filter's peek is -ENOENT for a value it
/// certainly does not hold, and it has no pop (-EOPNOTSUPP).
public protocol PushPopMap: UserspaceMap {
    /// Copies `valueSize` bytes in.
    func programPush(value: UnsafeRawPointer, flags: UInt64) -> Int64
    /// Copies the next value out (`valueSize` bytes) and removes it.
    func programPop(into value: UnsafeMutableRawPointer) -> Int64
    /// Copies the next value out, leaving it; a bloom filter reads `value` as the value to test.
    func programPeek(into value: UnsafeMutableRawPointer) -> Int64
}

extension PushPopMap where Self: UserspaceMapBase {
    /// Adds `value` (a queue or stack: with `.exist`, a full one drops its oldest value).
    public func push(_ value: [UInt8], flags: MapUpdateFlags = .any) throws(MapError) {
        try update(key: [], value: value, flags: flags)
    }

    /// Removes and returns the next value; nil when empty.
    public func pop() throws(MapError) -> [UInt8]? { try lookupAndDelete(key: []) }

    /// The next value, left in place; nil when empty.
    public func peek() throws(MapError) -> [UInt8]? { try lookup(key: []) }
}
