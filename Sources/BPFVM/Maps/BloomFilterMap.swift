import BPFObject
import Synchronization

/// `BPF_MAP_TYPE_BLOOM_FILTER`: a set of values that answers "certainly not added" or "may have
/// been added". `map_extra` (low 4 bits) is the number of hash functions, 5 when 0. The bit array
/// is sized and the values hashed exactly as the kernel does (jhash with the seed plus the
/// function's index; `maxEntries * hashes / 5 * 7` bits rounded up to a power of two), so with
/// `BPF_F_ZERO_SEED` the same values set the same bits as in the kernel. Bits are set with
/// atomic OR, so concurrent pushes never lose one.
public final class BloomFilterMap: UserspaceMapBase, UserspaceMap, @unchecked Sendable, PushPopMap {
    let hashCount: UInt32
    let bitMask: UInt32
    let seed: UInt32
    let words: FixedArray<Atomic<UInt64>>
    public var storage: [MemoryRegion] { [] }

    init(spec: MapSpec) {
        let hashes = UInt32(spec.mapExtra & 0xF)
        hashCount = hashes == 0 ? 5 : hashes
        bitMask = BloomFilterMap.bitMask(maxEntries: spec.maxEntries, hashCount: hashCount)
        seed = spec.flags & MapCreationFlag.zeroSeed != 0 ? 0 : UInt32.random(in: 0...UInt32.max)
        words = FixedArray(count: Int((UInt64(bitMask) + 64) / 64)) { _ in Atomic(0) }
        super.init(spec)
    }

    /// The kernel's bit array size, minus one: n·k/ln 2 bits with 7/5 for 1/ln 2, at least 64,
    /// rounded up to a power of two; 2^32 bits when that overflows.
    static func bitMask(maxEntries: UInt32, hashCount: UInt32) -> UInt32 {
        let product = UInt64(maxEntries) * UInt64(hashCount)
        guard product <= UInt64(UInt32.max) else { return UInt32.max }
        let bits = (product / 5) * 7
        guard bits <= UInt64(UInt32.max), bits <= 1 << 31 else { return UInt32.max }
        if bits <= 64 { return 63 }
        var rounded: UInt64 = 1
        while rounded < bits { rounded <<= 1 }
        return UInt32(rounded - 1)
    }

    static func bytesNeeded(_ spec: MapSpec) -> Int {
        let hashes = UInt32(spec.mapExtra & 0xF)
        return Int((UInt64(bitMask(maxEntries: spec.maxEntries, hashCount: hashes == 0 ? 5 : hashes)) + 64) / 8)
    }

    @inline(__always)
    func bit(_ value: UnsafeRawPointer, _ index: UInt32) -> UInt32 {
        let hash = valueSize % 4 == 0
            ? JenkinsHash.hash(words: value, count: valueSize / 4, seed: seed &+ index)
            : JenkinsHash.hash(bytes: value, count: valueSize, seed: seed &+ index)
        return hash & bitMask
    }

    /// Adds a value (bpf_map_push_elem); flags must be BPF_ANY.
    public func programPush(value: UnsafeRawPointer, flags: UInt64) -> Int64 {
        guard flags == 0 else { return -Int64(LinuxErrno.invalid) }
        for index in 0..<hashCount {
            let bit = self.bit(value, index)
            words.pointer[Int(bit / 64)].bitwiseOr(1 << UInt64(bit % 64), ordering: .relaxed)
        }
        return 0
    }

    /// bpf_map_peek_elem on a bloom filter: 0 when `value` may have been added, -ENOENT when it
    /// certainly was not. The value is read, not written.
    public func programPeek(into value: UnsafeMutableRawPointer) -> Int64 {
        for index in 0..<hashCount {
            let bit = self.bit(value, index)
            if words.pointer[Int(bit / 64)].load(ordering: .relaxed) & (1 << UInt64(bit % 64)) == 0 { return -Int64(LinuxErrno.noEntry) }
        }
        return 0
    }

    public func programPop(into value: UnsafeMutableRawPointer) -> Int64 { -Int64(LinuxErrno.operationNotSupported) }

    /// Whether `value` may have been added: false means certainly not.
    public func mayContain(_ value: [UInt8]) throws(MapError) -> Bool {
        try check(value: value, "bloom filter lookup")
        try checkReadable("bloom filter lookup")
        var probe = value
        let status = callWithOutput([], &probe) { _, value in Int32(-programPeek(into: value)) }
        if status == LinuxErrno.noEntry { return false }
        try check(status, "bloom filter lookup")
        return true
    }

    // MARK: The generic members, as the kernel's map ops for bloom filters answer them

    public func programLookup(key: UnsafeRawPointer, cpu: Int) -> UnsafeMutableRawPointer? { nil }
    public func programUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64, cpu: Int) -> Int64 { -Int64(LinuxErrno.invalid) }
    public func programDelete(key: UnsafeRawPointer) -> Int64 { -Int64(LinuxErrno.operationNotSupported) }

    /// bpf(2) has no key to look up in a bloom filter: `mayContain(_:)` asks about a value.
    override func hostLookup(key: UnsafeRawPointer, into value: UnsafeMutableRawPointer) -> Int32 { LinuxErrno.invalid }

    override func hostUpdate(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64) -> Int32 {
        Int32(-programPush(value: value, flags: flags))
    }

    override func hostDelete(key: UnsafeRawPointer) -> Int32 { LinuxErrno.operationNotSupported }
    override func hostNextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) -> Int32 { LinuxErrno.operationNotSupported }
}
