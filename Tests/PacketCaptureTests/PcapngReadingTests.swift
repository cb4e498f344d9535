import BPFInstructions
import PacketCapture
import Testing

/// pcapng: sections in both byte orders, interfaces with their own link types and clocks,
/// the three packet blocks, blocks to skip, options, and damaged blocks.
struct PcapngReadingTests {
    static func read(_ file: CaptureBytes) throws -> (packets: [Packet], reader: CaptureReader) {
        var reader = try CaptureReader(file.bytes)
        let packets = reader.readAll()
        return (packets, reader)
    }

    @Test(arguments: [ByteOrder.little, .big])
    func enhancedPacketsBetweenBlocksToSkip(order: ByteOrder) throws {
        var file = CaptureBytes(order)
        file.sectionHeader(options: [(4, Array("SwiftBPF tests".utf8))])
        file.block(0x0bad) { $0.u32(32473); $0.raw([1, 2, 3]) }          // custom block
        file.interface(linkType: 1, snapshotLength: 65535, options: [(2, Array("eth0".utf8)), (9, [6])])
        file.block(4) { $0.u16(0); $0.u16(0) }                            // name resolution
        file.enhancedPacket(units: 1_700_000_000_000_001, original: 100, data: payload(1, count: 61))
        file.block(5) { $0.u32(0); $0.u32(0); $0.u32(0) }                 // interface statistics
        file.block(0x0a) { $0.u32(0x544c_534b); $0.u32(0) }               // decryption secrets
        file.block(0x1234_5678) { $0.raw(payload(7, count: 9)) }          // unknown
        file.enhancedPacket(units: 1_700_000_001_000_000, data: payload(2, count: 4))
        let (packets, reader) = try Self.read(file)
        #expect(reader.format == .pcapng)
        #expect(reader.error == nil)
        #expect(reader.warnings.isEmpty)
        #expect(reader.sections.count == 1)
        #expect(reader.sections.first?.byteOrder == order)
        #expect(reader.sections.first?.options == [CaptureOption(code: 4, string: "SwiftBPF tests")])
        #expect(reader.interfaces.count == 1)
        #expect(reader.interfaces.first?.name == "eth0")
        #expect(reader.interfaces.first?.snapshotLength == 65535)
        #expect(packets.count == 2)
        #expect(packets[0].timestamp == 1_700_000_000_000_001_000)
        #expect(packets[0].originalLength == 100)
        #expect(packets[0].data == payload(1, count: 61))
        #expect(packets[1].timestamp == 1_700_000_001_000_000_000)
        #expect(packets[1].data == payload(2, count: 4))
        #expect(packets.allSatisfy { $0.linkType == .ethernet && $0.interfaceIndex == 0 && $0.options.isEmpty })
    }

    /// Each section has its own byte order and numbers its interfaces from 0; packets
    /// index the reader's list of all interfaces.
    @Test func sectionsInBothByteOrdersWithSeveralLinkTypes() throws {
        var first = CaptureBytes(.little)
        first.sectionHeader()
        first.interface(linkType: 1)
        first.interface(linkType: 101, options: [(9, [9])])
        first.enhancedPacket(interface: 1, units: 5_000_000_007, data: payload(1, count: 20))
        first.enhancedPacket(interface: 0, units: 6_000_001, data: payload(2, count: 30))
        var second = CaptureBytes(.big)
        second.sectionHeader(minor: 2)
        second.interface(linkType: 276, snapshotLength: 8)
        second.enhancedPacket(interface: 0, units: 7_000_000, data: payload(3, count: 8))
        second.simplePacket(original: 12, data: payload(4, count: 8))
        second.obsoletePacket(interface: 0, drops: 3, units: 9_000_000, data: payload(5, count: 4))
        var third = CaptureBytes(.little)
        third.sectionHeader()
        third.interface(linkType: 113)
        third.enhancedPacket(interface: 0, units: 1, data: payload(6, count: 1))
        let (packets, reader) = try Self.read(CaptureBytes(.little, bytes: first.bytes + second.bytes + third.bytes))
        #expect(reader.error == nil)
        #expect(reader.warnings.isEmpty)
        #expect(reader.sections.map(\.byteOrder) == [.little, .big, .little])
        #expect(reader.sections.map(\.firstInterfaceIndex) == [0, 2, 3])
        #expect(reader.interfaces.map(\.linkType) == [.ethernet, .raw, .linuxSLL2, .linuxSLL])
        #expect(reader.interfaces.map(\.sectionIndex) == [0, 0, 1, 2])
        #expect(packets.map(\.interfaceIndex) == [1, 0, 2, 2, 2, 3])
        #expect(packets.map(\.linkType) == [.raw, .ethernet, .linuxSLL2, .linuxSLL2, .linuxSLL2, .linuxSLL])
        #expect(packets.map(\.timestamp) == [5_000_000_007, 6_000_001_000, 7_000_000_000, 0, 9_000_000_000, 1000])
        #expect(packets.map(\.originalLength) == [20, 30, 8, 12, 4, 1])
        #expect(packets[3].data == payload(4, count: 8))  // simple packet: cut to the snapshot length
        #expect(packets[4].data == payload(5, count: 4))
    }

