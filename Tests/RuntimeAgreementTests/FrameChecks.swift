/// Just enough of a frame's headers, read independently of the fixtures' C parser, to
/// check what the kernel made of a packet: where IPv4 and its transport header are, and
/// whether their checksums hold.
struct Frame {
    let bytes: [UInt8]
    let vlanTags: Int
    /// The EtherType after the VLAN tags.
    let etherType: UInt16
    let ipOffset: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var offset = 12
        var tags = 0
        var type = Frame.be16(bytes, 12) ?? 0
        while (type == 0x8100 || type == 0x88a8) && tags < 2, let inner = Frame.be16(bytes, offset + 4) {
            type = inner
            offset += 4
            tags += 1
        }
        vlanTags = tags
        etherType = type
        ipOffset = offset + 2
    }

    var destinationMAC: ArraySlice<UInt8> { bytes.prefix(6) }

    /// The IPv4 header's length when the whole header is there, else nil.
    var ipv4HeaderLength: Int? {
        guard etherType == 0x0800, ipOffset < bytes.count, bytes[ipOffset] >> 4 == 4 else { return nil }
        let length = Int(bytes[ipOffset] & 0x0f) * 4
        return length >= 20 && ipOffset + length <= bytes.count ? length : nil
    }

    var ipv4HeaderChecksumHolds: Bool? {
        guard let length = ipv4HeaderLength else { return nil }
        return Frame.onesComplementSum(bytes[ipOffset..<ipOffset + length]) == 0xffff
    }

    var ipv4Destination: ArraySlice<UInt8>? {
        ipv4HeaderLength.map { _ in bytes[ipOffset + 16..<ipOffset + 20] }
    }

    var ipv4TotalLength: Int? { ipv4HeaderLength.flatMap { _ in Frame.be16(bytes, ipOffset + 2).map(Int.init) } }

    var transportOffset: Int? { ipv4HeaderLength.map { ipOffset + $0 } }

    var destinationPort: UInt16? { transportOffset.flatMap { Frame.be16(bytes, $0 + 2) } }

    /// Whether the TCP or UDP checksum holds over the pseudo-header and the whole segment;
    /// nil when the segment is not all captured, not TCP/UDP, or UDP without a checksum.
    var transportChecksumHolds: Bool? {
        guard let headerLength = ipv4HeaderLength, let total = ipv4TotalLength, let start = transportOffset else { return nil }
        let protocolNumber = bytes[ipOffset + 9]
        let segmentLength = total - headerLength
        guard protocolNumber == 6 || protocolNumber == 17, segmentLength >= 8, start + segmentLength <= bytes.count else { return nil }
        if protocolNumber == 17 && Frame.be16(bytes, start + 6) == 0 { return nil }
        var pseudoHeader = Array(bytes[ipOffset + 12..<ipOffset + 20])
        pseudoHeader += [0, protocolNumber, UInt8(segmentLength >> 8), UInt8(segmentLength & 0xff)]
        let sum = Frame.onesComplementSum(pseudoHeader) + Frame.onesComplementSum(bytes[start..<start + segmentLength])
        return Frame.fold(sum) == 0xffff
    }

    static func be16(_ bytes: [UInt8], _ offset: Int) -> UInt16? {
        offset >= 0 && offset + 2 <= bytes.count ? UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]) : nil
    }

    /// RFC 1071's sum of 16-bit big-endian words (an odd last byte padded), folded.
    static func onesComplementSum<C: Collection<UInt8>>(_ bytes: C) -> UInt32 {
        var sum: UInt32 = 0
        var high = true
        for byte in bytes {
            sum += high ? UInt32(byte) << 8 : UInt32(byte)
            high.toggle()
            if sum > 0xffff_0000 { sum = fold(sum) }
        }
        return fold(sum)
    }

    static func fold(_ value: UInt32) -> UInt32 {
        var sum = value
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return sum
    }
}
