import BPFInstructions
import PacketCapture
import Testing

/// Writing pcap and pcapng, and reading what was written: the same packets come back.
struct CaptureWriterTests {
    static let packets: [Packet] = [
        Packet(timestamp: 1_700_000_000_123_456_789, originalLength: 60, data: payload(1, count: 60), linkType: .ethernet),
        Packet(timestamp: 1_700_000_001_000_000_000, originalLength: 1514, data: payload(2, count: 96), linkType: .ethernet),
        Packet(timestamp: 0, originalLength: 0, data: [], linkType: .ethernet),
        Packet(timestamp: 4_294_967_295_999_999_999, originalLength: 3, data: [1, 2, 3], linkType: .ethernet),
    ]

    static func roundTrip(_ writer: consuming CaptureWriter, _ packets: [Packet]) throws -> (packets: [Packet], reader: CaptureReader) {
        var writer = writer
        for packet in packets { try writer.write(packet) }
        var reader = try CaptureReader(writer.takeBytes())
        let read = reader.readAll()
        #expect(reader.error == nil)
        #expect(reader.warnings.isEmpty)
        return (read, reader)
    }

    @Test(arguments: [CaptureFormat.pcap, .pcapng], [ByteOrder.little, .big])
    func nanosecondsRoundTripExactly(format: CaptureFormat, order: ByteOrder) throws {
        let writer = CaptureWriter(format: format, linkType: .ethernet, snapshotLength: 65535, precision: .nanoseconds, byteOrder: order)
        let (read, reader) = try Self.roundTrip(writer, Self.packets)
        #expect(read == Self.packets)
        #expect(reader.format == format)
        #expect(reader.interfaces.first?.timestampResolution == .nanoseconds)
        #expect(reader.interfaces.first?.snapshotLength == 65535)
        if format == .pcap { #expect(reader.pcapHeader?.byteOrder == order) } else { #expect(reader.sections.first?.byteOrder == order) }
    }

    @Test(arguments: [CaptureFormat.pcap, .pcapng])
    func microsecondsTruncate(format: CaptureFormat) throws {
        let writer = CaptureWriter(format: format, linkType: .ethernet)
        let (read, _) = try Self.roundTrip(writer, Self.packets)
        #expect(read.map(\.timestamp) == Self.packets.map { $0.timestamp / 1000 * 1000 })
        #expect(read.map(\.data) == Self.packets.map(\.data))
        #expect(read.map(\.originalLength) == Self.packets.map(\.originalLength))
    }

    @Test func pcapHeaderBytes() throws {
        var writer = CaptureWriter(format: .pcap, linkType: .raw, snapshotLength: 9000)
        try writer.write(Packet(timestamp: 1_500_000_000, originalLength: 2, data: [0x45, 0], linkType: .raw))
        #expect(writer.takeBytes() == [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x28, 0x23, 0, 0, 101, 0, 0, 0,
            1, 0, 0, 0, 0x20, 0xa1, 0x07, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0x45, 0,
        ])
    }

    @Test func pcapngInterfacesAndOptionsSurvive() throws {
        var writer = CaptureWriter(format: .pcapng, precision: .nanoseconds, byteOrder: .big, sectionOptions: [CaptureOption(code: 4, string: "test")])
        let eth = try writer.addInterface(CaptureInterface(linkType: .ethernet, snapshotLength: 0, fcsBitCount: 32, options: [CaptureOption(code: 2, string: "eth0")]))
        let raw = try writer.addInterface(CaptureInterface(linkType: .raw, timestampOffset: -1_000_000))
        let packets = [
            Packet(timestamp: 10, originalLength: 5, data: [1, 2, 3, 4, 5], interfaceIndex: eth, linkType: .ethernet,
                   options: [CaptureOption(code: 1, string: "a comment"), CaptureOption(code: 2, value: [0, 0, 0, 1])]),
            Packet(timestamp: -999_999_000_000_001, originalLength: 9, data: [9], interfaceIndex: raw, linkType: .raw),
        ]
        let (read, reader) = try Self.roundTrip(writer, packets)
        #expect(read == packets)
        #expect(reader.sections.first?.options == [CaptureOption(code: 4, string: "test")])
        #expect(reader.interfaces.map(\.name) == ["eth0", nil])
        #expect(reader.interfaces.map(\.fcsBitCount) == [32, nil])
        #expect(reader.interfaces.map(\.timestampOffset) == [0, -1_000_000])
    }

    /// The numbers in options (epb_flags, if_speed) are little-endian in memory whatever the
    /// file's order: copied from a big-endian file into a little-endian one, they keep their
    /// value, and each file holds them in its own order.
    @Test func optionNumbersFollowEachFilesByteOrder() throws {
        let flags = CaptureOption(code: 2, value: [1, 0, 0, 0])  // inbound
        let speed = CaptureOption(code: 8, value: [0, 0xca, 0x9a, 0x3b, 0, 0, 0, 0])  // 10^9
        let comment = CaptureOption(code: 1, string: "kept as it is")
        var big = CaptureWriter(format: .pcapng, byteOrder: .big)
        try big.addInterface(CaptureInterface(linkType: .ethernet, options: [speed]))
        try big.write(Packet(timestamp: 0, originalLength: 1, data: [7], linkType: .ethernet, options: [flags, comment]))
        let bigBytes = big.takeBytes()
        #expect(bigBytes.indices.contains { bigBytes[$0...].starts(with: [0, 2, 0, 4, 0, 0, 0, 1]) })
        var fromBig = try CaptureReader(bigBytes)
        let first = fromBig.next()
        let packet = try #require(first)
        #expect(packet.options == [flags, comment])
        #expect(fromBig.interfaces.first?.options == [speed])
        var little = CaptureWriter(format: .pcapng, byteOrder: .little)
        let interface = fromBig.interfaces.first
        try little.addInterface(try #require(interface))
        try little.write(packet)
        let littleBytes = little.takeBytes()
        #expect(littleBytes.indices.contains { littleBytes[$0...].starts(with: [2, 0, 4, 0, 1, 0, 0, 0]) })
        var fromLittle = try CaptureReader(littleBytes)
        #expect(fromLittle.next()?.options == [flags, comment])
        #expect(fromLittle.interfaces.first?.options == [speed])
    }

    /// Taking the bytes piece by piece gives the same file as taking them at the end.
    @Test(arguments: [CaptureFormat.pcap, .pcapng])
    func streaming(format: CaptureFormat) throws {
        var whole = CaptureWriter(format: format, linkType: .ethernet)
        var pieces = CaptureWriter(format: format, linkType: .ethernet)
        var streamed: [UInt8] = pieces.takeBytes()
        for packet in Self.packets {
            try whole.write(packet)
            try pieces.write(packet)
            streamed += pieces.takeBytes()
            #expect(pieces.bytes.isEmpty)
        }
        #expect(streamed == whole.takeBytes())
        #expect(pieces.packetCount == Self.packets.count)
    }

    @Test func writeErrors() throws {
        var pcap = CaptureWriter(format: .pcap, linkType: .ethernet)
        #expect(throws: CaptureWriteError.self) { try pcap.addInterface(CaptureInterface(linkType: .raw)) }
        #expect(performing: { try pcap.write(Packet(timestamp: -1, originalLength: 1, data: [1], linkType: .ethernet)) },
                throws: { ($0 as? CaptureWriteError)?.kind == .timestampOutOfRange })
        #expect(performing: { try pcap.write(Packet(timestamp: 1 << 62, originalLength: 1, data: [1], linkType: .ethernet)) },
                throws: { ($0 as? CaptureWriteError)?.kind == .timestampOutOfRange })
        #expect(performing: { try pcap.write(Packet(timestamp: 0, originalLength: 1, data: [1], linkType: .raw)) },
                throws: { ($0 as? CaptureWriteError)?.kind == .notRepresentable })
        #expect(performing: { try pcap.write(Packet(timestamp: 0, originalLength: 1, data: [1], interfaceIndex: 1, linkType: .ethernet)) },
                throws: { ($0 as? CaptureWriteError)?.kind == .unknownInterface })
        #expect(performing: { try pcap.write(Packet(timestamp: 0, originalLength: -1, data: [1], linkType: .ethernet)) },
                throws: { ($0 as? CaptureWriteError)?.kind == .tooLong })
        #expect(pcap.packetCount == 0)
        #expect(pcap.bytes.count == 24)  // nothing of the refused packets was written

        var pcapng = CaptureWriter(format: .pcapng, linkType: .ethernet)
        #expect(performing: { try pcapng.write(Packet(timestamp: -1, originalLength: 1, data: [1], linkType: .ethernet)) },
                throws: { ($0 as? CaptureWriteError)?.kind == .timestampOutOfRange })
        #expect(performing: {
            try pcapng.write(Packet(timestamp: 0, originalLength: 1, data: [1], linkType: .ethernet, options: [CaptureOption(code: 1, value: Array(repeating: 0, count: 70_000))]))
        }, throws: { ($0 as? CaptureWriteError)?.kind == .tooLong })
        // A pcap record's own time fields go only into a pcap file, and must fit its unit.
        let time = PcapRecordTime(seconds: 1, fraction: 5_000_000, inNanoseconds: false)
        #expect(performing: { try [UInt8(1)].withUnsafeBytes { try pcapng.write(data: $0, pcapTime: time, originalLength: 1) } },
                throws: { ($0 as? CaptureWriteError)?.kind == .notRepresentable })
        var nanoseconds = CaptureWriter(format: .pcap, linkType: .ethernet, precision: .nanoseconds)
        #expect(performing: { try [UInt8(1)].withUnsafeBytes { try nanoseconds.write(data: $0, pcapTime: time, originalLength: 1) } },
                throws: { ($0 as? CaptureWriteError)?.kind == .timestampOutOfRange })
        #expect(nanoseconds.packetCount == 0)
    }

    /// Told to, a pcap writer keeps a time's low 32 bits of seconds, as libpcap does, and
    /// counts the records it wrapped.
    @Test func wrapsSecondsPastPcapsRange() throws {
        var pcap = CaptureWriter(format: .pcap, linkType: .ethernet)
        pcap.wrapsSeconds = true
        let past2106: Int64 = ((1 << 32) + 5) * 1_000_000_000 + 7_000
        for timestamp in [past2106, -1_000_000_000, 3_000_000_000] {
            try pcap.write(Packet(timestamp: timestamp, originalLength: 1, data: [1], linkType: .ethernet))
        }
        #expect(pcap.wrappedSecondsCount == 2)
        var reader = try CaptureReader(pcap.takeBytes())
        #expect(reader.readAll().map(\.timestamp) == [5_000_007_000, Int64(UInt32.max) * 1_000_000_000, 3_000_000_000])
    }

    /// A copy keeps the header's whole link-type field and a record's fraction of a second
    /// or more, which reading back as a timestamp cannot tell from the next second.
    @Test func copiesKeepHeaderFieldsAndRecordTimes() throws {
        let header = PcapFileHeader(snapshotLength: 0, linkTypeField: 0x2400_0001)
        var writer = CaptureWriter(copying: header)
        let time = PcapRecordTime(seconds: 7, fraction: 1_500_000, inNanoseconds: false)
        try [UInt8(9)].withUnsafeBytes { try writer.write(data: $0, pcapTime: time, originalLength: 60) }
        var reader = try CaptureReader(writer.takeBytes())
        #expect(reader.pcapHeader?.linkTypeField == 0x2400_0001)
        #expect(reader.pcapHeader?.snapshotLength == 262_144)  // 0 read as the link type's largest, as libpcap does
        #expect(reader.interfaces.first?.fcsBitCount == 32)
        let record = reader.nextRecord()
        #expect(record?.pcapTime == time && record?.originalLength == 60)
    }
}