    struct ClockCase: Sendable, CustomTestStringConvertible {
        var resolution: UInt8, offset: Int64, units: UInt64, nanoseconds: Int64
        var testDescription: String { "if_tsresol 0x\(String(resolution, radix: 16)), offset \(offset)" }
    }

    // (if_tsresol, if_tsoffset, units, nanoseconds)
    static let clockCases: [ClockCase] = [
        ClockCase(resolution: 9, offset: 0, units: 1_700_000_000_123_456_789, nanoseconds: 1_700_000_000_123_456_789),
        ClockCase(resolution: 3, offset: 0, units: 1_700_000_000_123, nanoseconds: 1_700_000_000_123_000_000),
        ClockCase(resolution: 0, offset: 0, units: 1_700_000_000, nanoseconds: 1_700_000_000_000_000_000),
        ClockCase(resolution: 12, offset: 0, units: 10_000_000_123_456_789_012, nanoseconds: 10_000_000_123_456_789),
        ClockCase(resolution: 19, offset: 0, units: 12_345_678_901_234_567_890, nanoseconds: 1_234_567_890),
        ClockCase(resolution: 0x80 | 10, offset: 0, units: 1_700_000_000 * 1024 + 512, nanoseconds: 1_700_000_000_500_000_000),
        ClockCase(resolution: 0x80 | 32, offset: 0, units: 1_700_000_000 << 32 | 0x4000_0000, nanoseconds: 1_700_000_000_250_000_000),
        ClockCase(resolution: 0x80 | 30, offset: 0, units: 3, nanoseconds: 2),  // 3 * 0.931 ns, truncated as libpcap truncates
        ClockCase(resolution: 0x80 | 0, offset: 0, units: 17, nanoseconds: 17_000_000_000),
        ClockCase(resolution: 0x80 | 63, offset: 0, units: 1 << 62 | 1, nanoseconds: 500_000_000),
        ClockCase(resolution: 6, offset: 1_000_000_000, units: 5_000_001, nanoseconds: 1_000_000_005_000_001_000),
        ClockCase(resolution: 6, offset: -100, units: 0, nanoseconds: -100_000_000_000),
        ClockCase(resolution: 9, offset: -1, units: 1, nanoseconds: -999_999_999),
    ]

    @Test(arguments: clockCases)
    func timestampResolutionsAndOffsets(_ clock: ClockCase) throws {
        let (resolution, offset, units, nanoseconds) = (clock.resolution, clock.offset, clock.units, clock.nanoseconds)
        for order in [ByteOrder.little, .big] {
            var file = CaptureBytes(order)
            file.sectionHeader()
            var options: [(UInt16, [UInt8])] = [(9, [resolution])]
            if offset != 0 { options.append((14, file.encode(UInt64(bitPattern: offset)))) }
            file.interface(options: options)
            file.enhancedPacket(units: units, data: [0xaa])
            let (packets, reader) = try Self.read(file)
            #expect(reader.error == nil)
            #expect(reader.warnings.isEmpty)
            #expect(packets.first?.timestamp == nanoseconds, "\(order)")
            #expect(reader.interfaces.first?.timestampResolution == TimestampResolution(optionValue: resolution))
            #expect(reader.interfaces.first?.timestampOffset == offset)
        }
    }

