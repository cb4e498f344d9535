// The interpreter's packet loads: bounds-checked, big-endian, and the slow paths where
// libpcap and Linux differ (offsets past 2^31, ancillary fields, header-relative loads).

/// A packet's bytes by a pointer that is never nil.
struct PacketBytes {
    let start: UnsafeRawPointer
    let count: Int

    init(start: UnsafeRawPointer, count: Int) {
        self.start = start
        self.count = count
    }

    /// `placeholder` stands in for the start of an empty packet, so loads need no nil
    /// check; the bounds checks keep them from reading it.
    init(_ buffer: UnsafeRawBufferPointer, placeholder: UnsafeMutablePointer<UInt32>) {
        start = buffer.baseAddress ?? UnsafeRawPointer(placeholder)
        count = buffer.count
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }
}

// Big-endian packet loads; callers have checked the bounds.
@inline(__always) private func word(_ packet: PacketBytes, _ at: Int) -> UInt32 {
    UInt32(bigEndian: packet.start.loadUnaligned(fromByteOffset: at, as: UInt32.self))
}
@inline(__always) private func half(_ packet: PacketBytes, _ at: Int) -> UInt32 {
    UInt32(UInt16(bigEndian: packet.start.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
}
@inline(__always) private func byte(_ packet: PacketBytes, _ at: Int) -> UInt32 {
    UInt32(packet.start.load(fromByteOffset: at, as: UInt8.self))
}

/// `[x + k]`: inline while it lies inside the packet, else by the slow path's rules.
@inline(__always)
func indexed(_ packet: PacketBytes, _ x: UInt32, _ k: UInt32, _ size: Int,
                     _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    packetLoad(packet, Int(x) &+ Int(k), size) ?? indexedLoad(packet, x, k, size, ancillary)
}

/// `[x + k]` when X + k + size passes the end: libpcap drops; Linux wraps the sum to a
/// signed 32-bit offset and reads relative to a header if it is negative.
@inline(never)
private func indexedLoad(_ packet: PacketBytes, _ x: UInt32, _ k: UInt32, _ size: Int,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let ancillary else { return nil }
    let offset = Int32(bitPattern: x &+ k)
    if offset >= 0 { return packetLoad(packet, Int(offset), size) }
    return headerLoad(packet, offset, size, ancillary.pointee)
}

/// Absolute loads at k ≥ 2^31: libpcap drops; Linux reads an ancillary field or a header.
@inline(never)
func outsideLoad(_ packet: PacketBytes, _ a: UInt32, _ x: UInt32, _ k: UInt32, _ size: Int,
                         _ ancillary: UnsafePointer<AncillaryData>?) -> UInt32? {
    guard let ancillary else { return nil }
    guard AncillaryField.isAncillary(k) else { return headerLoad(packet, Int32(bitPattern: k), size, ancillary.pointee) }
    guard let field = AncillaryField(offset: k) else { return nil }
    switch field {
    case .xorX: return a ^ x
    case .netlinkAttribute: return NetlinkAttributes.find(in: packet.buffer, from: a, type: x)
    case .nestedNetlinkAttribute: return NetlinkAttributes.findNested(in: packet.buffer, at: a, type: x)
    default: return ancillary.pointee.value(of: field)
    }
}

/// The kernel's `bpf_internal_load_pointer_neg_helper`: offsets from SKF_NET_OFF and
/// SKF_LL_OFF address the network and link-layer headers; nothing lies below SKF_LL_OFF.
func headerLoad(_ packet: PacketBytes, _ offset: Int32, _ size: Int, _ ancillary: AncillaryData) -> UInt32? {
    let header: UInt32?
    let relative: Int32
    if offset >= AncillaryField.networkHeaderOffset {
        header = ancillary.networkHeaderOffset
        relative = offset - AncillaryField.networkHeaderOffset
    } else if offset >= AncillaryField.linkLayerHeaderOffset {
        header = ancillary.linkLayerHeaderOffset
        relative = offset - AncillaryField.linkLayerHeaderOffset
    } else {
        return nil
    }
    guard let header else { return nil }
    return packetLoad(packet, Int(header) + Int(relative), size)
}

/// `ldxb 4*([k]&0xf)`: the IPv4 header length in the byte at `offset`.
@inline(__always)
func headerLength(_ packet: PacketBytes, _ offset: UInt32) -> UInt32? {
    guard let byte = packetLoad(packet, Int(offset), 1) else { return nil }
    return (byte & 0xf) << 2
}

/// A big-endian load of `size` bytes at `offset`, nil outside the packet.
@inline(__always)
func packetLoad(_ packet: PacketBytes, _ offset: Int, _ size: Int) -> UInt32? {
    // The count is never negative, so `&-` cannot wrap; a trapping `-` would keep overflow
    // flags for each size alive across the whole run loop.
    guard offset >= 0, offset <= packet.count &- size else { return nil }
    switch size {
    case 4: return word(packet, offset)
    case 2: return half(packet, offset)
    default: return byte(packet, offset)
    }
}
