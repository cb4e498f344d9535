/// GRE version 0 (RFC 2784, 2890) as tcpdump prints it without -v: the version, the offset,
/// key and sequence number when present, the length, then the IPv4 or IPv6 packet inside.
/// With -v, the flags by name and the checksum too.
/// Other payloads (MPLS, Ethernet, IPX, ...), source routes and version 1 stay undecoded.
extension PacketDecoding {
    mutating func gre(at offset: Int, length: Int) {
        guard has(offset, 2), length >= 2, let flags = u16(offset) else { return truncated("gre") }
        let version = flags & 0x0007
        var packet = GREPacket(version: UInt8(version), protocolType: 0, text: "GREv\(version)")
        guard version == 0 else {
            add(.gre(packet))
            return version == 1 ? undecoded("GREv1") : note(" ERROR: unknown-version")
        }
        if verbosity > 0 {
            let names = Self.greFlagNames.filter { flags & $0.0 != 0 }.map(\.1)
            packet.text += ", Flags [\(names.isEmpty ? "none" : names.joined(separator: ", "))]"
        }
        var cursor = offset + 2, left = length - 2
        /// The next `size`-byte field, or nil (and `[|gre]`) when it is not there.
        func field(_ size: Int) -> Int? {
            guard has(cursor, size), left >= size else { return nil }
            defer { cursor += size; left -= size }
            return size == 2 ? u16(cursor).map(Int.init) : u32(cursor).map(Int.init)
        }
        var complete = true
        parsing: do {
            guard let protocolType = field(2) else { complete = false; break parsing }
            packet.protocolType = UInt16(protocolType)
            if flags & 0xc000 != 0 {
                guard let checksum = field(2) else { complete = false; break parsing }
                if verbosity > 0 { packet.text += ", sum 0x\(String(checksum, radix: 16))" }
                guard let routingOffset = field(2) else { complete = false; break parsing }
                packet.text += ", off 0x\(String(routingOffset, radix: 16))"
            }
            if flags & 0x2000 != 0 {
                guard let key = field(4) else { complete = false; break parsing }
                packet.text += ", key=0x\(String(key, radix: 16))"
            }
            if flags & 0x1000 != 0 {
                guard let sequence = field(4) else { complete = false; break parsing }
                packet.text += ", seq \(sequence)"
            }
        }
        guard complete else {
            add(.gre(packet))
            return truncated("gre")
        }
        guard flags & 0x4000 == 0 else {
            add(.gre(packet))
            return undecoded("GRE source route")
        }
        // tcpdump -v goes on to a line of its own for what GRE carries.
        packet.text += ", length \(length)" + (verbosity > 0 ? "\n\t" : ": ")
        add(.gre(packet))
        switch packet.protocolType {
        case 0x0800: ipv4(at: cursor, length: left)
        case 0x86dd: ipv6(at: cursor, length: left)
        case let type where [0x8847, 0x8137, 0x809b, 0x00fe, 0x6558].contains(type): undecoded(EtherTypes.name(type))
        default: note("gre-proto-0x\(String(packet.protocolType, radix: 16))")
        }
    }

    static let greFlagNames: [(UInt16, String)] = [
        (0x8000, "checksum present"), (0x4000, "routing present"), (0x2000, "key present"), (0x1000, "sequence# present"),
        (0x0800, "source routing present"), (0x0080, "ack present"),
    ]
}
