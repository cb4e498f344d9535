/// Zeroed memory a map allocates once, at creation, and frees with the map: values live at
/// fixed addresses for the map's lifetime, as the kernel's preallocated maps keep them.
final class MapMemory: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let count: Int

    /// Userspace maps take at most this much memory each; more is ENOMEM at creation, where
    /// the kernel would fail its allocation too (and Swift cannot recover from a failed one).
    static let limit = 1 << 30

    init(count: Int) {
        self.count = count
        base = .allocate(byteCount: max(count, 8), alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 8))
    }

    deinit { base.deallocate() }

    func region(_ name: String, isWritable: Bool = true) -> MemoryRegion {
        MemoryRegion(name: name, start: UInt64(UInt(bitPattern: base)), count: count, isWritable: isWritable)
    }

    /// Whether `address` lies inside, and at which offset.
    @inline(__always)
    func offset(of address: UnsafeRawPointer) -> Int? {
        let delta = Int(bitPattern: address) &- Int(bitPattern: base)
        return delta >= 0 && delta < count ? delta : nil
    }
}

/// An array of `T` allocated and initialized once, for a map's bookkeeping (locks, atomics,
/// links) that must stay at one address.
final class FixedArray<T: ~Copyable>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    let count: Int

    init(count: Int, _ make: (Int) -> T) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        for index in 0..<count { (pointer + index).initialize(to: make(index)) }
    }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}

/// The hash of a key's bytes for the hash maps' buckets: 8 bytes at a time, each word mixed in
/// with a multiply and shift, the tail read in at most two loads, then a final avalanche. Cheap
/// for the 4- to 16-byte keys programs use, and `seed` keeps the bucket order from being
/// predictable from outside (the kernel seeds its jhash at random too).
@inline(__always)
func hashKey(_ key: UnsafeRawPointer, count: Int, seed: UInt64) -> UInt64 {
    var hash = seed ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
    var offset = 0
    while offset + 8 <= count {
        hash = (hash ^ key.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 29
        offset += 8
    }
    let rest = count - offset
    if rest > 0 {
        var tail: UInt64
        if rest >= 4 {
            // Two overlapping 4-byte loads cover 4 to 7 bytes.
            tail = UInt64(key.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                | UInt64(key.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)) << 32
        } else {
            tail = UInt64(key.load(fromByteOffset: offset, as: UInt8.self))
                | UInt64(key.load(fromByteOffset: offset + rest / 2, as: UInt8.self)) << 8
                | UInt64(key.load(fromByteOffset: count - 1, as: UInt8.self)) << 16
        }
        hash = (hash ^ tail ^ UInt64(rest) << 59) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 29
    }
    hash = (hash ^ (hash >> 32)) &* 0x94D0_49BB_1331_11EB
    return hash ^ (hash >> 31)
}
