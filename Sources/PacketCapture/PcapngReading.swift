import BPFInstructions
import BPFObject

extension CaptureReader {
    @inline(__always)
    mutating func nextPcapngRecord() -> PacketRecord? {
        // Every block moves `offset` forward by at least 12 bytes, so this loop ends.
        while offset < end {
            if !isComplete, let needed = incompleteBlockLength(at: offset) {
                wanted = needed
                return nil
            }
            do {
                if let record = try readBlock(at: offset) { return record }
            } catch {
                self.error = error
                return nil
            }
        }
        awaitMore(12)
        return nil
    }

    /// How many bytes the block at `start` needs when they run past `end`; nil when it is
    /// whole, or so broken that `readBlock` will say what is wrong.
    private func incompleteBlockLength(at start: Int) -> Int? {
        guard end - start >= 12 else { return 12 }
        var order = reader.order
        if (try? reader.u32(at: start)) == BlockType.sectionHeader {
            // A new section sets its own byte order.
            switch try? reader.u32(at: start + 8) {
            case BlockType.byteOrderMagic: break
            case BlockType.byteOrderMagic.byteSwapped: order = order == .little ? .big : .little
            default: return nil
            }
        }
        var lengthReader = reader
        lengthReader.order = order
        guard let length = try? lengthReader.u32(at: start + 4), Int(length) > end - start else { return nil }
        return Int(length)
    }

    /// Reads the block at `start`, moves `offset` past it, and returns its packet if it
    /// holds one. Other blocks are skipped by their length.
    @inline(__always)
    private mutating func readBlock(at start: Int) throws(CaptureError) -> PacketRecord? {
        let available = end - start
        guard available >= 8 else {
            throw CaptureError(.truncated, "block header needs 8 bytes, only \(available) left in the file", offset: start)
        }
        let (type, length32) = try pair(start, "block header")
        if type == BlockType.sectionHeader {
            offset = try readSectionHeader(at: start)
            return nil
        }
        let number = BlockType.holdsPacket(type) ? packetCount + 1 : nil
        let length = Int(length32)
        guard length >= 12, length % 4 == 0 else {
            throw CaptureError(.malformed, "\(BlockType.name(type)) has length \(length); a block is a multiple of 4 bytes, at least 12", offset: start, packetNumber: number)
        }
        guard length <= available else {
            throw CaptureError(.truncated, "\(BlockType.name(type)) of \(length) bytes runs past the end of the file: only \(available) left", offset: start, packetNumber: number)
        }
        let trailer = Int(try u32(start + length - 4, "block trailer"))
        guard trailer == length else {
            throw CaptureError(.malformed, "\(BlockType.name(type)) has length \(length) in its header but \(trailer) in its trailer", offset: start, packetNumber: number)
        }
        offset = start + length
        let body = start + 8..<start + length - 4
        switch type {
        case BlockType.interfaceDescription:
            try readInterfaceDescription(body)
            return nil
        case BlockType.enhancedPacket, BlockType.obsoletePacket:
            return try readPacket(type, body)
        case BlockType.simplePacket:
            return try readSimplePacket(body)
        default:
            return nil
        }
    }

    /// Reads the section header block at `start`, which sets the byte order for the rest of
    /// the section, and returns the offset after it.
    mutating func readSectionHeader(at start: Int) throws(CaptureError) -> Int {
        let available = end - start
        guard available >= 12 else {
            throw CaptureError(.truncated, "section header block needs at least 12 bytes to give its byte order, only \(available) left", offset: start)
        }
        reader.order = .little
        let magic = try u32(start + 8, "section header block")
        switch magic {
        case BlockType.byteOrderMagic: reader.order = .little
        case BlockType.byteOrderMagic.byteSwapped: reader.order = .big
        default:
            throw CaptureError(.malformed, "section header block has byte-order magic 0x\(String(magic, radix: 16)), not 0x1a2b3c4d in either order", offset: start + 8)
        }
        let length = Int(try u32(start + 4, "section header block"))
        guard length >= 28, length % 4 == 0 else {
            throw CaptureError(.malformed, "section header block has length \(length); it is a multiple of 4 bytes, at least 28", offset: start)
        }
        guard length <= available else {
            throw CaptureError(.truncated, "section header block of \(length) bytes runs past the end of the file: only \(available) left", offset: start)
        }
        let trailer = Int(try u32(start + length - 4, "section header block trailer"))
        guard trailer == length else {
            throw CaptureError(.malformed, "section header block has length \(length) in its header but \(trailer) in its trailer", offset: start)
        }
        let major = try u16(start + 12, "section header block")
        let minor = try u16(start + 14, "section header block")
        guard major == 1 else {
            throw CaptureError(.unsupported, "pcapng version \(major).\(minor) is not 1.x", offset: start + 12)
        }
        if minor != 0 && minor != 2 {
            warn(.unknownVersion, "pcapng version 1.\(minor) read as 1.0", offset: start + 12)
        }
        let sectionLength = Int64(bitPattern: try u64(start + 16, "section header block"))
        var options: [CaptureOption] = []
        do {
            options = try CaptureOption.parse(reader, from: start + 24, to: start + length - 4)
        } catch {
            warn(.malformedOptions, "section header options dropped: \(error.message)", offset: error.offset)
        }
        sections.append(PcapngSection(
            byteOrder: reader.order, versionMajor: major, versionMinor: minor, sectionLength: sectionLength,
            options: options, offset: windowOffset + start, firstInterfaceIndex: interfaces.count))
        sectionFirstInterface = interfaces.count
        return start + length
    }

