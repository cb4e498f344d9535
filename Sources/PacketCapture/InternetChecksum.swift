/// The Internet checksum (RFC 1071) that IPv4 headers, TCP, UDP, ICMP and ICMPv6 carry,
/// checked the way tcpdump -v checks it.
enum InternetChecksum {
    /// The one's complement of the one's complement sum of `parts`, read as one run of
    /// big-endian 16-bit words: 0 when the checksum inside them is right.
    static func residual(_ parts: [ArraySlice<UInt8>]) -> UInt16 {
        var sum: UInt32 = 0
        var pending: UInt8?
        for part in parts {
            for byte in part {
                if let high = pending {
                    sum &+= UInt32(high) << 8 | UInt32(byte)
                    pending = nil
                } else {
                    pending = byte
                }
                if sum & 0xffff_0000 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
            }
        }
        if let high = pending { sum &+= UInt32(high) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

/// A checksum field and what checking it found.
public struct ChecksumCheck: Sendable, Hashable, Encodable {
    /// The value in the packet.
    public var stored: UInt16
    /// The value that would make the checksum right (tcpdump's `in_cksum_shouldbe`).
    public var expected: UInt16
    public var isCorrect: Bool

    init(stored: UInt16, residual: UInt16) {
        var sum = UInt32(stored) + UInt32(residual)
        sum = (sum & 0xffff) + (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16)
        self.stored = stored
        expected = UInt16(sum)
        isCorrect = residual == 0
    }
}