    @Test func timestampsBeyondInt64AreClampedWithAWarning() throws {
        var file = CaptureBytes()
        file.sectionHeader()
        file.interface(options: [(9, [9])])
        file.enhancedPacket(units: UInt64.max, data: [1])
        file.interface(options: [(14, file.encode(Int64.min))])
        file.enhancedPacket(interface: 1, units: 0, data: [2])
        let (packets, reader) = try Self.read(file)
        #expect(packets.map(\.timestamp) == [.max, .min])
        #expect(reader.warnings.map(\.kind) == [.timestampOutOfRange, .timestampOutOfRange])
        #expect(reader.warnings.map(\.packetNumber) == [1, 2])
        #expect(reader.error == nil)
    }

    @Test func simplePacketsNeedInterfaceZero() throws {
        var file = CaptureBytes()
        file.sectionHeader()
        file.simplePacket(original: 4, data: [1, 2, 3, 4])
        let (packets, reader) = try Self.read(file)
        #expect(packets.isEmpty)
        #expect(reader.error?.kind == .unknownInterface)
        #expect(reader.error?.packetNumber == 1)
        #expect(reader.error?.offset == 28)
    }

    @Test func packetOptions() throws {
        var file = CaptureBytes(.big)
        file.sectionHeader()
        file.interface()
        let flags = file.encode(UInt32(1))
        file.enhancedPacket(units: 0, data: [1, 2, 3], options: [(1, Array("hello".utf8)), (2, flags)])
        // No opt_endofopt: the block's end ends the list.
        file.block(6) { b in
            b.u32(0); b.u32(0); b.u32(0); b.u32(1); b.u32(1); b.raw([9]); b.pad()
            b.option(1, Array("no end".utf8))
        }
        // Options after opt_endofopt are not options.
        file.block(6) { b in
            b.u32(0); b.u32(0); b.u32(0); b.u32(0); b.u32(0)
            b.endOfOptions(); b.raw([0xff, 0xff, 0xff, 0xff])
        }
        // An option that claims more than the block holds is dropped with a warning.
        file.block(6) { b in
            b.u32(0); b.u32(0); b.u32(0); b.u32(0); b.u32(0)
            b.u16(1); b.u16(200); b.raw([1, 2, 3, 4])
        }
        let (packets, reader) = try Self.read(file)
        #expect(reader.error == nil)
        #expect(packets.count == 4)
        // epb_flags is a number: little-endian in memory, whatever the file's order.
        #expect(packets[0].options == [CaptureOption(code: 1, string: "hello"), CaptureOption(code: 2, value: flags.reversed())])
        #expect(packets[1].options == [CaptureOption(code: 1, string: "no end")])
        #expect(packets[2].options.isEmpty)
        #expect(packets[3].options.isEmpty)
        #expect(reader.warnings.map(\.kind) == [.malformedOptions])
        #expect(reader.warnings.first?.packetNumber == 4)

        var records = try CaptureReader(file.bytes)
        let firstRecord = records.nextRecord()
        let first = try #require(firstRecord)
        #expect(try records.options(of: first).first?.stringValue == "hello")
        _ = records.nextRecord(); _ = records.nextRecord()
        let brokenRecord = records.nextRecord()
        let broken = try #require(brokenRecord)
        #expect(throws: CaptureError.self) { try records.options(of: broken) }
    }

    @Test func emptyCaptureIsAFullRead() throws {
        var file = CaptureBytes()
        file.sectionHeader()
        file.interface()
        let (packets, reader) = try Self.read(file)
        #expect(packets.isEmpty && reader.error == nil && reader.isFinished)
    }

