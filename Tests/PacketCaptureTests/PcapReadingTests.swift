import BPFInstructions
import PacketCapture
import Testing

/// The classic pcap format: both byte orders, both timestamp precisions, the link-type
/// field's FCS bits, old versions' swapped lengths, and every way a record can be damaged.
struct PcapReadingTests {
    static func twoPackets(_ order: ByteOrder, magic: UInt32) -> [UInt8] {
        var file = CaptureBytes(order)
        file.pcapHeader(magic: magic, snapshotLength: 1500, linkTypeField: 1)
        file.pcapRecord(seconds: 1_700_000_000, fraction: 123_456, original: 60, data: payload(1, count: 42))
        file.pcapRecord(seconds: 1_700_000_001, fraction: 999_999, data: payload(2, count: 60))
        return file.bytes
    }

    @Test(arguments: [ByteOrder.little, .big])
    func microseconds(order: ByteOrder) throws {
        var reader = try CaptureReader(Self.twoPackets(order, magic: 0xa1b2_c3d4))
        #expect(reader.format == .pcap)
        let header = try #require(reader.pcapHeader)
        #expect(header.byteOrder == order)
        #expect(header.timestampResolution == .microseconds)
        #expect(header.versionMajor == 2 && header.versionMinor == 4)
        #expect(header.snapshotLength == 1500)
        #expect(header.linkType == .ethernet)
        let packets = reader.readAll()
        #expect(reader.error == nil)
        #expect(reader.warnings.isEmpty)
        #expect(packets.count == 2)
        #expect(packets[0].timestamp == 1_700_000_000_123_456_000)
        #expect(packets[0].originalLength == 60)
        #expect(packets[0].data == payload(1, count: 42))
        #expect(packets[0].linkType == .ethernet)
        #expect(packets[0].interfaceIndex == 0)
        #expect(packets[1].timestamp == 1_700_000_001_999_999_000)
        #expect(packets[1].capturedLength == 60)
        #expect(reader.interfaces == [CaptureInterface(linkType: .ethernet, snapshotLength: 1500)])
    }

    @Test(arguments: [ByteOrder.little, .big])
    func nanoseconds(order: ByteOrder) throws {
        var reader = try CaptureReader(Self.twoPackets(order, magic: 0xa1b2_3c4d))
        #expect(reader.pcapHeader?.timestampResolution == .nanoseconds)
        let packets = reader.readAll()
        #expect(packets.map(\.timestamp) == [1_700_000_000_000_123_456, 1_700_000_001_000_999_999])
        #expect(reader.interfaces.first?.timestampResolution == .nanoseconds)
    }

    @Test func linkTypesKeepTheirNumber() throws {
        for (raw, type) in [(0, LinkType.null), (1, .ethernet), (101, .raw), (105, .ieee802_11), (108, .loop),
                            (113, .linuxSLL), (276, .linuxSLL2), (127, .ieee802_11Radiotap), (4242, LinkType(4242))] {
            var file = CaptureBytes()
            file.pcapHeader(linkTypeField: UInt32(raw))
            file.pcapRecord(seconds: 0, fraction: 0, data: [1])
            var reader = try CaptureReader(file.bytes)
            #expect(reader.next()?.linkType == type)
            #expect(type.rawValue == UInt16(raw))
        }
        #expect(LinkType.ethernet.name == "ETHERNET")
        #expect(LinkType.linuxSLL2.description == "LINUX_SLL2")
        #expect(LinkType(4242).name == nil)
        #expect(LinkType(4242).description == "LINKTYPE 4242")
    }

