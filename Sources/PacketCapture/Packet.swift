/// One captured packet, with its bytes copied out of the file.
public struct Packet: Sendable, Hashable {
    /// Nanoseconds since 1970-01-01 00:00:00 UTC.
    public var timestamp: Int64
    /// The packet's length on the wire; `data` may be shorter (snapshot length).
    public var originalLength: Int
    /// The captured bytes.
    public var data: [UInt8]
    /// Index into the reader's (or writer's) `interfaces`.
    public var interfaceIndex: Int
    public var linkType: LinkType
    /// The packet block's options (pcapng `epb_flags`, `opt_comment`, ...); empty for pcap.
    public var options: [CaptureOption]

    public init(
        timestamp: Int64, originalLength: Int, data: [UInt8], interfaceIndex: Int = 0,
        linkType: LinkType, options: [CaptureOption] = []
    ) {
        self.timestamp = timestamp
        self.originalLength = originalLength
        self.data = data
        self.interfaceIndex = interfaceIndex
        self.linkType = linkType
        self.options = options
    }

    public var capturedLength: Int { data.count }
}

/// A packet as positions in the reader's bytes, for reading without copying: the captured
/// bytes are `reader.bytes[dataRange]` (for a `CaptureFileReader`, until it reads on).
public struct PacketRecord: Sendable, Hashable {
    /// Nanoseconds since 1970-01-01 00:00:00 UTC.
    public var timestamp: Int64
    public var originalLength: Int
    /// Where the captured bytes lie in the reader's `bytes`.
    public var dataRange: Range<Int>
    public var interfaceIndex: Int
    public var linkType: LinkType
    /// Where the packet block's options lie in the reader's `bytes` (empty for pcap and for blocks
    /// without options); `CaptureReader.options(of:)` parses them.
    public var optionsRange: Range<Int>
    /// Offset of the record header or block in the file.
    public var offset: Int
    /// A pcap record's time fields as the file holds them; nil for pcapng.
    public var pcapTime: PcapRecordTime? = nil

    public var capturedLength: Int { dataRange.count }
}

/// A pcap record's seconds and fraction (in the file's unit), kept as they are: a damaged or
/// odd file's fraction of a whole second or more cannot be told from the next second once
/// added into a timestamp, and libpcap copies the fields unchanged (`tcpdump -r F -w G`).
public struct PcapRecordTime: Sendable, Hashable {
    public var seconds: UInt32
    /// Microseconds, or nanoseconds when `inNanoseconds` (the file's magic number says).
    public var fraction: UInt32
    public var inNanoseconds: Bool

    public init(seconds: UInt32, fraction: UInt32, inNanoseconds: Bool) {
        self.seconds = seconds
        self.fraction = fraction
        self.inNanoseconds = inNanoseconds
    }
}
