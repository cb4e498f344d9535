import BPFInstructions

/// Why a packet or interface could not be written.
public struct CaptureWriteError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The format cannot hold the timestamp (pcap: seconds outside 0...2^32-1; pcapng:
        /// before the interface's timestamp offset, or too far after it).
        case timestampOutOfRange
        /// More than 2^32-1 bytes, or an option value over 65535 bytes.
        case tooLong
        /// The packet names an interface the writer does not have.
        case unknownInterface
        /// pcap holds one interface: a second one, or a packet of another link type.
        case notRepresentable
        /// The system could not create or write the file; the message gives its reason.
        case unwritable
    }

    public var kind: Kind
    public var message: String
    /// The 1-based number of the packet being written, nil for interfaces.
    public var packetNumber: Int?

    public init(_ kind: Kind, _ message: String, packetNumber: Int? = nil) {
        self.kind = kind
        self.message = message
        self.packetNumber = packetNumber
    }

    public var description: String { packetNumber.map { "packet \($0): \(message)" } ?? message }
}

/// The timestamp unit a writer uses.
public enum TimestampPrecision: Sendable, Hashable {
    case microseconds, nanoseconds

    public var resolution: TimestampResolution { self == .microseconds ? .microseconds : .nanoseconds }
}

/// Produces a pcap or pcapng file. Bytes accumulate in `bytes`; `takeBytes()` hands them
/// over and starts afresh, so a long capture can be streamed to a file piece by piece.
public struct CaptureWriter: Sendable {
    public let format: CaptureFormat
    /// Timestamps are written in this unit (pcap: the magic number; pcapng: `if_tsresol`).
    public let precision: TimestampPrecision
    public let byteOrder: ByteOrder
    public private(set) var interfaces: [CaptureInterface] = []
    /// Output not yet taken.
    public private(set) var bytes: [UInt8] = []
    public private(set) var packetCount = 0
    /// Whether a pcap record time outside the 32-bit seconds field (before 1970 or past
    /// 2106-02-07) keeps its low 32 bits, as libpcap writes it, instead of being refused.
    public var wrapsSeconds = false
    /// Records written with their seconds wrapped (see `wrapsSeconds`).
    public private(set) var wrappedSecondsCount = 0

    private let unitNanoseconds: Int64
    /// The pcap link-type field to write whole, high bits and all, instead of one made from
    /// the interface (see `init(copying:precision:)`).
    private var pcapLinkTypeField: UInt32?

    /// A writer with no interface yet: pcap writes its file header with the first
    /// `addInterface(_:)`, pcapng its section header now.
    public init(format: CaptureFormat, precision: TimestampPrecision = .microseconds, byteOrder: ByteOrder = .little, sectionOptions: [CaptureOption] = []) {
        self.format = format
        self.precision = precision
        self.byteOrder = byteOrder
        unitNanoseconds = precision == .microseconds ? 1000 : 1
        if format == .pcapng { appendSectionHeader(options: sectionOptions) }
    }

    /// A writer with one interface of `linkType`, the usual case.
    public init(format: CaptureFormat, linkType: LinkType, snapshotLength: UInt32 = 262_144, precision: TimestampPrecision = .microseconds, byteOrder: ByteOrder = .little) {
        self.init(format: format, precision: precision, byteOrder: byteOrder)
        // The first interface always fits either format.
        _ = try? addInterface(CaptureInterface(linkType: linkType, snapshotLength: snapshotLength))
    }

    /// A pcap writer whose header is the one libpcap writes for a copy of the file `header`
    /// came from (`tcpdump -r F -w G`): the link-type field whole (FCS length, reserved bits)
    /// and the snapshot length libpcap reads it as; pair it with `write(data:pcapTime:originalLength:)`.
    public init(copying header: PcapFileHeader, precision: TimestampPrecision = .microseconds) {
        self.init(format: .pcap, precision: precision)
        pcapLinkTypeField = header.linkTypeField
        _ = try? addInterface(CaptureInterface(linkType: header.linkType, snapshotLength: header.effectiveSnapshotLength, fcsBitCount: header.fcsBitCount))
    }

