/// Why reading a capture file stopped (or never started), and where: the byte offset in the
/// file and, when a packet was being read, its 1-based number. The reader keeps every
/// packet before the problem, so an error after the header means a partial read.
public struct CaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The first bytes are no pcap or pcapng magic number.
        case notCaptureFile
        /// A format variant or version this reader does not take.
        case unsupported
        /// A header, record or block runs past the end of the bytes.
        case truncated
        /// A length, option or field that cannot be right (block lengths that disagree,
        /// a captured length beyond any sane snapshot length, a bad byte-order magic).
        case malformed
        /// A packet names an interface the file never described.
        case unknownInterface
        /// The system could not open or read the file; the message gives its reason.
        case unreadable
    }

    public var kind: Kind
    public var message: String
    /// Offset in the file of the header, record, block or option at fault.
    public var offset: Int
    /// The 1-based number of the packet being read, or nil for file headers and
    /// non-packet blocks.
    public var packetNumber: Int?

    public init(_ kind: Kind, _ message: String, offset: Int, packetNumber: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.packetNumber = packetNumber
    }

    public var description: String { describe(message, offset: offset, packetNumber: packetNumber) }
}

/// Something odd that did not stop the reading: the packets are still delivered.
public struct CaptureWarning: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A record holds more bytes than the interface's snapshot length allows. The bytes
        /// are kept (libpcap cuts them to the snapshot length).
        case capturedLengthExceedsSnapshotLength
        /// A record holds more bytes than the packet had on the wire.
        case capturedLengthExceedsOriginalLength
        /// Reserved bits are set in a header field; they are ignored.
        case reservedBitsSet
        /// A version this reader has not seen, read as the nearest known one.
        case unknownVersion
        /// A timestamp outside the range of `Int64` nanoseconds; it was clamped.
        case timestampOutOfRange
        /// Options that could not be parsed; they were dropped.
        case malformedOptions
    }

    public var kind: Kind
    public var message: String
    public var offset: Int
    public var packetNumber: Int?

    public init(_ kind: Kind, _ message: String, offset: Int, packetNumber: Int? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.packetNumber = packetNumber
    }

    public var description: String { describe(message, offset: offset, packetNumber: packetNumber) }
}

private func describe(_ message: String, offset: Int, packetNumber: Int?) -> String {
    let place = "offset \(offset) (0x\(String(offset, radix: 16)))"
    return (packetNumber.map { "packet \($0) at \(place)" } ?? place) + ": " + message
}
