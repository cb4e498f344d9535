/// The primitives of the protocols older than IP that pcap-filter(7) still names: 802.2 LLC
/// PDU types, OSI (CLNP, ES-IS, IS-IS and its PDU types) and DECnet addresses.
extension PredicateBuilder {
    /// `llc TYPE`: an 802.2 frame whose control field has the PDU type's bits.
    func llc(type: (mask: UInt32, value: UInt32)) throws(Failure) -> Predicate {
        let control = packet(.byte, networkOffset + 2)
        // `llc i` tests one bit: clear, as libpcap's `jset` false.
        let matches = type.mask == 0x01 ? arena.not(arena.compare(control, .set, 1)) : arena.masked(control, type.mask, type.value)
        return try arena.and(llc(), matches)
    }

    /// Where an OSI packet's network-layer protocol ID is: past the 3-byte LLC header in an
    /// 802.3 frame, at the start of the payload in the others, as libpcap reads it.
    private var osiOffset: UInt32 {
        linkType == .ethernet && encapsulation == .plain ? networkOffset + 3 : networkOffset
    }

    /// `iso proto N`: an OSI packet of network-layer protocol N (`clnp` 0x81, `esis` 0x82, `isis` 0x83).
    func isoProtocol(_ number: UInt32) throws(Failure) -> Predicate {
        try arena.and(linkProtocol(0xfe), arena.equal(packet(.byte, osiOffset), number))
    }

    /// `isis proto N`: an IS-IS PDU of type N, the fifth byte of its header.
    func isisPDU(_ type: UInt32) throws(Failure) -> Predicate {
        try arena.and(isoProtocol(0x83), arena.equal(packet(.byte, osiOffset + 4), type))
    }

    /// `decnet src/dst/host AREA.NODE`: the DECnet routing header's address, which is in
    /// little-endian order, in the four layouts libpcap knows: long (Ethernet endnode)
    /// and short headers, each with and without a padding byte.
    func decnetAddress(_ address: UInt16, _ direction: Direction) throws(Failure) -> Predicate {
        let wire = UInt32(address.byteSwapped)
        // The payload starts with a 2-byte length; then an optional pad byte (0x81) and the flags.
        let flags = networkOffset + 2
        func at(short: UInt32, long: UInt32) -> Predicate {
            let layouts: [(Predicate, UInt32)] = [
                (arena.masked(packet(.byte, flags), 0x07, 0x02), short),
                (arena.masked(packet(.half, flags), 0xff07, 0x8102), short + 1),
                (arena.masked(packet(.byte, flags), 0x07, 0x06), long),
                (arena.masked(packet(.half, flags), 0xff07, 0x8106), long + 1),
            ]
            return arena.any(layouts.map { header, offset in arena.and(header, arena.equal(packet(.half, flags + offset), wire)) })
        }
        // Past the flags: the destination node, then the source; in a long header, each
        // after its area, subarea and the 4-byte HIORD prefix.
        return try arena.and(linkProtocol(0x6003), direction.combine(source: at(short: 3, long: 15), destination: at(short: 1, long: 7), in: arena))
    }

    /// A DECnet address: `AREA.NODE` (area up to 63, node up to 1023) or its 16-bit number.
    static func decnetAddress(_ text: String) -> Result<UInt16, Failure> {
        if let number = AddressParser.number(text) {
            guard let address = UInt16(exactly: number) else { return .failure(Failure(message: "DECnet address \(number) is greater than 65535")) }
            return .success(address)
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let area = UInt16(parts[0]), let node = UInt16(parts[1]) else {
            return .failure(Failure(message: "'\(text)' is not a DECnet address such as 10.23 (area.node)"))
        }
        guard area <= 63 else { return .failure(Failure(message: "DECnet area \(area) is greater than 63")) }
        guard node <= 1023 else { return .failure(Failure(message: "DECnet node \(node) is greater than 1023")) }
        return .success(area << 10 | node)
    }
}
