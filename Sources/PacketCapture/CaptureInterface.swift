/// What a packet was captured on: the link type its bytes start with, the snapshot
/// length, and how its timestamps count. A pcap file has one; a pcapng file has one per
/// interface description block, across all its sections.
public struct CaptureInterface: Sendable, Hashable {
    public var linkType: LinkType
    /// The most bytes kept per packet; 0 means no limit (pcapng).
    public var snapshotLength: UInt32
    public var timestampResolution: TimestampResolution
    /// Seconds added to every timestamp (`if_tsoffset`), usually 0.
    public var timestampOffset: Int64
    /// Length of the frame check sequence at the end of each packet, in bits, when the file
    /// says (pcap's FCS bits in the link-type field, pcapng's `if_fcslen`).
    public var fcsBitCount: Int?
    /// Every option of the interface description block, in file order (pcapng only). The
    /// writer regenerates `if_tsresol`, `if_tsoffset` and `if_fcslen` from the fields above.
    public var options: [CaptureOption]
    /// The pcapng section the interface belongs to; 0 for pcap.
    public var sectionIndex: Int

    public init(
        linkType: LinkType, snapshotLength: UInt32 = 262_144, timestampResolution: TimestampResolution = .microseconds,
        timestampOffset: Int64 = 0, fcsBitCount: Int? = nil, options: [CaptureOption] = [], sectionIndex: Int = 0
    ) {
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        self.timestampResolution = timestampResolution
        self.timestampOffset = timestampOffset
        self.fcsBitCount = fcsBitCount
        self.options = options
        self.sectionIndex = sectionIndex
    }

    /// `if_name`, when the file gives one.
    public var name: String? {
        options.first { $0.code == OptionCode.interfaceName }?.stringValue
    }
}