    @Test func fcsBitsInTheLinkTypeField() throws {
        var file = CaptureBytes()
        file.pcapHeader(linkTypeField: 0x2400_0000 | 105)  // present, 2 words of FCS
        var reader = try CaptureReader(file.bytes)
        #expect(reader.pcapHeader?.linkType == .ieee802_11)
        #expect(reader.pcapHeader?.fcsBitCount == 32)
        #expect(reader.interfaces.first?.fcsBitCount == 32)
        #expect(reader.readAll().isEmpty && reader.error == nil && reader.warnings.isEmpty)

        // A length without the presence bit, as in many fuzzed files, means nothing.
        var unmarked = CaptureBytes()
        unmarked.pcapHeader(linkTypeField: 0x3000_0001)
        #expect(try CaptureReader(unmarked.bytes).pcapHeader?.fcsBitCount == nil)
        #expect(try CaptureReader(unmarked.bytes).warnings.isEmpty)

        var reserved = CaptureBytes()
        reserved.pcapHeader(linkTypeField: 0x0001_0001)
        let warned = try CaptureReader(reserved.bytes)
        #expect(warned.warnings.map(\.kind) == [.reservedBitsSet])
        #expect(warned.warnings.first?.offset == 20)
        #expect(warned.pcapHeader?.linkType == .ethernet)
    }

