import BPFInstructions

/// Builds capture files byte by byte, in either byte order, including the shapes no
/// writer should produce — so each test says exactly which bytes it reads.
struct CaptureBytes {
    var order: ByteOrder
    var bytes: [UInt8] = []

    init(_ order: ByteOrder = .little) { self.order = order }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(value) }
    mutating func u32(_ value: UInt32) { append(value) }
    mutating func u64(_ value: UInt64) { append(value) }
    mutating func raw(_ data: [UInt8]) { bytes += data }
    mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        let ordered = order == .little ? value.littleEndian : value.bigEndian
        withUnsafeBytes(of: ordered) { bytes += $0 }
    }

    // MARK: pcap

    mutating func pcapHeader(magic: UInt32 = 0xa1b2_c3d4, major: UInt16 = 2, minor: UInt16 = 4, snapshotLength: UInt32 = 65535, linkTypeField: UInt32 = 1) {
        u32(magic); u16(major); u16(minor); u32(0); u32(0); u32(snapshotLength); u32(linkTypeField)
    }

    mutating func pcapRecord(seconds: UInt32, fraction: UInt32, captured: UInt32? = nil, original: UInt32? = nil, data: [UInt8]) {
        u32(seconds); u32(fraction)
        u32(captured ?? UInt32(data.count)); u32(original ?? UInt32(data.count))
        raw(data)
    }

    // MARK: pcapng

    /// A block with correct lengths around `body`.
    mutating func block(_ type: UInt32, _ body: (inout CaptureBytes) -> Void) {
        var inner = CaptureBytes(order)
        body(&inner)
        inner.pad()
        let length = UInt32(12 + inner.bytes.count)
        u32(type); u32(length); raw(inner.bytes); u32(length)
    }

    mutating func option(_ code: UInt16, _ value: [UInt8]) {
        u16(code); u16(UInt16(value.count)); raw(value); pad()
    }

    mutating func endOfOptions() { u32(0) }

    mutating func sectionHeader(major: UInt16 = 1, minor: UInt16 = 0, options: [(UInt16, [UInt8])] = []) {
        block(0x0a0d_0d0a) { b in
            b.u32(0x1a2b_3c4d); b.u16(major); b.u16(minor); b.u64(UInt64.max)
            for (code, value) in options { b.option(code, value) }
            if !options.isEmpty { b.endOfOptions() }
        }
    }

    mutating func interface(linkType: UInt16 = 1, snapshotLength: UInt32 = 0, options: [(UInt16, [UInt8])] = []) {
        block(1) { b in
            b.u16(linkType); b.u16(0); b.u32(snapshotLength)
            for (code, value) in options { b.option(code, value) }
            if !options.isEmpty { b.endOfOptions() }
        }
    }

    mutating func enhancedPacket(interface: UInt32 = 0, units: UInt64, captured: UInt32? = nil, original: UInt32? = nil, data: [UInt8], options: [(UInt16, [UInt8])] = []) {
        block(6) { b in
            b.u32(interface); b.u32(UInt32(truncatingIfNeeded: units >> 32)); b.u32(UInt32(truncatingIfNeeded: units))
            b.u32(captured ?? UInt32(data.count)); b.u32(original ?? UInt32(data.count))
            b.raw(data); b.pad()
            for (code, value) in options { b.option(code, value) }
            if !options.isEmpty { b.endOfOptions() }
        }
    }

    mutating func simplePacket(original: UInt32, data: [UInt8]) {
        block(3) { b in b.u32(original); b.raw(data); b.pad() }
    }

    mutating func obsoletePacket(interface: UInt16 = 0, drops: UInt16 = 0, units: UInt64, original: UInt32? = nil, data: [UInt8]) {
        block(2) { b in
            b.u16(interface); b.u16(drops); b.u32(UInt32(truncatingIfNeeded: units >> 32)); b.u32(UInt32(truncatingIfNeeded: units))
            b.u32(UInt32(data.count)); b.u32(original ?? UInt32(data.count)); b.raw(data); b.pad()
        }
    }

    /// The bytes of `value` in this builder's order, for option values.
    func encode<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        let ordered = order == .little ? value.littleEndian : value.bigEndian
        return withUnsafeBytes(of: ordered) { Array($0) }
    }
}

/// Payload bytes that say which packet they belong to.
func payload(_ seed: Int, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: seed &* 31 &+ $0) }
}