    /// Damage after the first section header: the packets before it, then an error
    /// naming the block's offset (and packet number, for packet blocks).
    @Test func damagedBlocks() throws {
        func prefix() -> CaptureBytes {
            var file = CaptureBytes()
            file.sectionHeader()
            file.interface()
            file.enhancedPacket(units: 1, data: [1, 2, 3, 4])
            return file
        }
        let start = prefix().bytes.count
        var cases: [(String, CaptureBytes, CaptureError.Kind, Int?)] = []

        var short = prefix(); short.u32(6); short.u32(8)
        cases.append(("length below 12", short, .malformed, 2))
        var odd = prefix(); odd.u32(5); odd.u32(14); odd.raw([0, 0]); odd.u32(14)
        cases.append(("length not a multiple of 4", odd, .malformed, nil))
        var mismatch = prefix(); mismatch.u32(4); mismatch.u32(16); mismatch.u32(0); mismatch.u32(20)
        cases.append(("trailer disagrees", mismatch, .malformed, nil))
        var runs = prefix(); runs.u32(6); runs.u32(4000); runs.raw(payload(0, count: 40))
        cases.append(("block past the end", runs, .truncated, 2))
        var stub = prefix(); stub.raw([6, 0, 0, 0, 44])
        cases.append(("partial block header", stub, .truncated, nil))
        var past = prefix(); past.block(6) { b in b.u32(0); b.u32(0); b.u32(0); b.u32(64); b.u32(64); b.raw(payload(0, count: 8)) }
        cases.append(("captured length past the block", past, .malformed, 2))
        var tiny = prefix(); tiny.block(6) { b in b.u32(0); b.u32(0) }
        cases.append(("packet block too short", tiny, .malformed, 2))
        var stranger = prefix(); stranger.enhancedPacket(interface: 1, units: 0, data: [1])
        cases.append(("unknown interface", stranger, .unknownInterface, 2))
        var resolution = prefix(); resolution.interface(options: [(9, [20])])
        cases.append(("if_tsresol 10^-20", resolution, .malformed, nil))
        var resolutionLength = prefix(); resolutionLength.interface(options: [(9, [6, 0])])
        cases.append(("if_tsresol of 2 bytes", resolutionLength, .malformed, nil))
        var twice = prefix(); twice.interface(options: [(9, [6]), (9, [9])])
        cases.append(("two if_tsresol", twice, .malformed, nil))
        var idbOptions = prefix(); idbOptions.block(1) { b in b.u16(1); b.u16(0); b.u32(0); b.u16(2); b.u16(99) }
        cases.append(("interface options past the block", idbOptions, .malformed, nil))
        var idbShort = prefix(); idbShort.block(1) { b in b.u16(1) }
        cases.append(("interface block too short", idbShort, .malformed, nil))
        var badMagic = prefix(); badMagic.block(0x0a0d_0d0a) { b in b.u32(0x1122_3344); b.u32(0x0001_0000); b.u64(0) }
        cases.append(("bad byte-order magic", badMagic, .malformed, nil))
        var version2 = prefix(); version2.sectionHeader(major: 2)
        cases.append(("section of version 2.0", version2, .unsupported, nil))
        var shbShort = prefix(); shbShort.block(0x0a0d_0d0a) { b in b.u32(0x1a2b_3c4d); b.u32(0x0001) }
        cases.append(("section header too short", shbShort, .malformed, nil))

        for (name, file, kind, packetNumber) in cases {
            var reader = try CaptureReader(file.bytes)
            let packets = reader.readAll()
            #expect(packets.count == 1, "\(name)")
            let error = try #require(reader.error, "\(name)")
            #expect(error.kind == kind, "\(name): \(error)")
            #expect(error.packetNumber == packetNumber, "\(name): \(error)")
            #expect(error.offset >= start, "\(name): \(error)")
            #expect(reader.next() == nil, "\(name)")
        }
    }

    @Test func sectionHeaderRefusals() throws {
        func refusal(_ bytes: [UInt8]) -> CaptureError? {
            do { _ = try CaptureReader(bytes); return nil } catch { return error }
        }
        var version = CaptureBytes()
        version.sectionHeader(major: 2)
        #expect(refusal(version.bytes)?.kind == .unsupported)
        #expect(refusal([0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0])?.kind == .truncated)
        var truncated = CaptureBytes()
        truncated.sectionHeader()
        #expect(refusal(Array(truncated.bytes.dropLast()))?.kind == .truncated)
        var minor = CaptureBytes()
        minor.sectionHeader(minor: 1)
        #expect(try CaptureReader(minor.bytes).warnings.map(\.kind) == [.unknownVersion])
    }
}

extension CaptureBytes {
    init(_ order: ByteOrder, bytes: [UInt8]) {
        self.init(order)
        self.bytes = bytes
    }
}