    @Test func truncatedRecordHeader() throws {
        var bytes = Self.twoPackets(.little, magic: 0xa1b2_c3d4)
        bytes += [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        var reader = try CaptureReader(bytes)
        #expect(reader.readAll().count == 2)
        let error = try #require(reader.error)
        #expect(error.kind == .truncated)
        #expect(error.packetNumber == 3)
        #expect(error.offset == 24 + 16 + 42 + 16 + 60)
        #expect(error.description == "packet 3 at offset 158 (0x9e): record header needs 16 bytes, only 10 left in the file")
    }

    @Test func truncatedPacketData() throws {
        let bytes = Array(Self.twoPackets(.big, magic: 0xa1b2_c3d4).dropLast(7))
        var reader = try CaptureReader(bytes)
        #expect(reader.readAll().count == 1)
        #expect(reader.error?.kind == .truncated)
        #expect(reader.error?.packetNumber == 2)
        #expect(reader.error?.offset == 82)
        #expect(reader.error?.message == "captured length 60 runs past the end of the file: only 53 bytes left")
    }

    @Test func capturedLengthBeyondSnapshotLengthIsKeptWithAWarning() throws {
        var file = CaptureBytes()
        file.pcapHeader(snapshotLength: 10)
        file.pcapRecord(seconds: 1, fraction: 2, original: 12, data: payload(3, count: 14))
        var reader = try CaptureReader(file.bytes)
        let packets = reader.readAll()
        #expect(reader.error == nil)
        #expect(packets.first?.data == payload(3, count: 14))
        #expect(reader.warnings.map(\.kind) == [.capturedLengthExceedsSnapshotLength, .capturedLengthExceedsOriginalLength])
        #expect(reader.warnings.first?.packetNumber == 1)
        #expect(reader.warnings.first?.offset == 24)
    }

    @Test func absurdCapturedLengthStops() throws {
        var file = CaptureBytes()
        file.pcapHeader(snapshotLength: 65535)
        file.pcapRecord(seconds: 1, fraction: 0, data: [1, 2, 3])
        file.pcapRecord(seconds: 1, fraction: 0, captured: 0xffff_fff0, original: 60, data: payload(0, count: 100))
        var reader = try CaptureReader(file.bytes)
        #expect(reader.readAll().count == 1)
        #expect(reader.error?.kind == .malformed)
        #expect(reader.error?.packetNumber == 2)
        #expect(reader.error?.offset == 43)
    }

    @Test func largeSnapshotLengthAllowsLargePackets() throws {
        var file = CaptureBytes()
        file.pcapHeader(snapshotLength: 1 << 20)
        file.pcapRecord(seconds: 1, fraction: 0, data: payload(9, count: 300_000))
        var reader = try CaptureReader(file.bytes)
        #expect(reader.readAll().first?.capturedLength == 300_000)
        #expect(reader.error == nil)
    }

    /// Before 2.3 the original length came first; 2.3 files are swapped only when the
    /// lengths look swapped (libpcap's rule).
    @Test func oldVersionsSwapTheLengths() throws {
        for (minor, stored, expected) in [(UInt16(2), (UInt32(60), UInt32(20)), 60), (3, (60, 20), 60), (3, (20, 60), 60), (4, (20, 60), 60)] {
            var file = CaptureBytes()
            file.pcapHeader(minor: minor)
            file.u32(5); file.u32(6); file.u32(stored.0); file.u32(stored.1); file.raw(payload(4, count: 20))
            var reader = try CaptureReader(file.bytes)
            let next = reader.next()
            let packet = try #require(next, "2.\(minor)")
            #expect(packet.originalLength == expected, "2.\(minor)")
            #expect(packet.capturedLength == 20, "2.\(minor)")
            #expect(reader.next() == nil && reader.error == nil, "2.\(minor)")
        }
    }

    @Test func kuznetzovRecordsHaveEightMoreBytes() throws {
        var file = CaptureBytes()
        file.pcapHeader(magic: 0xa1b2_cd34, snapshotLength: 100)
        for index in 0..<3 {
            file.u32(UInt32(index)); file.u32(0); file.u32(114); file.u32(114)
            file.u32(2); file.u16(0x0800); file.u8(0); file.u8(0)  // ifindex, protocol, pkt_type, pad
            file.raw(payload(index, count: 114))
        }
        var reader = try CaptureReader(file.bytes)
        #expect(reader.pcapHeader?.isModifiedFormat == true)
        let packets = reader.readAll()
        #expect(packets.map(\.data) == (0..<3).map { payload($0, count: 114) })
        #expect(reader.error == nil)
        #expect(reader.warnings.isEmpty)  // 114 fits in the snapshot length plus a fake Ethernet header
    }

    @Test func refusals() throws {
        func refusal(_ bytes: [UInt8]) -> CaptureError? {
            do { _ = try CaptureReader(bytes); return nil } catch { return error }
        }
        #expect(refusal([])?.kind == .notCaptureFile)
        #expect(refusal([0xd4, 0xc3])?.kind == .notCaptureFile)
        #expect(refusal(Array("GIF89a and more".utf8))?.kind == .notCaptureFile)
        #expect(refusal([0xd4, 0xc3, 0xb2, 0xa1, 2, 0])?.kind == .truncated)
        var future = CaptureBytes()
        future.pcapHeader(major: 3, minor: 0)
        #expect(refusal(future.bytes)?.kind == .unsupported)
        #expect(refusal(future.bytes)?.offset == 4)
        var navtel = CaptureBytes()
        navtel.pcapHeader(magic: 0xa12b_3c4d)
        #expect(refusal(navtel.bytes)?.kind == .unsupported)
        var dgux = CaptureBytes()
        dgux.pcapHeader(major: 543, minor: 0)
        #expect(refusal(dgux.bytes) == nil)
    }

    @Test func headerOnlyIsAFullRead() throws {
        var file = CaptureBytes()
        file.pcapHeader()
        var reader = try CaptureReader(file.bytes)
        #expect(reader.next() == nil)
        #expect(reader.error == nil)
        #expect(reader.isFinished)
    }

    @Test func recordsAndPacketsAgree() throws {
        let bytes = Self.twoPackets(.big, magic: 0xa1b2_3c4d)
        var reader = try CaptureReader(bytes)
        let packets = reader.readAll()
        var records = try CaptureReader(bytes)
        var visited: [Packet] = []
        records.forEachRecord { record, data in
            visited.append(Packet(timestamp: record.timestamp, originalLength: record.originalLength, data: Array(data),
                                  interfaceIndex: record.interfaceIndex, linkType: record.linkType))
        }
        #expect(visited == packets)
        #expect(records.packetCount == 2 && records.error == nil)
        var loop = try CaptureReader(bytes)
        var count = 0
        for packet in loop { count += packet.capturedLength > 0 ? 1 : 0 }
        #expect(count == 2)
        #expect(loop.next() != nil)  // `for in` read a copy
    }

    @Test func warningsAreCapped() throws {
        var file = CaptureBytes()
        file.pcapHeader(snapshotLength: 1)
        for _ in 0..<(CaptureReader.warningLimit + 10) { file.pcapRecord(seconds: 0, fraction: 0, data: [1, 2]) }
        var reader = try CaptureReader(file.bytes)
        #expect(reader.readAll().count == CaptureReader.warningLimit + 10)
        #expect(reader.warnings.count == CaptureReader.warningLimit)
        #expect(reader.omittedWarningCount == 10)
    }
}