    /// Adds an interface and returns its index for `Packet.interfaceIndex`. pcap takes one.
    @discardableResult
    public mutating func addInterface(_ interface: CaptureInterface) throws(CaptureWriteError) -> Int {
        switch format {
        case .pcap:
            guard interfaces.isEmpty else {
                throw CaptureWriteError(.notRepresentable, "pcap holds one interface; use pcapng for more")
            }
            let magic = precision == .nanoseconds ? PcapFileHeader.nanosecondMagic : PcapFileHeader.microsecondMagic
            append(magic)
            append(UInt16(2))
            append(UInt16(4))
            append(UInt32(0))
            append(UInt32(0))
            append(interface.snapshotLength)
            append(pcapLinkTypeField ?? PcapFileHeader.linkTypeField(interface.linkType, fcsBitCount: interface.fcsBitCount))
        case .pcapng:
            var options = interface.options.filter {
                ![OptionCode.timestampResolution, OptionCode.timestampOffset, OptionCode.fcsLength].contains($0.code)
            }
            if byteOrder == .big { options = CaptureOption.swappingNumbers(options, in: .interface) }
            if precision != .microseconds {
                options.append(CaptureOption(code: OptionCode.timestampResolution, value: [precision.resolution.optionValue]))
            }
            if interface.timestampOffset != 0 {
                options.append(CaptureOption(code: OptionCode.timestampOffset, value: bytes(of: UInt64(bitPattern: interface.timestampOffset))))
            }
            if let bits = interface.fcsBitCount, let value = UInt8(exactly: bits) {
                options.append(CaptureOption(code: OptionCode.fcsLength, value: [value]))
            }
            try appendBlock(type: BlockType.interfaceDescription, fixedLength: 8, dataLength: 0, options: options) { writer in
                writer.append(interface.linkType.rawValue)
                writer.append(UInt16(0))
                writer.append(interface.snapshotLength)
            }
        }
        var stored = interface
        stored.timestampResolution = precision.resolution
        if format == .pcap { stored.timestampOffset = 0 }
        stored.sectionIndex = 0
        interfaces.append(stored)
        return interfaces.count - 1
    }

