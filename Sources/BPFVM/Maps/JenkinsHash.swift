/// Bob Jenkins' lookup3 hash as the Linux kernel's `jhash` and `jhash2` compute it. The bloom
/// filter map hashes its values with it, so a filter made with `BPF_F_ZERO_SEED` sets the same
/// bits — and answers with the same false positives — as the kernel's.
enum JenkinsHash {
    static let initialValue: UInt32 = 0xDEAD_BEEF

    /// `jhash(bytes, count, seed)`: bytes read as little-endian 32-bit words (as x86 reads them).
    static func hash(bytes: UnsafeRawPointer, count: Int, seed: UInt32) -> UInt32 {
        var a = initialValue &+ UInt32(truncatingIfNeeded: count) &+ seed
        var b = a
        var c = a
        var offset = 0
        var remaining = count
        while remaining > 12 {
            a &+= word(bytes, offset)
            b &+= word(bytes, offset + 4)
            c &+= word(bytes, offset + 8)
            mix(&a, &b, &c)
            offset += 12
            remaining -= 12
        }
        if remaining == 0 { return c }
        // The last 1 to 12 bytes, each added at its place in a, b or c.
        for index in 0..<remaining {
            let byte = UInt32(bytes.load(fromByteOffset: offset + index, as: UInt8.self)) << (8 * UInt32(index % 4))
            switch index / 4 {
            case 0: a &+= byte
            case 1: b &+= byte
            default: c &+= byte
            }
        }
        final(&a, &b, &c)
        return c
    }

    /// `jhash2(words, count, seed)` over `count` 32-bit words in host order.
    static func hash(words: UnsafeRawPointer, count: Int, seed: UInt32) -> UInt32 {
        var a = initialValue &+ UInt32(truncatingIfNeeded: count << 2) &+ seed
        var b = a
        var c = a
        var offset = 0
        var remaining = count
        while remaining > 3 {
            a &+= words.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            b &+= words.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            c &+= words.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            mix(&a, &b, &c)
            offset += 12
            remaining -= 3
        }
        if remaining == 0 { return c }
        if remaining == 3 { c &+= words.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self) }
        if remaining >= 2 { b &+= words.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
        a &+= words.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        final(&a, &b, &c)
        return c
    }

    @inline(__always)
    private static func word(_ bytes: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 { value << count | value >> (32 - count) }

    @inline(__always)
    private static func mix(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32) {
        a &-= c; a ^= rotate(c, 4); c &+= b
        b &-= a; b ^= rotate(a, 6); a &+= c
        c &-= b; c ^= rotate(b, 8); b &+= a
        a &-= c; a ^= rotate(c, 16); c &+= b
        b &-= a; b ^= rotate(a, 19); a &+= c
        c &-= b; c ^= rotate(b, 4); b &+= a
    }

    @inline(__always)
    private static func final(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32) {
        c ^= b; c &-= rotate(b, 14)
        a ^= c; a &-= rotate(c, 11)
        b ^= a; b &-= rotate(a, 25)
        c ^= b; c &-= rotate(b, 16)
        a ^= c; a &-= rotate(c, 4)
        b ^= a; b &-= rotate(a, 14)
        c ^= b; c &-= rotate(b, 24)
    }
}
