/// The kernel's `nla_find` as the SKF_AD_NLATTR and SKF_AD_NLATTR_NEST loads use it on a
/// netlink message: attributes are (length, type) pairs of 16-bit host-order words, each
/// padded to 4 bytes; the result is the offset of the first attribute of the type, or 0.
enum NetlinkAttributes {
    static let headerLength = 4
    static let typeMask: UInt16 = 0x3fff  // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

    /// `bpf_skb_get_nlattr`: search the attributes from offset `a` to the end.
    static func find(in packet: UnsafeRawBufferPointer, from a: UInt32, type: UInt32) -> UInt32 {
        let length = packet.count
        guard length >= headerLength, Int(a) <= length - headerLength else { return 0 }
        return search(packet, start: Int(a), remaining: length - Int(a), type: type)
    }

    /// `bpf_skb_get_nlattr_nest`: search inside the attribute at offset `a`.
    static func findNested(in packet: UnsafeRawBufferPointer, at a: UInt32, type: UInt32) -> UInt32 {
        let length = packet.count
        guard length >= headerLength, Int(a) <= length - headerLength else { return 0 }
        let attributeLength = Int(word(packet, Int(a)))
        guard attributeLength <= length - Int(a) else { return 0 }
        return search(packet, start: Int(a) + headerLength, remaining: attributeLength - headerLength, type: type)
    }

    /// `nla_for_each_attr` with `nla_ok`; `start + remaining` never passes the end.
    private static func search(_ packet: UnsafeRawBufferPointer, start: Int, remaining: Int, type: UInt32) -> UInt32 {
        var position = start
        var remaining = remaining
        while remaining >= headerLength {
            let attributeLength = Int(word(packet, position))
            guard attributeLength >= headerLength, attributeLength <= remaining else { return 0 }
            if UInt32(word(packet, position + 2) & typeMask) == type { return UInt32(position) }
            let padded = (attributeLength + 3) & ~3
            remaining -= padded
            position += padded
        }
        return 0
    }

    private static func word(_ packet: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        packet.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
    }
}
