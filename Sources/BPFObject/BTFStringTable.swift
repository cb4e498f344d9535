/// The NUL-terminated strings of a BTF blob, addressed by offset. Split BTF continues its
/// base's offsets: offsets below the base's length name base strings.
public struct BTFStringTable: Sendable {
    /// One table's bytes: `bytes[start..<start + length]`, answering offsets from `firstOffset`.
    struct Segment: Sendable {
        var bytes: [UInt8]
        var start: Int
        var length: Int
        var firstOffset: Int
    }

    /// Base segments first; each ends with NUL (checked when parsed), so any offset inside
    /// one has a terminator.
    var segments: [Segment]

    init(segments: [Segment]) { self.segments = segments }

    /// Total length, base included: the first offset past the table.
    public var count: Int { segments.last.map { $0.firstOffset + $0.length } ?? 0 }

    /// Whether `offset` lies inside the table.
    public func contains(_ offset: UInt32) -> Bool { Int(offset) < count }

    /// The string at `offset`, or nil when the offset is outside the table.
    public func string(at offset: UInt32) -> String? {
        withUTF8(at: offset) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of the string at `offset` (without its NUL), or
    /// returns nil when the offset is outside the table. Creates no `String`.
    public func withUTF8<Result>(at offset: UInt32, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        let offset = Int(offset)
        for segment in segments.reversed() where offset >= segment.firstOffset {
            guard offset - segment.firstOffset < segment.length else { return nil }
            return try segment.bytes.withUnsafeBufferPointer { buffer in
                let from = segment.start + offset - segment.firstOffset
                var to = from
                let end = segment.start + segment.length
                while to < end, buffer[to] != 0 { to += 1 }
                return try body(UnsafeBufferPointer(rebasing: buffer[from..<to]))
            }
        }
        return nil
    }

    /// Whether the string at `offset` is exactly `text`, without creating a `String`.
    public func string(at offset: UInt32, equals text: String) -> Bool {
        var text = text
        return text.withUTF8 { wanted in
            withUTF8(at: offset) { $0.elementsEqual(wanted) } ?? false
        }
    }
}
