import BPFInstructions

/// A bounds-checked cursor over a byte array, in either byte order. ELF, BTF and capture
/// files are all read through it, so every malformed input becomes an error naming the
/// offset instead of a crash.
public struct ByteReader: Sendable {
    public struct OutOfBounds: Error, Sendable, Hashable, CustomStringConvertible {
        /// Absolute offset in the underlying bytes where the read started.
        public var offset: Int
        public var needed: Int
        /// Bytes left in the readable range from `offset` (0 when `offset` is past it).
        public var available: Int
        public var description: String {
            "needs \(needed) byte\(needed == 1 ? "" : "s") at offset \(offset), only \(available) available"
        }
    }

    public let bytes: [UInt8]
    public var order: ByteOrder
    /// The readable range is `start..<end` of `bytes`; `offset` is absolute.
    public let start: Int
    public let end: Int
    public var offset: Int

    public init(_ bytes: [UInt8], order: ByteOrder = .little) {
        self.bytes = bytes
        self.order = order
        start = 0
        end = bytes.count
        offset = 0
    }

    /// A reader over the first `count` bytes of `bytes` (all of them if there are fewer).
    public init(_ bytes: [UInt8], count: Int, order: ByteOrder = .little) {
        self.init(bytes: bytes, order: order, start: 0, end: max(0, min(count, bytes.count)))
    }

    private init(bytes: [UInt8], order: ByteOrder, start: Int, end: Int) {
        self.bytes = bytes
        self.order = order
        self.start = start
        self.end = end
        offset = start
    }

    public var remaining: Int { max(0, end - offset) }
    public var isAtEnd: Bool { offset >= end }

    /// Throws unless `count` bytes at absolute `at` lie inside the readable range.
    @inline(__always)
    public func check(_ at: Int, _ count: Int) throws(OutOfBounds) {
        guard count >= 0, at >= start, at <= end, end - at >= count else {
            throw OutOfBounds(offset: at, needed: count, available: at >= start && at <= end ? end - at : 0)
        }
    }

    /// A reader over `count` bytes at absolute offset `at`, inside this one's range.
    public func subrange(at: Int, count: Int) throws(OutOfBounds) -> ByteReader {
        try check(at, count)
        return ByteReader(bytes: bytes, order: order, start: at, end: at + count)
    }

    public func u8(at: Int) throws(OutOfBounds) -> UInt8 {
        try check(at, 1)
        return bytes[at]
    }

    public func u16(at: Int) throws(OutOfBounds) -> UInt16 {
        try check(at, 2)
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt16.self) }
        return order == .little ? UInt16(littleEndian: value) : UInt16(bigEndian: value)
    }

    public func u32(at: Int) throws(OutOfBounds) -> UInt32 {
        try check(at, 4)
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        return order == .little ? UInt32(littleEndian: value) : UInt32(bigEndian: value)
    }

    public func u64(at: Int) throws(OutOfBounds) -> UInt64 {
        try check(at, 8)
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        return order == .little ? UInt64(littleEndian: value) : UInt64(bigEndian: value)
    }

    public func bytes(at: Int, count: Int) throws(OutOfBounds) -> ArraySlice<UInt8> {
        try check(at, count)
        return bytes[at..<at + count]
    }

    /// The NUL-terminated string at `at`; the terminator must lie inside the range.
    public func cString(at: Int) throws(OutOfBounds) -> String {
        try check(at, 1)
        guard let terminator = bytes[at..<end].firstIndex(of: 0) else {
            throw OutOfBounds(offset: at, needed: end - at + 1, available: end - at)
        }
        return String(decoding: bytes[at..<terminator], as: UTF8.self)
    }

    // Sequential reads from `offset`.
    public mutating func readU8() throws(OutOfBounds) -> UInt8 { defer { offset += 1 }; return try u8(at: offset) }
    public mutating func readU16() throws(OutOfBounds) -> UInt16 { defer { offset += 2 }; return try u16(at: offset) }
    public mutating func readU32() throws(OutOfBounds) -> UInt32 { defer { offset += 4 }; return try u32(at: offset) }
    public mutating func readU64() throws(OutOfBounds) -> UInt64 { defer { offset += 8 }; return try u64(at: offset) }
    public mutating func readI32() throws(OutOfBounds) -> Int32 { Int32(bitPattern: try readU32()) }
    public mutating func readBytes(_ count: Int) throws(OutOfBounds) -> ArraySlice<UInt8> {
        defer { offset += count }
        return try bytes(at: offset, count: count)
    }
    public mutating func skip(_ count: Int) throws(OutOfBounds) {
        try check(offset, count)
        offset += count
    }
}
