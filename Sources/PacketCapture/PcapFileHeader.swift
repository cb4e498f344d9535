import BPFInstructions

/// The 24-byte header of a classic pcap file, as found in the file.
public struct PcapFileHeader: Sendable, Hashable {
    /// Magic numbers (as written in the file's own byte order).
    public static let microsecondMagic: UInt32 = 0xa1b2_c3d4
    public static let nanosecondMagic: UInt32 = 0xa1b2_3c4d
    /// Alexey Kuznetzov's patched format: 8 more bytes per record header.
    public static let modifiedMagic: UInt32 = 0xa1b2_cd34
    public static let size = 24

    public var byteOrder: ByteOrder
    /// `.microseconds` or `.nanoseconds`, from the magic number.
    public var timestampResolution: TimestampResolution
    /// Kuznetzov's patched format, whose record headers carry an interface index,
    /// protocol and packet type after the lengths.
    public var isModifiedFormat: Bool
    public var versionMajor: UInt16
    public var versionMinor: UInt16
    /// `thiszone`; always 0 in practice and ignored, as libpcap ignores it.
    public var timeZoneOffset: Int32
    public var significantFigures: UInt32
    public var snapshotLength: UInt32
    /// The whole link-type field: the link type in the low 16 bits, the FCS length and
    /// its presence bit in the top 6, reserved bits between.
    public var linkTypeField: UInt32

    public init(
        byteOrder: ByteOrder = .little, timestampResolution: TimestampResolution = .microseconds,
        isModifiedFormat: Bool = false, versionMajor: UInt16 = 2, versionMinor: UInt16 = 4,
        timeZoneOffset: Int32 = 0, significantFigures: UInt32 = 0, snapshotLength: UInt32, linkTypeField: UInt32
    ) {
        self.byteOrder = byteOrder
        self.timestampResolution = timestampResolution
        self.isModifiedFormat = isModifiedFormat
        self.versionMajor = versionMajor
        self.versionMinor = versionMinor
        self.timeZoneOffset = timeZoneOffset
        self.significantFigures = significantFigures
        self.snapshotLength = snapshotLength
        self.linkTypeField = linkTypeField
    }

    public var linkType: LinkType { LinkType(UInt16(truncatingIfNeeded: linkTypeField)) }

    /// The snapshot length libpcap reads the file with: the header's, or the link type's
    /// largest when the header's is 0 or negative as a C int. libpcap cuts longer records to it.
    public var effectiveSnapshotLength: UInt32 {
        snapshotLength == 0 || snapshotLength > UInt32(Int32.max) ? UInt32(linkType.maximumCapturedLength) : snapshotLength
    }

    static let fcsPresentBit: UInt32 = 0x0400_0000
    /// Bits 16–25 and bit 27 must be zero.
    static let reservedBits: UInt32 = 0x0bff_0000

    /// The FCS length when the field's presence bit says it is there (stored in 16-bit words).
    public var fcsBitCount: Int? {
        linkTypeField & Self.fcsPresentBit == 0 ? nil : Int(linkTypeField >> 28) * 16
    }

    /// The link-type field for `linkType` with an FCS length, which pcap can only express
    /// in 16-bit words up to 15.
    static func linkTypeField(_ linkType: LinkType, fcsBitCount: Int?) -> UInt32 {
        var field = UInt32(linkType.rawValue)
        if let bits = fcsBitCount, bits >= 0, bits % 16 == 0, bits / 16 <= 15 {
            field |= fcsPresentBit | UInt32(bits / 16) << 28
        }
        return field
    }
}
