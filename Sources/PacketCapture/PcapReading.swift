import BPFInstructions
import BPFObject

/// How a pcap file's records are laid out and checked, fixed by its header.
struct PcapLayout: Sendable {
    /// Files before version 2.3 (and DG/UX's 543.0) store the original length first;
    /// some 2.3 files do and some do not, so libpcap swaps those only when it looks wrong.
    enum LengthOrder: Sendable { case normal, swapped, swappedWhenCapturedExceedsOriginal }

    var recordHeaderSize = 16
    var nanosecondsPerFraction: Int64 = 1000
    var lengthOrder = LengthOrder.normal
    /// Records longer than this get a warning; 0 when the header gives no snapshot length.
    var snapshotLength: UInt32 = 0
    /// Records longer than this are damage, not data.
    var capturedLengthLimit = Int.max
    var linkType = LinkType.ethernet

    init() {}

    init(_ header: PcapFileHeader) {
        linkType = header.linkType
        nanosecondsPerFraction = header.timestampResolution == .nanoseconds ? 1 : 1000
        switch (header.versionMajor, header.versionMinor) {
        case (2, 0..<3), (543, _): lengthOrder = .swapped
        case (2, 3): lengthOrder = .swappedWhenCapturedExceedsOriginal
        default: lengthOrder = .normal
        }
        snapshotLength = header.snapshotLength
        if header.isModifiedFormat {
            recordHeaderSize = 24
            // Kuznetzov's cooked Ethernet captures add a 14-byte fake header past the snapshot
            // length (libpcap allows for it the same way).
            if linkType == .ethernet && snapshotLength != 0 { snapshotLength &+= 14 }
        }
        capturedLengthLimit = max(linkType.maximumCapturedLength, Int(snapshotLength))
    }
}

extension CaptureReader {
    static func readPcapHeader(_ reader: inout ByteReader, magic: UInt32) throws(CaptureError) -> PcapFileHeader {
        let known = [PcapFileHeader.microsecondMagic, PcapFileHeader.nanosecondMagic, PcapFileHeader.modifiedMagic]
        let order: ByteOrder
        let fileMagic: UInt32
        if known.contains(magic) {
            (order, fileMagic) = (.little, magic)
        } else if known.contains(magic.byteSwapped) {
            (order, fileMagic) = (.big, magic.byteSwapped)
        } else {
            let variants: [UInt32: String] = [
                0xa1b2_34cd: "Francisco Mesquita's modified pcap", 0xa12b_3c4d: "Navtel's nanosecond pcap",
                0xa1b2_c3cb: "cbpf-savefile",
            ]
            if let name = variants[magic] ?? variants[magic.byteSwapped] {
                throw CaptureError(.unsupported, "\(name) (magic 0x\(String(magic, radix: 16))) is not supported", offset: 0)
            }
            throw CaptureError(.notCaptureFile, "magic number 0x\(String(magic, radix: 16)) is neither pcap nor pcapng", offset: 0)
        }
        reader.order = order
        guard reader.end >= PcapFileHeader.size else {
            throw CaptureError(.truncated, "pcap file header needs \(PcapFileHeader.size) bytes, only \(reader.end) in the file", offset: 0)
        }
        let header: PcapFileHeader
        do {
            header = PcapFileHeader(
                byteOrder: order,
                timestampResolution: fileMagic == PcapFileHeader.nanosecondMagic ? .nanoseconds : .microseconds,
                isModifiedFormat: fileMagic == PcapFileHeader.modifiedMagic,
                versionMajor: try reader.u16(at: 4), versionMinor: try reader.u16(at: 6),
                timeZoneOffset: Int32(bitPattern: try reader.u32(at: 8)), significantFigures: try reader.u32(at: 12),
                snapshotLength: try reader.u32(at: 16), linkTypeField: try reader.u32(at: 20))
        } catch {
            throw CaptureError(.truncated, "pcap file header: \(error)", offset: error.offset)
        }
        switch (header.versionMajor, header.versionMinor) {
        case (2, 0...4), (543, 0): break
        default:
            throw CaptureError(.unsupported, "pcap version \(header.versionMajor).\(header.versionMinor) is none libpcap reads (2.0–2.4, 543.0)", offset: 4)
        }
        return header
    }

    @inline(__always)
    mutating func nextPcapRecord() -> PacketRecord? {
        let start = offset
        let remaining = end - start
        let headerSize = pcap.recordHeaderSize
        guard remaining > 0 else {
            awaitMore(headerSize)
            return nil
        }
        let number = packetCount + 1
        guard remaining >= headerSize else {
            if awaitMore(headerSize) { return nil }
            error = CaptureError(.truncated, "record header needs \(headerSize) bytes, only \(remaining) left in the file", offset: start, packetNumber: number)
            return nil
        }
        let seconds: UInt32, fraction: UInt32
        var captured: UInt32, original: UInt32
        do {
            // Two 64-bit reads, each split into its two fields in the file's order.
            let first = try reader.u64(at: start), second = try reader.u64(at: start + 8)
            let little = reader.order == .little
            (seconds, fraction) = halves(first, little)
            (captured, original) = halves(second, little)
        } catch {
            self.error = CaptureError(.truncated, "record header: \(error)", offset: start, packetNumber: number)
            return nil
        }
        switch pcap.lengthOrder {
        case .normal: break
        case .swapped: swap(&captured, &original)
        case .swappedWhenCapturedExceedsOriginal: if captured > original { swap(&captured, &original) }
        }
        let dataStart = start + headerSize
        let capturedLength = Int(captured)
        guard capturedLength <= pcap.capturedLengthLimit else {
            error = CaptureError(.malformed, "captured length \(captured) exceeds both the snapshot length \(pcap.snapshotLength) and the \(pcap.linkType.maximumCapturedLength) bytes allowed for \(pcap.linkType)", offset: start, packetNumber: number)
            return nil
        }
        guard capturedLength <= end - dataStart else {
            if awaitMore(headerSize + capturedLength) { return nil }
            error = CaptureError(.truncated, "captured length \(captured) runs past the end of the file: only \(end - dataStart) bytes left", offset: start, packetNumber: number)
            return nil
        }
        let snapshotLength = pcap.snapshotLength
        if snapshotLength != 0 && captured > snapshotLength {
            warn(.capturedLengthExceedsSnapshotLength, "captured length \(captured) exceeds the snapshot length \(snapshotLength)", offset: start, packetNumber: number)
        }
        if captured > original {
            warn(.capturedLengthExceedsOriginalLength, "captured length \(captured) exceeds the original length \(original)", offset: start, packetNumber: number)
        }
        offset = dataStart + capturedLength
        // Fits: at most (2^32 - 1) * 10^9 + (2^32 - 1) * 1000 < 2^63.
        let timestamp = Int64(seconds) * 1_000_000_000 + Int64(fraction) * pcap.nanosecondsPerFraction
        return PacketRecord(
            timestamp: timestamp, originalLength: Int(original), dataRange: dataStart..<offset, interfaceIndex: 0,
            linkType: pcap.linkType, optionsRange: offset..<offset, offset: start,
            pcapTime: PcapRecordTime(seconds: seconds, fraction: fraction, inNanoseconds: pcap.nanosecondsPerFraction == 1))
    }
}

@inline(__always)
private func halves(_ value: UInt64, _ little: Bool) -> (UInt32, UInt32) {
    let (low, high) = (UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32))
    return little ? (low, high) : (high, low)
}
