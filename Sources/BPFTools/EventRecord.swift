#if os(Linux)
/// One record from a tool's ring buffer, read field by field at the offsets of the C
/// struct that wrote it. The size is checked once against the struct's fixed part, so a
/// short record is an error, never a read past its end.
struct EventRecord {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer, tool: String, minimumSize: Int) throws(ToolError) {
        guard bytes.count >= minimumSize else {
            throw ToolError(tool: tool, message: "the kernel sent a \(bytes.count)-byte event; the program writes at least \(minimumSize)")
        }
        self.bytes = bytes
    }

    func load<T: BitwiseCopyable>(_ offset: Int, as type: T.Type = T.self) -> T {
        bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// The NUL-terminated text in `count` bytes at `offset` (fewer if the record ends
    /// first), decoded as UTF-8 with invalid bytes replaced.
    func string(_ offset: Int, count: Int) -> String {
        let end = min(offset + count, bytes.count)
        guard offset < end else { return "" }
        let field = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
        let length = field.firstIndex(of: 0) ?? field.count
        return String(decoding: field[..<length], as: UTF8.self)
    }

    /// The NUL-separated strings in `count` bytes at `offset`. Out of line: it is called from
    /// typed-throws decoders, and Swift 6.3 in release mode can clobber their error across an
    /// inlined closure.
    @inline(never)
    func strings(_ offset: Int, count: Int, limit: Int) -> [String] {
        let end = min(offset + count, bytes.count)
        guard offset < end else { return [] }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<end]).split(separator: 0, omittingEmptySubsequences: false)
            .prefix(limit).map { String(decoding: $0, as: UTF8.self) }
    }
}
#endif