    private mutating func readInterfaceDescription(_ body: Range<Int>) throws(CaptureError) {
        let blockStart = body.lowerBound - 8
        guard body.count >= 8 else {
            throw CaptureError(.malformed, "interface description block has \(body.count) bytes of body, needs 8", offset: blockStart)
        }
        let linkType = LinkType(try u16(body.lowerBound, "interface description block"))
        let snapshotLength = try u32(body.lowerBound + 4, "interface description block")
        // Unlike other options, these change how every later timestamp reads, so a bad one
        // stops the reading rather than being dropped.
        let options = try CaptureOption.parse(reader, from: body.lowerBound + 8, to: body.upperBound)
        var resolution: TimestampResolution?
        var timestampOffset: Int64?
        var fcsBitCount: Int?
        for option in options {
            switch option.code {
            case OptionCode.timestampResolution:
                guard option.value.count == 1, resolution == nil, let value = option.value.first else {
                    throw CaptureError(.malformed, "interface description block has a second if_tsresol or one of \(option.value.count) bytes", offset: blockStart)
                }
                guard let parsed = TimestampResolution(optionValue: value) else {
                    throw CaptureError(.malformed, "if_tsresol 0x\(String(value, radix: 16)) needs more than 64 bits of units per second", offset: blockStart)
                }
                resolution = parsed
            case OptionCode.timestampOffset:
                guard option.value.count == 8, timestampOffset == nil else {
                    throw CaptureError(.malformed, "interface description block has a second if_tsoffset or one of \(option.value.count) bytes", offset: blockStart)
                }
                let value = option.value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                timestampOffset = Int64(bitPattern: reader.order == .big ? value : value.byteSwapped)
            case OptionCode.fcsLength:
                if let bits = option.value.first, option.value.count == 1 { fcsBitCount = Int(bits) }
            default:
                break
            }
        }
        let interface = CaptureInterface(
            linkType: linkType, snapshotLength: snapshotLength, timestampResolution: resolution ?? .microseconds,
            timestampOffset: timestampOffset ?? 0, fcsBitCount: fcsBitCount,
            options: reader.order == .big ? CaptureOption.swappingNumbers(options, in: .interface) : options,
            sectionIndex: sections.count - 1)
        interfaces.append(interface)
        interfaceStates.append(InterfaceState(interface))
    }

    /// An enhanced packet block, or the obsolete packet block it replaced (16-bit interface
    /// ID and a drop count where the enhanced one has a 32-bit interface ID).
    @inline(__always)
    private mutating func readPacket(_ type: UInt32, _ body: Range<Int>) throws(CaptureError) -> PacketRecord {
        let blockStart = body.lowerBound - 8
        let number = packetCount + 1
        guard body.count >= 20 else {
            throw CaptureError(.malformed, "\(BlockType.name(type)) has \(body.count) bytes of body, needs 20", offset: blockStart, packetNumber: number)
        }
        let base = body.lowerBound
        let (idField, high) = try pair(base, "packet block")
        let (low, captured32) = try pair(base + 8, "packet block")
        let original = Int(try u32(base + 16, "packet block"))
        let captured = Int(captured32)
        let units = UInt64(high) << 32 | UInt64(low)
        // The obsolete block's 16-bit ID comes first in the file, then the drop count.
        let interfaceID = type == BlockType.enhancedPacket ? idField : reader.order == .little ? idField & 0xffff : idField >> 16
        let dataStart = base + 20
        guard captured <= body.upperBound - dataStart else {
            throw CaptureError(.malformed, "captured length \(captured) runs past the end of its \(BlockType.name(type)): only \(body.upperBound - dataStart) bytes left", offset: blockStart, packetNumber: number)
        }
        let interface = try interfaceIndex(interfaceID, blockStart: blockStart)
        let state = interfaceStates[interface]
        checkLengths(captured: captured, original: original, snapshotLength: state.snapshotLength, blockStart: blockStart)
        let dataEnd = dataStart + captured
        let optionsStart = Swift.min(dataStart + ((captured + 3) & ~3), body.upperBound)
        return PacketRecord(
            timestamp: timestamp(units, state, offset: blockStart), originalLength: original,
            dataRange: dataStart..<dataEnd, interfaceIndex: interface, linkType: state.linkType,
            optionsRange: optionsStart..<body.upperBound, offset: blockStart)
    }

