import BPFInstructions
import BPFObject

public enum CaptureFormat: Sendable, Hashable {
    case pcap, pcapng
}

/// Reads a pcap or pcapng file held in memory, one packet at a time. (`CaptureFileReader`
/// reads one from disk through this type, a window of the file at a time.)
///
/// ```swift
/// var reader = try CaptureReader(bytes)      // throws if this is no capture file at all
/// while let packet = reader.next() { ... }
/// if let error = reader.error { ... }        // the file is damaged after the last packet
/// ```
///
/// The reader is its own iterator, so `for packet in reader` works too, on a copy: use
/// `while let` (or `readAll()`) when `error` and `warnings` matter afterwards.
/// `nextRecord()` and `forEachRecord(_:)` read without copying packet bytes.
public struct CaptureReader: Sendable, Sequence, IteratorProtocol {
    public let format: CaptureFormat
    /// The whole file; for a `CaptureFileReader`, the buffer holding the part of the file
    /// being read, of which the first `end` bytes are valid.
    public internal(set) var bytes: [UInt8]
    /// How many bytes of `bytes` hold file data.
    public internal(set) var end: Int
    /// Offset in the file of `bytes[0]` (0 unless a `CaptureFileReader` has moved on).
    public internal(set) var windowOffset = 0
    /// The pcap file header; nil for pcapng.
    public let pcapHeader: PcapFileHeader?
    /// pcapng sections read so far; empty for pcap.
    public internal(set) var sections: [PcapngSection] = []
    /// Interfaces described so far, across all sections. `Packet.interfaceIndex` indexes this.
    public internal(set) var interfaces: [CaptureInterface] = []
    /// Problems that did not stop the reading, the first `warningLimit` of them.
    public internal(set) var warnings: [CaptureWarning] = []
    /// Warnings past `warningLimit`, counted but not kept.
    public internal(set) var omittedWarningCount = 0
    /// Why reading stopped before the end of the bytes; nil while reading goes well and
    /// after a complete read.
    public internal(set) var error: CaptureError?
    /// Packets delivered so far.
    public internal(set) var packetCount = 0
    /// True once `next()` has returned nil.
    public internal(set) var isFinished = false

    public static let warningLimit = 100

    var reader: ByteReader
    /// Where the next record or block starts.
    var offset: Int
    /// What the packet loop needs of each interface, parallel to `interfaces`.
    var interfaceStates: [InterfaceState] = []
    /// Index in `interfaces` of the current pcapng section's interface 0.
    var sectionFirstInterface = 0
    var pcap: PcapLayout
    /// False while more of the file may follow `bytes[..<end]` (a streaming read).
    var isComplete = true
    /// Nonzero when reading stopped at a record that runs past `end` of an incomplete
    /// window: how many bytes from `offset` on it needs.
    var wanted = 0

    /// Reads the file header (pcap) or first section header (pcapng). Throws when the bytes
    /// are no capture file this reader takes; later damage goes to `error` instead.
    public init(_ bytes: [UInt8]) throws(CaptureError) {
        try self.init(window: bytes, count: bytes.count, isComplete: true)
    }

    /// A reader over the first `count` bytes of `window`, the start of a file; when
    /// `isComplete` is false more of the file may follow and `refill(from:)` brings it.
    init(window bytes: [UInt8], count: Int, isComplete: Bool) throws(CaptureError) {
        self.bytes = bytes
        end = count
        self.isComplete = isComplete
        reader = ByteReader(bytes, count: count)
        guard count >= 4, let magic = try? reader.u32(at: 0) else {
            throw CaptureError(.notCaptureFile, "\(count) bytes are too few for a capture file's magic number", offset: 0)
        }
        if magic == BlockType.sectionHeader {
            format = .pcapng
            pcapHeader = nil
            pcap = PcapLayout()
            offset = 0
            offset = try readSectionHeader(at: 0)
        } else {
            format = .pcap
            let header = try Self.readPcapHeader(&reader, magic: magic)
            pcapHeader = header
            pcap = PcapLayout(header)
            offset = PcapFileHeader.size
            interfaces = [CaptureInterface(
                linkType: header.linkType, snapshotLength: header.snapshotLength,
                timestampResolution: header.timestampResolution, fcsBitCount: header.fcsBitCount)]
            if header.linkTypeField & PcapFileHeader.reservedBits != 0 {
                warn(.reservedBitsSet, "reserved bits 0x\(String(header.linkTypeField & PcapFileHeader.reservedBits, radix: 16)) set in the link-type field", offset: 20)
            }
        }
    }