    /// Writes `packet` on interface `packet.interfaceIndex`.
    public mutating func write(_ packet: Packet) throws(CaptureWriteError) {
        let number = packetCount + 1
        guard interfaces.indices.contains(packet.interfaceIndex) else {
            throw CaptureWriteError(.unknownInterface, "interface \(packet.interfaceIndex) was never added (the writer has \(interfaces.count))", packetNumber: number)
        }
        guard packet.linkType == interfaces[packet.interfaceIndex].linkType else {
            throw CaptureWriteError(.notRepresentable, "link type \(packet.linkType) differs from its interface's \(interfaces[packet.interfaceIndex].linkType)", packetNumber: number)
        }
        var failure: CaptureWriteError?
        packet.data.withUnsafeBytes { data in
            do throws(CaptureWriteError) {
                try write(data: data, timestamp: packet.timestamp, originalLength: packet.originalLength, interfaceIndex: packet.interfaceIndex, options: packet.options)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Writes one packet from raw bytes, for callers that do not hold a `Packet`.
    public mutating func write(data: UnsafeRawBufferPointer, timestamp: Int64, originalLength: Int, interfaceIndex: Int = 0, options: [CaptureOption] = []) throws(CaptureWriteError) {
        let number = packetCount + 1
        guard interfaces.indices.contains(interfaceIndex) else {
            throw CaptureWriteError(.unknownInterface, "interface \(interfaceIndex) was never added (the writer has \(interfaces.count))", packetNumber: number)
        }
        guard let captured = UInt32(exactly: data.count), let original = UInt32(exactly: originalLength) else {
            throw CaptureWriteError(.tooLong, "lengths \(data.count) captured, \(originalLength) original do not fit in 32 bits", packetNumber: number)
        }
        // Floor division, so times before an offset's second still land in the right unit.
        let offsetNanoseconds = Int128(interfaces[interfaceIndex].timestampOffset) * 1_000_000_000
        let relative = Int128(timestamp) - offsetNanoseconds
        let unit = Int128(unitNanoseconds)
        let units = relative >= 0 ? relative / unit : (relative - unit + 1) / unit
        switch format {
        case .pcap:
            let perSecond = Int128(1_000_000_000) / unit
            let seconds = units >= 0 ? units / perSecond : (units - perSecond + 1) / perSecond
            let fileSeconds = UInt32(truncatingIfNeeded: seconds)
            if Int128(fileSeconds) != seconds {
                guard wrapsSeconds else {
                    throw CaptureWriteError(.timestampOutOfRange, "timestamp \(timestamp) ns is outside pcap's seconds 0...\(UInt32.max)", packetNumber: number)
                }
                wrappedSecondsCount += 1
            }
            appendPcapRecord(fileSeconds, UInt32(units - seconds * perSecond), captured, original, data)
        case .pcapng:
            guard let fileUnits = UInt64(exactly: units) else {
                throw CaptureWriteError(.timestampOutOfRange, "timestamp \(timestamp) ns falls before the interface's timestamp offset", packetNumber: number)
            }
            let options = byteOrder == .big ? CaptureOption.swappingNumbers(options, in: .packet) : options
            try appendBlock(type: BlockType.enhancedPacket, fixedLength: 20, dataLength: data.count, options: options) { writer in
                writer.append(UInt32(interfaceIndex))
                writer.append(UInt32(truncatingIfNeeded: fileUnits >> 32))
                writer.append(UInt32(truncatingIfNeeded: fileUnits))
                writer.append(captured)
                writer.append(original)
                writer.bytes.append(contentsOf: data)
            }
        }
        packetCount += 1
    }

    /// Writes one pcap record with the time fields another pcap file held, as they were
    /// (a fraction of a second or more too): scaled down from nanoseconds when this writer
    /// writes microseconds, as libpcap reads such a file, and up in the other case.
    public mutating func write(data: UnsafeRawBufferPointer, pcapTime: PcapRecordTime, originalLength: Int) throws(CaptureWriteError) {
        let number = packetCount + 1
        guard format == .pcap, interfaces.count == 1 else {
            throw CaptureWriteError(.notRepresentable, "pcap record times go only into a pcap file with its interface", packetNumber: number)
        }
        guard let captured = UInt32(exactly: data.count), let original = UInt32(exactly: originalLength) else {
            throw CaptureWriteError(.tooLong, "lengths \(data.count) captured, \(originalLength) original do not fit in 32 bits", packetNumber: number)
        }
        var fraction = pcapTime.fraction
        switch (pcapTime.inNanoseconds, precision == .nanoseconds) {
        // libpcap holds the field as a signed 32-bit number and divides toward zero.
        case (true, false): fraction = UInt32(bitPattern: Int32(bitPattern: fraction) / 1000)
        case (false, true):
            guard let scaled = UInt32(exactly: UInt64(fraction) * 1000) else {
                throw CaptureWriteError(.timestampOutOfRange, "microseconds \(fraction) do not fit a nanosecond field", packetNumber: number)
            }
            fraction = scaled
        default: break
        }
        appendPcapRecord(pcapTime.seconds, fraction, captured, original, data)
        packetCount += 1
    }

    private mutating func appendPcapRecord(_ seconds: UInt32, _ fraction: UInt32, _ captured: UInt32, _ original: UInt32, _ data: UnsafeRawBufferPointer) {
        append(seconds)
        append(fraction)
        append(captured)
        append(original)
        bytes.append(contentsOf: data)
    }

    /// Everything written since the last call; the writer carries on where it was.
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    /// Forgets the output not yet taken, keeping its memory for what comes next.
    mutating func discardBytes() {
        bytes.removeAll(keepingCapacity: true)
    }

    private mutating func appendSectionHeader(options: [CaptureOption]) {
        // A section header with valid options always fits.
        try? appendBlock(type: BlockType.sectionHeader, fixedLength: 16, dataLength: 0, options: options) { writer in
            writer.append(BlockType.byteOrderMagic)
            writer.append(UInt16(1))
            writer.append(UInt16(0))
            writer.append(UInt64.max)  // section length unknown (-1): the file can be streamed
        }
    }

    /// Appends a block: header, the fixed fields and data that `body` appends
    /// (`fixedLength + dataLength` bytes), padding, options and trailer.
    private mutating func appendBlock(type: UInt32, fixedLength: Int, dataLength: Int, options: [CaptureOption], body: (inout CaptureWriter) -> Void) throws(CaptureWriteError) {
        var optionsLength = 0
        for option in options {
            guard option.value.count <= Int(UInt16.max) else {
                throw CaptureWriteError(.tooLong, "option \(option.code) has \(option.value.count) bytes; the most is 65535")
            }
            optionsLength += 4 + padded(option.value.count)
        }
        if !options.isEmpty { optionsLength += 4 }
        let total = 12 + fixedLength + padded(dataLength) + optionsLength
        guard let totalLength = UInt32(exactly: total) else {
            throw CaptureWriteError(.tooLong, "a block of \(total) bytes does not fit pcapng's 32-bit length")
        }
        append(type)
        append(totalLength)
        body(&self)
        bytes.append(contentsOf: repeatElement(0, count: padded(dataLength) - dataLength))
        for option in options {
            append(option.code)
            append(UInt16(option.value.count))
            bytes.append(contentsOf: option.value)
            bytes.append(contentsOf: repeatElement(0, count: padded(option.value.count) - option.value.count))
        }
        if !options.isEmpty { append(UInt32(0)) }  // opt_endofopt
        append(totalLength)
    }

    private func padded(_ count: Int) -> Int { (count + 3) & ~3 }

    private func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        let ordered = byteOrder == .little ? value.littleEndian : value.bigEndian
        return withUnsafeBytes(of: ordered) { Array($0) }
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        let ordered = byteOrder == .little ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: ordered) { bytes.append(contentsOf: $0) }
    }
}