    /// A simple packet block: no timestamp, interface 0, and a captured length that is the
    /// original length cut to the interface's snapshot length.
    private mutating func readSimplePacket(_ body: Range<Int>) throws(CaptureError) -> PacketRecord {
        let blockStart = body.lowerBound - 8
        let number = packetCount + 1
        guard body.count >= 4 else {
            throw CaptureError(.malformed, "simple packet block has \(body.count) bytes of body, needs 4", offset: blockStart, packetNumber: number)
        }
        let original = Int(try u32(body.lowerBound, "simple packet block"))
        let interface = try interfaceIndex(0, blockStart: blockStart)
        let state = interfaceStates[interface]
        let snapshotLength = Int(state.snapshotLength)
        let captured = snapshotLength == 0 ? original : Swift.min(original, snapshotLength)
        let dataStart = body.lowerBound + 4
        guard captured <= body.upperBound - dataStart else {
            throw CaptureError(.malformed, "captured length \(captured) runs past the end of its simple packet block: only \(body.upperBound - dataStart) bytes left", offset: blockStart, packetNumber: number)
        }
        return PacketRecord(
            timestamp: timestamp(0, state, offset: blockStart), originalLength: original,
            dataRange: dataStart..<dataStart + captured, interfaceIndex: interface, linkType: state.linkType,
            optionsRange: body.upperBound..<body.upperBound, offset: blockStart)
    }

    /// The index in `interfaces` of the current section's interface `id`.
    @inline(__always)
    private func interfaceIndex(_ id: UInt32, blockStart: Int) throws(CaptureError) -> Int {
        let first = sectionFirstInterface
        let count = interfaceStates.count - first
        guard Int(id) < count else {
            throw CaptureError(.unknownInterface, "packet is on interface \(id), but the section describes \(count) interface\(count == 1 ? "" : "s")", offset: blockStart, packetNumber: packetCount + 1)
        }
        return first + Int(id)
    }

    @inline(__always)
    private mutating func checkLengths(captured: Int, original: Int, snapshotLength: UInt32, blockStart: Int) {
        let snapshotLength = Int(snapshotLength)
        if snapshotLength != 0 && captured > snapshotLength {
            warn(.capturedLengthExceedsSnapshotLength, "captured length \(captured) exceeds the interface's snapshot length \(snapshotLength)", offset: blockStart, packetNumber: packetCount + 1)
        }
        if captured > original {
            warn(.capturedLengthExceedsOriginalLength, "captured length \(captured) exceeds the original length \(original)", offset: blockStart, packetNumber: packetCount + 1)
        }
    }

    /// A timestamp, or a clamped one and a warning when it leaves the range of `Int64`.
    @inline(__always)
    private mutating func timestamp(_ units: UInt64, _ state: InterfaceState, offset: Int) -> Int64 {
        let (nanoseconds, clamped) = state.clock.nanoseconds(units)
        if clamped {
            warn(.timestampOutOfRange, "timestamp \(units) in units of \(state.resolution) is outside the years 1678–2262; clamped", offset: offset, packetNumber: packetCount + 1)
        }
        return nanoseconds
    }

    /// Two consecutive 32-bit fields through one bounds check.
    @inline(__always)
    private func pair(_ at: Int, _ what: String) throws(CaptureError) -> (UInt32, UInt32) {
        let both = try u64(at, what)
        let (low, high) = (UInt32(truncatingIfNeeded: both), UInt32(truncatingIfNeeded: both >> 32))
        return reader.order == .little ? (low, high) : (high, low)
    }

    @inline(__always)
    private func u16(_ at: Int, _ what: String) throws(CaptureError) -> UInt16 {
        do { return try reader.u16(at: at) } catch { throw CaptureError(.truncated, "\(what): \(error)", offset: at) }
    }

    @inline(__always)
    private func u32(_ at: Int, _ what: String) throws(CaptureError) -> UInt32 {
        do { return try reader.u32(at: at) } catch { throw CaptureError(.truncated, "\(what): \(error)", offset: at) }
    }

    @inline(__always)
    private func u64(_ at: Int, _ what: String) throws(CaptureError) -> UInt64 {
        do { return try reader.u64(at: at) } catch { throw CaptureError(.truncated, "\(what): \(error)", offset: at) }
    }
}

/// What the packet loop needs of an interface, kept apart from `CaptureInterface` (whose
/// options make it large) so each packet touches only this.
struct InterfaceState: Sendable {
    let linkType: LinkType
    let snapshotLength: UInt32
    let resolution: TimestampResolution
    let clock: TimestampClock

    init(_ interface: CaptureInterface) {
        linkType = interface.linkType
        snapshotLength = interface.snapshotLength
        resolution = interface.timestampResolution
        clock = TimestampClock(resolution: interface.timestampResolution, offsetSeconds: interface.timestampOffset)
    }
}