    /// The next packet's position and metadata, without copying its bytes; nil at the end
    /// of the file or when `error` is set.
    public mutating func nextRecord() -> PacketRecord? {
        guard !isFinished, wanted == 0 else { return nil }
        guard var record = format == .pcap ? nextPcapRecord() : nextPcapngRecord() else {
            if wanted == 0 { finish() }
            return nil
        }
        packetCount += 1
        record.offset += windowOffset
        return record
    }

    /// Ends the reading; offsets in the error become offsets in the file.
    mutating func finish() {
        isFinished = true
        if var failure = error {
            failure.offset += windowOffset
            error = failure
        }
    }

    /// The next packet with its bytes copied out; nil at the end of the file or when
    /// `error` is set.
    public mutating func next() -> Packet? {
        guard let record = nextRecord() else { return nil }
        var options: [CaptureOption] = []
        if !record.optionsRange.isEmpty {
            do {
                options = try windowOptions(of: record)
            } catch {
                warn(.malformedOptions, "packet options dropped: \(error.message)", offset: error.offset, packetNumber: packetCount)
            }
        }
        // The record's range was checked against the bytes when it was read.
        let data = bytes.withUnsafeBytes { file in [UInt8](UnsafeRawBufferPointer(rebasing: file[record.dataRange])) }
        return Packet(
            timestamp: record.timestamp, originalLength: record.originalLength, data: data,
            interfaceIndex: record.interfaceIndex, linkType: record.linkType, options: options)
    }

    /// Every remaining packet; check `error` afterwards to tell a full read from a partial one.
    public mutating func readAll() -> [Packet] {
        var packets: [Packet] = []
        while let packet = next() { packets.append(packet) }
        return packets
    }

    /// Visits every remaining packet's record and bytes without copying or allocating.
    /// The buffer is only valid inside `body`.
    @inlinable
    public mutating func forEachRecord(_ body: (PacketRecord, UnsafeRawBufferPointer) throws -> Void) rethrows {
        let bytes = self.bytes
        try bytes.withUnsafeBytes { buffer in
            while let record = nextRecord() {
                try body(record, UnsafeRawBufferPointer(rebasing: buffer[record.dataRange]))
            }
        }
    }

    /// The options of a pcapng packet block, in its section's byte order.
    public func options(of record: PacketRecord) throws(CaptureError) -> [CaptureOption] {
        do {
            return try windowOptions(of: record)
        } catch {
            var failure = error
            failure.offset += windowOffset
            throw failure
        }
    }

    /// The options of a packet block, with offsets in `bytes` in an error.
    func windowOptions(of record: PacketRecord) throws(CaptureError) -> [CaptureOption] {
        guard !record.optionsRange.isEmpty else { return [] }
        var optionReader = reader
        if interfaces.indices.contains(record.interfaceIndex) {
            let section = interfaces[record.interfaceIndex].sectionIndex
            if sections.indices.contains(section) { optionReader.order = sections[section].byteOrder }
        }
        let options = try CaptureOption.parse(optionReader, from: record.optionsRange.lowerBound, to: record.optionsRange.upperBound)
        return optionReader.order == .big ? CaptureOption.swappingNumbers(options, in: .packet) : options
    }

    /// Fuzzing entry point: reads arbitrary bytes as a capture file, writes what it got as
    /// pcapng and reads that back. Only ever returns — the packet counts of both reads and
    /// the error, if any.
    public static func fuzz(_ bytes: [UInt8]) -> (packets: Int, rewritten: Int, error: CaptureError?) {
        var reader: CaptureReader
        do {
            reader = try CaptureReader(bytes)
        } catch {
            return (0, 0, error)
        }
        var writer = CaptureWriter(format: .pcapng, precision: .nanoseconds)
        for interface in reader.interfaces { _ = try? writer.addInterface(interface) }
        var packets = 0
        while let packet = reader.next() {
            packets += 1
            while writer.interfaces.count < reader.interfaces.count {
                _ = try? writer.addInterface(reader.interfaces[writer.interfaces.count])
            }
            try? writer.write(packet)
        }
        var rewritten = 0
        if var again = try? CaptureReader(writer.takeBytes()) {
            while again.nextRecord() != nil { rewritten += 1 }
        }
        return (packets, rewritten, reader.error)
    }

    mutating func warn(_ kind: CaptureWarning.Kind, _ message: @autoclosure () -> String, offset: Int, packetNumber: Int? = nil) {
        if warnings.count < Self.warningLimit {
            warnings.append(CaptureWarning(kind, message(), offset: windowOffset + offset, packetNumber: packetNumber))
        } else {
            omittedWarningCount += 1
        }
    }
}
